/**
 * ECCSI against RFC 6507 Appendix A: every value the example prints (KPAK,
 * PVT, HS, SSK, r, HE, s) is recomputed from KSAK, v, j, ID and M.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { eccsiIssue, eccsiKmsKeys, eccsiSign, eccsiValidate, eccsiVerify, toHex, ECCSI_SIGNATURE_LENGTH } from '../src/index.ts';
import { bytes, int, rfc6507 as V } from './vectors.ts';

const kms = eccsiKmsKeys(int(V.KSAK));
const id = bytes(V.ID);
const M = bytes(V.M);

describe('RFC 6507 Appendix A', () => {
  it('the ID and M octets are the printed strings', () => {
    expect(new TextDecoder().decode(id)).toBe('2011-02\0tel:+447700900123\0');
    expect(new TextDecoder().decode(M)).toBe('message\0');
  });
  it('KPAK = [KSAK]G', () => {
    expect(toHex(kms.kpak)).toBe(toHex(bytes(V.KPAK)));
  });
  it('sec. 5.1.1: PVT = [v]G, HS = hash(G || KPAK || ID || PVT), SSK = KSAK + HS*v mod q', () => {
    const key = eccsiIssue(kms, id, int(V.v));
    expect(toHex(key.pvt)).toBe(toHex(bytes(V.PVT)));
    expect(toHex(key.hs)).toBe(toHex(bytes(V.HS)));
    expect(toHex(key.ssk)).toBe(toHex(bytes(V.SSK)));
  });
  it('sec. 5.1.2: the published (SSK, PVT) validates and yields the published HS', () => {
    expect(toHex(eccsiValidate(bytes(V.KPAK), id, bytes(V.SSK), bytes(V.PVT)))).toBe(toHex(bytes(V.HS)));
  });
  it('sec. 5.2.1: r = Jx, HE = hash(HS || r || M), s, signature = r || s || PVT', () => {
    const key = { ssk: bytes(V.SSK), pvt: bytes(V.PVT), hs: bytes(V.HS) };
    const sig = eccsiSign(M, { kpak: kms.kpak, id, key }, int(V.j));
    expect(sig.length).toBe(ECCSI_SIGNATURE_LENGTH);
    expect(toHex(sig.subarray(0, 32))).toBe(toHex(bytes(V.r)));
    expect(toHex(sig.subarray(32, 64))).toBe(toHex(bytes(V.s)));
    expect(toHex(sig.subarray(64))).toBe(toHex(bytes(V.PVT)));
    // HE is not part of the signature; recompute it as sec. 5.2.1 step 3 does.
    const he = createHash('sha256').update(bytes(V.HS)).update(sig.subarray(0, 32)).update(M).digest();
    expect(toHex(he)).toBe(toHex(bytes(V.HE)));
  });
  it('sec. 5.2.2: the published signature verifies', () => {
    const sig = new Uint8Array([...bytes(V.r), ...bytes(V.s), ...bytes(V.PVT)]);
    expect(eccsiVerify(M, sig, id, bytes(V.KPAK))).toEqual({ valid: true });
  });
});

describe('ECCSI with fresh keys', () => {
  it('a random KMS, user key and j sign and verify; another message does not', () => {
    const k = eccsiKmsKeys();
    const uid = new TextEncoder().encode('2026-12\0sip:alice@ims.example\0');
    const key = eccsiIssue(k, uid);
    eccsiValidate(k.kpak, uid, key.ssk, key.pvt);
    const sig = eccsiSign(M, { kpak: k.kpak, id: uid, key });
    expect(eccsiVerify(M, sig, uid, k.kpak).valid).toBe(true);
    const r = eccsiVerify(new TextEncoder().encode('other'), sig, uid, k.kpak);
    expect(r.valid).toBe(false);
  });
});
