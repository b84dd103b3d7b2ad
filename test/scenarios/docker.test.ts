import { describe, expect, it } from 'vitest';
import { makeTarget, runScenarios, selectScenarios } from '@imslab/runner';

/**
 * Scenarios on the docker target: the same plan and runner as the local
 * target, one container per element on three Docker networks, captures on
 * the networks' bridges. scripts/test.sh starts the engine and builds the
 * base image (offline) and the images first, then sets IMSLAB_DOCKER_TESTS=1
 * (IMSLAB_SKIP_DOCKER=1 leaves the docker target out on a machine without one).
 */
describe.runIf(process.env.IMSLAB_DOCKER_TESTS === '1')('scenarios on the docker target', () => {
  // e2ae (the walking skeleton's proof), MIKEY-TICKET through the KMS, a voicemail
  // whose store survives a container restart (a Docker volume), a group-key conference, and
  // push-to-talk: a group call under a GMK from MIKEY-SAKKE, and floor contention; a session-mode
  // message through the MSRP relay (hop by hop: S/MIME credentials exist on the local target only).
  // Issue 13: every attack on both targets, the attacker element and the compromised P-CSCFs included.
  const attacks = ['srtp-replay-tamper-injection', 'sdes-stripped-fails-closed', 'mikey-stripped-fails-closed', 'e2e-ticket-replayed', 'e2e-ticket-tampered', 'spoofed-asserted-identity-replaced', 'e2ae-over-udp-refused', 'tls-blocked-no-downgrade', 'plaintext-injected-after-switch', 'sdes-keys-substituted', 'e2ae-request-stripped', 'mediasec-stripped-refused', 'spoofed-call-past-the-pcscf', 'e2e-transfer-resp-replayed', 'e2e-ticket-forged', 'e2e-ticket-expired', 'voicemail-message-swapped', 'voicemail-packets-swapped', 'poc-csk-tampered', 'poc-csk-replayed'];
  for (const name of ['access-edge-protection', 'e2e-mikey-ticket-call', 'voicemail-restart-between-deposit-and-retrieval', 'conference-e2e-group-key', 'poc-group-call-e2e', 'poc-floor-contention', 'poc-video-text-e2e', 'msrp-session-hop-by-hop', ...attacks]) {
    it(name, async () => {
      const { results } = await runScenarios(() => makeTarget('docker'), selectScenarios([name]));
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
