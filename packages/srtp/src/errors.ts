/**
 * Errors thrown for misuse of this package: bad configuration, malformed
 * input to the *protect* side, malformed SDES text. Protocol outcomes on the
 * receive side (authentication failure, replay, truncation) are never thrown;
 * they are returned as {@link UnprotectResult} values (see context.ts).
 */

/** Base class of every error this package throws. */
export class SrtpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A profile name, key, salt or option value is invalid. */
export class SrtpConfigError extends SrtpError {}

/** A master key or key||salt has the wrong length for the profile. */
export class KeyLengthError extends SrtpConfigError {}

/** The packet handed to `protectRtp` / `protectRtcp` is not a well-formed RTP/RTCP packet. */
export class RtpFormatError extends SrtpError {}

/**
 * Protecting this packet would reuse a packet index already used with this
 * key (RFC 3711 sec. 9.1: keystream reuse breaks confidentiality).
 */
export class SrtpIndexReuseError extends SrtpError {}

/** The master key reached its lifetime (RFC 3711 sec. 9.2); re-key before sending more. */
export class SrtpKeyExpiredError extends SrtpError {}

/** An `a=crypto` attribute does not follow RFC 4568; the message says what and what was expected. */
export class SdesParseError extends SrtpError {}
