/**
 * Errors of the SDP layer. Each message says what was wrong, where (which
 * line or which m= section) and, where an RFC rules it, which section.
 */

/** Base class of every error this package throws. */
export class SdpError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The text has a line sdp-transform could not read into what RFC 4566 requires of it. */
export class SdpParseError extends SdpError {
  /** 1-based line number in the SDP text. */
  readonly line: number;
  /** The offending line, as written. */
  readonly text: string;

  constructor(line: number, text: string, detail: string) {
    super(`SDP line ${line} "${text.length > 80 ? `${text.slice(0, 80)}...` : text}": ${detail}`);
    this.line = line;
    this.text = text;
  }
}

/** The description is readable but lacks a media stream the caller needs, or the stream lacks something (a c= address, a live port). */
export class SdpMediaError extends SdpError {}

/**
 * An attribute's value does not follow its grammar: a=crypto (RFC 4568,
 * checked by @imslab/srtp's SDES codec) or a=key-mgmt (RFC 4567, checked by
 * @imslab/mikey). The codec's own error is the `cause`.
 */
export class SdpAttributeError extends SdpError {
  /** Attribute name, e.g. `crypto`, `key-mgmt`. */
  readonly attribute: string;
  /** The attribute's value as written. */
  readonly value: string;

  constructor(attribute: string, value: string, detail: string, cause?: unknown) {
    super(`a=${attribute}:${value.length > 60 ? `${value.slice(0, 60)}...` : value}: ${detail}`, cause === undefined ? undefined : { cause });
    this.attribute = attribute;
    this.value = value;
  }
}

/** A description to write has a value SDP cannot carry (a port out of range, a line break inside an attribute). */
export class SdpBuildError extends SdpError {
  /** Name of the offending field, e.g. `port`, `crypto`. */
  readonly field: string;

  constructor(field: string, detail: string) {
    super(`${field}: ${detail}`);
    this.field = field;
  }
}
