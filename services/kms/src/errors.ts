/**
 * Named errors of the KMS. A refusal of a MIKEY request is a
 * {@link KmsRefusal} (element-kit's HttpError): it becomes a 4xx JSON answer
 * and an audit entry, never a crash. Configuration and start-up problems
 * stop the process with one line.
 */
import { HttpError } from '@imslab/element-kit';

/** Base class of the KMS's configuration and start-up errors. */
export class KmsError extends Error {
  override name = 'KmsError';
}

/** The config file is unusable; the message names the field. */
export class KmsConfigError extends KmsError {
  override name = 'KmsConfigError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`field '${field}': ${problem}`);
  }
}

/** A listening socket could not be bound because the address/port is taken. */
export class KmsPortInUseError extends KmsError {
  override name = 'KmsPortInUseError';
  constructor(readonly endpoint: string) {
    super(`${endpoint} is in use (another imslab run? run 'imslab down')`);
  }
}

/**
 * A request the KMS refuses: HTTP status (4xx, or 503 when the replay cache
 * is full and the KMS fails closed), a short code and a reason a human
 * understands. Thrown inside request handling, turned into
 * `{ error: reason, code }` by the HTTPS front (the body element-kit's
 * ControlServer would give it too: message = reason, extra = { code }).
 */
export class KmsRefusal extends HttpError {
  override name = 'KmsRefusal';
  constructor(
    status: number,
    readonly code: string,
    readonly reason: string,
  ) {
    super(status, reason, { code });
  }
}
