/**
 * SAKKE against RFC 6508 Appendix A on parameter set 1 of RFC 6509
 * Appendix A: Z_S, the RSK, r, R_(b,S), g^r, the mask, H and the SSV
 * recovered by the receiver, plus g = <P, P> and the parameter set itself.
 */
import { describe, expect, it } from 'vitest';
import {
  encodePoint,
  hashToIntegerRange,
  isOnCurve,
  pfpValue,
  SAKKE_PARAMS_1,
  sakkeDecapsulate,
  sakkeEncapsulate,
  sakkeKmsPublicKey,
  sakkeRsk,
  sakkeSenderValues,
  tatePairing,
  toHex,
  validateSakkeRsk,
  decodePoint,
  i2osp,
} from '../src/index.ts';
import { bytes, int, point, rfc6508 as V, rfc6509 as P } from './vectors.ts';

const E = SAKKE_PARAMS_1.curve;
const Z = point(V.Zx, V.Zy);
const rsk = point(V.Kbx, V.Kby);
const b = bytes(V.b);
const ssv = bytes(V.SSV);

describe('RFC 6509 Appendix A parameter set 1', () => {
  it('p, q, P and g are the printed values; q = (p + 1)/4 and P lies on y^2 = x^3 - 3x', () => {
    expect(E.p).toBe(int(P.p));
    expect(E.q).toBe(int(P.q));
    expect(E.G.x).toBe(int(P.Px));
    expect(E.G.y).toBe(int(P.Py));
    expect(SAKKE_PARAMS_1.g).toBe(int(P.g));
    expect((E.p + 1n) % E.q).toBe(0n);
    expect(E.p % 4n).toBe(3n);
    expect(isOnCurve(E, E.G)).toBe(true);
  });
  it('RFC 6508 sec. 3.2: the Tate-Lichtenbaum pairing <P, P> is g', () => {
    expect(pfpValue(E.p, tatePairing(E, E.G, E.G))).toBe(int(P.g));
  });
});

describe('RFC 6508 Appendix A', () => {
  it('Z_S = [z_S]P', () => {
    expect(toHex(sakkeKmsPublicKey(int(V.z)))).toBe(toHex(Z));
  });
  it('sec. 6.1.1: K_(b,S) = [(b + z_S)^-1]P', () => {
    expect(toHex(sakkeRsk(int(V.z), b))).toBe(toHex(rsk));
  });
  it('sec. 6.1.2: the published RSK passes <[b]P + Z_S, K_(b,S)> = g', () => {
    expect(() => validateSakkeRsk(Z, b, rsk)).not.toThrow();
  });
  it('sec. 5.1 / 6.2.1: r = HashToIntegerRange(SSV || b, q) and the mask = HashToIntegerRange(g^r, 2^n)', () => {
    expect(hashToIntegerRange(new Uint8Array([...ssv, ...b]), E.q)).toBe(int(V.r));
    expect(hashToIntegerRange(bytes(V['g^r']), 1n << 128n)).toBe(int(V.mask));
  });
  it('sec. 6.2.1: R_(b,S), g^r, mask, H and the Encapsulated Data R || H', () => {
    const s = sakkeSenderValues(ssv, b, Z);
    expect(s.r).toBe(int(V.r));
    expect(toHex(s.R)).toBe(toHex(point(V.Rbx, V.Rby)));
    expect(toHex(i2osp(s.gr, 128))).toBe(toHex(bytes(V['g^r'])));
    expect(s.mask).toBe(int(V.mask));
    expect(toHex(s.H)).toBe(toHex(bytes(V.H)));
    expect(toHex(sakkeEncapsulate(ssv, b, Z))).toBe(toHex(new Uint8Array([...point(V.Rbx, V.Rby), ...bytes(V.H)])));
  });
  it('sec. 6.2.2: w = <R_(b,S), K_(b,S)> equals g^r and the receiver recovers the SSV', () => {
    const R = decodePoint(E, point(V.Rbx, V.Rby), 'R');
    const K = decodePoint(E, rsk, 'K');
    expect(toHex(i2osp(pfpValue(E.p, tatePairing(E, R, K)), 128))).toBe(toHex(bytes(V['g^r'])));
    const sed = new Uint8Array([...point(V.Rbx, V.Rby), ...bytes(V.H)]);
    expect(toHex(sakkeDecapsulate(sed, b, rsk, Z))).toBe(toHex(ssv));
  });
  it('encodes Z_S as 0x04 || x || y of 128-octet coordinates', () => {
    expect(encodePoint(E, E.G).length).toBe(257);
  });
});
