import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { REPO_ROOT } from '@imslab/topology';

/**
 * The last way out of a leaked network endpoint. Engine 20.10 can lose count
 * of a network's endpoints when a container is removed on a busy 2-core
 * machine (seen after `docker pause` and after a forced disconnect): the
 * network then has no container in `inspect`, refuses every removal with
 * "has active endpoints", and a forced disconnect by any name finds nothing
 * (moby issues 17217, 19261, 42119). Only an engine restart clears it, and
 * every later docker run would fail on that network until then.
 *
 * imslab restarts the engine itself only when it is the project's own: one
 * scripts/docker-engine.sh started (its pid in OWN_ENGINE_PIDFILE is the
 * running dockerd) and that runs no container at all. Any other engine is
 * left alone and the error says what to do.
 */
export const OWN_ENGINE_PIDFILE = '/run/imslab-dockerd.pid';
const ENGINE_SCRIPT = join(REPO_ROOT, 'scripts', 'docker-engine.sh');
const STOP_TIMEOUT_MS = 30_000;

/** Why the engine may not be restarted, or null when it may. */
export async function whyNotRestartable(docker: Docker, pidfile = OWN_ENGINE_PIDFILE): Promise<string | null> {
  const pid = ownEnginePid(pidfile);
  if (pid === null) return `the engine was not started by scripts/docker-engine.sh (no live dockerd named in ${pidfile})`;
  const running = await docker.listContainers();
  if (running.length > 0) return `${running.length} container(s) still run on it (${running.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, '')).slice(0, 3).join(', ')})`;
  return null;
}

function ownEnginePid(pidfile: string): number | null {
  try {
    const pid = Number(readFileSync(pidfile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return null;
    // A zombie dockerd (exited, unreaped) is no engine: restarting it would signal nothing and wait for nothing.
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'dockerd' && alive(pid) ? pid : null;
  } catch {
    return null;
  }
}

/** A zombie (exited, not yet reaped by a PID 1 that does not reap) counts as gone. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Stops the project's dockerd (SIGTERM, waiting for it to exit) and starts it
 * again with scripts/docker-engine.sh. Then pings it through `docker`: Node's
 * HTTP agent keeps sockets alive, and the first request after the restart can
 * take the old daemon's socket from the pool and fail with EPIPE; that
 * request is spent here, not by the caller's next one.
 */
export async function restartOwnEngine(docker: Docker, pidfile = OWN_ENGINE_PIDFILE): Promise<void> {
  const pid = ownEnginePid(pidfile);
  if (pid === null) throw new Error(`no live dockerd named in ${pidfile}`);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`dockerd (pid ${pid}) did not exit within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const r = spawnSync('bash', [ENGINE_SCRIPT], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`scripts/docker-engine.sh failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  for (let i = 1; ; i++) {
    try {
      await docker.ping();
      return;
    } catch (e) {
      if (i >= 3) throw new Error(`the restarted engine does not answer: ${(e as Error).message}`);
    }
  }
}
