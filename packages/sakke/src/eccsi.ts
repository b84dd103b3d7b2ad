/**
 * ECCSI, RFC 6507, on NIST P-256 with SHA-256 (N = 32): KMS keys KSAK/KPAK
 * (sec. 2.2, 4.2), (SSK, PVT) issuance for an identifier (sec. 5.1.1),
 * validation of a received pair (sec. 5.1.2), signing (sec. 5.2.1) and
 * verification (sec. 5.2.2). A signature is r || s || PVT, 129 octets
 * (sec. 3.3).
 */
import { randomBytes } from 'node:crypto';
import { concat, i2osp, os2ip, requireBytes, sha256 } from './bytes.ts';
import { add, decodePoint, encodePoint, mul, pointsEqual } from './curve.ts';
import { SakkeError } from './errors.ts';
import { modInv } from './modmath.ts';
import { ECCSI_N, P256 } from './params.ts';

const C = P256;
const G_OCTETS = encodePoint(C, C.G);
/** Octets of an ECCSI signature: r (N) || s (N) || PVT (2N + 1). */
export const ECCSI_SIGNATURE_LENGTH = 4 * ECCSI_N + 1;

function randomScalar(): bigint {
  // 64 extra bits make the modulo bias negligible; the result is in [1, q-1].
  return 1n + (os2ip(new Uint8Array(randomBytes(ECCSI_N + 8))) % (C.q - 1n));
}

function checkScalar(k: unknown, what: string): asserts k is bigint {
  if (typeof k !== 'bigint' || k < 1n || k >= C.q) throw new SakkeError('scalar-out-of-range', `${what} must be an integer in [1, q-1]`);
}

/** KMS key pair: the secret KSAK and the public KPAK = [KSAK]G. */
export interface EccsiKmsKeys {
  ksak: bigint;
  /** 0x04 || x || y. */
  kpak: Uint8Array;
}

/** A KMS key pair; `ksak` fixed only for test vectors, otherwise random in [1, q-1]. */
export function eccsiKmsKeys(ksak: bigint = randomScalar()): EccsiKmsKeys {
  checkScalar(ksak, 'KSAK');
  return { ksak, kpak: encodePoint(C, mul(C, ksak, C.G)) };
}

/** A user's signing key material. */
export interface EccsiUserKey {
  /** Secret Signing Key, N octets. */
  ssk: Uint8Array;
  /** Public Validation Token, 0x04 || x || y. */
  pvt: Uint8Array;
  /** HS = hash(G || KPAK || ID || PVT), N octets (sec. 5.1.1 step 3: stored with the SSK). */
  hs: Uint8Array;
}

/** HS = hash(G || KPAK || ID || PVT) (RFC 6507 sec. 5.1.1 step 3, 5.1.2 step 2, 5.2.2 step 2). */
export function eccsiHs(kpak: Uint8Array, id: Uint8Array, pvt: Uint8Array): Uint8Array {
  return sha256(G_OCTETS, kpak, id, pvt);
}

/**
 * KMS side of RFC 6507 sec. 5.1.1: v random (fixed only for test vectors),
 * PVT = [v]G, HS = hash(G || KPAK || ID || PVT), SSK = (KSAK + HS * v) mod q;
 * a zero SSK means a new v.
 */
export function eccsiIssue(kms: EccsiKmsKeys, id: Uint8Array, v?: bigint): EccsiUserKey {
  checkScalar(kms.ksak, 'KSAK');
  requireBytes(id, 'identifier');
  for (;;) {
    const vv = v ?? randomScalar();
    checkScalar(vv, 'v');
    const pvt = encodePoint(C, mul(C, vv, C.G));
    const hs = eccsiHs(kms.kpak, id, pvt);
    const ssk = (kms.ksak + os2ip(hs) * vv) % C.q;
    if (ssk !== 0n) return { ssk: i2osp(ssk, ECCSI_N), pvt, hs };
    if (v !== undefined) throw new SakkeError('degenerate-key', 'SSK = 0 for the given v');
  }
}

/**
 * RFC 6507 sec. 5.1.2: the user validates a received (SSK, PVT) before use:
 * PVT on the curve, HS = hash(G || KPAK || ID || PVT), KPAK = [SSK]G - [HS]PVT.
 * Returns HS; throws `ssk-invalid` (or `invalid-point` / `bad-encoding`).
 */
export function eccsiValidate(kpak: Uint8Array, id: Uint8Array, ssk: Uint8Array, pvt: Uint8Array): Uint8Array {
  const K = decodePoint(C, kpak, 'KPAK');
  const P = decodePoint(C, pvt, 'PVT');
  requireBytes(ssk, 'SSK');
  requireBytes(id, 'identifier');
  if (ssk.length !== ECCSI_N) throw new SakkeError('bad-encoding', `SSK must be ${ECCSI_N} octets, got ${ssk.length}`);
  const s = os2ip(ssk);
  checkScalar(s, 'SSK');
  const hs = eccsiHs(kpak, id, pvt);
  const check = add(C, mul(C, s, C.G), mul(C, C.q - (os2ip(hs) % C.q), P));
  if (!pointsEqual(check, K)) throw new SakkeError('ssk-invalid', 'KPAK != [SSK]G - [HS]PVT: the SSK/PVT pair does not belong to this identifier under this KPAK');
  return hs;
}

/** Signer state for {@link eccsiSign}. */
export interface EccsiSigner {
  kpak: Uint8Array;
  id: Uint8Array;
  key: EccsiUserKey;
}

/**
 * RFC 6507 sec. 5.2.1: j random in [1, q-1] (fixed only for test vectors),
 * J = [j]G, r = Jx, HE = hash(HS || r || M), s' = ((HE + r*SSK)^-1 * j) mod q
 * (a zero HE + r*SSK restarts with a fresh j), s = s' (q < 2^256, so s'
 * always fits in N octets), signature r || s || PVT.
 */
export function eccsiSign(message: Uint8Array, signer: EccsiSigner, j?: bigint): Uint8Array {
  requireBytes(message, 'message');
  const ssk = os2ip(signer.key.ssk);
  checkScalar(ssk, 'SSK');
  for (;;) {
    const jj = j ?? randomScalar();
    checkScalar(jj, 'j');
    const J = mul(C, jj, C.G)!;
    const r = i2osp(J.x, ECCSI_N);
    const he = os2ip(sha256(signer.key.hs, r, message));
    const t = (he + J.x * ssk) % C.q;
    if (t === 0n) {
      if (j !== undefined) throw new SakkeError('degenerate-key', 'HE + r * SSK = 0 mod q for the given j');
      continue;
    }
    const s = (modInv(t, C.q) * jj) % C.q;
    return concat(r, i2osp(s, ECCSI_N), signer.key.pvt);
  }
}

/** Outcome of {@link eccsiVerify}: a failed verification is a value, not an exception. */
export type EccsiVerifyResult = { valid: true } | { valid: false; error: SakkeError };

/** Splits r || s || PVT, checking lengths, ranges and that PVT is on the curve. */
export function parseEccsiSignature(sig: Uint8Array): { r: bigint; s: bigint; pvt: Uint8Array; P: { x: bigint; y: bigint } } {
  requireBytes(sig, 'ECCSI signature');
  if (sig.length !== ECCSI_SIGNATURE_LENGTH) throw new SakkeError('bad-encoding', `an ECCSI signature is ${ECCSI_SIGNATURE_LENGTH} octets (r || s || PVT), got ${sig.length}`);
  const r = os2ip(sig.subarray(0, ECCSI_N));
  const s = os2ip(sig.subarray(ECCSI_N, 2 * ECCSI_N));
  if (r === 0n || r >= C.p) throw new SakkeError('scalar-out-of-range', 'signature r must be in [1, p-1]');
  if (s === 0n || s >= C.q) throw new SakkeError('scalar-out-of-range', 'signature s must be in [1, q-1]');
  const pvt = sig.slice(2 * ECCSI_N);
  return { r, s, pvt, P: decodePoint(C, pvt, 'PVT') };
}

/**
 * RFC 6507 sec. 5.2.2: PVT on the curve, HS = hash(G || KPAK || ID || PVT),
 * HE = hash(HS || r || M), Y = [HS]PVT + KPAK, J = [s]([HE]G + [r]Y), valid
 * iff Jx = r mod p and Jx != 0. Any malformed input is an invalid result.
 */
export function eccsiVerify(message: Uint8Array, sig: Uint8Array, id: Uint8Array, kpak: Uint8Array): EccsiVerifyResult {
  try {
    requireBytes(message, 'message');
    requireBytes(id, 'identifier');
    const K = decodePoint(C, kpak, 'KPAK');
    const { r, s, pvt, P } = parseEccsiSignature(sig);
    const hs = eccsiHs(kpak, id, pvt);
    const he = os2ip(sha256(hs, sig.subarray(0, ECCSI_N), message));
    const Y = add(C, mul(C, os2ip(hs), P), K);
    const J = mul(C, s, add(C, mul(C, he, C.G), mul(C, r, Y)));
    if (J === null || J.x === 0n) return { valid: false, error: new SakkeError('signature-invalid', 'J is the point at infinity or Jx = 0') };
    if (J.x % C.p !== r) return { valid: false, error: new SakkeError('signature-invalid', 'Jx != r: signature, message, identifier or KPAK do not match') };
    return { valid: true };
  } catch (e) {
    if (e instanceof SakkeError) return { valid: false, error: e };
    throw e;
  }
}
