/**
 * @imslab/run-format: the files of a run directory. The runner writes them
 * (runs/<stamp>/summary.json, <scenario>/verdict.json, <scenario>/network.json);
 * `imslab inspect` and the report read them back, also from a copied run.
 */
import type { NetworkName, TargetName } from '@imslab/topology';

/** How one call came out against its expectation. */
export interface CallOutcome {
  alias: string;
  callId: string | null;
  expected: string;
  observed: string;
  pass: boolean;
  /** Each way the observation differs from the expectation. */
  mismatches: string[];
  /** One line per piece of evidence behind the observed verdict. */
  evidence: string[];
  /** What the verdict depends on (who could read the keys). */
  conditions: string[];
}

/** Why a scenario could not run to the end: the testbed (an element did not start or died), a step, or an abort. */
export interface RunError {
  kind: 'infrastructure' | 'step' | 'aborted';
  message: string;
}

export interface ScenarioResult {
  scenario: string;
  clause: string;
  title: string;
  /** The scenario's directory, relative to the run directory (a copied run still inspects). */
  dir: string;
  /** pass: every verdict and check as expected; fail: a mismatch; error: it could not run to the end; skipped: not runnable here. */
  status: 'pass' | 'fail' | 'error' | 'skipped';
  error: RunError | null;
  /** Why it was not run (attached to a network it does not fit). */
  skipped?: string;
  calls: CallOutcome[];
  /** What the analysis could not do (a capture cut short, a key log line it could not read, TLS it could not open); `unexpected` fail the scenario. */
  problems?: { expected: string[]; unexpected: string[] };
  pass: boolean;
  durationMs: number;
}

export interface RunSummary {
  /** The run directory's name (runs/<name>). */
  run: string;
  target: TargetName | 'attached';
  startedAt: string;
  finishedAt: string | null;
  /** Set when the run did not end normally: Ctrl-C, SIGTERM, a crash of the runner. */
  aborted: string | null;
  /** Every scenario asked for, in order; those without a result did not run. */
  planned: string[];
  results: ScenarioResult[];
}

/**
 * The network a scenario ran on, as drawn in the report: names, kinds and
 * addresses only (the plan itself holds passwords and keys).
 */
export interface RecordedNetwork {
  target: TargetName | 'attached';
  slot: number;
  elements: RecordedElement[];
}

export interface RecordedElement {
  name: string;
  kind: string;
  /** The element this one is a part of (the transcoder's media part). */
  partOf?: string;
  addresses: Partial<Record<NetworkName, string>>;
  /** Planned but started by nothing (a UA of one's own). */
  external?: boolean;
}
