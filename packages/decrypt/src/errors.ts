/** Named errors of `@imslab/decrypt`. Capture read/write errors come from @imslab/capture unchanged. */

/** Base class of every error thrown on purpose by this package. */
export class DecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** {@link decryptCapture} was called with arguments it cannot honour (e.g. the output is the input). */
export class DecryptOptionsError extends DecryptError {
  /** The offending option or argument. */
  readonly option: string;

  constructor(option: string, detail: string) {
    super(`${option}: ${detail}`);
    this.option = option;
  }
}

/** A WAV file could not be written. */
export class WavWriteError extends DecryptError {
  /** The WAV file. */
  readonly path: string;

  constructor(path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.path = path;
  }
}
