import { describe, expect, it } from 'vitest';
import { runScenarios } from '../../packages/runner/src/run.ts';
import { loadAllScenarios } from '../../packages/runner/src/scenario.ts';
import { LocalTarget } from '../../packages/runner/src/targets/local.ts';
import { readStates } from '../../packages/runner/src/state.ts';

/**
 * The whole network on the local target, one scenario at a time: real
 * Kamailio, rtpengine and tcpdump, our UEs, verdicts from the captures.
 */
const scenarios = loadAllScenarios();

describe('scenarios on the local target', () => {
  for (const scenario of scenarios) {
    it(`${scenario.clause} ${scenario.name}`, async () => {
      const { results } = await runScenarios(new LocalTarget(), [scenario], { progress: () => {} });
      const r = results[0]!;
      const detail = JSON.stringify({ error: r.error, calls: r.calls.map((c) => ({ observed: c.observed, mismatches: c.mismatches })) }, null, 1);
      expect(r.error, detail).toBeNull();
      for (const c of r.calls) {
        expect(c.observed, detail).toBe(c.expected);
        expect(c.mismatches, detail).toEqual([]);
      }
      // Nothing left running after the scenario.
      expect(readStates()).toEqual([]);
    });
  }
});
