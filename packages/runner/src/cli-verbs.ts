import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ON_DEMAND_KINDS, allImages, composeYaml, pkiEntities, planNetwork, renderComposeConfigs, deviceNames } from '@imslab/network';
import { REPO_ROOT, ensureKmsSecrets, ensurePki, issueCertificate, loadSubscribers } from '@imslab/topology';
import { PrerequisiteError, UsageError } from './errors.ts';
import { DEFAULT_SUBSCRIBERS } from './run.ts';
import { SCENARIO_SCHEMA_FILE, scenarioJsonSchema } from './scenario.ts';
import { PKI_DIR } from './targets/local.ts';

export const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');

/** The compose network's plan: every kind, on-demand ones behind their profiles. */
export function composePlan(subscribers = DEFAULT_SUBSCRIBERS) {
  return planNetwork(loadSubscribers(subscribers, REPO_ROOT), 'docker', { servers: [...ON_DEMAND_KINDS] });
}

/** docker-compose.yml as the registry and the subscriber file make it today. */
export function composeFileText(subscribers = DEFAULT_SUBSCRIBERS): string {
  return composeYaml(composePlan(subscribers));
}

/** The images the kinds run, one line each, for scripts/build-images.sh: `name node SERVICE` or `name dockerfile PATH`. */
export function imageLines(): string[] {
  return allImages().map((i) => ('node' in i ? `${i.name} node ${i.node.service}` : `${i.name} dockerfile ${i.dockerfile}`));
}

function script(name: string, args: string[] = []): void {
  const r = spawnSync(join(REPO_ROOT, 'scripts', name), args, { stdio: 'inherit' });
  if (r.status !== 0) throw new PrerequisiteError(`scripts/${name} failed (exit ${r.status ?? r.signal}); see above`);
}

/** `imslab compose`: images (offline), the compose network's configuration, docker-compose.yml. */
export async function composeVerb(values: { subscribers?: string; 'no-build'?: boolean }): Promise<number> {
  if (!values['no-build']) {
    script('docker-engine.sh');
    script('build-images.sh');
  }
  const subscribers = values.subscribers ?? DEFAULT_SUBSCRIBERS;
  const plan = composePlan(subscribers);
  const pki = ensurePki(PKI_DIR, pkiEntities(plan));
  const secrets = ensureKmsSecrets(PKI_DIR, deviceNames(plan));
  const dir = renderComposeConfigs(plan, REPO_ROOT, pki, secrets);
  const text = composeYaml(plan);
  const before = (() => { try { return readFileSync(COMPOSE_FILE, 'utf8'); } catch { return ''; } })();
  if (before !== text) writeFileSync(COMPOSE_FILE, text);
  console.log(`configuration of ${plan.elements.length} elements in ${relative(REPO_ROOT, dir)}/; docker-compose.yml ${before === text ? 'is current' : 'written'}`);
  console.log('now: docker compose up -d   (or docker-compose up -d; servers: --profile kms ... or --profile all)');
  return 0;
}

export function schemaVerb(values: { write?: boolean; check?: boolean }): number {
  const text = JSON.stringify(scenarioJsonSchema(), null, 2) + '\n';
  if (values.write) {
    writeFileSync(SCENARIO_SCHEMA_FILE, text);
    console.log(`wrote ${relative(REPO_ROOT, SCENARIO_SCHEMA_FILE)}`);
    return 0;
  }
  if (values.check) {
    let current = '';
    try { current = readFileSync(SCENARIO_SCHEMA_FILE, 'utf8'); } catch { /* missing: stale */ }
    if (current === text) return 0;
    console.error(`${relative(REPO_ROOT, SCENARIO_SCHEMA_FILE)} is stale: imslab schema --write`);
    return 1;
  }
  process.stdout.write(text);
  return 0;
}

export function certVerb(positionals: string[], values: { ip?: string[]; out?: string }): number {
  const [name, ...rest] = positionals;
  if (!name || rest.length) throw new UsageError('usage: imslab cert NAME --ip ADDRESS [--ip ADDRESS ...] [--out DIR]');
  const out = issueCertificate(PKI_DIR, name, values.ip ?? [], values.out ?? join(REPO_ROOT, '.imslab', 'ua', name));
  console.log(`certificate ${out.cert}\nkey         ${out.key}\nCA          ${out.ca}\n(signed by the testbed CA in ${relative(REPO_ROOT, PKI_DIR)}; testbed keys, not secrets of any real system)`);
  return 0;
}
