import type { TargetName } from '@imslab/topology';
import { LocalTarget } from './local.ts';
import type { Target } from './target.ts';

/** Targets register here by name; an unknown name lists the known ones. */
const REGISTRY: Record<TargetName, () => Promise<Target>> = {
  local: async () => new LocalTarget(),
  docker: async () => new (await import('./docker.ts')).DockerTarget(),
};

export async function makeTarget(name: TargetName): Promise<Target> {
  const make = REGISTRY[name];
  if (!make) throw new Error(`unknown target "${name}"; targets: ${Object.keys(REGISTRY).join(', ')}`);
  return make();
}
