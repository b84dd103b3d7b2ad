/**
 * Every error of @imslab/msrp. A protocol outcome (a malformed frame from the
 * peer, a Byte-Range that lies, a 4xx response, a timeout) is a typed value
 * with a machine-readable `code`; the parser returns these, it never throws.
 * Misuse of the API (building a frame that cannot be sent) throws
 * {@link MsrpBuildError}.
 */

/** Base class: `code` is stable and matchable, `message` is for people. */
export class MsrpError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Why bytes from the wire are not a well-formed MSRP frame (RFC 4975 sec. 9 ABNF). */
export type MsrpParseCode =
  | 'bad-start-line'
  | 'bad-transaction-id'
  | 'line-too-long'
  | 'headers-too-large'
  | 'bad-header'
  | 'body-too-large'
  | 'unexpected-body'
  | 'missing-header'
  | 'header-order'
  | 'duplicate-header'
  | 'bad-uri'
  | 'bad-byte-range'
  | 'bad-status'
  | 'bad-value'
  | 'stream-failed';

/**
 * A frame (or the stream) could not be parsed. `fatal` means framing is lost
 * (no transaction id to find the end-line by): RFC 4975 leaves the receiver
 * no way to resynchronise, so the connection must be closed. A non-fatal
 * error concerns one frame whose end was found; the stream goes on.
 */
export class MsrpParseError extends MsrpError {
  constructor(
    override readonly code: MsrpParseCode,
    message: string,
    readonly fatal: boolean,
    /** Offset in the stream (bytes since the parser started) where the problem was seen. */
    readonly offset?: number,
    /** Transaction id of the frame, when the start line was readable. */
    readonly transactionId?: string,
  ) {
    super(code, message);
  }
}

/** Ways a Byte-Range can lie about the bytes of a message (RFC 4975 sec. 7.3.1). */
export type MsrpByteRangeCode =
  | 'range-length-mismatch'
  | 'range-beyond-total'
  | 'range-total-mismatch'
  | 'range-overlap'
  | 'range-gap'
  | 'range-after-end'
  | 'message-too-large';

/**
 * A chunk was refused by the reassembler; what was received before is kept
 * (the refused chunk changes nothing).
 */
export class MsrpByteRangeError extends MsrpError {
  constructor(
    override readonly code: MsrpByteRangeCode,
    message: string,
    readonly messageId: string,
  ) {
    super(code, message);
  }
}

/** Building a frame that RFC 4975 does not allow: a programming error. */
export class MsrpBuildError extends MsrpError {
  constructor(message: string) {
    super('build', message);
  }
}

/** A request was answered with a non-2xx status (RFC 4975 sec. 10). */
export class MsrpResponseError extends MsrpError {
  constructor(
    readonly status: number,
    readonly comment: string | undefined,
    readonly method: string,
    readonly transactionId: string,
  ) {
    super('response', `${method} ${transactionId} answered ${status}${comment ? ` ${comment}` : ''}`);
  }
}

/**
 * No response within the transaction timeout: treated as a 408, which
 * RFC 4975 sec. 10.4 says is generated locally and never sent.
 */
export class MsrpTimeoutError extends MsrpError {
  readonly status = 408;
  constructor(
    readonly method: string,
    readonly transactionId: string,
    readonly timeoutMs: number,
  ) {
    super('timeout', `${method} ${transactionId}: no response within ${timeoutMs} ms (408)`);
  }
}

/** Why a connection ended or could not be used. */
export type MsrpConnectionCode = 'connect-failed' | 'closed' | 'malformed-frame' | 'auth-failed' | 'bad-response';

/** The transport failed, or the peer broke the protocol badly enough to close the connection. */
export class MsrpConnectionError extends MsrpError {
  constructor(
    override readonly code: MsrpConnectionCode,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(code, message);
  }
}
