/**
 * Every error this package throws on bad input. Parsers and verifiers are
 * total: whatever bytes arrive, the caller gets either a result or one of the
 * classes below, never a library's own exception (asn1js, pkijs and WebCrypto
 * failures are caught at the package boundary and re-thrown as
 * {@link CmsFormatError} or {@link CmsDecryptError}). Each error carries a
 * machine-readable `code` that a UE can map to a SIP response (RFC 3261
 * sec. 23.2: 400 for a body it cannot read, 493 Undecipherable for one not
 * encrypted to it) and a message saying what was wrong.
 */

/** Machine-readable reasons, one per distinct refusal. */
export type CmsErrorCode =
  // CPIM (RFC 3862) and MIME framing
  | 'cpim-malformed'
  | 'mime-malformed'
  // CMS structure (RFC 5652)
  | 'malformed'
  | 'unexpected-content-type'
  | 'unsupported-algorithm'
  // SignedData verification (RFC 5652 sec. 5.6, RFC 8550, RFC 8591)
  | 'bad-signature'
  | 'no-signer-certificate'
  | 'untrusted-certificate'
  | 'certificate-purpose'
  | 'identity-mismatch'
  | 'missing-signing-time'
  | 'signing-time-expired'
  | 'signing-time-future'
  // Enveloped / AuthEnvelopedData (RFC 5652 sec. 6, RFC 5083)
  | 'not-a-recipient'
  | 'key-unwrap-failed'
  | 'integrity-failure'
  // RFC 8591 layering: a receiver's policy demands a layer the message lacks
  | 'not-signed'
  | 'not-encrypted'
  // Misuse by the caller (bad key, bad options): thrown, not a protocol outcome
  | 'bad-argument';

/** Base class of every error thrown by @imslab/cms. */
export class CmsError extends Error {
  readonly code: CmsErrorCode;
  constructor(code: CmsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A CPIM message (RFC 3862) that does not follow the grammar. */
export class CpimParseError extends CmsError {
  /** 1-based line of the CPIM text where parsing stopped (0 when not line-bound). */
  readonly line: number;
  constructor(message: string, line: number) {
    super('cpim-malformed', line > 0 ? `CPIM line ${line}: ${message}` : `CPIM: ${message}`);
    this.line = line;
  }
}

/** Bytes that are not the CMS / MIME structure they claim to be, or use an algorithm we refuse. */
export class CmsFormatError extends CmsError {}

/** A SignedData that does not verify, or whose signer is not who the message says. */
export class CmsVerifyError extends CmsError {
  /** The signer's certificate subjectAltName identities, when the signer was found. */
  readonly signerIdentities: readonly string[];
  constructor(code: CmsErrorCode, message: string, signerIdentities: readonly string[] = []) {
    super(code, message);
    this.signerIdentities = signerIdentities;
  }
}

/** An Enveloped/AuthEnvelopedData that this recipient cannot open. */
export class CmsDecryptError extends CmsError {}

/** Wraps any non-CmsError thrown while handling untrusted bytes. */
export function asCmsError(e: unknown, code: CmsErrorCode, what: string): CmsError {
  if (e instanceof CmsError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return code === 'integrity-failure' || code === 'key-unwrap-failed'
    ? new CmsDecryptError(code, `${what}: ${detail}`, { cause: e })
    : new CmsFormatError(code, `${what}: ${detail}`, { cause: e });
}
