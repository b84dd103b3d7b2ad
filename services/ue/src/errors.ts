/**
 * Named errors of the UE. Protocol outcomes (a 486, a failed REGISTER) are
 * values in call/registration status; these errors are for misuse and for
 * conditions that stop the process. (The configuration is checked by its zod
 * schema, element-kit; control API errors are element-kit's HttpError.)
 */

/** Base class of the UE's errors. */
export class UeError extends Error {
  override name = 'UeError';
}

/** A socket could not be bound because the address/port is taken. */
export class PortInUseError extends UeError {
  override name = 'PortInUseError';
  constructor(
    readonly ueName: string,
    readonly endpoint: string,
  ) {
    super(`${endpoint} is in use (another imslab run? run 'imslab down')`);
  }
}

/** A call operation that is not possible in the call's current state. */
export class CallStateError extends UeError {
  override name = 'CallStateError';
  constructor(
    readonly from: string,
    readonly to: string,
    readonly callId: string,
  ) {
    super(`call ${callId}: illegal state transition from ${from} to ${to}`);
  }
}

/** No free even RTP port in the configured media range. */
export class MediaPortsExhaustedError extends UeError {
  override name = 'MediaPortsExhaustedError';
}
