/**
 * Errors of the video (H.264, RFC 6184) and text (T.140, RFC 4103; RED,
 * RFC 2198) probe streams. Parsing never throws: bytes from a network or a
 * capture that are not what they should be come back as a
 * {@link ProbeMediaDecodeError} value (a code to switch on, the byte offset,
 * a sentence saying what was wrong). Options a caller gets wrong (a
 * resolution that is not even, a static payload type) are bugs and throw a
 * {@link ProbeMediaConfigError}.
 */

/** The payload formats parsed here. */
export type ProbeMediaFormat = 'h264' | 't140' | 'red';

/** What was wrong with a payload that did not parse. */
export type ProbeMediaDecodeErrorCode =
  // RFC 6184 packets and H.264 NAL units
  | 'empty'
  | 'forbidden-bit'
  | 'unsupported-packet-type'
  | 'truncated-aggregate'
  | 'empty-nal-unit'
  | 'truncated-fragment'
  | 'bad-fragment'
  | 'bad-emulation-prevention'
  | 'truncated-syntax'
  | 'bad-exp-golomb'
  | 'unsupported-stream'
  | 'bad-parameter-set'
  | 'missing-parameter-set'
  | 'bad-slice'
  // T.140 and RED
  | 'bad-utf8'
  | 'truncated-red-header'
  | 'red-block-overrun'
  | 'unexpected-payload-type'
  | 'no-primary';

/** Base class of the errors of the probe media formats. */
export class ProbeMediaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A payload that is not well-formed; returned, never thrown, by the parsers. */
export class ProbeMediaDecodeError extends ProbeMediaError {
  constructor(
    readonly format: ProbeMediaFormat,
    readonly code: ProbeMediaDecodeErrorCode,
    /** Byte offset in the payload (or NAL unit) handed to the parser. */
    readonly offset: number,
    detail: string,
  ) {
    super(`${format} payload, octet ${offset}: ${detail}`);
  }
}

/** An option the probe streams cannot honour; thrown. */
export class ProbeMediaConfigError extends ProbeMediaError {
  constructor(
    /** Name of the offending option, e.g. `width`, `payloadType`. */
    readonly option: string,
    readonly value: unknown,
    detail: string,
  ) {
    super(`${option}=${String(value)}: ${detail}`);
  }
}

/** A parse result: the value, or why there is none. */
export type ProbeMediaResult<T> = { ok: true; value: T } | { ok: false; error: ProbeMediaDecodeError };

/** Checks an RTP payload type for a probe stream: dynamic (RFC 3551 sec. 6: 96..127). */
export function checkDynamicPayloadType(option: string, pt: number): void {
  if (!Number.isInteger(pt) || pt < 96 || pt > 127) {
    throw new ProbeMediaConfigError(option, pt, 'the probe formats have no static payload type: use a dynamic one, 96..127 (RFC 3551 sec. 6)');
  }
}
