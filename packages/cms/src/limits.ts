/**
 * Every size bound and protocol constant of this package in one table, so a
 * reader sees what a hostile peer can make us allocate and where the numbers
 * come from.
 */
export const LIMITS = {
  /** Largest CPIM or MIME header block we parse (bytes); a real one is a few hundred. */
  maxHeaderBlockBytes: 64 * 1024,
  /** Most header lines in one CPIM or MIME header block. */
  maxHeaderLines: 256,
  /** Most nested S/MIME layers unwrapped (RFC 8591 uses at most two: encrypted around signed). */
  maxLayers: 4,
  /** Largest CMS object accepted from the network (bytes): bounds asn1js's work on hostile input. */
  maxCmsBytes: 1024 * 1024,
  /** Most RecipientInfos accepted in one Enveloped/AuthEnvelopedData. */
  maxRecipients: 1024,
} as const;

/**
 * RFC 3428 sec. 8: a MESSAGE request larger than this (bytes) must not be
 * sent over a transport without congestion control unless the path MTU is
 * known; it goes over TCP or TLS instead.
 */
export const RFC3428_UNKNOWN_PATH_LIMIT = 1300;

/** Default acceptance window for the signing time (replay protection needs a bound: RFC 8591, Security Considerations). */
export const DEFAULT_SIGNING_TIME_WINDOW = {
  /** How old a signature may be, milliseconds (deferred delivery to an offline member takes hours). */
  maxAgeMs: 7 * 24 * 3600_000,
  /** How far in the future a signing time may be, milliseconds (clock skew between UEs). */
  maxFutureMs: 5 * 60_000,
} as const;
