import Docker from 'dockerode';
import { LABEL } from '@imslab/network';
import { OWN_ENGINE_PIDFILE, restartOwnEngine, whyNotRestartable } from './engine-restart.ts';

/**
 * Thin helpers over dockerode for the docker target. Engine 20.10 (API 1.41):
 * the API version is left unpinned (1.43 would be "too new"); 304 and 404
 * answers mean "already done" when stopping or removing.
 */

export const DOCKER_SOCKET = '/var/run/docker.sock';

export function connectDocker(socketPath = process.env.IMSLAB_DOCKER_SOCKET || DOCKER_SOCKET): Docker {
  return new Docker({ socketPath });
}

interface EngineError { statusCode?: number; message?: string; json?: { message?: string } }

export function statusOf(e: unknown): number | undefined {
  return (e as EngineError)?.statusCode;
}

/** The engine's own words for a failed request (dockerode's message repeats the HTTP status). */
export function engineMessage(e: unknown): string {
  const err = e as EngineError;
  return (err?.json?.message ?? err?.message ?? String(e)).replace(/^\(HTTP code \d+\) [a-z ]+ - /, '').trim();
}

/** 304 (not modified: already stopped), 404 (gone), 409 "removal already in progress": done. */
export function isDone(e: unknown): boolean {
  const s = statusOf(e);
  if (s === 304 || s === 404) return true;
  return s === 409 && /already in progress/i.test(engineMessage(e));
}

async function ignoreDone(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!isDone(e)) throw e;
  }
}

/** Rejects after `ms` when the engine does not answer (a hung socket must not hang the runner). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer from the Docker engine in ${ms} ms`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export interface Removed {
  containers: string[];
  networks: string[];
  volumes: string[];
}

/**
 * Removes every container, network and volume carrying `label` (default
 * `imslab=1`), by label and never by name: containers first (stopped with a
 * short grace period, then removed with their anonymous volumes), then the
 * networks (after disconnecting any stray endpoint that would block them),
 * then labelled volumes.
 */
export async function removeByLabel(docker: Docker, label = `${LABEL}=1`, stopSeconds = 2, ownEnginePidfile = OWN_ENGINE_PIDFILE): Promise<Removed> {
  const filters = { label: [label] };
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(containers.map(async (c) => {
    const k = docker.getContainer(c.Id);
    if (c.State === 'running' || c.State === 'restarting' || c.State === 'paused') await ignoreDone(k.stop({ t: stopSeconds }));
    await ignoreDone(k.remove({ force: true, v: true }));
  }));
  const networks = await docker.listNetworks({ filters });
  // One at a time: a network whose endpoint count leaked may restart the engine under the others.
  for (const n of networks) await removeNetwork(docker, n.Id, ownEnginePidfile);
  const { Volumes } = await docker.listVolumes({ filters });
  await Promise.all((Volumes ?? []).map((v) => ignoreDone(docker.getVolume(v.Name).remove({ force: true }))));
  return {
    containers: containers.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, '')),
    networks: networks.map((n) => n.Name),
    volumes: (Volumes ?? []).map((v) => v.Name),
  };
}

/**
 * Removes one network. Any endpoint still on it is force-disconnected first,
 * by container id and, for a stale endpoint whose container is already gone
 * (engine 20.10 can keep one after a forced disconnect races a removal: its
 * key is then `ep-<id>`), by the endpoint's name, which is the documented way
 * to clear one. "has active endpoints" is retried a few times: the engine
 * releases a removed container's endpoints asynchronously. When the count
 * has leaked for good, the project's own engine is restarted (engine-restart.ts).
 */
async function removeNetwork(docker: Docker, id: string, pidfile: string, attempts = 5, restart = true): Promise<void> {
  const net = docker.getNetwork(id);
  for (let i = 1; ; i++) {
    let info: Docker.NetworkInspectInfo;
    try {
      info = (await net.inspect()) as Docker.NetworkInspectInfo;
    } catch (e) {
      if (isDone(e)) return;
      throw e;
    }
    for (const [cid, ep] of Object.entries(info.Containers ?? {})) {
      await net.disconnect({ Container: cid, Force: true }).catch(async () => {
        if (ep.Name) await ignoreDone(net.disconnect({ Container: ep.Name, Force: true })).catch(() => {});
      });
    }
    try {
      await ignoreDone(net.remove());
      return;
    } catch (e) {
      const leaked = /active endpoints/i.test(engineMessage(e));
      if (i >= attempts || !leaked) {
        const what = `docker network ${info.Name} could not be removed: ${engineMessage(e)}; endpoints: ${Object.values(info.Containers ?? {}).map((c) => c.Name).join(', ') || 'none'}`;
        if (leaked && restart) {
          const why = await whyNotRestartable(docker, pidfile);
          if (why === null) {
            // The engine's endpoint count leaked (engine-restart.ts): restart it, then remove.
            process.stderr.write(`docker: ${what}; restarting the project's own engine to clear the leaked endpoint (moby issue 17217)\n`);
            await restartOwnEngine(docker, pidfile);
            return removeNetwork(docker, id, pidfile, attempts, false);
          }
          throw new Error(`${what} (the engine leaked an endpoint; it was not restarted because ${why}: restart it with pkill dockerd; ./scripts/docker-engine.sh)`);
        }
        throw new Error(`${what} (if it persists, restart the engine: pkill dockerd; ./scripts/docker-engine.sh)`);
      }
      await new Promise((r) => setTimeout(r, 200 * i));
    }
  }
}

/** What is left with the label (for checks after down()). */
export async function listByLabel(docker: Docker, label = `${LABEL}=1`): Promise<Removed> {
  const filters = { label: [label] };
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return {
    containers: containers.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, '')),
    networks: networks.map((n) => n.Name),
    volumes: (volumes.Volumes ?? []).map((v) => v.Name),
  };
}

export interface DieEvent {
  element: string;
  exitCode: string;
}

/**
 * Follows the engine's `die` events of containers with `label` so that a
 * container exiting during start-up is noticed at once. Returns a function
 * that stops following.
 */
export async function followDeaths(docker: Docker, label: string, onDie: (e: DieEvent) => void, elementLabel: string): Promise<() => void> {
  const stream = (await docker.getEvents({ filters: { type: ['container'], event: ['die'], label: [label] } })) as NodeJS.ReadableStream & { destroy(): void };
  let buf = '';
  stream.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      try {
        const ev = JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } };
        const attrs = ev.Actor?.Attributes ?? {};
        const element = attrs[elementLabel];
        if (element) onDie({ element, exitCode: attrs.exitCode ?? '?' });
      } catch {
        /* a partial or foreign line: ignore */
      }
    }
  });
  stream.on('error', () => { /* the engine went away; readiness probes time out on their own */ });
  return () => stream.destroy();
}
