import type { RunSummary } from './run-session.ts';

const esc = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
  // XML 1.0 has no place for most control characters.
  // eslint-disable-next-line no-control-regex
  .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '?');

/**
 * JUnit XML of a run: one test case per scenario (class = its TR clause),
 * a mismatch as a failure, a scenario that could not run as an error, a
 * skipped one as skipped; the evidence in system-out.
 */
export function junitXml(s: RunSummary): string {
  const cases = s.results.map((r) => {
    const body: string[] = [];
    if (r.status === 'fail') {
      const m = [...r.calls.flatMap((c) => c.mismatches.map((x) => `${c.alias}: ${x}`)), ...(r.problems?.unexpected ?? []).map((p) => `analysis problem: ${p}`)];
      body.push(`<failure message="${esc(m[0] ?? 'mismatch')}">${esc(m.join('\n'))}</failure>`);
    } else if (r.status === 'error') {
      body.push(`<error type="${r.error?.kind ?? 'error'}" message="${esc(r.error?.message ?? '')}">${esc(r.error?.message ?? '')}</error>`);
    } else if (r.status === 'skipped') {
      body.push(`<skipped message="${esc(r.skipped ?? '')}"/>`);
    }
    const out = r.calls.flatMap((c) => [`${c.alias}: expected ${c.expected}, observed ${c.observed}`, ...c.evidence.map((e) => `  ${e}`), ...c.conditions.map((x) => `  condition: ${x}`)]);
    body.push(`<system-out>${esc([`run directory: ${r.dir}`, ...out].join('\n'))}</system-out>`);
    return `    <testcase classname="imslab.${esc(r.clause)}" name="${esc(r.scenario)}" time="${(r.durationMs / 1000).toFixed(3)}">\n      ${body.join('\n      ')}\n    </testcase>`;
  });
  const count = (st: string) => s.results.filter((r) => r.status === st).length;
  const time = s.results.reduce((a, r) => a + r.durationMs, 0) / 1000;
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="imslab" tests="${s.results.length}" failures="${count('fail')}" errors="${count('error')}" skipped="${count('skipped')}" time="${time.toFixed(3)}">
  <testsuite name="imslab run ${esc(s.run)} (${s.target})" tests="${s.results.length}" failures="${count('fail')}" errors="${count('error')}" skipped="${count('skipped')}" time="${time.toFixed(3)}" timestamp="${s.startedAt}">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}
