/** Something the machine lacks: the message is one line naming what to install or do. */
export class PrerequisiteError extends Error {
  override name = 'PrerequisiteError';
}

/** An element did not become healthy, or died. */
export class ElementError extends Error {
  override name = 'ElementError';
  constructor(readonly element: string, message: string, readonly logFile?: string) {
    super(`${element}: ${message}${logFile ? ` (log: ${logFile})` : ''}`);
  }
}

/** A scenario file or name that cannot be used; lists the valid choices where there are some. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

/** A scenario step failed (a UE refused, a call failed, a wait timed out). */
export class StepError extends Error {
  override name = 'StepError';
}

/** The command line asks for something that does not exist (a verb, a flag, a target). */
export class UsageError extends Error {
  override name = 'UsageError';
}
