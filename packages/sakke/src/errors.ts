/**
 * Every error this package throws is a {@link SakkeError} with a
 * machine-readable `code`. Malformed input (wrong length, bad point, scalar
 * out of range) and failed cryptographic checks are told apart by the code,
 * so a caller can map them to a protocol answer (e.g. a MIKEY ERR payload).
 */

/** What went wrong. */
export type SakkeErrorCode =
  /** Octets of the wrong length or format (prefix byte, hex). */
  | 'bad-encoding'
  /** A point that is not on the curve, is the point at infinity, or has coordinates >= p. */
  | 'invalid-point'
  /** A scalar (secret key, SSV, signature component) outside its range. */
  | 'scalar-out-of-range'
  /** An ECCSI signature did not verify (RFC 6507 sec. 5.2.2). */
  | 'signature-invalid'
  /** A received (SSK, PVT) pair failed validation (RFC 6507 sec. 5.1.2). */
  | 'ssk-invalid'
  /** A received RSK failed validation (RFC 6508 sec. 6.1.2). */
  | 'rsk-invalid'
  /** The SAKKE Encapsulated Data did not decapsulate to a consistent SSV (RFC 6508 sec. 6.2.2 step 5). */
  | 'decapsulation-failed'
  /** An identifier not of the RFC 6509 sec. 3.2 form, or not valid for the requested use. */
  | 'identifier-invalid'
  /** Key generation hit a degenerate value (e.g. z + a = 0 mod q) that the caller chose. */
  | 'degenerate-key';

/** The one error class of @imslab/sakke. */
export class SakkeError extends Error {
  readonly code: SakkeErrorCode;
  constructor(code: SakkeErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'SakkeError';
    this.code = code;
  }
}
