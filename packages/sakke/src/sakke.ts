/**
 * SAKKE, RFC 6508, over parameter set 1 of RFC 6509 Appendix A:
 * KMS master secret and public key (sec. 2.2, 6.1), Receiver Secret Key
 * extraction (6.1.1) and its validation by the receiver (6.1.2),
 * encapsulation by the sender (6.2.1) and decapsulation with the
 * consistency check by the receiver (6.2.2).
 */
import { randomBytes } from 'node:crypto';
import { concat, i2osp, os2ip, requireBytes } from './bytes.ts';
import { add, decodePoint, encodePoint, mul, pointsEqual } from './curve.ts';
import { SakkeError } from './errors.ts';
import { hashToIntegerRange } from './hash-to-range.ts';
import { modInv } from './modmath.ts';
import { fp2Pow, pfpElement, pfpValue, tatePairing } from './pairing.ts';
import { SAKKE_PARAMS_1, SAKKE_SED_LENGTH } from './params.ts';

const E = SAKKE_PARAMS_1.curve;
const SSV_OCTETS = SAKKE_PARAMS_1.n / 8;
const TWO_POW_N = 1n << BigInt(SAKKE_PARAMS_1.n);

/** Uniform integer in [lo, hi] from the system CSPRNG. */
function randomInRange(lo: bigint, hi: bigint): bigint {
  const span = hi - lo + 1n;
  const len = Math.ceil(span.toString(16).length / 2) + 8;
  // 64 extra bits make the modulo bias negligible.
  return lo + (os2ip(new Uint8Array(randomBytes(len))) % span);
}

function checkMasterSecret(z: unknown): asserts z is bigint {
  if (typeof z !== 'bigint' || z < 2n || z > E.q - 1n) throw new SakkeError('scalar-out-of-range', 'the KMS master secret z must be an integer in [2, q-1] (RFC 6508 sec. 2.2)');
}

/** A fresh KMS master secret z_S in [2, q-1] (RFC 6508 sec. 2.2). */
export function generateSakkeMasterSecret(): bigint {
  return randomInRange(2n, E.q - 1n);
}

/** KMS Public Key Z_S = [z_S]P, encoded 0x04 || x || y (RFC 6508 sec. 2.2, 4). */
export function sakkeKmsPublicKey(z: bigint): Uint8Array {
  checkMasterSecret(z);
  return encodePoint(E, mul(E, z, E.G));
}

/** The integer of an identifier octet string (RFC 6508 sec. 2.1: the Identifier is used as an integer). */
function identifierInt(id: Uint8Array): bigint {
  requireBytes(id, 'identifier');
  if (id.length === 0) throw new SakkeError('identifier-invalid', 'the identifier is empty');
  return os2ip(id) % E.q;
}

/**
 * Receiver Secret Key K_(a,S) = [(a + z_S)^-1]P for identifier a
 * (RFC 6508 sec. 6.1.1). a + z_S = 0 mod q has no RSK: the KMS must then
 * change its master secret, so this is an error, not a retry.
 */
export function sakkeRsk(z: bigint, id: Uint8Array): Uint8Array {
  checkMasterSecret(z);
  const s = (identifierInt(id) + z) % E.q;
  if (s === 0n) throw new SakkeError('degenerate-key', 'a + z_S = 0 mod q: no RSK exists for this identifier under this master secret');
  return encodePoint(E, mul(E, modInv(s, E.q), E.G));
}

/** Parses and checks the KMS Public Key Z_S (on the curve, not infinity). */
export function decodeSakkeKmsPublicKey(Z: Uint8Array): { x: bigint; y: bigint } {
  return decodePoint(E, Z, 'SAKKE KMS Public Key Z_S');
}

/**
 * RFC 6508 sec. 6.1.2: the receiver checks <[a]P + Z_S, K_(a,S)> = g before
 * using an RSK. Throws `rsk-invalid` when it does not hold.
 */
export function validateSakkeRsk(Z: Uint8Array, id: Uint8Array, rsk: Uint8Array): void {
  const Zp = decodeSakkeKmsPublicKey(Z);
  const K = decodePoint(E, rsk, 'RSK');
  const aPZ = add(E, mul(E, identifierInt(id), E.G), Zp);
  if (aPZ === null) throw new SakkeError('rsk-invalid', '[a]P + Z_S is the point at infinity');
  const w = pfpValue(E.p, tatePairing(E, aPZ, K));
  if (w !== SAKKE_PARAMS_1.g) throw new SakkeError('rsk-invalid', '<[a]P + Z_S, K_(a,S)> != g: the RSK does not belong to this identifier and KMS');
}

/** Every value the sender computes (RFC 6508 sec. 6.2.1), for tests against Appendix A. */
export interface SakkeSenderValues {
  /** r = HashToIntegerRange(SSV || b, q). */
  r: bigint;
  /** R_(b,S) = [r]([b]P + Z_S), encoded. */
  R: Uint8Array;
  /** g^r in PF_p. */
  gr: bigint;
  /** HashToIntegerRange(g^r, 2^n). */
  mask: bigint;
  /** H = SSV XOR mask, n/8 octets. */
  H: Uint8Array;
  /** SAKKE Encapsulated Data R_(b,S) || H (sec. 4). */
  sed: Uint8Array;
}

function checkSsv(ssv: unknown): asserts ssv is Uint8Array {
  requireBytes(ssv, 'SSV');
  if (ssv.length !== SSV_OCTETS) throw new SakkeError('scalar-out-of-range', `the SSV must be ${SSV_OCTETS} octets (n = ${SAKKE_PARAMS_1.n} bits), got ${ssv.length}`);
}

/** RFC 6508 sec. 6.2.1 steps 1-4 with every intermediate value. */
export function sakkeSenderValues(ssv: Uint8Array, id: Uint8Array, Z: Uint8Array): SakkeSenderValues {
  checkSsv(ssv);
  const b = identifierInt(id);
  const Zp = decodeSakkeKmsPublicKey(Z);
  // 1) r = HashToIntegerRange(SSV || b, q, Hash)
  const r = hashToIntegerRange(concat(ssv, id), E.q);
  // 2) R_(b,S) = [r]([b]P + Z_S)
  const Rpt = mul(E, r, add(E, mul(E, b, E.G), Zp));
  if (Rpt === null) throw new SakkeError('invalid-point', 'R_(b,S) is the point at infinity');
  // 3) g^r in PF_p (exponentiation of the F_p^2 representative 1 + i*g)
  const gr = pfpValue(E.p, fp2Pow(E.p, pfpElement(SAKKE_PARAMS_1.g), r));
  // 4) H = SSV XOR HashToIntegerRange(g^r, 2^n, Hash)
  const mask = hashToIntegerRange(i2osp(gr, E.coordLength), TWO_POW_N);
  const H = i2osp(os2ip(ssv) ^ mask, SSV_OCTETS);
  const R = encodePoint(E, Rpt);
  return { r, R, gr, mask, H, sed: concat(R, H) };
}

/** A fresh random SSV of n bits (RFC 6508 sec. 2.2). */
export function generateSsv(): Uint8Array {
  return new Uint8Array(randomBytes(SSV_OCTETS));
}

/** Encapsulates `ssv` to identifier `id` under KMS Public Key `Z`; returns the SAKKE Encapsulated Data (RFC 6508 sec. 6.2.1). */
export function sakkeEncapsulate(ssv: Uint8Array, id: Uint8Array, Z: Uint8Array): Uint8Array {
  return sakkeSenderValues(ssv, id, Z).sed;
}

/** Splits SAKKE Encapsulated Data into R_(b,S) (checked on the curve) and H (RFC 6508 sec. 4). */
export function parseSakkeEncapsulatedData(sed: Uint8Array): { R: { x: bigint; y: bigint }; H: Uint8Array } {
  requireBytes(sed, 'SAKKE Encapsulated Data');
  if (sed.length !== SAKKE_SED_LENGTH) throw new SakkeError('bad-encoding', `SAKKE Encapsulated Data must be ${SAKKE_SED_LENGTH} octets (R_(b,S) || H), got ${sed.length}`);
  const R = decodePoint(E, sed.subarray(0, SAKKE_SED_LENGTH - SSV_OCTETS), 'R_(b,S)');
  return { R, H: sed.slice(SAKKE_SED_LENGTH - SSV_OCTETS) };
}

/**
 * Decapsulation, RFC 6508 sec. 6.2.2: w = <R_(b,S), K_(b,S)>,
 * SSV = H XOR HashToIntegerRange(w, 2^n), then the check
 * [r]([b]P + Z_S) = R_(b,S) with r = HashToIntegerRange(SSV || b, q):
 * a tampered SED, the wrong identifier or the wrong RSK all fail there
 * (`decapsulation-failed`) instead of yielding a wrong SSV.
 */
export function sakkeDecapsulate(sed: Uint8Array, id: Uint8Array, rsk: Uint8Array, Z: Uint8Array): Uint8Array {
  const { R, H } = parseSakkeEncapsulatedData(sed);
  const K = decodePoint(E, rsk, 'RSK');
  const Zp = decodeSakkeKmsPublicKey(Z);
  const b = identifierInt(id);
  const w = pfpValue(E.p, tatePairing(E, R, K));
  const ssv = i2osp(os2ip(H) ^ hashToIntegerRange(i2osp(w, E.coordLength), TWO_POW_N), SSV_OCTETS);
  const r = hashToIntegerRange(concat(ssv, id), E.q);
  const test = mul(E, r, add(E, mul(E, b, E.G), Zp));
  if (!pointsEqual(test, R)) throw new SakkeError('decapsulation-failed', 'R_(b,S) != [r]([b]P + Z_S): wrong identifier or RSK, or the Encapsulated Data was altered');
  return ssv;
}
