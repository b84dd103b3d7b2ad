#!/usr/bin/env node
/**
 * Renders the configuration that docker-compose.yml mounts, without starting
 * anything:
 *
 *   npx tsx packages/runner/src/targets/docker-render.ts [--subscribers FILE]
 *
 * writes `.imslab/compose/<element>/config/` (kamailio.cfg, tls.cfg, ue.json,
 * argv, pki/) and creates `.imslab/compose/<element>/run/` for every element
 * of the network planned from config/subscribers.yaml for the docker target.
 * `imslab up --target docker` does the same as part of bringing the network up.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO_ROOT, ensureKmsSecrets, ensurePki, loadSubscribers, planNetwork, uesOf } from '@imslab/topology';
import { PKI_DIR } from './local.ts';
import { pkiEntitiesBothTargets, renderComposeConfigs } from './docker-layout.ts';

export function renderForCompose(subscribersFile: string, root = REPO_ROOT): string {
  const plan = planNetwork(loadSubscribers(subscribersFile), 'docker');
  const pki = ensurePki(PKI_DIR, pkiEntitiesBothTargets(plan));
  const secrets = ensureKmsSecrets(PKI_DIR, uesOf(plan).map((u) => u.name));
  return renderComposeConfigs(plan, root, pki, {}, secrets);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    const { values } = parseArgs({ options: { subscribers: { type: 'string' } } });
    const dir = renderForCompose(values.subscribers ?? resolve(REPO_ROOT, 'config', 'subscribers.yaml'));
    console.log(`rendered ${dir}: now 'docker compose up -d' (or 'docker-compose up -d') in ${REPO_ROOT}`);
  } catch (e) {
    console.error(`docker-render: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
