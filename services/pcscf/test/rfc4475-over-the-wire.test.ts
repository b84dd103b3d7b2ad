/**
 * RFC 4475 over the wire, P-CSCF: the real P-CSCF-A (Kamailio with
 * services/pcscf/kamailio.cfg, brought up alone by the runner's LocalTarget
 * from the network plan, as e2ae-needs-tls.test.ts does) receives every
 * message of the RFC's archive (packages/sip/test/rfc4475/) over UDP on its
 * access side, from alice's planned address, and must stay up through all of
 * them: afterwards its process is alive and a well-formed OPTIONS to it is
 * still answered 200.
 *
 * What it answers is Kamailio's, an implementation independent of ours: the
 * test prints it per message and pins only the answers where Kamailio does
 * what the RFC has a proxy do. Where it does not (it drops badvers rather
 * than answer 505, answers unkscm 400 rather than 416, ...) that is
 * Kamailio's and kamailio.cfg's business, recorded, not asserted.
 *
 * Two messages carry a Route to a host outside the lab (wsinv's
 * services.example.com, which a proxy would resolve in the DNS, and mpart01's
 * 127.0.0.1:5080, someone else's port): that host is rewritten to a listener
 * of this test, so all traffic stays on this test's loopback addresses and
 * the forwarded request can be seen. Nothing else is changed.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { elementsOf, planNetwork } from '@imslab/network';
import { DEFAULT_SUBSCRIBERS, LocalTarget, acquireSlot, newRunDir } from '@imslab/runner';
import { loadSubscribers } from '@imslab/topology';
import { RFC4475, rfc4475Bytes } from '../../../packages/sip/test/rfc4475/index.ts';
import { pcscf } from '../element.ts';

const LEASE = acquireSlot(4); // released in afterAll
const full = planNetwork(loadSubscribers(DEFAULT_SUBSCRIBERS), 'local', {}, LEASE.slot);
const pcscfA = elementsOf(full, pcscf).find((e) => e.name === 'pcscf-a')!;
const me = full.elements.find((e) => e.name === 'alice')!.addresses['access-a']!;
const P = pcscfA.addresses['access-a']!;
const ROUTE_PORT = 5090;
const target = new LocalTarget();
const socks: Socket[] = [];
let tcp: Server;
/** Every datagram received, with the port it came in on. */
const inbox: Array<{ port: number; data: Buffer }> = [];

beforeAll(async () => {
  await target.up({ ...full, elements: [pcscfA] }, { dir: join(newRunDir(), 'pcscf-rfc4475') });
  // 5060 and 5050: where replies go by the sent-by port (sec. 18.2.2; quotbal's is 5050). 5090: the rewritten Routes.
  for (const port of [5060, 5050, ROUTE_PORT]) {
    const s = createSocket('udp4');
    s.on('message', (data) => inbox.push({ port, data }));
    await new Promise<void>((r) => s.bind(port, me, r));
    socks.push(s);
  }
  // A reply to a request whose Via names TCP goes back over TCP to the sent-by port (sec. 18.2.2).
  tcp = createServer((c) => {
    let data = Buffer.alloc(0);
    c.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      for (let end = data.indexOf('\r\n\r\n'); end >= 0; end = data.indexOf('\r\n\r\n')) {
        const cl = Number(/\r\n(?:Content-Length|l)[ \t]*:[ \t]*(\d+)/i.exec(data.subarray(0, end).toString('latin1'))?.[1] ?? 0);
        if (data.length < end + 4 + cl) break;
        inbox.push({ port: 5060, data: data.subarray(0, end + 4 + cl) });
        data = data.subarray(end + 4 + cl);
      }
    });
    c.on('error', () => undefined);
  });
  await new Promise<void>((r) => tcp.listen(5060, me, r));
}, 60_000);

afterAll(async () => {
  for (const s of socks) s.close();
  tcp?.close();
  try {
    await target.down();
  } finally {
    LEASE.release();
  }
}, 30_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The message as sent: the RFC's bytes, with an off-lab Route host pointed at our listener (latin1 keeps mpart01's binary part). */
function wire(name: string): Buffer {
  const text = rfc4475Bytes(name).toString('latin1');
  const out = text.replace('<sip:services.example.com;lr;', `<sip:${me}:${ROUTE_PORT};lr;`).replace('<sip:127.0.0.1:5080>', `<sip:${me}:${ROUTE_PORT}>`);
  return Buffer.from(out, 'latin1');
}

const callIdOf = (b: Buffer) => /\r\n(?:Call-ID|i)[ \t]*:[ \t]*(\S+)/i.exec(b.toString('latin1'))?.[1];

/** What the P-CSCF did within 1.5 s: its statuses back to us, and whether it forwarded the request to our Route listener. */
async function exchange(name: string): Promise<string> {
  const bytes = wire(name);
  const from = inbox.length;
  await new Promise<void>((resolve, reject) => socks[0]!.send(bytes, 5060, P, (e) => (e ? reject(e) : resolve())));
  await sleep(1500);
  const callId = callIdOf(bytes);
  const mine = inbox.slice(from).filter((d) => callId === undefined || callIdOf(d.data) === callId);
  const statuses = mine.filter((d) => d.port !== ROUTE_PORT).map((d) => /^SIP\/2\.0 (\d{3})/.exec(d.data.toString('latin1'))?.[1] ?? '?');
  const forwarded = mine.some((d) => d.port === ROUTE_PORT) ? ['forwarded'] : [];
  return [...statuses, ...forwarded].join(' ') || 'none';
}

describe('RFC 4475 over the wire: the P-CSCF stays up through every torture message', () => {
  const got = new Map<string, string>();

  it('receives all 50 over UDP on its access side', async () => {
    for (const m of RFC4475) got.set(m.name, await exchange(m.name));
    console.log(RFC4475.map((m) => `${(m.section ?? 'archive').padEnd(9)} ${m.name.padEnd(11)} ${got.get(m.name)}`).join('\n'));
    expect(got.size).toBe(50);
  }, 120_000);

  it('answers as the RFC has a proxy answer where Kamailio agrees with it', () => {
    // 3.1.2.2 (400 over UDP), 3.1.2.4 (400 for the CSeq), 3.1.2.7 (400), 3.1.2.17 (400)
    for (const name of ['clerr', 'scalar02', 'ltgtruri', 'mismatch01']) expect(got.get(name), name).toBe('400');
    // 3.3.11: "A proxy should not forward the request and should respond 483 (Too Many Hops)"
    expect(got.get('zeromf')).toBe('483');
    // 3.1.1.12-13, 3.1.2.5, 3.1.2.19, 3.3.10: responses nobody here asked for are dropped, none comes back
    for (const name of ['unreason', 'noreason', 'scalarlg', 'bigcode', 'bcast']) expect(got.get(name), name).toBe('none');
  });

  it('is still up afterwards: its process is alive and it answers a well-formed OPTIONS 200', async () => {
    expect(target.crashed()).toEqual([]);
    const from = inbox.length;
    const options = [
      `OPTIONS sip:${P} SIP/2.0`, `Via: SIP/2.0/UDP ${me}:5060;branch=z9hG4bK-after-4475;rport`, 'Max-Forwards: 70',
      'From: <sip:alice@ims.test>;tag=after', `To: <sip:${P}>`, 'Call-ID: after-4475@pcscf-test', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', '',
    ].join('\r\n');
    await new Promise<void>((resolve, reject) => socks[0]!.send(options, 5060, P, (e) => (e ? reject(e) : resolve())));
    const end = Date.now() + 3000;
    let answer: Buffer | undefined;
    while (!answer && Date.now() < end) {
      answer = inbox.slice(from).find((d) => callIdOf(d.data) === 'after-4475@pcscf-test')?.data;
      await sleep(20);
    }
    expect(answer?.toString()).toMatch(/^SIP\/2\.0 200 /);
  }, 10_000);
});
