import { describe, expect, it } from 'vitest';
import { runScenarios } from '../../packages/runner/src/run.ts';
import { selectScenarios } from '../../packages/runner/src/scenario.ts';
import { makeTarget } from '../../packages/runner/src/targets/index.ts';

/**
 * The e2ae scenario on the docker target: the same plan and runner as the
 * local target, one container per element on three Docker networks, captures
 * on the networks' bridges. scripts/test.sh starts the engine and builds the
 * base image (offline) and the images first.
 */
// scripts/test.sh sets IMSLAB_DOCKER_TESTS=1 once the engine and images are ready
// (IMSLAB_SKIP_DOCKER=1 leaves the docker target out, e.g. on a machine without one).
describe.runIf(process.env.IMSLAB_DOCKER_TESTS === '1')('scenarios on the docker target', () => {
  // e2ae (the walking skeleton's proof), MIKEY-TICKET through the KMS, a voicemail
  // whose store survives a container restart (the run directory is a host mount),
  // and a group-key conference.
  for (const name of ['access-edge-protection', 'e2e-mikey-ticket-call', 'voicemail-restart-between-deposit-and-retrieval', 'conference-e2e-group-key']) {
    it(name, async () => {
      const target = await makeTarget('docker');
      const { results } = await runScenarios(target, selectScenarios([name]), { progress: () => {} });
      const r = results[0]!;
      const detail = JSON.stringify({ error: r.error, calls: r.calls.map((c) => ({ observed: c.observed, mismatches: c.mismatches })) }, null, 1);
      expect(r.error, detail).toBeNull();
      expect(r.calls.length).toBeGreaterThan(0);
      for (const c of r.calls) {
        expect(c.observed, detail).toBe(c.expected);
        expect(c.mismatches, detail).toEqual([]);
      }
    });
  }
});
