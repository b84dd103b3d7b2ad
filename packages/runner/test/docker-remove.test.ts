import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeByLabel } from '../src/targets/docker-engine.ts';
import { whyNotRestartable } from '../src/targets/engine-restart.ts';

/**
 * removeByLabel against a scripted engine: the stale endpoint a forced
 * disconnect can leave on engine 20.10 (keyed `ep-<id>`, its container gone)
 * must not leave the network behind, and a network that will not go names
 * itself and the way out.
 */
interface EngineErr extends Error { statusCode: number; json: { message: string } }
const engineError = (statusCode: number, message: string): EngineErr => Object.assign(new Error(message), { statusCode, json: { message } });

/** A pid file naming this test's own process: alive, but not a dockerd, so never restarted. */
const notOurEngine = join(mkdtempSync(join(tmpdir(), 'imslab-pid-')), 'dockerd.pid');
writeFileSync(notOurEngine, `${process.pid}\n`);

function fakeEngine(opts: { removeFailures: number; running?: string[] }) {
  const calls: string[] = [];
  let failures = opts.removeFailures;
  let endpoints: Record<string, { Name: string }> = { 'ep-5f2a': { Name: 'imslab-conference' } };
  const network = {
    inspect: async () => ({ Name: 'imslab-access-a', Containers: endpoints }),
    disconnect: async ({ Container }: { Container: string }) => {
      calls.push(`disconnect ${Container}`);
      if (Container.startsWith('ep-')) throw engineError(404, `No such container: ${Container}`);
      endpoints = {};
    },
    remove: async () => {
      calls.push('remove');
      if (failures-- > 0) throw engineError(403, 'error while removing network: network imslab-access-a id 1234 has active endpoints');
    },
  };
  const docker = {
    listContainers: async (q?: { all?: boolean }) => (q?.all ? [] : (opts.running ?? []).map((n) => ({ Id: n, Names: [`/${n}`] }))),
    getContainer: () => { throw new Error('no containers here'); },
    listNetworks: async () => [{ Id: '1234', Name: 'imslab-access-a' }],
    getNetwork: () => network,
    listVolumes: async () => ({ Volumes: [] }),
    getVolume: () => { throw new Error('no volumes here'); },
  };
  return { docker: docker as unknown as Docker, calls };
}

describe('removeByLabel: networks with stale endpoints', () => {
  it('disconnects a stale endpoint by its name and retries "active endpoints" until the network goes', async () => {
    const { docker, calls } = fakeEngine({ removeFailures: 1 });
    const removed = await removeByLabel(docker, undefined, undefined, notOurEngine);
    expect(removed.networks).toEqual(['imslab-access-a']);
    expect(calls).toEqual(['disconnect ep-5f2a', 'disconnect imslab-conference', 'remove', 'remove']);
  });

  it('gives up after a few attempts with an error naming the network, its endpoints and the way out; an engine not ours is never restarted', async () => {
    const { docker, calls } = fakeEngine({ removeFailures: 99 });
    const err = await removeByLabel(docker, undefined, undefined, notOurEngine).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/docker network imslab-access-a could not be removed: .*active endpoints.*not restarted because the engine was not started by scripts\/docker-engine\.sh.*pkill dockerd; \.\/scripts\/docker-engine\.sh/);
    expect(calls.filter((c) => c === 'remove')).toHaveLength(5);
  }, 10_000);

  it('restarts an engine only when the pid file names a live dockerd and no container runs on it', async () => {
    expect(await whyNotRestartable(fakeEngine({ removeFailures: 0 }).docker, join(tmpdir(), 'imslab-no-such.pid'))).toMatch(/not started by scripts\/docker-engine\.sh/);
    expect(await whyNotRestartable(fakeEngine({ removeFailures: 0 }).docker, notOurEngine)).toMatch(/no live dockerd named in/);
  });

  it('takes a dockerd that exited but was not reaped (a zombie) for no engine', async () => {
    // A process named dockerd (a copy of sleep) whose parent never reaps it: `exec sleep` replaces the shell.
    const dir = mkdtempSync(join(tmpdir(), 'imslab-zombie-'));
    copyFileSync('/bin/sleep', join(dir, 'dockerd'));
    const parent = spawn('bash', ['-c', `"${dir}/dockerd" 60 & echo $!; exec sleep 30`], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((r) => parent.stdout!.once('data', (d: Buffer) => r(d.toString().trim()))));
      // Kill only once bash has become sleep (a bash still running would reap its child itself: the race CI hit)
      // and the child has become dockerd ($! is printed right after the fork, before the child's exec).
      const comm = (p: number) => readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      for (let i = 0; i < 250 && (comm(parent.pid!) !== 'sleep' || comm(pid) !== 'dockerd'); i++) await new Promise((r) => setTimeout(r, 20));
      expect([comm(parent.pid!), comm(pid)]).toEqual(['sleep', 'dockerd']);
      const pidfile = join(dir, 'dockerd.pid');
      writeFileSync(pidfile, `${pid}\n`);
      expect(await whyNotRestartable(fakeEngine({ removeFailures: 0 }).docker, pidfile)).toBeNull();
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100 && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); i++) await new Promise((r) => setTimeout(r, 20));
      expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('dockerd');
      expect(await whyNotRestartable(fakeEngine({ removeFailures: 0 }).docker, pidfile)).toMatch(/no live dockerd named in/);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
