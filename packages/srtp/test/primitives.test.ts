/** The two hand-rolled primitives checked against RFC 2202 and node:crypto: HMAC-SHA1 (JS) and AES-CM (ECB counter blocks); the replay window. */
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AesCm, aesCmIv } from '../src/aes-cm.ts';
import { HmacSha1 } from '../src/hmac-sha1.ts';
import { ReplayWindow } from '../src/replay.ts';

function mac(key: Uint8Array, data: Uint8Array, trailer = new Uint8Array(0)): string {
  const out = Buffer.alloc(20);
  new HmacSha1(key).macInto(data, data.length, trailer, out, 0, 20);
  return out.toString('hex');
}

describe('HMAC-SHA1', () => {
  // RFC 2202 sec. 3, test cases 1, 2, 6 (key longer than the block).
  it('RFC 2202 test cases', () => {
    expect(mac(Buffer.alloc(20, 0x0b), Buffer.from('Hi There'))).toBe('b617318655057264e28bc0b6fb378c8ef146be00');
    expect(mac(Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'))).toBe('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
    expect(mac(Buffer.alloc(80, 0xaa), Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'))).toBe('aa4ae5e15272d00e95705637ce8a3b55ed402112');
  });
  it('matches node:crypto for every length 0..300 with and without a 4-octet trailer', () => {
    const key = randomBytes(20);
    const h = new HmacSha1(key);
    const data = randomBytes(300);
    const trailer = randomBytes(4);
    const out = Buffer.alloc(20);
    for (let n = 0; n <= 300; n++) {
      h.macInto(data, n, trailer, out, 0, 20);
      expect(out.toString('hex'), `length ${n}`).toBe(createHmac('sha1', key).update(data.subarray(0, n)).update(trailer).digest('hex'));
      expect(h.verify(data, n, new Uint8Array(0), createHmac('sha1', key).update(data.subarray(0, n)).digest(), 0, 10)).toBe(true);
    }
  });
  it('verifyAnyRoc finds the ROC whose tag matches', () => {
    const key = randomBytes(20);
    const data = randomBytes(150);
    const tag = createHmac('sha1', key).update(data).update(Buffer.from([0, 0, 0, 3])).digest();
    expect(new HmacSha1(key).verifyAnyRoc(data, data.length, [0, 1, 2, 3, 4], tag, 0, 10)).toBe(3);
    expect(new HmacSha1(key).verifyAnyRoc(data, data.length, [0, 1], tag, 0, 10)).toBe(-1);
  });
});

describe('AES-CM via ECB counter blocks', () => {
  it('equals node aes-128-ctr / aes-256-ctr for lengths 0..100 and a non-zero starting counter', () => {
    for (const keyLen of [16, 32]) {
      const key = randomBytes(keyLen);
      const aes = new AesCm(key);
      const iv = randomBytes(16);
      iv[14] = 0;
      iv[15] = 7;
      const src = randomBytes(100);
      for (let n = 0; n <= 100; n++) {
        const out = Buffer.alloc(n);
        aes.xorIv(iv, src, 0, n, out, 0);
        const ref = createCipheriv(keyLen === 32 ? 'aes-256-ctr' : 'aes-128-ctr', key, iv).update(src.subarray(0, n));
        expect(out.equals(ref), `length ${n}`).toBe(true);
      }
    }
  });
});

describe('AES-CM keystream batches (xorPacket)', () => {
  it('equal the per-packet keystream across SSRCs, reordering, growing sizes and the 2^16 index boundary', () => {
    const key = randomBytes(16);
    const salt = randomBytes(14);
    const batched = new AesCm(key, salt);
    const reference = new AesCm(key, salt);
    const src = randomBytes(1500);
    const iv = Buffer.alloc(16);
    const steps: Array<[number, number, number]> = [];
    for (let i = 0; i < 40; i++) steps.push([0x1111, 65520 + i, 160]);
    steps.push([0x1111, 65530, 160], [0x2222, 7, 40], [0x1111, 65561, 1200], [0x1111, 65562, 20], [0x3333, 2 ** 40, 160]);
    for (let s = 0; s < 20; s++) steps.push([0x4000 + s, s, 100]); // more SSRCs than batches are kept
    steps.push([0x1111, 65563, 160]);
    for (const [ssrc, index, n] of steps) {
      const a = Buffer.alloc(n);
      const b = Buffer.alloc(n);
      batched.xorPacket(ssrc, index, src, 0, n, a, 0);
      aesCmIv(salt, ssrc, index, iv);
      reference.xorIv(iv, src, 0, n, b, 0);
      expect(a.equals(b), `ssrc ${ssrc} index ${index} length ${n}`).toBe(true);
    }
  });
});

// The ROC guess (RFC 3711 appendix A) is @imslab/rtp's estimateRoc, tested in packages/rtp/test/sequence.test.ts.
describe('replay window (RFC 3711 sec. 3.3.2)', () => {
  it('window of 64 over large jumps', () => {
    const w = new ReplayWindow(64);
    w.update(1000);
    expect(w.check(1000)).toBe('replayed');
    expect(w.check(937)).toBe('ok');
    expect(w.check(936)).toBe('too-old');
    w.update(1000 + 70);
    expect(w.check(1000)).toBe('too-old');
    expect(w.check(1069)).toBe('ok');
    w.update(1069);
    expect(w.check(1069)).toBe('replayed');
    w.update(2 ** 47);
    expect(w.check(2 ** 47 - 63)).toBe('ok');
    expect(w.check(2 ** 47)).toBe('replayed');
  });
});
