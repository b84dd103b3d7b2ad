/**
 * Makes (or checks) the testbed PKI: the CA, a certificate per TLS-speaking
 * element (P-CSCFs, UEs, KMS) naming its addresses on every target, and the
 * device secrets shared with the KMS. Everything goes to .imslab/pki/ (never
 * committed); the runner does the same on demand.
 *
 *   npx tsx scripts/pki.ts [--subscribers FILE]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ON_DEMAND_KINDS, pkiEntities, planNetwork, deviceNames } from '@imslab/network';
import { ensureKmsSecrets, ensurePki, loadSubscribers, REPO_ROOT } from '@imslab/topology';

const { values } = parseArgs({ options: { subscribers: { type: 'string' } } });
const plan = planNetwork(loadSubscribers(values.subscribers ?? join(REPO_ROOT, 'config', 'subscribers.yaml'), REPO_ROOT), 'local', { servers: [...ON_DEMAND_KINDS] });
const dir = join(REPO_ROOT, '.imslab', 'pki');
const entities = pkiEntities(plan);
const pki = ensurePki(dir, entities);
ensureKmsSecrets(dir, deviceNames(plan));
console.log(`CA: ${pki.caFile}`);
for (const e of entities) console.log(`${e.name.padEnd(8)} ${pki.certFile(e.name)}  (${e.ips.join(', ')})`);
console.log(`KMS device secrets: ${join(dir, 'kms-secrets.json')}`);
