import type { ScenarioResult } from './run.ts';

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** The final table: scenario, expected, observed, evidence summary. */
export function verdictTable(results: ScenarioResult[]): string {
  const rows: string[][] = [['scenario', 'expected', 'observed', 'result', 'evidence']];
  for (const r of results) {
    if (r.calls.length === 0 || r.error) {
      rows.push([r.scenario, r.calls.map((c) => c.expected).join(',') || '-', 'error', 'FAIL', r.error ?? 'no calls']);
    }
    for (const c of r.calls) {
      if (r.error && c.observed === 'no-call') continue;
      const summary = c.pass ? [c.conditions.length ? `conditional: ${c.conditions.length} key exposure(s), e.g. ${c.conditions[0]}` : '', c.evidence[0] ?? ''].filter(Boolean).join('; ') : c.mismatches.join('; ');
      rows.push([`${r.scenario}${r.calls.length > 1 ? `/${c.alias}` : ''}`, c.expected, c.observed, c.pass && !r.error ? 'pass' : 'FAIL', summary]);
    }
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i < 4 ? pad(cell, widths[i]!) : cell)).join('  ')).join('\n');
}
