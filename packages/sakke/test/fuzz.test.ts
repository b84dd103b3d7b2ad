/**
 * Property test of the parsers: random bytes given as a signature, a SAKKE
 * Encapsulated Data, a point or an identifier end in a SakkeError (or a
 * clean negative result), never another exception.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  decodePoint,
  eccsiKmsKeys,
  eccsiVerify,
  P256,
  parseEccsiSignature,
  parseMikeySakkeIdentifier,
  parseSakkeEncapsulatedData,
  SAKKE_PARAMS_1,
  SakkeError,
} from '../src/index.ts';

function onlySakkeErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(SakkeError);
  }
}

/** Random lengths around the interesting ones, and random prefixes 0x04 to get past the first check. */
function samples(n: number, lengths: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = i % 3 === 0 ? lengths[i % lengths.length]! : Math.floor(Math.random() * 400);
    const b = new Uint8Array(randomBytes(len));
    if (i % 2 === 0 && b.length > 0) b[0] = 4;
    out.push(b);
  }
  return out;
}

describe('parsers on random bytes', () => {
  const kpak = eccsiKmsKeys().kpak;
  it('ECCSI signature parse and verify: SakkeError or invalid, never valid', () => {
    for (const b of samples(300, [129, 128, 130, 65])) {
      onlySakkeErrors(() => parseEccsiSignature(b));
      expect(eccsiVerify(new Uint8Array(3), b, new Uint8Array([1]), kpak).valid).toBe(false);
    }
  });
  it('SAKKE Encapsulated Data and points: SakkeError only', () => {
    for (const b of samples(300, [273, 257, 272, 274])) {
      onlySakkeErrors(() => parseSakkeEncapsulatedData(b));
      onlySakkeErrors(() => decodePoint(SAKKE_PARAMS_1.curve, b, 'R'));
      onlySakkeErrors(() => decodePoint(P256, b, 'PVT'));
    }
  });
  it('identifiers: SakkeError (identifier-invalid) only', () => {
    for (const b of samples(300, [26, 11, 8])) {
      try {
        parseMikeySakkeIdentifier(b);
      } catch (e) {
        expect(e).toBeInstanceOf(SakkeError);
        expect((e as SakkeError).code).toBe('identifier-invalid');
      }
    }
  });
  it('non-byte inputs are bad-encoding, not TypeErrors', () => {
    onlySakkeErrors(() => parseEccsiSignature('x' as unknown as Uint8Array));
    onlySakkeErrors(() => parseSakkeEncapsulatedData(null as unknown as Uint8Array));
    expect(eccsiVerify(new Uint8Array(1), {} as Uint8Array, new Uint8Array(1), kpak).valid).toBe(false);
  });
});
