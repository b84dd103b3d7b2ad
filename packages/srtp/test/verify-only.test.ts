/**
 * The analyser's verify-only paths: a tag checked without decrypting
 * (`authenticatesRtp`), decryption of a packet already known to authenticate
 * (`decryptRtp`), and tags checked four at a time in WebAssembly SIMD
 * (`SrtpVerifier.TagBatch`, sha1-x4.ts), against node:crypto and SrtpContext.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SrtpContext, SrtpVerifier, type SrtpProfileName } from '../src/index.ts';
import { Sha1x4 } from '../src/sha1-x4.ts';
import { ALL_PROFILES, keysFor, rtpPacket } from './helpers.ts';

function pair(profile: SrtpProfileName, seed = 1) {
  const k = keysFor(profile, seed);
  return { ctx: new SrtpContext({ profile, ...k }), v: new SrtpVerifier(profile, k.masterKey, k.masterSalt) };
}

describe('SHA-1 four lanes at a time (WebAssembly SIMD)', () => {
  it('HMAC-SHA1 of message || ROC equals node:crypto for every length 0..300, four keys per call', () => {
    const e = Sha1x4.create(4);
    expect(e).not.toBeNull();
    for (let len = 0; len <= 300; len++) {
      const keys = [0, 1, 2, 3].map(() => randomBytes(20));
      const msgs = [0, 1, 2, 3].map(() => randomBytes(len));
      const rocs = [0, 1, 0x12345678, 0xffffffff];
      const nb = msgs.map((m, j) => e!.load(j, m, 0, len, rocs[j]!));
      expect(new Set(nb).size).toBe(1);
      const ko = keys.map((k) => e!.key(k));
      e!.hmac4(0, 1, 2, 3, ko[0]!, ko[1]!, ko[2]!, ko[3]!, nb[0]!);
      for (let l = 0; l < 4; l++) {
        const roc = Buffer.alloc(4);
        roc.writeUInt32BE(rocs[l]!);
        const ref = createHmac('sha1', keys[l]!).update(msgs[l]!).update(roc).digest();
        const got = Buffer.alloc(20);
        for (let i = 0; i < 5; i++) got.writeInt32BE(e!.word(l, i), 4 * i);
        expect(got.toString('hex'), `length ${len} lane ${l}`).toBe(ref.toString('hex'));
      }
    }
  });
});

describe('SrtpVerifier.authenticatesRtp (verify only)', () => {
  for (const profile of ALL_PROFILES) {
    it(`${profile}: the ROC that authenticates, -1 for a flipped bit, a wrong ROC or another key`, () => {
      const { ctx, v } = pair(profile);
      const other = pair(profile, 9).v;
      // Sequence numbers across a wrap: packets after it are under ROC 1.
      const wire = [65534, 65535, 0, 1].map((seq) => ctx.protectRtp(rtpPacket({ seq })));
      expect(wire.map((p) => v.authenticatesRtp(p, [0, 1]))).toEqual([0, 0, 1, 1]);
      expect(v.authenticatesRtp(wire[2]!, [0])).toBe(-1);
      expect(other.authenticatesRtp(wire[0]!, [0])).toBe(-1);
      const flipped = Buffer.from(wire[0]!);
      flipped[20]! ^= 0x01;
      expect(v.authenticatesRtp(flipped, [0])).toBe(-1);
      expect(v.authenticatesRtp(Buffer.alloc(5), [0])).toBe(-1);
    });

    it(`${profile}: decryptRtp gives back the RTP packet that was protected, or its first payload octets`, () => {
      const { ctx, v } = pair(profile);
      const rtp = [10, 11, 12].map((seq) => rtpPacket({ seq }));
      const wire = rtp.map((p) => ctx.protectRtp(p));
      // Out of order, one at a time: the unbatched keystream path.
      for (const i of [2, 0, 1]) expect(v.decryptRtp(wire[i]!, 0)!.equals(rtp[i]!)).toBe(true);
      const head = v.decryptRtp(wire[1]!, 0, 16)!;
      expect(head.equals(rtp[1]!.subarray(0, profile.startsWith('AEAD') ? rtp[1]!.length : 12 + 16))).toBe(true);
    });
  }
});

describe('SrtpVerifier.rtpKeystreamHeads', () => {
  it('the first keystream block of packets first, first + step, ...: XORed with their payload, the plaintext', () => {
    const { ctx, v } = pair('AES_CM_128_HMAC_SHA1_80');
    const rtp = Array.from({ length: 70 }, (_, i) => rtpPacket({ seq: 65500 + i })); // across a rollover: indices 65500 .. 65569
    const wire = rtp.map((p) => ctx.protectRtp(p));
    const heads = v.rtpKeystreamHeads(0x11223344, 65503, 16, 4)!;
    for (let k = 0; k < 4; k++) {
      const i = 3 + 16 * k;
      const clear = Buffer.from(wire[i]!.subarray(12, 28).map((b, n) => b ^ heads[16 * k + n]!));
      expect(clear.equals(rtp[i]!.subarray(12, 28)), `packet ${i}`).toBe(true);
    }
    expect(pair('AEAD_AES_128_GCM').v.rtpKeystreamHeads(1, 0, 1, 1)).toBeNull();
  });
});

describe('SrtpVerifier.TagBatch', () => {
  it('checks mixed keys, lengths and forgeries like authenticatesRtp does, in any batch shape', () => {
    const keys = (['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_80'] as const).map((p, i) => pair(p, i + 1));
    const batch = new SrtpVerifier.TagBatch(37);
    expect(batch.available).toBe(true);
    const jobs: Array<{ v: SrtpVerifier; p: Buffer; expect: boolean; j: number }> = [];
    for (let i = 0; i < 37; i++) {
      const k = keys[i % keys.length]!;
      // Payload lengths 20..1400: one to 23 SHA-1 blocks.
      const payload = randomBytes(20 + ((i * 97) % 1381));
      let p = k.ctx.protectRtp(rtpPacket({ seq: i, payload }));
      let ok = true;
      if (i % 5 === 3) {
        p = Buffer.from(p);
        p[p.length - 1]! ^= 0x80;
        ok = false;
      }
      // Checked under a key that is not its own: must fail.
      const v = i % 7 === 6 ? keys[(i + 1) % keys.length]!.v : k.v;
      if (v !== k.v) ok = false;
      // Inside a larger buffer, as a captured frame's payload is.
      const frame = Buffer.concat([randomBytes(42), p, randomBytes(4)]);
      const j = batch.add(batch.handle(v), frame, 42, 42 + p.length, 0);
      expect(j).toBe(i);
      jobs.push({ v, p, expect: ok, j });
    }
    expect(batch.full).toBe(true);
    batch.run();
    for (const job of jobs) {
      expect(batch.ok(job.j), `job ${job.j}`).toBe(job.expect);
      expect(job.v.authenticatesRtp(job.p, [0]) === 0).toBe(job.expect);
    }
    batch.clear();
    expect(batch.length).toBe(0);
  });

  it('declines what it cannot batch: AES-GCM, an MKI, a full batch, a packet over 2 KiB', () => {
    const gcm = pair('AEAD_AES_128_GCM');
    const batch = new SrtpVerifier.TagBatch(1);
    expect(batch.handle(gcm.v)).toBe(-1);
    const k = keysFor('AES_CM_128_HMAC_SHA1_80');
    const withMki = new SrtpVerifier('AES_CM_128_HMAC_SHA1_80', k.masterKey, k.masterSalt, { mkiLength: 4 });
    expect(batch.handle(withMki)).toBe(-1);
    const cm = pair('AES_CM_128_HMAC_SHA1_80');
    const h = batch.handle(cm.v);
    expect(batch.handle(cm.v)).toBe(h);
    const big = cm.ctx.protectRtp(rtpPacket({ seq: 1, payload: randomBytes(2100) }));
    expect(batch.add(h, big, 0, big.length, 0)).toBe(-1);
    expect(cm.v.authenticatesRtp(big, [0])).toBe(0);
    const q = cm.ctx.protectRtp(rtpPacket({ seq: 2 }));
    expect(batch.add(h, q, 0, q.length, 0)).toBe(0);
    expect(batch.add(h, q, 0, q.length, 0)).toBe(-1);
    expect(batch.ok(0)).toBe(true);
  });

  it('ROC is part of the tag: a packet after a wrap verifies under ROC 1 only', () => {
    const { ctx, v } = pair('AES_CM_128_HMAC_SHA1_80');
    ctx.protectRtp(rtpPacket({ seq: 65535 }));
    const p = ctx.protectRtp(rtpPacket({ seq: 0 }));
    const batch = new SrtpVerifier.TagBatch(2);
    const a = batch.add(batch.handle(v), p, 0, p.length, 0);
    const b = batch.add(batch.handle(v), p, 0, p.length, 1);
    expect([batch.ok(a), batch.ok(b)]).toEqual([false, true]);
  });
});
