/**
 * Interop with Debian's libwolfssl (an independent ECCSI and SAKKE
 * implementation) through interop/wolf-helper.c, in both directions:
 * our ECCSI signatures verify in wolfSSL and wolfSSL's verify here; our SED
 * decapsulates in wolfSSL and wolfSSL's decapsulates here. Keys are made by
 * our KMS functions and handed to wolfSSL in hex. Missing gcc or
 * libwolfssl-dev fails this test with what to install.
 */
import { describe, expect, it } from 'vitest';
import {
  eccsiIssue,
  eccsiKmsKeys,
  eccsiSign,
  eccsiVerify,
  fromHex,
  generateSakkeMasterSecret,
  generateSsv,
  mikeySakkeIdentifier,
  sakkeDecapsulate,
  sakkeEncapsulate,
  sakkeKmsPublicKey,
  sakkeRsk,
  SakkeError,
  toHex,
} from '../src/index.ts';
import { runWolf, type WolfResult } from '../interop/wolf.ts';
import { bytes, point, rfc6507, rfc6508 } from './vectors.ts';

function ok(r: WolfResult | { failed: string }): string {
  if ('failed' in r) throw new Error(`wolfSSL failed: ${r.failed}`);
  return r.result;
}

const at = new Date(Date.UTC(2026, 11, 2));
const alice = mikeySakkeIdentifier('sip:alice@ims.example', at);
const gms = mikeySakkeIdentifier('sip:gms@ims.example', at);
const msg = new TextEncoder().encode('MIKEY-SAKKE I_MESSAGE body');

describe('libwolfssl interop: ECCSI (RFC 6507)', { timeout: 120_000 }, () => {
  const kms = eccsiKmsKeys();
  const key = eccsiIssue(kms, gms);

  it('wolfSSL verifies the RFC 6507 Appendix A signature (sanity of the helper)', () => {
    const sig = new Uint8Array([...bytes(rfc6507.r), ...bytes(rfc6507.s), ...bytes(rfc6507.PVT)]);
    expect(ok(runWolf('eccsi-verify', [bytes(rfc6507.KPAK), bytes(rfc6507.ID), bytes(rfc6507.M), sig]))).toBe('1');
  });
  it('ours signs -> wolfSSL verifies; a tampered signature is refused by wolfSSL', () => {
    const sig = eccsiSign(msg, { kpak: kms.kpak, id: gms, key });
    expect(ok(runWolf('eccsi-verify', [kms.kpak, gms, msg, sig]))).toBe('1');
    const bad = Uint8Array.from(sig);
    bad[40]! ^= 0x01;
    expect(ok(runWolf('eccsi-verify', [kms.kpak, gms, msg, bad]))).toBe('0');
    expect(ok(runWolf('eccsi-verify', [kms.kpak, alice, msg, sig]))).toBe('0');
  });
  it('wolfSSL signs (with our KMS-issued SSK/PVT, validated by wolfSSL) -> ours verifies', () => {
    const sig = fromHex(ok(runWolf('eccsi-sign', [kms.kpak, gms, key.ssk, key.pvt, msg])));
    expect(sig.length).toBe(129);
    expect(toHex(sig.subarray(64))).toBe(toHex(key.pvt));
    expect(eccsiVerify(msg, sig, gms, kms.kpak)).toEqual({ valid: true });
    const r = eccsiVerify(msg, sig, alice, kms.kpak);
    expect(r.valid).toBe(false);
  });
});

describe('libwolfssl interop: SAKKE (RFC 6508, parameter set 1)', { timeout: 120_000 }, () => {
  const z = generateSakkeMasterSecret();
  const Z = sakkeKmsPublicKey(z);
  const rsk = sakkeRsk(z, alice);

  it('wolfSSL reproduces the RFC 6508 Appendix A Encapsulated Data and decapsulates it', () => {
    const b = bytes(rfc6508.b);
    const Zr = point(rfc6508.Zx, rfc6508.Zy);
    const sed = ok(runWolf('sakke-encap', [Zr, b, bytes(rfc6508.SSV)]));
    expect(sed).toBe(toHex(new Uint8Array([...point(rfc6508.Rbx, rfc6508.Rby), ...bytes(rfc6508.H)])));
    expect(ok(runWolf('sakke-decap', [Zr, b, point(rfc6508.Kbx, rfc6508.Kby), fromHex(sed)]))).toBe(toHex(bytes(rfc6508.SSV)));
  });
  it('ours encapsulates -> wolfSSL decapsulates with our KMS-issued RSK', () => {
    const ssv = generateSsv();
    const sed = sakkeEncapsulate(ssv, alice, Z);
    expect(ok(runWolf('sakke-decap', [Z, alice, rsk, sed]))).toBe(toHex(ssv));
  });
  it('wolfSSL encapsulates -> ours decapsulates; a flipped bit of its SED is refused here', () => {
    const ssv = generateSsv();
    const sed = fromHex(ok(runWolf('sakke-encap', [Z, alice, ssv])));
    expect(toHex(sakkeDecapsulate(sed, alice, rsk, Z))).toBe(toHex(ssv));
    const bad = Uint8Array.from(sed);
    bad[bad.length - 1]! ^= 0x80;
    expect(() => sakkeDecapsulate(bad, alice, rsk, Z)).toThrow(SakkeError);
  });
  it('wolfSSL refuses our SED for the wrong identity', () => {
    const sed = sakkeEncapsulate(generateSsv(), gms, Z);
    expect('failed' in runWolf('sakke-decap', [Z, alice, rsk, sed])).toBe(true);
  });
});
