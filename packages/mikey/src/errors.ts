/**
 * Every error this package throws. Malformed input never crashes or hangs the
 * decoder: it ends in a {@link MikeyParseError} (or a subclass) that carries the
 * absolute byte offset and what was expected there. Verification outcomes
 * (bad MAC, stale timestamp, replay, expired or forged ticket) are typed too,
 * each with a machine-readable `reason` and, where RFC 3830 sec. 6.12 has one,
 * the ERR payload error number a peer would send back (`errNo`).
 */

/** Base class of every error thrown by @imslab/mikey. */
export class MikeyError extends Error {
  /**
   * RFC 3830 sec. 6.12 / RFC 6043 sec. 6.12 Error no. that fits this failure,
   * for building an Error message (data type 6) back to the peer.
   */
  readonly errNo: number;

  constructor(message: string, errNo = 12 /* Unspecified error */) {
    super(message);
    this.name = new.target.name;
    this.errNo = errNo;
  }
}

/** Details common to all decode errors. */
export interface ParseErrorDetails {
  /** Absolute byte offset in the outermost buffer handed to the decoder. */
  offset: number;
  /** What the decoder expected at `offset` (human readable). */
  expected: string;
  /** Next-payload code of the payload being decoded, when inside one (HDR = -1). */
  payloadType?: number;
  /** What was found instead, when useful. */
  found?: string;
}

/** The bytes are not a well-formed MIKEY message / payload. */
export class MikeyParseError extends MikeyError {
  readonly offset: number;
  readonly expected: string;
  readonly payloadType: number | undefined;
  readonly found: string | undefined;

  constructor(d: ParseErrorDetails, errNo = 12) {
    const where = d.payloadType === undefined ? '' : ` in payload type ${d.payloadType}`;
    super(`MIKEY parse error at offset ${d.offset}${where}: expected ${d.expected}${d.found === undefined ? '' : `, found ${d.found}`}`, errNo);
    this.offset = d.offset;
    this.expected = d.expected;
    this.payloadType = d.payloadType;
    this.found = d.found;
  }
}

/** The input ended before a field the layout requires. */
export class MikeyTruncatedError extends MikeyParseError {}

/** A message, payload or field exceeds a size bound (RFC field widths or this package's limits). */
export class MikeySizeError extends MikeyParseError {
  readonly limit: number;
  readonly actual: number;
  constructor(d: ParseErrorDetails & { limit: number; actual: number }) {
    super({ ...d, found: `${d.actual} > limit ${d.limit}` });
    this.limit = d.limit;
    this.actual = d.actual;
  }
}

/**
 * A code whose layout this decoder does not know (payload type, TS type, MAC
 * algorithm, CS ID map type, ...), so the rest cannot be delimited.
 */
export class MikeyUnsupportedError extends MikeyParseError {}

/**
 * Payload order is wrong: the next-payload chain is broken (trailing bytes
 * after the last payload, a payload after V or SIGN) or the payload sequence
 * does not follow the message grammar of its data type (RFC 3830 sec. 3,
 * RFC 6043 sec. 4).
 */
export class MikeyPayloadOrderError extends MikeyParseError {}

/** A value handed to an encoder cannot be represented (out of range, wrong length). */
export class MikeyEncodeError extends MikeyError {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`cannot encode ${field}: ${message}`);
    this.field = field;
  }
}

/** Why authentication failed. */
export type AuthFailureReason = 'mac-mismatch' | 'unknown-key' | 'unsupported-algorithm' | 'missing-verification' | 'ticket-mac-mismatch';

/**
 * A MAC (V payload, KEMAC MAC or ticket MAC) did not verify, or no key was
 * available to verify it. Nothing in the message was used.
 */
export class MikeyAuthError extends MikeyError {
  readonly reason: AuthFailureReason;
  /** Payload whose MAC failed (9 = V, 1 = KEMAC, 17 = TICKET). */
  readonly payloadType: number | undefined;
  constructor(reason: AuthFailureReason, message: string, payloadType?: number) {
    super(`MIKEY authentication failed (${reason}): ${message}`, reason === 'unsupported-algorithm' ? 5 : reason === 'unknown-key' ? 0 : 3);
    this.reason = reason;
    this.payloadType = payloadType;
  }
}

/** The message timestamp lies outside the accepted window (RFC 3830 sec. 5.4). */
export class MikeyTimestampError extends MikeyError {
  /** Signed difference message time minus local time, in milliseconds. */
  readonly skewMs: number;
  readonly windowMs: number;
  constructor(skewMs: number, windowMs: number) {
    super(`MIKEY timestamp outside window: skew ${skewMs} ms, allowed ±${windowMs} ms`, 1);
    this.skewMs = skewMs;
    this.windowMs = windowMs;
  }
}

/** Why the replay cache refused a message. */
export type ReplayReason = 'replayed' | 'cache-full';

/** The message was seen before within the window, or the replay cache is full (RFC 3830 sec. 5.4). */
export class MikeyReplayError extends MikeyError {
  readonly reason: ReplayReason;
  constructor(reason: ReplayReason, message: string) {
    super(`MIKEY replay protection (${reason}): ${message}`, 1);
    this.reason = reason;
  }
}

/** Why a ticket was refused. */
export type TicketFailureReason =
  | 'expired'
  | 'not-yet-valid'
  | 'unsupported-ticket-type'
  | 'unknown-key-id'
  | 'malformed'
  | 'policy-mismatch'
  | 'resolver-not-allowed';

/** A ticket (RFC 6043 sec. 6.10) is expired, not yet valid, of an unknown type, or its policy denies the request. */
export class MikeyTicketError extends MikeyError {
  readonly reason: TicketFailureReason;
  constructor(reason: TicketFailureReason, message: string) {
    super(`MIKEY ticket refused (${reason}): ${message}`, reason === 'unsupported-ticket-type' ? 14 : reason === 'policy-mismatch' ? 15 : 0);
    this.reason = reason;
  }
}

/** Why a well-formed, authentic message still violates the exchange. */
export type ProtocolFailureReason =
  | 'unexpected-data-type'
  | 'missing-payload'
  | 'identity-mismatch'
  | 'csb-mismatch'
  | 'unsupported-parameter'
  | 'invalid-header'
  | 'key-data';

/** The message does not fit the exchange it was handed to (wrong data type, missing IDR, CSB ID mismatch, ...). */
export class MikeyProtocolError extends MikeyError {
  readonly reason: ProtocolFailureReason;
  constructor(reason: ProtocolFailureReason, message: string, errNo = 12) {
    super(`MIKEY protocol error (${reason}): ${message}`, errNo);
    this.reason = reason;
  }
}

/** Why a MIKEY-SAKKE I_MESSAGE (RFC 6509) was refused after it parsed. */
export type SakkeFailureReason =
  /** The ECCSI signature (SIGN type 2) does not verify for the IDRi identity and its KMS's KPAK. */
  | 'signature-invalid'
  /** The IDRi identity is not one this receiver takes GMKs from. */
  | 'untrusted-initiator'
  /** No KPAK is known for the initiator's KMS (IDRkmsi). */
  | 'unknown-kms'
  /** The SAKKE Encapsulated Data does not decapsulate for this receiver (RFC 6508 sec. 6.2.2). */
  | 'sakke-failed'
  /** SAKKE params or ID scheme other than the ones of RFC 6509 Appendix A / sec. 4.2. */
  | 'unsupported-sakke-params'
  /** The GMK-ID is not a group key's (purpose tag) or is not known to the key store. */
  | 'unknown-gmk-id';

/** A MIKEY-SAKKE message that parsed but was refused (RFC 6509, TS 33.180). */
export class MikeySakkeError extends MikeyError {
  readonly reason: SakkeFailureReason;
  constructor(reason: SakkeFailureReason, message: string) {
    super(`MIKEY-SAKKE refused (${reason}): ${message}`, reason === 'signature-invalid' || reason === 'untrusted-initiator' || reason === 'unknown-kms' ? 0 /* Auth failure */ : reason === 'unsupported-sakke-params' ? 10 /* Invalid SPpar */ : 12);
    this.reason = reason;
  }
}
