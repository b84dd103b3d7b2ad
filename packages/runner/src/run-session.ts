import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPO_ROOT, type TargetName } from '@imslab/topology';
import type { RunSummary, ScenarioResult } from '@imslab/run-format';

export type { RunError, RunSummary, ScenarioResult } from '@imslab/run-format';
import type { Target } from './targets/target.ts';

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
