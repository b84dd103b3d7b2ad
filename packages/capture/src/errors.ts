/**
 * Named errors of `@imslab/capture`. Each carries structured fields so that
 * callers (the analysis package, test reports) can say *where* a capture is
 * broken without parsing messages.
 */

/** Base class of every error thrown on purpose by this package. */
export class CaptureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A capture file (or buffer) is not valid pcap/pcapng, or ends in the middle
 * of a record. `offset` is the byte offset of the file header, record or
 * block that could not be read; every packet before it has been yielded.
 */
export class CaptureFormatError extends CaptureError {
  /** Byte offset (from the start of the file) of the offending header, record or block. */
  readonly offset: number;
  /** Short machine-readable reason, e.g. `truncated`, `bad-magic`, `bad-block-length`. */
  readonly reason: string;
  /** File the bytes came from, when read from a file. */
  readonly path: string | undefined;

  constructor(reason: string, offset: number, detail: string, path?: string) {
    super(`${path ? `${path}: ` : ''}${detail} (${reason} at byte offset ${offset})`);
    this.reason = reason;
    this.offset = offset;
    this.path = path;
  }
}

/** A writer was misused or its file could not be written (write after close, invalid timestamp, I/O failure). */
export class CaptureWriteError extends CaptureError {
  /** File being written. */
  readonly path: string;
  /** Short machine-readable reason, e.g. `closed`, `bad-timestamp`, `unknown-interface`, `io`. */
  readonly reason: string;

  constructor(reason: string, path: string, detail: string) {
    super(`${path}: ${detail} (${reason})`);
    this.reason = reason;
    this.path = path;
  }
}

/** A frame builder got arguments it cannot encode (unsupported link type, bad address or port). */
export class FrameBuildError extends CaptureError {
  /** Name of the offending argument, e.g. `linkType`, `src`, `dstPort`. */
  readonly field: string;
  /** The offending value. */
  readonly value: unknown;

  constructor(field: string, value: unknown, detail: string) {
    super(`${detail}: ${field}=${String(value)}`);
    this.field = field;
    this.value = value;
  }
}
