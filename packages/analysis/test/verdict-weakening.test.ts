import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildUdpFrame, LINKTYPE, PcapWriter } from '@imslab/capture';
import { formatKeyLogEntry, linearToUlaw, markerFor, probePayload } from '@imslab/probe';
import { buildRtp } from '@imslab/rtp';
import { generateKeySalt, splitKeySalt, SrtpContext } from '@imslab/srtp';
import { analyse } from '../src/index.ts';
import { AGW_A_ACCESS, AGW_A_CORE, AGW_B_ACCESS, AGW_B_CORE, ALICE, BOB, owner } from './synth.ts';

/**
 * A verdict never outruns its evidence (issue: "Unknown traffic is ignored
 * where the marker is seen", "e2e does not need the probe to arrive"): the
 * call's own packets under no known key, or in the clear without the marker,
 * weaken the link they are on; protection that is never seen arriving at the
 * far end is no e2e.
 */
const CALL = 'weakening@imslab';
const dir = mkdtempSync(join(tmpdir(), 'imslab-weakening-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

type Packet = { link: string; src: string; dst: string; rtp: Buffer };

/** Writes the packets (in order) into one capture per link, and the logged keys into a key log. */
async function capture(packets: Packet[], logged: Array<{ owner: string; keySalt: Buffer }>) {
  const run = join(dir, String(++n));
  const writers = new Map<string, PcapWriter>();
  let t = 1_700_000_000_000_000;
  for (const p of packets) {
    let w = writers.get(p.link);
    if (!w) writers.set(p.link, (w = new PcapWriter(`${run}-${p.link}.pcap`, LINKTYPE.ETHERNET)));
    const [sa, sp] = p.src.split(':');
    const [da, dp] = p.dst.split(':');
    w.write((t += 100), buildUdpFrame(LINKTYPE.ETHERNET, sa!, Number(sp), da!, Number(dp), p.rtp));
  }
  for (const w of writers.values()) await w.close();
  const keyLog = `${run}.srtp-keys.jsonl`;
  writeFileSync(keyLog, logged.map((k) => formatKeyLogEntry({ kind: 'srtp', owner: k.owner, callId: CALL, dir: 'tx', suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: k.keySalt.toString('base64'), keyMgmt: 'sdes', at: '' })).join(''));
  const captures = Object.fromEntries([...writers.keys()].map((l) => [l, `${run}-${l}.pcap`]));
  const a = await analyse({ captures, keyLogs: [keyLog], calls: [{ alias: 'c1', callId: CALL, directions: ['orig'] }], owner });
  return a.calls[0]!;
}

const ctx = (ks: Buffer) => new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...splitKeySalt('AES_CM_128_HMAC_SHA1_80', ks) });
const marker = markerFor(CALL, 'orig');
const rtp = (i: number, payload = probePayload(marker, i)) => buildRtp({ payloadType: 0, sequence: 1000 + i, timestamp: i * 160, ssrc: 0x11112222 }, payload);
/** G.711 speech-like bytes: a low tone, far from uniform. */
const speech = (i: number) => Buffer.from(Array.from({ length: 160 }, (_, k) => linearToUlaw(Math.round(3000 * Math.sin((i * 160 + k) / 9)))));

describe('a verdict never outruns its evidence', () => {
  it('one key everywhere and the probe arriving at bob: e2e (the reference)', async () => {
    const k = generateKeySalt('AES_CM_128_HMAC_SHA1_80');
    const [a, c, b] = [ctx(k), ctx(k), ctx(k)];
    const packets: Packet[] = [];
    for (let i = 0; i < 40; i++) {
      packets.push({ link: 'access-a', src: ALICE, dst: AGW_A_ACCESS, rtp: a.protectRtp(rtp(i)) });
      packets.push({ link: 'core', src: AGW_A_CORE, dst: AGW_B_CORE, rtp: c.protectRtp(rtp(i)) });
      packets.push({ link: 'access-b', src: AGW_B_ACCESS, dst: BOB, rtp: b.protectRtp(rtp(i)) });
    }
    expect((await capture(packets, [{ owner: 'alice', keySalt: k }])).verdict).toBe('e2e');
  });

  it('the core leg switches to a key nobody logged halfway through the call: unknown, never e2e', async () => {
    const k = generateKeySalt('AES_CM_128_HMAC_SHA1_80');
    const rogue = generateKeySalt('AES_CM_128_HMAC_SHA1_80');
    const [a, c, r, b] = [ctx(k), ctx(k), ctx(rogue), ctx(k)];
    const packets: Packet[] = [];
    for (let i = 0; i < 40; i++) {
      packets.push({ link: 'access-a', src: ALICE, dst: AGW_A_ACCESS, rtp: a.protectRtp(rtp(i)) });
      packets.push({ link: 'core', src: AGW_A_CORE, dst: AGW_B_CORE, rtp: (i < 20 ? c : r).protectRtp(rtp(i)) });
      packets.push({ link: 'access-b', src: AGW_B_ACCESS, dst: BOB, rtp: b.protectRtp(rtp(i)) });
    }
    const call = await capture(packets, [{ owner: 'alice', keySalt: k }]);
    expect(call.verdict).toBe('unknown');
    expect(call.paths[0]!.links.core!.protection).toBe('encrypted-unknown');
    expect(call.paths[0]!.links.core!.unknown).toBe(20);
    expect(call.evidence.join('\n')).toMatch(/core: encrypted-unknown under alice\/tx\/\S+ \(20 packets, 20 of the call's under no known key\)/);
  });

  it('a middle element that takes the probe in and sends nothing on: not e2e (the probe never arrives)', async () => {
    const k = generateKeySalt('AES_CM_128_HMAC_SHA1_80');
    const [a, c] = [ctx(k), ctx(k)];
    const packets: Packet[] = [];
    for (let i = 0; i < 40; i++) {
      packets.push({ link: 'access-a', src: ALICE, dst: AGW_A_ACCESS, rtp: a.protectRtp(rtp(i)) });
      packets.push({ link: 'core', src: AGW_A_CORE, dst: AGW_B_CORE, rtp: c.protectRtp(rtp(i)) });
    }
    const call = await capture(packets, [{ owner: 'alice', keySalt: k }]);
    expect(call.verdict).toBe('unknown');
    expect(call.evidence.join('\n')).toMatch(/the probe was not seen arriving at the far end/);
  });

  it('the call\'s own flow also carries audio in the clear without the marker: readable, never protected', async () => {
    const k = generateKeySalt('AES_CM_128_HMAC_SHA1_80');
    const [a, c, b] = [ctx(k), ctx(k), ctx(k)];
    const packets: Packet[] = [];
    for (let i = 0; i < 60; i++) {
      packets.push({ link: 'access-a', src: ALICE, dst: AGW_A_ACCESS, rtp: a.protectRtp(rtp(i)) });
      // The relay leaks plain audio on the core (comfort noise, a codec it re-encodes), next to the SRTP.
      packets.push({ link: 'core', src: AGW_A_CORE, dst: AGW_B_CORE, rtp: i < 20 ? c.protectRtp(rtp(i)) : rtp(i, speech(i)) });
      packets.push({ link: 'access-b', src: AGW_B_ACCESS, dst: BOB, rtp: b.protectRtp(rtp(i)) });
    }
    const call = await capture(packets, [{ owner: 'alice', keySalt: k }]);
    expect(call.paths[0]!.links.core!.protection).toBe('plaintext');
    expect(call.paths[0]!.links.core!.unmarked).toBe(40);
    expect(call.verdict).not.toBe('e2e');
  });
});
