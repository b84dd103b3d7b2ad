/**
 * Refusals with a code, never a crash or a silent success: wrong identity,
 * tampered signature, tampered SED, points off the curve, out-of-range
 * scalars, wrong lengths (RFC 6507 sec. 5.1.2 / 5.2.2, RFC 6508 sec. 6.1.2 / 6.2.2).
 */
import { describe, expect, it } from 'vitest';
import {
  eccsiIssue,
  eccsiKmsKeys,
  eccsiSign,
  eccsiValidate,
  eccsiVerify,
  generateSakkeMasterSecret,
  i2osp,
  mikeySakkeIdentifier,
  P256,
  SAKKE_PARAMS_1,
  sakkeDecapsulate,
  sakkeEncapsulate,
  sakkeKmsPublicKey,
  sakkeRsk,
  SakkeError,
  validateSakkeRsk,
  type SakkeErrorCode,
} from '../src/index.ts';

function code(f: () => unknown): SakkeErrorCode | 'no error' | 'other' {
  try {
    f();
    return 'no error';
  } catch (e) {
    return e instanceof SakkeError ? e.code : 'other';
  }
}

const at = new Date(Date.UTC(2026, 11, 2));
const alice = mikeySakkeIdentifier('sip:alice@ims.example', at);
const bob = mikeySakkeIdentifier('sip:bob@ims.example', at);
const msg = new TextEncoder().encode('hello');

describe('ECCSI refusals', () => {
  const kms = eccsiKmsKeys();
  const key = eccsiIssue(kms, alice);
  const sig = eccsiSign(msg, { kpak: kms.kpak, id: alice, key });
  const verify = (s: Uint8Array, id = alice, kpak = kms.kpak) => eccsiVerify(msg, s, id, kpak);
  const errCode = (r: ReturnType<typeof eccsiVerify>) => (r.valid ? 'valid' : r.error.code);

  it('wrong identity, wrong KPAK, another message: signature-invalid', () => {
    expect(errCode(verify(sig, bob))).toBe('signature-invalid');
    expect(errCode(verify(sig, alice, eccsiKmsKeys().kpak))).toBe('signature-invalid');
    expect(errCode(eccsiVerify(new TextEncoder().encode('hellO'), sig, alice, kms.kpak))).toBe('signature-invalid');
  });
  it('each flipped bit of r or s is refused; a flipped PVT bit gives invalid-point or signature-invalid', () => {
    for (const i of [0, 17, 31, 32, 50, 63]) {
      const s = Uint8Array.from(sig);
      s[i]! ^= 0x04;
      expect(['signature-invalid', 'scalar-out-of-range']).toContain(errCode(verify(s)));
    }
    const s = Uint8Array.from(sig);
    s[100]! ^= 0x01;
    expect(['invalid-point', 'signature-invalid']).toContain(errCode(verify(s)));
  });
  it('r = 0, s = 0, s >= q: scalar-out-of-range; wrong length or prefix: bad-encoding', () => {
    const z = Uint8Array.from(sig);
    z.fill(0, 0, 32);
    expect(errCode(verify(z))).toBe('scalar-out-of-range');
    const s0 = Uint8Array.from(sig);
    s0.fill(0, 32, 64);
    expect(errCode(verify(s0))).toBe('scalar-out-of-range');
    const sq = Uint8Array.from(sig);
    sq.set(i2osp(P256.q, 32), 32);
    expect(errCode(verify(sq))).toBe('scalar-out-of-range');
    expect(errCode(verify(sig.subarray(0, 128)))).toBe('bad-encoding');
    const pfx = Uint8Array.from(sig);
    pfx[64] = 0x02;
    expect(errCode(verify(pfx))).toBe('bad-encoding');
  });
  it('a received SSK for another identity, or with another PVT, fails validation (sec. 5.1.2)', () => {
    expect(code(() => eccsiValidate(kms.kpak, bob, key.ssk, key.pvt))).toBe('ssk-invalid');
    const other = eccsiIssue(kms, alice);
    expect(code(() => eccsiValidate(kms.kpak, alice, key.ssk, other.pvt))).toBe('ssk-invalid');
    expect(code(() => eccsiValidate(kms.kpak, alice, new Uint8Array(32), key.pvt))).toBe('scalar-out-of-range');
  });
  it('KSAK, v and j outside [1, q-1] are refused', () => {
    expect(code(() => eccsiKmsKeys(0n))).toBe('scalar-out-of-range');
    expect(code(() => eccsiKmsKeys(P256.q))).toBe('scalar-out-of-range');
    expect(code(() => eccsiIssue(kms, alice, -1n))).toBe('scalar-out-of-range');
    expect(code(() => eccsiSign(msg, { kpak: kms.kpak, id: alice, key }, P256.q + 1n))).toBe('scalar-out-of-range');
  });
  it('a KPAK off the curve is refused', () => {
    const k = Uint8Array.from(kms.kpak);
    k[64]! ^= 0x01;
    expect(errCode(verify(sig, alice, k))).toBe('invalid-point');
  });
});

describe('SAKKE refusals', { timeout: 60_000 }, () => {
  const z = generateSakkeMasterSecret();
  const Z = sakkeKmsPublicKey(z);
  const rskA = sakkeRsk(z, alice);
  const ssv = new Uint8Array(16).fill(7);
  const sed = sakkeEncapsulate(ssv, alice, Z);

  it('wrong identity or another user\'s RSK: decapsulation-failed', () => {
    expect(code(() => sakkeDecapsulate(sed, bob, rskA, Z))).toBe('decapsulation-failed');
    expect(code(() => sakkeDecapsulate(sed, alice, sakkeRsk(z, bob), Z))).toBe('decapsulation-failed');
  });
  it('a flipped bit of H is decapsulation-failed; of R_(b,S) invalid-point (off the curve)', () => {
    const h = Uint8Array.from(sed);
    h[sed.length - 3]! ^= 0x10;
    expect(code(() => sakkeDecapsulate(h, alice, rskA, Z))).toBe('decapsulation-failed');
    const r = Uint8Array.from(sed);
    r[5]! ^= 0x10;
    expect(code(() => sakkeDecapsulate(r, alice, rskA, Z))).toBe('invalid-point');
  });
  it('an R_(b,S) on the curve but not [r]([b]P + Z) is decapsulation-failed', () => {
    const g = SAKKE_PARAMS_1.curve.G;
    const fake = Uint8Array.from(sed);
    fake.set(i2osp(g.x, 128), 1);
    fake.set(i2osp(g.y, 128), 129);
    expect(code(() => sakkeDecapsulate(fake, alice, rskA, Z))).toBe('decapsulation-failed');
  });
  it('wrong lengths are bad-encoding; an SSV that is not 16 octets is scalar-out-of-range', () => {
    expect(code(() => sakkeDecapsulate(sed.subarray(1), alice, rskA, Z))).toBe('bad-encoding');
    expect(code(() => sakkeDecapsulate(sed, alice, rskA.subarray(0, 200), Z))).toBe('bad-encoding');
    expect(code(() => sakkeEncapsulate(new Uint8Array(15), alice, Z))).toBe('scalar-out-of-range');
  });
  it('an RSK for another identity fails the sec. 6.1.2 pairing check', () => {
    expect(code(() => validateSakkeRsk(Z, bob, rskA))).toBe('rsk-invalid');
  });
  it('master secrets outside [2, q-1] are refused', () => {
    expect(code(() => sakkeKmsPublicKey(1n))).toBe('scalar-out-of-range');
    expect(code(() => sakkeKmsPublicKey(SAKKE_PARAMS_1.curve.q))).toBe('scalar-out-of-range');
  });
  it('a master secret z with a + z = 0 mod q yields no RSK (degenerate-key), not a bogus one', () => {
    const a = BigInt(`0x${Buffer.from(alice).toString('hex')}`);
    expect(code(() => sakkeRsk(SAKKE_PARAMS_1.curve.q - a, alice))).toBe('degenerate-key');
  });
});
