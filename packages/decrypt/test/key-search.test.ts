/**
 * The key search's cost and its one blind spot: plaintext streams are not
 * tried against every key on every packet, yet a call switched from RTP to
 * SRTP mid-call (same SSRC, same payload type) is decrypted from its first
 * SRTP packet on; RTP and RTCP multiplexed on one port (RFC 5761) both open.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrame, LINKTYPE, readCapture } from '@imslab/capture';
import { SrtpContext } from '@imslab/srtp';
import { decryptCapture, prepareKeys, type DecryptKey } from '../src/index.ts';
import { EAGER_TRIES, KeySearch, MAX_PROBE_INTERVAL, newSearchState } from '../src/key-search.ts';
import { contextFor, datagrams, keySaltFor, rtpStream, senderReports, SUITES, tempDir, writePcap } from './synth.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

const manyKeys: DecryptKey[] = Array.from({ length: 24 }, (_, i) => {
  const suite = SUITES[i % SUITES.length]!;
  return { id: `k${i}`, suite, keySalt: keySaltFor(suite, 300 + i) };
});

describe('key search', () => {
  it('a plaintext stream costs a bounded number of full searches (back-off), not one per packet', () => {
    const { keys } = prepareKeys(manyKeys);
    const search = new KeySearch(keys);
    const s = newSearchState();
    const packets = rtpStream({ ssrc: 1, startSeq: 0, count: 5000 });
    for (const p of packets) expect(search.openRtp(s, p)).toBeNull();
    const fullSearches = search.attempts / keys.length;
    // Eager tries, the doubling intervals up to the cap, then one per MAX_PROBE_INTERVAL packets.
    expect(fullSearches).toBeLessThanOrEqual(EAGER_TRIES + Math.log2(MAX_PROBE_INTERVAL) + 5000 / MAX_PROBE_INTERVAL + 1);
    expect(fullSearches).toBeGreaterThanOrEqual(EAGER_TRIES);
  });

  it('security switched on mid-call: every SRTP packet after the switch decrypts, the plaintext before stays', async () => {
    const ssrc = 0xabc;
    const all = rtpStream({ ssrc, startSeq: 64400, count: 1200 }); // SRTP from SEQ 65400: wraps under the key
    const ctx = contextFor('AES_CM_128_HMAC_SHA1_80', 301);
    const wire = all.map((p, i) => (i < 1000 ? p : ctx.protectRtp(p)));
    const path = join(dir, 'switch.pcap');
    await writePcap(path, LINKTYPE.ETHERNET, datagrams(wire, { iface: 0, src: '10.0.0.1', sport: 4000, dst: '10.0.0.2', dport: 4002 }, 1e15));
    const r = await decryptCapture(path, join(dir, 'switch-decrypted.pcapng'), [...manyKeys, { id: 'the-key', suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: keySaltFor('AES_CM_128_HMAC_SHA1_80', 301) }], { audioDir: false });
    expect(r.streams).toMatchObject([{ kind: 'rtp', packets: 200, notDecrypted: 0, keyIds: ['the-key'], highestRoc: 1 }]);
    expect(r.untouchedRtpLike).toBe(1000);
    expect(r.attempts).toBeLessThan(1000 * 3); // not 1000 x 25 keys
  });

  it('a stream whose next 40,000 packets were not captured (more than 2^15: the ROC estimate is off) still decrypts', async () => {
    for (const startSeq of [0, 65000]) {
      const ctx = contextFor('AES_CM_128_HMAC_SHA1_80', 304);
      const all = rtpStream({ ssrc: 12, startSeq, count: 40_100 }).map((p) => ctx.protectRtp(p));
      const seen = [...all.slice(0, 100), ...all.slice(40_000)];
      const path = join(dir, `gap-${startSeq}.pcap`);
      await writePcap(path, LINKTYPE.ETHERNET, datagrams(seen, { iface: 0, src: '10.0.0.1', sport: 6000, dst: '10.0.0.2', dport: 6002 }, 1e15));
      const r = await decryptCapture(path, join(dir, `gap-${startSeq}.pcapng`), [{ id: 'k', suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: keySaltFor('AES_CM_128_HMAC_SHA1_80', 304) }], { audioDir: false });
      expect(r.streams, `from SEQ ${startSeq}`).toMatchObject([{ packets: 200, notDecrypted: 0, highestRoc: startSeq === 0 ? 0 : 1 }]);
    }
  });

  it('SRTCP sent unencrypted (E=0, SDES UNENCRYPTED_SRTCP): index and tag stripped, the report as it was', async () => {
    const ks = keySaltFor('AES_CM_128_HMAC_SHA1_32', 303);
    const ctx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_32', masterKey: ks.subarray(0, 16), masterSalt: ks.subarray(16), unencryptedSrtcp: true });
    const plain = senderReports(11, 3);
    const path = join(dir, 'e0.pcap');
    await writePcap(path, LINKTYPE.ETHERNET, datagrams(plain.map((p) => ctx.protectRtcp(p)), { iface: 0, src: '10.0.0.1', sport: 5001, dst: '10.0.0.2', dport: 5003 }, 1e15));
    const out = join(dir, 'e0-decrypted.pcapng');
    const r = await decryptCapture(path, out, [{ id: 'k', suite: 'AES_CM_128_HMAC_SHA1_32', keySalt: ks }], { audioDir: false });
    expect(r.decryptedRtcp).toBe(3);
    let i = 0;
    for await (const p of readCapture(out)) expect(decodeFrame(p.linkType, p.data)!.payload.equals(plain[i++]!)).toBe(true);
  });

  it('RTP and SRTCP multiplexed on one port (RFC 5761) both decrypt', async () => {
    const ctx = contextFor('AEAD_AES_256_GCM', 302);
    const rtp = rtpStream({ ssrc: 9, startSeq: 1, count: 100 }).map((p) => ctx.protectRtp(p));
    const rtcp = senderReports(9, 4).map((p) => ctx.protectRtcp(p));
    const at = { iface: 0, src: '10.0.0.1', sport: 5000, dst: '10.0.0.2', dport: 5002 };
    const path = join(dir, 'mux.pcap');
    await writePcap(path, LINKTYPE.LINUX_SLL2, [...datagrams(rtp, at, 1e15), ...datagrams(rtcp, at, 1e15 + 3, 400_000)]);
    const r = await decryptCapture(path, join(dir, 'mux-decrypted.pcapng'), [{ id: 'gcm', suite: 'AEAD_AES_256_GCM', keySalt: keySaltFor('AEAD_AES_256_GCM', 302) }], { audioDir: false });
    expect(r.streams.map((s) => [s.kind, s.packets, s.src])).toEqual([['rtp', 100, '10.0.0.1:5000'], ['rtcp', 4, '10.0.0.1:5000']]);
  });
});
