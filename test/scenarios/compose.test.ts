import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@imslab/topology';

/**
 * `docker compose up` as a user runs it: `imslab compose` (images already
 * built by scripts/test.sh), Debian's docker-compose 1.29 (compose v1; v2 is
 * not installable without a registry here), every element healthy, scenarios
 * run against it with `imslab run --attach` without tearing it down, and
 * nothing left after `down -v`.
 */
const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
const labelled = (what: 'ps' | 'network' | 'volume') => execFileSync('/usr/bin/docker', [...(what === 'ps' ? ['ps', '-a'] : [what, 'ls']), '-q', '--filter', 'label=imslab.run=compose'], { encoding: 'utf8' }).trim();

describe.runIf(process.env.IMSLAB_DOCKER_TESTS === '1')('docker compose up', () => {
  afterAll(() => {
    sh('docker-compose', ['--profile', 'all', 'down', '-v', '--timeout', '3']);
  }, 120_000);

  it('brings up the network from the generated file, healthy, and scenarios run against it', async () => {
    const prep = sh(`${REPO_ROOT}/bin/imslab`, ['compose', '--no-build']);
    expect(prep.status, prep.stderr).toBe(0);
    expect(execFileSync('git', ['status', '--porcelain', 'docker-compose.yml'], { cwd: REPO_ROOT, encoding: 'utf8' })).toBe('');
    const up = sh('docker-compose', ['--profile', 'kms', 'up', '-d']);
    expect(up.status, up.stderr).toBe(0);
    // Every container healthy by its own healthcheck (the kinds' readiness probes).
    const deadline = Date.now() + 90_000;
    let states = '';
    while (Date.now() < deadline) {
      states = execFileSync('/usr/bin/docker', ['ps', '--filter', 'label=imslab.run=compose', '--format', '{{.Names}} {{.Status}}'], { encoding: 'utf8' });
      if (states.split('\n').filter(Boolean).length === 10 && !/starting|unhealthy/.test(states)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(states.split('\n').filter(Boolean).sort().map((l) => l.replace(/ Up .*\((\w+)\)$/, ' $1'))).toEqual(
      ['alice', 'bob-1', 'bob-2', 'carol', 'ims-agw-a', 'ims-agw-b', 'kms', 'pcscf-a', 'pcscf-b', 'scscf'].map((n) => `imslab-${n} healthy`),
    );
    const run = sh(`${REPO_ROOT}/bin/imslab`, ['run', '--attach', 'e2e-mikey-ticket-call', 'forked-call-mikey-ticket', 'unprotected-call']);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/\[1\/3\] e2e-mikey-ticket-call +pass +e2e/);
    expect(run.stdout).toMatch(/\[2\/3\] forked-call-mikey-ticket +pass +e2e/);
    // A scenario asking for a network without the KMS is skipped, not judged on the wrong network.
    expect(run.stdout).toMatch(/\[3\/3\] unprotected-call +skip .*needs a network without kms/);
    // The network is still up afterwards.
    expect(labelled('ps').split('\n').length).toBe(10);
    const down = sh('docker-compose', ['--profile', 'all', 'down', '-v', '--timeout', '3']);
    expect(down.status, down.stderr).toBe(0);
    expect([labelled('ps'), labelled('network'), labelled('volume')]).toEqual(['', '', '']);
  }, 300_000);
});
