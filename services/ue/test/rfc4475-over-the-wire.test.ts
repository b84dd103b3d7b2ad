/**
 * RFC 4475 over the wire: a real UE (services/ue, brought up alone by the
 * runner's LocalTarget from the network plan; UEs register only when told,
 * so it needs no P-CSCF) receives every message of the RFC's archive, byte for
 * byte, and answers each as packages/sip/test/rfc4475/index.ts says the RFC
 * has a UA answer. Then it must still be up: /health, a call list with
 * nothing left ringing, a well-formed OPTIONS answered 200.
 *
 * Nothing is rewritten. The messages go over UDP from a socket on port 5060
 * of P-CSCF-A's address (the UE drops SIP from anyone else): a response goes to the `received` address and
 * the sent-by port, 5060 when none is given (sec. 18.2.2), which is where we
 * listen (and on 5050, quotbal's). Three pairs of messages share a branch,
 * sent-by and method (escnull/regescrt, unkscm/novelsc, cparam01/cparam02):
 * within Timer J (64*T1 = 32 s) of the first, the second IS its
 * retransmission (sec. 17.2.3) and gets its answer again, so the second goes
 * 34 s after the first. The calls a valid INVITE starts are CANCELled (autoAnswer is off, so
 * no 200 and no media ever goes to their 192.0.2.x SDP addresses), every
 * non-2xx to an INVITE is ACKed. Three messages also go over TCP, where the
 * RFC says something else happens: clerr waits for the rest of its body,
 * ncl and mcl01 cannot be framed and close the connection.
 */
import { createSocket, type Socket } from 'node:dgram';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { elementsOf, planNetwork } from '@imslab/network';
import { DEFAULT_SUBSCRIBERS, LocalTarget, acquireSlot, newRunDir } from '@imslab/runner';
import { CONTROL_PORT, loadSubscribers } from '@imslab/topology';
import { parseMessage } from '@imslab/sip';
import { RFC4475, rfc4475Bytes, type Rfc4475Message } from '../../../packages/sip/test/rfc4475/index.ts';
import { ue } from '../element.ts';
import { pcscf } from '@imslab/pcscf/element';

const LEASE = acquireSlot(3); // released in afterAll
const full = planNetwork(loadSubscribers(DEFAULT_SUBSCRIBERS), 'local', { ues: { alice: { autoAnswer: false } } }, LEASE.slot);
const alice = elementsOf(full, ue).find((e) => e.name === 'alice')!;
// A UE takes SIP from its P-CSCF only: the messages come from P-CSCF-A's planned access address (it is not started), port 5060.
const peerAddress = elementsOf(full, pcscf).find((e) => e.name === 'pcscf-a')!.accessAddress;
const target = new LocalTarget();
let sock: Socket;
let sock5050: Socket;
const inbox: Buffer[] = [];

beforeAll(async () => {
  await target.up({ ...full, elements: [alice] }, { dir: join(newRunDir(), 'ue-rfc4475') });
  sock = createSocket('udp4');
  sock.on('message', (b) => inbox.push(b));
  await new Promise<void>((r) => sock.bind(5060, peerAddress, r));
  sock5050 = createSocket('udp4');
  sock5050.on('message', (b) => inbox.push(b));
  await new Promise<void>((r) => sock5050.bind(5050, peerAddress, r));
}, 60_000);

afterAll(async () => {
  sock?.close();
  sock5050?.close();
  try {
    await target.down();
  } finally {
    LEASE.release();
  }
}, 30_000);

/** Call-ID and CSeq number of a message, from its parse or what is left of it. */
function ids(bytes: Buffer): { callId?: string; cseq?: string } {
  const r = parseMessage(bytes);
  const m = r.ok ? r.message : r.partial;
  const cseq = m?.headers.get('CSeq')?.trim().split(/\s+/)[0];
  return { callId: m?.headers.get('Call-ID')?.trim(), cseq: cseq === undefined ? undefined : String(Number(cseq)) };
}

interface Answer {
  status: number;
  raw: Buffer;
}

/** The responses in the inbox for the request with these ids (matched by Call-ID and CSeq number; insuf has no Call-ID). */
function answersTo(want: { callId?: string; cseq?: string }, method?: string): Answer[] {
  return inbox.flatMap((raw) => {
    const m = /^SIP\/2\.0 (\d{3}) /.exec(raw.toString('latin1'));
    if (!m) return [];
    const got = ids(raw);
    const cseqMethod = /\r\nCSeq:\s*\d+\s+(\S+)/i.exec(raw.toString('latin1'))?.[1];
    if (got.callId !== want.callId || got.cseq !== want.cseq || (method && cseqMethod !== method)) return [];
    return [{ status: Number(m[1]), raw }];
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(probe: () => T | undefined, ms: number): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined || Date.now() > end) return v;
    await sleep(20);
  }
}

function send(bytes: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => sock.send(bytes, 5060, alice.address, (e) => (e ? reject(e) : resolve())));
}

/** An ACK for a non-2xx final answer to `invite` (sec. 17.1.1.3): its top Via, Request-URI, From, Call-ID, CSeq number; the answer's To. */
function ackFor(invite: string, answer: Buffer): string {
  const reqLine = invite.slice(0, invite.indexOf('\r\n')).split(' ');
  const a = parseMessage(answer);
  const to = a.ok ? a.message.headers.get('To') : undefined;
  const m = parseMessage(invite);
  const msg = m.ok ? m.message : m.partial!;
  return [
    `ACK ${reqLine[1]} SIP/2.0`, `Via: ${msg.headers.getAll('Via')[0]}`, 'Max-Forwards: 70', `From: ${msg.headers.get('From')}`, `To: ${to}`,
    `Call-ID: ${msg.headers.get('Call-ID')}`, `CSeq: ${msg.headers.get('CSeq')!.trim().split(/\s+/)[0]} ACK`, 'Content-Length: 0', '', '',
  ].join('\r\n');
}

/** A CANCEL for `invite` (sec. 9.1): same Request-URI, top Via, From, To, Call-ID, CSeq number. */
function cancelFor(invite: string): string {
  const m = parseMessage(invite);
  const msg = m.ok ? m.message : m.partial!;
  const uri = invite.slice(0, invite.indexOf('\r\n')).split(' ')[1];
  return [
    `CANCEL ${uri} SIP/2.0`, `Via: ${msg.headers.getAll('Via')[0]}`, 'Max-Forwards: 70', `From: ${msg.headers.get('From')}`, `To: ${msg.headers.get('To')}`,
    `Call-ID: ${msg.headers.get('Call-ID')}`, `CSeq: ${msg.headers.get('CSeq')!.trim().split(/\s+/)[0]} CANCEL`, 'Content-Length: 0', '', '',
  ].join('\r\n');
}

/** What the UE did with one message: the final status it answered, 'call' for a call rung and CANCELled, 'none'. */
async function exchange(m: Rfc4475Message): Promise<number | 'call' | 'none'> {
  const bytes = rfc4475Bytes(m.name);
  const text = bytes.toString('latin1');
  const want = ids(bytes);
  const isInvite = text.startsWith('INVITE ');
  const from = inbox.length;
  await send(bytes);
  const mine = () => answersTo(want, isInvite ? 'INVITE' : undefined).filter((a) => inbox.indexOf(a.raw) >= from);
  if (m.ua.answer === 'none') {
    await sleep(600);
    const stray = inbox.slice(from).filter((raw) => want.callId === undefined || ids(raw).callId === want.callId);
    return stray.length ? Number(/^SIP\/2\.0 (\d{3})/.exec(stray[0]!.toString('latin1'))?.[1] ?? -1) : 'none';
  }
  const first = await until(() => mine().find((a) => a.status >= 180), 3000);
  let got: number | 'call' | 'none' = first ? first.status : 'none';
  if (first && first.status < 200) {
    // A call is ringing: CANCEL it, which the UE answers 200 and ends the INVITE with a 487.
    await send(cancelFor(text));
    const terminated = await until(() => mine().find((a) => a.status >= 200), 3000);
    got = terminated?.status === 487 ? 'call' : (terminated?.status ?? 'none');
  }
  const final = mine().find((a) => a.status >= 200);
  if (isInvite && final && final.status >= 300) await send(ackFor(text, final.raw));
  return got;
}

/** What sec. 17.2.3 matches a request's server transaction by: top Via branch and sent-by, and the method; undefined when it does not parse. */
function transactionKey(m: Rfc4475Message): string | undefined {
  const r = parseMessage(rfc4475Bytes(m.name));
  if (!r.ok || r.message.kind !== 'request') return undefined;
  const via = r.message.headers.getAll('Via')[0]!.replace(/\s+/g, '');
  return `${via}|${r.message.method}`;
}

async function control(path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://${alice.address}:${CONTROL_PORT}${path}`);
  return { status: res.status, body: await res.json() };
}

describe('RFC 4475 over the wire: a UE answers every torture message as the RFC says, and stays up', () => {
  const seen = new Map<string, Awaited<ReturnType<typeof exchange>>>();

  it('answers each of the 50 over UDP as the RFC says', async () => {
    // A twin (same branch, sent-by, method as an earlier message) waits until the earlier one's transaction is gone.
    const sentAt = new Map<string, number>();
    const twins: Rfc4475Message[] = [];
    for (const m of RFC4475) {
      const key = transactionKey(m);
      if (key && sentAt.has(key)) twins.push(m);
      else {
        if (key) sentAt.set(key, Date.now());
        seen.set(m.name, await exchange(m));
      }
    }
    expect(twins.map((m) => m.name)).toEqual(['novelsc', 'cparam02', 'regescrt']);
    for (const m of twins) {
      await sleep(Math.max(0, sentAt.get(transactionKey(m)!)! + 34_000 - Date.now()));
      seen.set(m.name, await exchange(m));
    }
    const table = RFC4475.map((m) => `${(m.section ?? 'archive').padEnd(9)} ${m.name.padEnd(11)} expected ${String(m.ua.answer).padEnd(5)} got ${seen.get(m.name)!}`);
    console.log(table.join('\n'));
    const wrong = RFC4475.filter((m) => seen.get(m.name)! !== m.ua.answer).map((m) => `${m.name}: expected ${m.ua.answer}, got ${seen.get(m.name)!}`);
    expect(wrong).toEqual([]);
  }, 150_000);

  it('answers each request once, with no second final answer (no retransmission left unACKed)', async () => {
    await sleep(1200); // past Timer G's first 500 ms retransmission of any INVITE answer we failed to ACK
    for (const m of RFC4475) {
      const finals = answersTo(ids(rfc4475Bytes(m.name)), rfc4475Bytes(m.name).toString('latin1').startsWith('INVITE ') ? 'INVITE' : undefined).filter((a) => a.status >= 200);
      expect(finals.length, m.name).toBe(m.ua.answer === 'none' ? 0 : 1);
    }
  }, 10_000);

  it('answers bext01 420 with the Require tags in Unsupported, intmeth 501 with an Allow, invut 415 with an Accept', () => {
    const one = (name: string) => answersTo(ids(rfc4475Bytes(name))).find((a) => a.status >= 200)!.raw.toString('utf8');
    expect(one('bext01')).toMatch(/\r\nUnsupported: nothingSupportsThis, nothingSupportsThisEither\r\n/);
    expect(one('intmeth')).toMatch(/\r\nAllow: INVITE, /);
    expect(one('invut')).toMatch(/\r\nAccept: application\/sdp\r\n/);
    // insuf has no Call-ID, From or To: the 400 invents none of them
    expect(one('insuf')).not.toMatch(/\r\n(?:From|To|Call-ID):/i);
    // dblreq: the REGISTER is answered, the INVITE-like octets after it are not
    expect(answersTo({ callId: 'dblreq.0ha0isnda977644900765@192.0.2.15', cseq: '8' })).toEqual([]);
  });

  it('over TCP: waits for the rest of clerr\'s body; answers ncl and mcl01 400 and closes the connection', async () => {
    const over = (name: string) => new Promise<{ data: string; closed: boolean }>((resolve) => {
      const s = connect({ host: alice.address, port: 5060, localAddress: peerAddress });
      let data = '';
      let closed = false;
      s.on('data', (d) => (data += d.toString('latin1')));
      s.on('close', () => (closed = true));
      s.on('error', () => undefined);
      s.on('connect', () => s.write(rfc4475Bytes(name)));
      setTimeout(() => {
        s.destroy();
        resolve({ data, closed });
      }, 1500);
    });
    const clerr = await over('clerr');
    expect(clerr).toEqual({ data: '', closed: false });
    for (const name of ['ncl', 'mcl01']) {
      const r = await over(name);
      expect(r.data, name).toMatch(/^SIP\/2\.0 400 /);
      expect(r.closed, name).toBe(true);
    }
  }, 20_000);

  it('is still up: /health answers, no call is left ringing, a well-formed OPTIONS gets 200', async () => {
    const health = await control('/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ ok: true, name: 'alice' });
    const calls = (await control('/calls')).body as { calls: Array<{ callId: string; state: string }> };
    expect(calls.calls.length).toBeGreaterThan(0); // the valid INVITEs did reach the call logic
    expect(calls.calls.filter((c) => c.state !== 'terminated' && c.state !== 'failed')).toEqual([]);
    const from = inbox.length;
    await send([
      `OPTIONS sip:alice@${alice.address} SIP/2.0`, `Via: SIP/2.0/UDP ${peerAddress};branch=z9hG4bK-after-4475`, 'Max-Forwards: 70',
      'From: <sip:bob@ims.test>;tag=after', 'To: <sip:alice@ims.test>', 'Call-ID: after-4475@test', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', '',
    ].join('\r\n'));
    const ok = await until(() => inbox.slice(from).find((b) => b.toString().includes('Call-ID: after-4475@test')), 3000);
    expect(ok?.toString()).toMatch(/^SIP\/2\.0 200 /);
  }, 10_000);
});
