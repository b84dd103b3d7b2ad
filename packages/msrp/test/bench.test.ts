/** The benchmark runs and its parser finds every frame (no timing is asserted: figures belong to `npm run bench`). */
import { expect, it } from 'vitest';
import { formatMsrpBench, runMsrpBench } from '../bench/msrp-bench.ts';

it('runMsrpBench parses every frame and reports a ratio against the reference scan', async () => {
  const r = await runMsrpBench(0.05);
  expect(r.frames).toBe(128);
  expect(r.parserMBps).toBeGreaterThan(0);
  expect(r.ratio).toBeCloseTo(r.parserMBps / r.referenceMBps, 10);
  expect(formatMsrpBench(r)).toMatch(/^msrp-parse: \d+ MB\/s streaming parser vs \d+ MB\/s/);
});
