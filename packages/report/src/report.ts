/**
 * writeReport: reads a run directory (summary.json, or a scenario directory
 * with its verdict.json) and writes `report.html` beside it.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import type { Analysis } from '@imslab/analysis';
import type { RunSummary, ScenarioResult } from '@imslab/run-format';
import type { CallStatus } from '@imslab/ue/contract';
import { extractLadders } from './ladder.ts';
import { namer, networkOf } from './network.ts';
import { renderReport, type ScenarioData } from './render.ts';

/** The run's summary; a scenario directory alone (verdict.json) reads as a run of one. Same rules as `imslab inspect`. */
export function readRunSummary(dir: string): RunSummary {
  const file = join(dir, 'summary.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as RunSummary;
  const verdict = join(dir, 'verdict.json');
  if (existsSync(verdict)) {
    const r = JSON.parse(readFileSync(verdict, 'utf8')) as ScenarioResult;
    return { run: basename(dir), target: 'local', startedAt: '', finishedAt: null, aborted: null, planned: [r.scenario], results: [{ ...r, dir: '.' }] };
  }
  throw new Error(`${dir} holds no summary.json or verdict.json`);
}

function readJson<T>(file: string, problems: string[]): T | null {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    problems.push(`${basename(file)} not readable: ${(e as Error).message}`);
    return null;
  }
}

/** Reads what the page shows of one scenario; never throws (what failed is listed in `problems`). */
export async function loadScenario(runDir: string, result: ScenarioResult): Promise<ScenarioData> {
  const dir = isAbsolute(result.dir) ? result.dir : join(runDir, result.dir);
  const problems: string[] = [];
  const analysis = readJson<Analysis>(join(dir, 'analysis.json'), problems);
  const view = await networkOf(dir, analysis);
  const named = namer(view);
  let ladders = null;
  if (result.status !== 'skipped') {
    try {
      ladders = await extractLadders(dir, named, analysis);
    } catch (e) {
      problems.push(`SIP ladder not readable: ${(e as Error).message}`);
    }
  }
  const ueCalls = readJson<Record<string, CallStatus[]>>(join(dir, 'ue-calls.json'), problems);
  return { result, dir, analysis, view, name: named, ladders, ueCalls, problems };
}

/** The page of a run directory, as a string. */
export async function buildReport(runDir: string): Promise<string> {
  const summary = readRunSummary(runDir);
  const scenarios = await Promise.all(summary.results.map((r) => loadScenario(runDir, r)));
  return renderReport(summary, scenarios);
}

/**
 * Writes `<runDir>/report.html` (atomically: a temporary file renamed over
 * it) and says how long it took. `runDir` is a run directory (summary.json)
 * or one scenario's directory (verdict.json).
 */
export async function writeReport(runDir: string): Promise<{ file: string; ms: number }> {
  const started = performance.now();
  const html = await buildReport(runDir);
  const file = join(runDir, 'report.html');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, html);
  renameSync(tmp, file);
  return { file, ms: Math.round((performance.now() - started) * 10) / 10 };
}
