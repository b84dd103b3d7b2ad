/** SrtpContext behaviour: round trips, tampering, replay, truncation, ROC rollover, MKI, kdr, stats (RFC 3711, RFC 7714). */
import { describe, expect, it } from 'vitest';
import { RtpFormatError, SRTP_PROFILES, SrtpConfigError, SrtpContext, ROC_RESYNC_AFTER, SrtpIndexReuseError, SrtpKeyExpiredError, SrtpVerifier, type SrtpContextOptions, type SrtpProfileName, type UnprotectResult } from '../src/index.ts';
import { ALL_PROFILES, keysFor, rtcpPacket, rtpPacket } from './helpers.ts';

function pair(profile: SrtpProfileName, extra: Partial<SrtpContextOptions> = {}): { tx: SrtpContext; rx: SrtpContext } {
  const opts = { profile, ...keysFor(profile), ...extra };
  return { tx: new SrtpContext(opts), rx: new SrtpContext(opts) };
}

function packetOf(r: UnprotectResult): Buffer {
  if (!r.ok) throw new Error(`unprotect failed: ${r.reason}`);
  return r.packet;
}

// RFC 3711 sec. 3.3 / 3.4, RFC 7714 sec. 8 / 9.
describe.each(ALL_PROFILES)('%s round trip', (profile) => {
  const p = SRTP_PROFILES[profile];
  it('RTP with CSRCs and header extension, payload encrypted and header clear', () => {
    const { tx, rx } = pair(profile);
    const cases: Array<[Buffer, number]> = [
      [rtpPacket({ seq: 1 }), 12],
      [rtpPacket({ seq: 2, csrcs: [1, 2, 3] }), 24],
      [rtpPacket({ seq: 3, csrcs: [9], ext: Buffer.alloc(8, 0x42) }), 28],
      [rtpPacket({ seq: 4, payload: Buffer.alloc(0) }), 12],
    ];
    for (const [rtp, hdrLen] of cases) {
      const srtp = tx.protectRtp(rtp);
      expect(srtp.length).toBe(rtp.length + p.authTagLength);
      expect(srtp.subarray(0, hdrLen).equals(rtp.subarray(0, hdrLen))).toBe(true);
      if (rtp.length > hdrLen) expect(srtp.subarray(hdrLen, rtp.length).equals(rtp.subarray(hdrLen))).toBe(false);
      expect(packetOf(rx.unprotectRtp(srtp)).equals(rtp)).toBe(true);
    }
    expect(tx.stats.protected).toBe(4);
    expect(rx.stats.unprotected).toBe(4);
  });
  it('RTCP, E flag set, index counting from 0 (RFC 3711 sec. 3.4)', () => {
    const { tx, rx } = pair(profile);
    for (let i = 0; i < 3; i++) {
      const rtcp = rtcpPacket(0xabcdef01, 24 + 4 * i);
      const srtcp = tx.protectRtcp(rtcp);
      expect(srtcp.length).toBe(rtcp.length + 4 + p.srtcpAuthTagLength);
      const word = srtcp.readUInt32BE(p.aead ? rtcp.length + p.srtcpAuthTagLength : rtcp.length);
      expect(word).toBe((0x80000000 | i) >>> 0);
      expect(packetOf(rx.unprotectRtcp(srtcp)).equals(rtcp)).toBe(true);
    }
  });
  it('UNENCRYPTED_SRTP / UNENCRYPTED_SRTCP: authenticated, payload in clear', () => {
    const { tx, rx } = pair(profile, { unencryptedSrtp: true, unencryptedSrtcp: true });
    const rtp = rtpPacket({ seq: 10 });
    const srtp = tx.protectRtp(rtp);
    expect(srtp.subarray(0, rtp.length).equals(rtp)).toBe(true);
    expect(packetOf(rx.unprotectRtp(srtp)).equals(rtp)).toBe(true);
    const rtcp = rtcpPacket();
    const srtcp = tx.protectRtcp(rtcp);
    expect(srtcp.subarray(0, rtcp.length).equals(rtcp)).toBe(true);
    expect(packetOf(rx.unprotectRtcp(srtcp)).equals(rtcp)).toBe(true);
    // The receiver of SRTCP follows the E flag, so a default context accepts it too.
    expect(pair(profile).rx.unprotectRtcp(srtcp).ok).toBe(true);
  });
  it('MKI is carried and checked (RFC 3711 sec. 3.1; after the tag for AEAD, RFC 7714 sec. 8)', () => {
    const mki = Buffer.from([0, 0, 0, 7]);
    const { tx, rx } = pair(profile, { mki });
    const rtp = rtpPacket({ seq: 5 });
    const srtp = tx.protectRtp(rtp);
    expect(srtp.length).toBe(rtp.length + p.authTagLength + 4);
    const mkiAt = p.aead ? srtp.length - 4 : rtp.length;
    expect(srtp.subarray(mkiAt, mkiAt + 4).equals(mki)).toBe(true);
    expect(packetOf(rx.unprotectRtp(srtp)).equals(rtp)).toBe(true);
    const other = new SrtpContext({ profile, ...keysFor(profile), mki: Buffer.from([0, 0, 0, 8]) });
    expect(other.unprotectRtp(srtp)).toEqual({ ok: false, reason: 'mki-unknown' });
    const srtcp = tx.protectRtcp(rtcpPacket());
    expect(packetOf(rx.unprotectRtcp(srtcp)).equals(rtcpPacket())).toBe(true);
    expect(other.unprotectRtcp(srtcp)).toEqual({ ok: false, reason: 'mki-unknown' });
    expect(new SrtpVerifier(profile, keysFor(profile).masterKey, keysFor(profile).masterSalt, { mkiLength: 4 }).verifyRtp(srtp)?.packet.equals(rtp)).toBe(true);
  });
  it('a different master key fails authentication', () => {
    const { tx } = pair(profile);
    const rx = new SrtpContext({ profile, ...keysFor(profile, 99) });
    expect(rx.unprotectRtp(tx.protectRtp(rtpPacket({ seq: 1 })))).toEqual({ ok: false, reason: 'auth-failed' });
    expect(rx.unprotectRtcp(tx.protectRtcp(rtcpPacket()))).toEqual({ ok: false, reason: 'auth-failed' });
    expect(rx.stats.authFailed).toBe(2);
  });
});

// RFC 3711 sec. 3.3 step 5 / RFC 7714 sec. 8.2: any modified octet of header, payload or tag fails authentication.
describe.each(ALL_PROFILES)('%s tampering', (profile) => {
  const p = SRTP_PROFILES[profile];
  it('every octet of an SRTP packet (header incl. CSRC and extension, payload, tag)', () => {
    const { tx } = pair(profile);
    const srtp = tx.protectRtp(rtpPacket({ seq: 100, csrcs: [5], ext: Buffer.alloc(4, 1), payload: Buffer.alloc(40, 3) }));
    // 12-octet fixed header, 1 CSRC (12..15), extension header (16..19) and body (20..23), 40-octet payload, tag.
    for (let i = 0; i < srtp.length; i++) {
      for (const bit of [0x01, 0x10, 0x80]) {
        // Fresh receiver each time so the replay window does not mask the result.
        const rx = new SrtpContext({ profile, ...keysFor(profile) });
        const bad = Buffer.from(srtp);
        bad[i]! ^= bit;
        const r = rx.unprotectRtp(bad);
        expect(r.ok, `octet ${i} bit ${bit}`).toBe(false);
        expect(rx.stats.unprotected).toBe(0);
        // Changing V or the extension length can make the packet unparseable instead; everything else must fail the tag.
        const structural = (i === 0 && bit === 0x80) || (i === 1 && bit === 0x80) || i === 18 || i === 19 || (i === 0 && bit === 0x10) || (i === 0 && bit === 0x01);
        if (!structural) expect((r as { reason: string }).reason, `octet ${i} bit ${bit}`).toBe('auth-failed');
      }
    }
  });
  it('header, encrypted part, index word and tag of SRTCP', () => {
    const { tx } = pair(profile);
    const srtcp = tx.protectRtcp(rtcpPacket());
    for (let i = 2; i < srtcp.length; i++) {
      const rx = new SrtpContext({ profile, ...keysFor(profile) });
      const bad = Buffer.from(srtcp);
      bad[i]! ^= 0x01;
      expect(rx.unprotectRtcp(bad), `octet ${i}`).toEqual({ ok: false, reason: 'auth-failed' });
    }
  });
  it('truncation gives too-short or auth-failed, never a packet', () => {
    const { tx } = pair(profile);
    const srtp = tx.protectRtp(rtpPacket({ seq: 1, payload: Buffer.alloc(20, 9) }));
    for (let n = 0; n < srtp.length; n++) {
      const rx = new SrtpContext({ profile, ...keysFor(profile) });
      const r = rx.unprotectRtp(srtp.subarray(0, n));
      expect(r.ok).toBe(false);
      if (n < 12 + p.authTagLength) expect(r).toEqual({ ok: false, reason: 'too-short' });
    }
    const rx = new SrtpContext({ profile, ...keysFor(profile) });
    expect(rx.unprotectRtcp(tx.protectRtcp(rtcpPacket()).subarray(0, 8 + 4 + p.srtcpAuthTagLength - 1))).toEqual({ ok: false, reason: 'too-short' });
  });
});

describe('malformed input', () => {
  const profile = 'AES_CM_128_HMAC_SHA1_80';
  it('unprotect: version, RTCP-looking, declared header longer than the packet', () => {
    const { tx, rx } = pair(profile);
    const srtp = tx.protectRtp(rtpPacket({ seq: 1 }));
    const v1 = Buffer.from(srtp);
    v1[0] = 0x40;
    expect(rx.unprotectRtp(v1)).toEqual({ ok: false, reason: 'not-rtp' });
    expect(rx.unprotectRtp(tx.protectRtcp(rtcpPacket()))).toEqual({ ok: false, reason: 'not-rtp' });
    expect(rx.unprotectRtcp(srtp)).toEqual({ ok: false, reason: 'not-rtp' });
    const manyCsrc = Buffer.from(srtp.subarray(0, 40));
    manyCsrc[0] = 0x8f; // 15 CSRCs = 72-octet header
    expect(rx.unprotectRtp(manyCsrc)).toEqual({ ok: false, reason: 'too-short' });
    const hugeExt = Buffer.from(srtp);
    hugeExt[0] = 0x90;
    hugeExt.writeUInt16BE(0xffff, 14);
    expect(rx.unprotectRtp(hugeExt)).toEqual({ ok: false, reason: 'too-short' });
    expect(rx.unprotectRtp(new Uint8Array(0))).toEqual({ ok: false, reason: 'too-short' });
    expect(rx.stats.malformed).toBe(6);
  });
  it('protect throws named errors on non-RTP input', () => {
    const { tx } = pair(profile);
    expect(() => tx.protectRtp(Buffer.alloc(5))).toThrow(RtpFormatError);
    expect(() => tx.protectRtp(Buffer.alloc(20))).toThrow(/not an RTP packet/);
    expect(() => tx.protectRtcp(Buffer.alloc(4))).toThrow(RtpFormatError);
    expect(() => tx.protectRtp(rtpPacket({ seq: 1, payload: Buffer.alloc(70_000) }))).toThrow(/UDP datagram/);
  });
  it.each(ALL_PROFILES)('%s: random and mutated input never throws from unprotect or the verifier', (profile) => {
    const { tx, rx } = pair(profile, { mki: Buffer.from([1, 2]) });
    const k = keysFor(profile);
    const v = new SrtpVerifier(profile, k.masterKey, k.masterSalt, { mkiLength: 2 });
    const good = [tx.protectRtp(rtpPacket({ seq: 1, csrcs: [1], ext: Buffer.alloc(4) })), tx.protectRtcp(rtcpPacket())];
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 3000; i++) {
      let p: Buffer;
      if (i % 2) {
        p = Buffer.from(Array.from({ length: Math.floor(rnd() * 80) }, () => Math.floor(rnd() * 256)));
        if (p.length > 0 && rnd() < 0.7) p[0] = 0x80 | (p[0]! & 0x3f); // mostly version 2 so parsing goes deeper
      } else {
        p = Buffer.from(good[i % 4 === 0 ? 0 : 1]!);
        p[Math.floor(rnd() * p.length)]! ^= 1 << Math.floor(rnd() * 8);
        p = p.subarray(0, Math.floor(rnd() * (p.length + 1)));
      }
      expect(rx.unprotectRtp(p).ok).toBe(false);
      expect(rx.unprotectRtcp(p).ok).toBe(false);
      expect(v.verifyRtp(p, [0, 1])).toBeNull();
      expect(v.verifyRtcp(p)).toBeNull();
    }
    expect(rx.stats.unprotected).toBe(0);
  });
  it('bad options throw SrtpConfigError with the expected values', () => {
    const k = keysFor(profile);
    expect(() => new SrtpContext({ profile: 'NOPE' as SrtpProfileName, ...k })).toThrow(/expected one of AES_CM_128_HMAC_SHA1_80/);
    expect(() => new SrtpContext({ profile, masterKey: Buffer.alloc(15), masterSalt: k.masterSalt })).toThrow(/16-octet master key, got 15/);
    expect(() => new SrtpContext({ profile, masterKey: k.masterKey, masterSalt: Buffer.alloc(12) })).toThrow(/14-octet master salt/);
    expect(() => new SrtpContext({ profile, ...k, replayWindow: 32 })).toThrow(SrtpConfigError);
    expect(() => new SrtpContext({ profile, ...k, kdr: 3 })).toThrow(/power of two/);
    expect(() => new SrtpContext({ profile, ...k, mki: Buffer.alloc(0) })).toThrow(/mki/);
  });
});

// RFC 3711 sec. 3.3.2.
describe('replay protection', () => {
  it('replayed and too-old packets are refused and counted, reordered ones accepted', () => {
    const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80', { replayWindow: 64 });
    const pkts = Array.from({ length: 200 }, (_, i) => tx.protectRtp(rtpPacket({ seq: 1000 + i })));
    expect(rx.unprotectRtp(pkts[0]!).ok).toBe(true);
    expect(rx.unprotectRtp(pkts[0]!)).toEqual({ ok: false, reason: 'replayed' });
    expect(rx.unprotectRtp(pkts[5]!).ok).toBe(true);
    expect(rx.unprotectRtp(pkts[3]!).ok).toBe(true); // reordered, inside the window
    expect(rx.unprotectRtp(pkts[3]!)).toEqual({ ok: false, reason: 'replayed' });
    expect(rx.unprotectRtp(pkts[150]!).ok).toBe(true);
    expect(rx.unprotectRtp(pkts[87]!).ok).toBe(true); // 150 - 87 = 63 < 64
    expect(rx.unprotectRtp(pkts[86]!)).toEqual({ ok: false, reason: 'too-old' });
    expect(rx.unprotectRtp(pkts[4]!)).toEqual({ ok: false, reason: 'too-old' });
    expect(rx.stats).toMatchObject({ unprotected: 5, replayed: 4 });
  });
  it('a forged packet does not advance the window or create stream state', () => {
    const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80');
    const good = tx.protectRtp(rtpPacket({ seq: 10 }));
    const later = tx.protectRtp(rtpPacket({ seq: 11 }));
    const forged = Buffer.from(later);
    forged[forged.length - 1]! ^= 1;
    expect(rx.unprotectRtp(forged).ok).toBe(false);
    expect(rx.unprotectRtp(later).ok).toBe(true);
    expect(rx.unprotectRtp(good).ok).toBe(true);
  });
  it('SRTCP replay', () => {
    const { tx, rx } = pair('AEAD_AES_128_GCM');
    const a = tx.protectRtcp(rtcpPacket());
    expect(rx.unprotectRtcp(a).ok).toBe(true);
    expect(rx.unprotectRtcp(a)).toEqual({ ok: false, reason: 'replayed' });
  });
  it('separate windows per SSRC', () => {
    const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_32');
    const a = tx.protectRtp(rtpPacket({ seq: 7, ssrc: 1 }));
    const b = tx.protectRtp(rtpPacket({ seq: 7, ssrc: 2 }));
    expect(rx.unprotectRtp(a).ok).toBe(true);
    expect(rx.unprotectRtp(b).ok).toBe(true);
  });
  it('the sender refuses to reuse an index unless allowRepeatTx (RFC 3711 sec. 9.1)', () => {
    const { tx } = pair('AES_CM_128_HMAC_SHA1_80');
    tx.protectRtp(rtpPacket({ seq: 1 }));
    expect(() => tx.protectRtp(rtpPacket({ seq: 1 }))).toThrow(SrtpIndexReuseError);
    const { tx: rep } = pair('AES_CM_128_HMAC_SHA1_80', { allowRepeatTx: true });
    expect(rep.protectRtp(rtpPacket({ seq: 1 })).equals(rep.protectRtp(rtpPacket({ seq: 1 })))).toBe(true);
  });
});

// RFC 3711 sec. 3.3.1 and appendix A.
describe.each(ALL_PROFILES)('%s ROC rollover', (profile) => {
  it('seq 65535 -> 0 increments the ROC on both sides, also with reordering at the wrap', () => {
    const { tx, rx } = pair(profile);
    const k = keysFor(profile);
    const seqs = [65533, 65534, 65535, 0, 1, 2];
    const pkts = seqs.map((seq) => tx.protectRtp(rtpPacket({ seq })));
    const verifier = new SrtpVerifier(profile, k.masterKey, k.masterSalt);
    expect(verifier.verifyRtp(pkts[3]!, [0, 1])?.roc).toBe(1);
    expect(verifier.verifyRtp(pkts[3]!)).toBeNull(); // ROC 0 alone does not authenticate after the wrap
    expect(verifier.verifyRtp(pkts[2]!, [0, 1])?.roc).toBe(0);
    // Deliver 65533, 0, 65534, 2, 65535, 1: the receiver guesses ROC from s_l both ways across the wrap.
    for (const i of [0, 3, 1, 5, 2, 4]) expect(packetOf(rx.unprotectRtp(pkts[i]!)).equals(rtpPacket({ seq: seqs[i]! }))).toBe(true);
    expect(rx.unprotectRtp(pkts[3]!)).toEqual({ ok: false, reason: 'replayed' });
  });
  it('setRoc joins a stream mid-way', () => {
    const k = keysFor(profile);
    const tx = new SrtpContext({ profile, ...k });
    tx.setRoc(0x11223344, 5);
    const srtp = tx.protectRtp(rtpPacket({ seq: 40000 }));
    expect(new SrtpVerifier(profile, k.masterKey, k.masterSalt).verifyRtp(srtp, [0, 4, 5])?.roc).toBe(5);
    const rx = new SrtpContext({ profile, ...k });
    expect(rx.unprotectRtp(srtp)).toEqual({ ok: false, reason: 'auth-failed' });
    rx.setRoc(0x11223344, 5);
    expect(rx.unprotectRtp(srtp).ok).toBe(true);
  });
  it('rocSearch: a late joiner finds a ROC the sender reached before the join, then follows the stream', () => {
    const k = keysFor(profile);
    const tx = new SrtpContext({ profile, ...k });
    // The sender started near the wrap and rolled over twice before the receiver's first packet.
    const sent = [65534, 65535, 0].map((seq) => tx.protectRtp(rtpPacket({ seq })));
    for (let seq = 1; seq <= 0xffff; seq += 0x4000) tx.protectRtp(rtpPacket({ seq }));
    const late = [0, 1, 2].map((seq) => tx.protectRtp(rtpPacket({ seq })));
    expect(sent).toHaveLength(3);
    expect(new SrtpContext({ profile, ...k }).unprotectRtp(late[0]!)).toEqual({ ok: false, reason: 'auth-failed' });
    expect(new SrtpContext({ profile, ...k, rocSearch: 1 }).unprotectRtp(late[0]!)).toEqual({ ok: false, reason: 'auth-failed' });
    const rx = new SrtpContext({ profile, ...k, rocSearch: 2 });
    for (const [i, p] of late.entries()) expect(packetOf(rx.unprotectRtp(p)).equals(rtpPacket({ seq: i }))).toBe(true);
    expect(rx.unprotectRtp(late[1]!)).toEqual({ ok: false, reason: 'replayed' });
    // Once the SSRC is known no more guessing: the packet sent as 65534 at ROC 0 is read at ROC 1 (the estimate from ROC 2) and fails, not re-guessed to 0.
    expect(rx.unprotectRtp(sent[0]!)).toEqual({ ok: false, reason: 'auth-failed' });
    expect([rx.stats.authFailed, rx.stats.replayed]).toEqual([1, 1]);
  });
  it('rocSearch: a stream pinned to an old ROC by a replayed first packet moves on after ROC_RESYNC_AFTER refusals', () => {
    const k = keysFor(profile);
    const tx = new SrtpContext({ profile, ...k });
    const old = tx.protectRtp(rtpPacket({ seq: 30000 }));
    // On through the wrap: ROC 1 from seq 13616 on.
    for (const seq of [46384, 62768, 13616]) tx.protectRtp(rtpPacket({ seq }));
    const live = Array.from({ length: 12 }, (_, i) => tx.protectRtp(rtpPacket({ seq: 20000 + i })));
    const pinned = (rocSearch: number) => {
      const rx = new SrtpContext({ profile, ...k, rocSearch });
      expect(rx.unprotectRtp(old).ok).toBe(true); // the replayed packet arrives first: ROC 0, s_l 30000
      return rx;
    };
    // Read at ROC 0 the live packets are 10,000 behind s_l: refused by the replay window, for ever without rocSearch.
    const plain = pinned(0);
    expect(live.map((p) => plain.unprotectRtp(p).ok)).toEqual(live.map(() => false));
    const rx = pinned(4);
    const got = live.map((p) => rx.unprotectRtp(p));
    expect(got.map((r) => r.ok)).toEqual(live.map((_, i) => i >= ROC_RESYNC_AFTER - 1));
    expect(packetOf(got[ROC_RESYNC_AFTER - 1]!).equals(rtpPacket({ seq: 20000 + ROC_RESYNC_AFTER - 1 }))).toBe(true);
    expect([rx.stats.replayed, rx.stats.rocResyncs, rx.stats.unprotected]).toEqual([ROC_RESYNC_AFTER - 1, 1, 1 + live.length - (ROC_RESYNC_AFTER - 1)]);
    // Moved forward only: the old packet stays refused; a live one refused under the old ROC and sent again is
    // accepted once (it is inside the new replay window and was never accepted), then refused as a replay.
    expect(rx.unprotectRtp(old).ok).toBe(false);
    expect(rx.unprotectRtp(live[0]!).ok).toBe(true);
    expect(rx.unprotectRtp(live[0]!)).toEqual({ ok: false, reason: 'replayed' });
  });
  it('rocSearch: forged packets never move a stream, however many', () => {
    const k = keysFor(profile);
    const tx = new SrtpContext({ profile, ...k });
    const real = [100, 101].map((seq) => tx.protectRtp(rtpPacket({ seq })));
    const rx = new SrtpContext({ profile, ...k, rocSearch: 4 });
    expect(rx.unprotectRtp(real[0]!).ok).toBe(true);
    for (let i = 0; i < 4 * ROC_RESYNC_AFTER; i++) {
      const forged = Buffer.from(real[1]!);
      forged[forged.length - 1]! ^= 1 + (i % 255);
      expect(rx.unprotectRtp(forged)).toEqual({ ok: false, reason: 'auth-failed' });
    }
    expect(rx.stats.rocResyncs).toBe(0);
    expect(packetOf(rx.unprotectRtp(real[1]!)).equals(rtpPacket({ seq: 101 }))).toBe(true);
  });
  it('rocSearch is bounded and a signalled ROC is not second-guessed', () => {
    const k = keysFor(profile);
    expect(() => new SrtpContext({ profile, ...k, rocSearch: 17 })).toThrow(SrtpConfigError);
    expect(() => new SrtpContext({ profile, ...k, rocSearch: -1 })).toThrow(/rocSearch must be an integer from 0 to 16/);
    expect(() => new SrtpContext({ profile, ...k, rocSearch: 2, kdr: 2 ** 16 })).toThrow(/rocSearch needs kdr 0/);
    const tx = new SrtpContext({ profile, ...k });
    tx.setRoc(0x11223344, 1);
    const srtp = tx.protectRtp(rtpPacket({ seq: 7 }));
    const rx = new SrtpContext({ profile, ...k, rocSearch: 4 });
    rx.setRoc(0x11223344, 3);
    expect(rx.unprotectRtp(srtp)).toEqual({ ok: false, reason: 'auth-failed' });
  });
});

describe('key lifetime and kdr', () => {
  it('keyLifetime stops protect with SrtpKeyExpiredError and unprotect with key-expired (RFC 3711 sec. 9.2)', () => {
    const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80', { keyLifetime: 2 });
    const a = tx.protectRtp(rtpPacket({ seq: 1 }));
    const b = tx.protectRtp(rtpPacket({ seq: 2 }));
    expect(() => tx.protectRtp(rtpPacket({ seq: 3 }))).toThrow(SrtpKeyExpiredError);
    expect(rx.unprotectRtp(a).ok).toBe(true);
    expect(rx.unprotectRtp(b).ok).toBe(true);
    const { tx: tx2 } = pair('AES_CM_128_HMAC_SHA1_80');
    tx2.protectRtp(rtpPacket({ seq: 1 }));
    tx2.protectRtp(rtpPacket({ seq: 2 }));
    expect(rx.unprotectRtp(tx2.protectRtp(rtpPacket({ seq: 3 })))).toEqual({ ok: false, reason: 'key-expired' });
    expect(rx.stats.keyExpired).toBe(1);
  });
  it.each(['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_256_GCM'] as const)('%s with kdr = 16 re-keys every 16 packets (RFC 3711 sec. 4.3.1)', (profile) => {
    const { tx, rx } = pair(profile, { kdr: 16 });
    const plain = pair(profile).tx;
    for (let seq = 0; seq < 40; seq++) {
      const rtp = rtpPacket({ seq });
      const srtp = tx.protectRtp(rtp);
      const reference = plain.protectRtp(rtp);
      // r = index DIV kdr is 0 for the first 16 packets, so keys equal the kdr = 0 keys only there.
      expect(srtp.equals(reference)).toBe(seq < 16);
      expect(packetOf(rx.unprotectRtp(srtp)).equals(rtp)).toBe(true);
    }
    for (let i = 0; i < 20; i++) expect(packetOf(rx.unprotectRtcp(tx.protectRtcp(rtcpPacket()))).equals(rtcpPacket())).toBe(true);
  });
});

describe.each(ALL_PROFILES)('%s SrtpVerifier agrees with SrtpContext', (profile) => {
  it('accepts what the context accepts and returns the same packet', () => {
    const k = keysFor(profile);
    const { tx, rx } = pair(profile);
    const v = new SrtpVerifier(profile, k.masterKey, k.masterSalt);
    const wrong = new SrtpVerifier(profile, keysFor(profile, 5).masterKey, k.masterSalt);
    for (let seq = 0; seq < 20; seq++) {
      const srtp = tx.protectRtp(rtpPacket({ seq, csrcs: seq % 3 ? [] : [seq] }));
      const fromCtx = packetOf(rx.unprotectRtp(srtp));
      const fromVer = v.verifyRtp(srtp);
      expect(fromVer?.roc).toBe(0);
      expect(fromVer?.packet.equals(fromCtx)).toBe(true);
      expect(wrong.verifyRtp(srtp)).toBeNull();
      const bad = Buffer.from(srtp);
      bad[bad.length - 1]! ^= 1;
      expect(v.verifyRtp(bad)).toBeNull();
      expect(rx.unprotectRtp(bad).ok).toBe(false);
    }
    const srtcp = tx.protectRtcp(rtcpPacket());
    expect(v.verifyRtcp(srtcp)?.equals(packetOf(rx.unprotectRtcp(srtcp)))).toBe(true);
    expect(wrong.verifyRtcp(srtcp)).toBeNull();
    expect(v.verifyRtp(Buffer.alloc(3))).toBeNull();
    expect(v.verifyRtcp(Buffer.alloc(3))).toBeNull();
  });
});
