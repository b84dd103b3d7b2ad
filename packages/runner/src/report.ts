import type { ScenarioResult } from './run-session.ts';

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** What a scenario came to in one word. */
export function outcomeWord(r: ScenarioResult): string {
  return r.status === 'pass' ? 'pass' : r.status === 'skipped' ? 'skip' : r.status === 'error' ? (r.error?.kind === 'aborted' ? 'ABORTED' : 'ERROR') : 'FAIL';
}

/** The verdicts a scenario observed, one per call. */
export function observedOf(r: ScenarioResult): string {
  if (r.status === 'skipped') return '-';
  return r.calls.map((c) => c.observed).join(',') || '-';
}

/** The line printed as a scenario ends: `[n/N] name  pass|FAIL  observed-verdict  seconds`. */
export function progressLine(r: ScenarioResult, n: number, total: number, width = 0): string {
  const why = r.status === 'pass' ? '' : `  ${r.skipped ?? r.error?.message ?? r.calls.flatMap((c) => c.mismatches)[0] ?? (r.problems?.unexpected[0] ? `analysis problem: ${r.problems.unexpected[0]}` : '')}`;
  return `[${n}/${total}] ${pad(r.scenario, width)}  ${pad(outcomeWord(r), 4)}  ${observedOf(r)}  ${(r.durationMs / 1000).toFixed(1)}s${why}`;
}

/** The final table: scenario (and call), expected, observed, result, evidence summary. */
export function verdictTable(results: ScenarioResult[]): string {
  const rows: string[][] = [['scenario', 'expected', 'observed', 'result', 'evidence']];
  for (const r of results) {
    if (r.status === 'skipped') {
      rows.push([r.scenario, '-', '-', 'skip', r.skipped ?? '']);
      continue;
    }
    if (r.error || r.calls.length === 0) {
      rows.push([r.scenario, r.calls.map((c) => c.expected).join(',') || '-', r.error?.kind ?? 'error', outcomeWord(r), r.error?.message ?? 'no calls']);
      continue;
    }
    for (const p of r.problems?.unexpected ?? []) rows.push([r.scenario, '-', 'problem', 'FAIL', `analysis problem (not expected by the scenario): ${p}`]);
    for (const p of r.problems?.expected ?? []) rows.push([r.scenario, '-', 'problem', 'pass', `analysis problem, expected: ${p}`]);
    for (const c of r.calls) {
      const summary = c.pass ? [c.conditions.length ? `conditional: ${c.conditions.length} key exposure(s), e.g. ${c.conditions[0]}` : '', c.evidence[0] ?? ''].filter(Boolean).join('; ') : c.mismatches.join('; ');
      rows.push([`${r.scenario}${r.calls.length > 1 ? `/${c.alias}` : ''}`, c.expected, c.observed, c.pass ? 'pass' : 'FAIL', summary]);
    }
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i < 4 ? pad(cell, widths[i]!) : cell)).join('  ')).join('\n');
}
