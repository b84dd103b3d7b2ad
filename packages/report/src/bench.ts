/**
 * runReportBench: the time to write report.html for a full run (target:
 * under 2 s). Works on a copy of the newest run under runs/ with the most
 * scenarios (27 for `imslab run` of everything), so no run of anyone's is
 * touched; without one, on the committed fixture's scenarios repeated to 27.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunSummary } from '@imslab/run-format';
import { REPO_ROOT } from '@imslab/topology';
import { writeReport } from './report.ts';

export interface ReportBenchResult {
  /** The run measured (its copy is removed afterwards). */
  source: string;
  scenarios: number;
  /** First report in this process: includes importing the planner when the runner has not loaded it. */
  firstMs: number;
  /** Further reports of the same run. */
  repeatMs: number[];
  medianMs: number;
  /** Size of report.html. */
  bytes: number;
  targetMs: number;
  ok: boolean;
}

const FIXTURE_RUN = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'run');

/** The newest run directory under `runs` with the most scenario results (at least `min`). */
export function newestFullRun(runs = join(REPO_ROOT, 'runs'), min = 27): string | null {
  if (!existsSync(runs)) return null;
  const dirs = readdirSync(runs).filter((d) => existsSync(join(runs, d, 'summary.json'))).sort().reverse();
  for (const d of dirs) {
    try {
      const s = JSON.parse(readFileSync(join(runs, d, 'summary.json'), 'utf8')) as RunSummary;
      if (s.results.length >= min && !s.aborted) return join(runs, d);
    } catch {
      // a summary being written: skip
    }
  }
  return null;
}

/** What a report reads of a run: no merged pcapng, no element logs. */
function copyRun(src: string, dst: string): void {
  cpSync(src, dst, {
    recursive: true,
    filter: (from) => {
      const b = basename(from);
      if (b === 'all-links.pcapng' || b === 'report.html' || b === 'logs') return false;
      return true;
    },
  });
}

/** Builds a run of `n` scenarios from the fixture's, repeated (for a machine with no full run under runs/). */
function syntheticRun(dst: string, n = 27): void {
  const s = JSON.parse(readFileSync(join(FIXTURE_RUN, 'summary.json'), 'utf8')) as RunSummary;
  const results = [];
  for (let i = 0; i < n; i++) {
    const r = s.results[i % s.results.length]!;
    const dir = `${r.dir}-${i}`;
    cpSync(join(FIXTURE_RUN, r.dir), join(dst, dir), { recursive: true });
    results.push({ ...r, scenario: `${r.scenario}-${i}`, dir });
  }
  writeFileSync(join(dst, 'summary.json'), JSON.stringify({ ...s, planned: results.map((r) => r.scenario), results }, null, 2));
}

/** Measures writeReport on a full run: the first report and `repeats` more; median of all. */
export async function runReportBench(opts: { runDir?: string; synthetic?: boolean; repeats?: number; log?: (line: string) => void } = {}): Promise<ReportBenchResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const source = opts.synthetic ? null : opts.runDir ?? newestFullRun();
  const work = mkdtempSync(join(tmpdir(), 'imslab-report-bench-'));
  try {
    const dir = join(work, source ? basename(source) : 'synthetic');
    if (source) copyRun(source, dir);
    else syntheticRun(dir);
    const scenarios = (JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary).results.length;
    const first = await writeReport(dir);
    const repeatMs: number[] = [];
    for (let i = 0; i < (opts.repeats ?? 4); i++) repeatMs.push((await writeReport(dir)).ms);
    const all = [first.ms, ...repeatMs].sort((a, b) => a - b);
    const medianMs = all[Math.floor(all.length / 2)]!;
    const bytes = statSync(first.file).size;
    const result: ReportBenchResult = { source: source ?? `synthetic (${FIXTURE_RUN} x ${scenarios})`, scenarios, firstMs: first.ms, repeatMs, medianMs, bytes, targetMs: 2000, ok: first.ms < 2000 && medianMs < 2000 };
    log(`report.html of ${result.source} (${scenarios} scenarios): first ${first.ms.toFixed(0)} ms, then ${repeatMs.map((m) => m.toFixed(0)).join(', ')} ms; median ${medianMs.toFixed(0)} ms; ${(bytes / 1024).toFixed(0)} KiB (target < ${result.targetMs} ms)${result.ok ? '' : ' OVER TARGET'}`);
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
