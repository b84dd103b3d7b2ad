/**
 * A scenario's `targets`: both by default; a scenario kept to one target is
 * skipped on the other, before anything is started, and the run still
 * succeeds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SCENARIO_DIR, loadScenario, runScenarios, type Target } from '../src/index.ts';

const runs = mkdtempSync(join(tmpdir(), 'imslab-targets-'));
afterAll(() => rmSync(runs, { recursive: true, force: true }));

/** A target that only says its name: any other call fails the test. */
function nameOnly(name: 'local' | 'docker'): Target {
  return new Proxy({ name, checkPrerequisites: async () => undefined } as unknown as Target, {
    get(t, k) {
      if (k in t || k === 'then') return (t as unknown as Record<string | symbol, unknown>)[k];
      throw new Error(`the target was asked for ${String(k)}: a skipped scenario must start nothing`);
    },
  });
}

describe('scenario targets', () => {
  it('a scenario without targets runs on both', () => {
    expect(loadScenario(join(SCENARIO_DIR, '4.1.1', 'sdes-e2e-call.yaml')).targets).toEqual(['local', 'docker']);
  });

  it('a local-only scenario is skipped on docker, starting nothing, and says why', async () => {
    const s = loadScenario(join(SCENARIO_DIR, '4.1.4', 'access-edge-same-pcscf.yaml'));
    expect(s.targets).toEqual(['local']);
    const { results } = await runScenarios(async () => nameOnly('docker'), [s], { runsRoot: runs });
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ status: 'skipped', skipped: expect.stringMatching(/runs on local only/) });
  });
});
