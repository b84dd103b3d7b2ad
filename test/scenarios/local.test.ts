import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalTarget, loadAllScenarios, readStates, runScenarios, type ScenarioResult } from '@imslab/runner';

/**
 * The whole network on the local target: real Kamailio, rtpengine and
 * tcpdump, our UEs and servers, verdicts from the captures. Every scenario
 * on a network of its own, three side by side (each on its own loopback
 * range), as `imslab run all` does.
 */
const scenarios = loadAllScenarios();
const results = new Map<string, ScenarioResult>();

beforeAll(async () => {
  const { results: rs } = await runScenarios(async () => new LocalTarget(), scenarios, { jobs: 3 });
  for (const r of rs) results.set(r.scenario, r);
}, 600_000);

describe('scenarios on the local target', () => {
  it.each(scenarios.map((s) => [`${s.clause} ${s.name}`, s.name] as const))('%s', (_label, name) => {
    const r = results.get(name);
    expect(r, `${name} did not run`).toBeDefined();
    const detail = JSON.stringify({ error: r!.error, calls: r!.calls.map((c) => ({ alias: c.alias, observed: c.observed, mismatches: c.mismatches })) }, null, 1);
    expect(r!.error, detail).toBeNull();
    expect(r!.calls.length, detail).toBeGreaterThan(0);
    for (const c of r!.calls) {
      expect(c.observed, detail).toBe(c.expected);
      expect(c.mismatches, detail).toEqual([]);
    }
  });
});

afterAll(() => {
  // Nothing left running after the runs: no state file of a network of this process.
  expect(readStates().filter((s) => s.state.runnerPid === process.pid)).toEqual([]);
});
