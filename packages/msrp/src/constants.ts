/**
 * Every MSRP timer and limit of this package in one table, with where each
 * comes from. Limits without an RFC value are this package's, chosen so a
 * hostile peer cannot make a receiver hold unbounded memory.
 */
export const MSRP = {
  /** Default port of MSRP URIs without a port (RFC 4975 sec. 15.4: 2855, IANA "msrp"). */
  defaultPort: 2855,
  /**
   * A request without a response is failed after this long (RFC 4975
   * sec. 7.1.1: 30 seconds unless the application knows better); the
   * failure is the locally generated 408 of sec. 10.4.
   */
  transactionTimeoutMs: 30_000,
  /** Chunks larger than this must be interruptible (RFC 4975 sec. 5.1); we simply never send larger ones by default. */
  interruptibleChunkSize: 2048,
  /**
   * Default chunk size for SEND. Kamailio's msrp module refuses to relay a
   * frame of 14338 bytes or more (MSRP_MAX_FRAME_SIZE = 4096 header + 2 +
   * 10240 body in msrp_parser.h), so bodies stay well below 10240.
   */
  defaultChunkSize: 4096,
  /** transact-id = ALPHANUM 3*31ident-char (RFC 4975 sec. 9): 4 to 32 characters. */
  transactionIdLength: { min: 4, max: 32 },
  /** Session ids carry at least 80 bits of randomness (RFC 4975 sec. 14.1). */
  sessionIdRandomBytes: 12,
  /** Parser limits (this package's). */
  maxStartLine: 1024,
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 16 * 1024 * 1024,
  /** Reassembly: largest message a receiver accepts (413 beyond it, RFC 4975 sec. 10.5). */
  maxMessageBytes: 64 * 1024 * 1024,
  /** AUTH expiry asked of a relay when the caller gives none (RFC 4976 sec. 5.1 leaves it to the client). */
  authExpiresS: 600,
} as const;

/** The status codes of RFC 4975 sec. 10 and RFC 4976 sec. 5, with their reason phrases. */
export const MSRP_STATUS: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  408: 'Request Timeout',
  413: 'Stop Sending Message',
  415: 'Unsupported Media Type',
  423: 'Interval Out-of-Bounds',
  481: 'Session Does Not Exist',
  501: 'Not Implemented',
  506: 'Session Already Bound',
};
