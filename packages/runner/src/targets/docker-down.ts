import { COMPOSE_RUN, LABEL, LABEL_RUN } from '@imslab/network';
import { clearState, readStates } from '../state.ts';
import { connectDocker, listByLabel, removeByLabel } from './docker-engine.ts';

/**
 * `imslab down --target docker`: removes every container, network and
 * volume of imslab's docker runs; a network `docker compose` started is
 * named, and left to `docker compose down`.
 */
export async function downDocker(): Promise<string> {
  const docker = connectDocker();
  const all = await listByLabel(docker, `${LABEL}=1`);
  const nets = await docker.listNetworks({ filters: { label: [`${LABEL}=1`] } });
  const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL}=1`] } });
  const runs = new Set([...nets.map((n) => n.Labels?.[LABEL_RUN]), ...containers.map((c) => c.Labels[LABEL_RUN])].filter((r): r is string => !!r && r !== COMPOSE_RUN));
  const removed: string[] = [];
  for (const run of runs) {
    const r = await removeByLabel(docker, `${LABEL_RUN}=${run}`, 2);
    removed.push(...r.containers, ...r.networks, ...r.volumes);
  }
  for (const s of readStates()) if (s.state.target === 'docker') clearState(s.id);
  const compose = all.containers.length + all.networks.length - removed.length > 0 && nets.some((n) => n.Labels?.[LABEL_RUN] === COMPOSE_RUN);
  return [
    removed.length ? `removed ${removed.join(', ')}` : 'no docker run was left behind',
    ...(compose ? ['a network started by docker compose is up: docker compose --profile all down -v'] : []),
  ].join('\n');
}
