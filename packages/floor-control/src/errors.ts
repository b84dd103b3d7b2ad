/**
 * Every error of this package. Decoding never throws: malformed input comes
 * back as a {@link FloorDecodeError} value (a code a caller can switch on, the
 * byte offset, and a message saying what was wrong). Encoding invalid values
 * and driving a state machine along an edge it does not have are caller bugs
 * and throw.
 */

/** What was wrong with a packet that did not decode. */
export type FloorDecodeErrorCode =
  | 'too-short'
  | 'not-rtcp'
  | 'bad-length'
  | 'bad-padding'
  | 'not-app'
  | 'wrong-name'
  | 'unknown-subtype'
  | 'ack-bit-not-allowed'
  | 'truncated-field'
  | 'bad-field-length'
  | 'unknown-field'
  | 'duplicate-field'
  | 'field-not-allowed'
  | 'missing-field'
  | 'bad-field-value'
  | 'no-floor-control';

/** Base class of the errors of @imslab/floor-control. */
export class FloorControlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A packet that is not a well-formed floor control message; returned, never thrown, by the decoders. */
export class FloorDecodeError extends FloorControlError {
  constructor(
    readonly code: FloorDecodeErrorCode,
    /** Byte offset in the buffer handed to the decoder. */
    readonly offset: number,
    detail: string,
  ) {
    super(`floor control decode error (${code}) at offset ${offset}: ${detail}`);
  }
}

/** A message that cannot be encoded as asked (a value out of range, a field the message type does not carry). */
export class FloorEncodeError extends FloorControlError {
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`cannot encode floor control message: ${field}: ${detail}`);
  }
}

/** A state machine asked to take an edge it does not have (e.g. PTT released while no request is outstanding). */
export class FloorStateError extends FloorControlError {
  constructor(
    readonly machine: 'server' | 'participant',
    readonly state: string,
    readonly event: string,
  ) {
    super(`floor control ${machine}: no transition from state '${state}' on '${event}'`);
  }
}

/** A configuration the state machines cannot run with. */
export class FloorConfigError extends FloorControlError {}
