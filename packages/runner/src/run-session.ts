import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPO_ROOT, type TargetName } from '@imslab/topology';
import type { CallOutcome } from './expect.ts';
import type { Target } from './targets/target.ts';

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

export function newRunDir(root = join(REPO_ROOT, 'runs')): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  let dir = join(root, stamp);
  // Two runs started in the same millisecond (parallel tests) get distinct directories.
  for (let i = 1; !tryMake(dir); i++) dir = join(root, `${stamp}-${i}`);
  return dir;
}

function tryMake(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: false });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      mkdirSync(join(dir, '..'), { recursive: true });
      return tryMake(dir);
    }
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * One run of scenarios: its directory and summary. The summary is written
 * after every scenario and on abort, so whatever happens the run directory
 * says what ran and how it ended. Targets in use are registered here so that
 * an abort (Ctrl-C, a crash) can take them down.
 */
export class RunSession {
  readonly summary: RunSummary;
  private readonly live = new Set<Target>();
  private abortReason: string | null = null;

  constructor(readonly dir: string, target: RunSummary['target'], planned: string[]) {
    this.summary = { run: basename(dir), target, startedAt: new Date().toISOString(), finishedAt: null, aborted: null, planned, results: [] };
    this.write();
  }

  get aborted(): string | null {
    return this.abortReason;
  }

  record(r: ScenarioResult): void {
    this.summary.results.push(r);
    this.write();
  }

  using(t: Target): void {
    this.live.add(t);
  }

  done(t: Target): void {
    this.live.delete(t);
  }

  /** Stops every target in use (once), and records why. */
  async abort(reason: string): Promise<void> {
    if (this.abortReason) return;
    this.abortReason = reason;
    this.summary.aborted = reason;
    this.write();
    await Promise.allSettled([...this.live].map((t) => t.down()));
  }

  finish(): void {
    this.summary.finishedAt = new Date().toISOString();
    this.write();
  }

  write(): void {
    const file = join(this.dir, 'summary.json');
    writeFileSync(`${file}.tmp`, JSON.stringify(this.summary, null, 2));
    renameSync(`${file}.tmp`, file);
  }
}
