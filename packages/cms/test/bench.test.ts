import { describe, expect, it } from 'vitest';
import { formatCmsBench, runCmsBench } from '../bench/cms-bench.ts';

// The bench is wired into `npm run bench` by the lead; here it only has to run
// and report coherent figures. Relations only, never times (DESIGN.md sec. 6).
describe('runCmsBench', () => {
  it('reports protected and plain rates from one run, protection costing more than plain CPIM', async () => {
    const r = await runCmsBench(0.05);
    expect(r.protected.map((f) => f.keyType)).toEqual(['rsa', 'ec']);
    for (const f of r.protected) {
      expect(f.sealPerSecond).toBeGreaterThan(0);
      expect(f.openPerSecond).toBeGreaterThan(0);
      expect(f.sealPerSecond).toBeLessThan(r.cpimBuildPerSecond);
      expect(f.openPerSecond).toBeLessThan(r.cpimParsePerSecond);
      expect(f.bodyBytes).toBeGreaterThan(r.cpimBytes);
    }
    expect(formatCmsBench(r).split('\n')).toHaveLength(3);
  }, 60_000);
});
