/**
 * Named errors of @imslab/sip.
 *
 * Convention: a protocol outcome (a malformed message, a 4xx) is returned as a
 * value; a thrown error always means the caller misused the API (an illegal
 * state transition, a missing mandatory header on a message we built, ...).
 */

/** Base class of every error defined by this package. */
export class SipError extends Error {
  override name = 'SipError';
}

/**
 * A message (or a header inside it) could not be parsed or failed validation.
 * The parser returns it as a value and never throws it.
 */
export class SipParseError extends SipError {
  override name = 'SipParseError';
  /**
   * @param message what was wrong, for a human
   * @param status the response a UAS should send if it can respond at all
   *   (400 Bad Request, or 505 Version Not Supported)
   */
  constructor(
    message: string,
    readonly status: 400 | 505 = 400,
  ) {
    super(message);
  }
}

/** A state machine was asked to move between two states the RFC does not connect. */
export class IllegalTransitionError extends SipError {
  override name = 'IllegalTransitionError';
  constructor(
    readonly machine: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`${machine}: illegal state transition from ${from} to ${to}`);
  }
}

/** A transaction was used in a way RFC 3261 sec. 17 forbids (e.g. a client transaction for ACK). */
export class TransactionMisuseError extends SipError {
  override name = 'TransactionMisuseError';
}

/** A dialog helper was called with messages that cannot create or continue a dialog. */
export class DialogError extends SipError {
  override name = 'DialogError';
}

/** A message we were asked to read lacks a header that validation guarantees; the caller skipped validation. */
export class MissingHeaderError extends SipError {
  override name = 'MissingHeaderError';
  constructor(readonly header: string) {
    super(`message has no valid ${header} header (was it validated?)`);
  }
}

/** The byte stream of a TCP/TLS connection cannot be framed (absurd size): the connection must be closed. */
export class FramingError extends SipError {
  override name = 'FramingError';
}
