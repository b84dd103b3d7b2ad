/**
 * TS 33.328: e2ae only over protected access signalling. P-CSCF-A (the real
 * Kamailio with services/pcscf/kamailio.cfg, brought up alone by the runner's
 * LocalTarget from the network plan) answers an INVITE that asks for e2ae
 * (a=3ge2ae:requested, an SDES key in it) over UDP with 488 and a Warning
 * that says why, before anything reaches its IMS-AGW or the core; the same
 * offer without the e2ae request is not refused for its transport. A
 * REGISTER over UDP offering sdes-srtp;mediasec is the other half: the
 * scenario e2ae-over-udp-refused shows the capability is not confirmed.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { elementsOf, planNetwork } from '@imslab/network';
import { DEFAULT_SUBSCRIBERS, LocalTarget, acquireSlot, newRunDir } from '@imslab/runner';
import { loadSubscribers } from '@imslab/topology';
import { join } from 'node:path';
import { pcscf } from '../element.ts';

const LEASE = acquireSlot(6); // released in afterAll
const full = planNetwork(loadSubscribers(DEFAULT_SUBSCRIBERS), 'local', {}, LEASE.slot);
const pcscfA = elementsOf(full, pcscf).find((e) => e.name === 'pcscf-a')!;
const alice = full.elements.find((e) => e.name === 'alice')!;
const target = new LocalTarget();
let sock: Socket;

beforeAll(async () => {
  await target.up({ ...full, elements: [pcscfA] }, { dir: join(newRunDir(), 'pcscf-e2ae-tls') });
  sock = createSocket('udp4');
  // alice's planned address, a port of our own: what a UE on access-a sends from.
  await new Promise<void>((r) => sock.bind(0, alice.addresses['access-a'], r));
}, 60_000);

afterAll(async () => {
  sock?.close();
  try {
    await target.down();
  } finally {
    LEASE.release();
  }
}, 30_000);

let n = 0;
function invite(e2ae: boolean): string {
  n++;
  const me = alice.addresses['access-a']!;
  const port = sock.address().port;
  const sdp = [
    'v=0', `o=- ${n} 1 IN IP4 ${me}`, 's=-', `c=IN IP4 ${me}`, 't=0 0', 'm=audio 40000 RTP/SAVP 0',
    'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz', ...(e2ae ? ['a=3ge2ae:requested'] : []), 'a=sendrecv', '',
  ].join('\r\n');
  return [
    'INVITE sip:bob@ims.test SIP/2.0',
    `Via: SIP/2.0/UDP ${me}:${port};branch=z9hG4bK-e2ae-${n};rport`,
    'Max-Forwards: 70',
    `From: <sip:alice@ims.test>;tag=t${n}`,
    'To: <sip:bob@ims.test>',
    `Call-ID: e2ae-udp-${n}@${me}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:alice@${me}:${port}>`,
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    '', sdp,
  ].join('\r\n');
}

/** Sends `msg` to P-CSCF-A's access UDP port; the first final response (or the last provisional one after 3 s). */
function ask(msg: string): Promise<string> {
  return new Promise((resolve) => {
    let last = '';
    const done = setTimeout(() => {
      sock.off('message', on);
      resolve(last);
    }, 3000);
    const on = (b: Buffer) => {
      last = b.toString('utf8');
      if (/^SIP\/2\.0 [2-6]\d\d /.test(last)) {
        clearTimeout(done);
        sock.off('message', on);
        resolve(last);
      }
    };
    sock.on('message', on);
    sock.send(msg, 5060, pcscfA.addresses['access-a']);
  });
}

describe('P-CSCF: e2ae needs SIP over TLS', () => {
  it('answers an e2ae request over UDP with 488 and a Warning naming the reason', async () => {
    const res = await ask(invite(true));
    expect(res).toMatch(/^SIP\/2\.0 488 Not Acceptable Here \(e2ae needs SIP over TLS\)\r\n/);
    expect(res).toMatch(/\r\nWarning: 399 \S+ "e2ae needs SIP over TLS: the SDES key crossed the access link in the clear"\r\n/);
  });

  it('does not refuse the same offer without the e2ae request for its transport (it goes on toward the core)', async () => {
    const res = await ask(invite(false));
    expect(res).not.toMatch(/^SIP\/2\.0 488/);
  });
});
