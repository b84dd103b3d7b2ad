export { pkiEntitiesBothTargets } from '@imslab/topology';
import { pkiEntitiesBothTargets } from '@imslab/topology';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  NETWORKS, NETWORK_PREFIX, needsCertificate, renderElement,
  type ElementKind, type ElementPaths, type ElementPlan, type KmsSecrets, type NetworkName, type NetworkPlan, type PkiFiles,
} from '@imslab/topology';

/**
 * The docker target's fixed layout, shared by the runner (dockerode) and the
 * compose file for users (docker-compose.yml, checked against this by
 * test/docker-compose.test.ts): image per element kind, network and bridge
 * names, labels, and where an element finds its files inside its container.
 * Pure: no Docker engine needed.
 */

/** Every container, network and volume of imslab carries this label; removal goes by it. */
export const LABEL = 'imslab';
export const LABEL_RUN = 'imslab.run';
export const LABEL_ELEMENT = 'imslab.element';
export const LABEL_KIND = 'imslab.kind';

/** The kinds every network has; servers (kms) come only when a scenario asks for them. */
export const BASE_KINDS: readonly ElementKind[] = ['ims-agw', 'scscf', 'pcscf', 'ue'];

/** Image tag built by scripts/build-images.sh (IMSLAB_IMAGE_TAG to use another). */
export function imageTag(): string {
  return process.env.IMSLAB_IMAGE_TAG || 'dev';
}

export function imageFor(kind: ElementKind): string {
  return `imslab/${IMAGE_OF[kind]}:${imageTag()}`;
}

/** The image each element kind runs: every Kamailio element shares one (services/kamailio/Dockerfile). */
const IMAGE_OF: Record<ElementKind, string> = {
  pcscf: 'kamailio', scscf: 'kamailio', transcoder: 'kamailio', 'ims-agw': 'ims-agw', ue: 'ue', kms: 'kms', voicemail: 'voicemail', conference: 'conference',
};

/**
 * One Docker network per link, with its own Linux bridge (name at most 15
 * characters) so that a capture on the host sees exactly that link.
 */
export const DOCKER_NETWORKS: Record<NetworkName, { name: string; bridge: string }> = {
  'access-a': { name: 'imslab-access-a', bridge: 'ims-access-a' },
  core: { name: 'imslab-core', bridge: 'ims-core' },
  'access-b': { name: 'imslab-access-b', bridge: 'ims-access-b' },
};

/** The host keeps .1 of each subnet (the bridge's address): probes and captures from the host. */
export function gatewayOf(prefix: string): string {
  return `${prefix}.1`;
}

export function containerName(element: string): string {
  return `imslab-${element}`;
}

/** Mount points inside every container. */
export const CONTAINER_CONFIG_DIR = '/etc/imslab';
export const CONTAINER_PKI_DIR = '/etc/imslab/pki';
export const CONTAINER_RUN_DIR = '/var/lib/imslab';

/**
 * Docker volumes an element keeps its data in (outliving the container, as a
 * restart or a re-created container must find it): the voicemail's message
 * store, at the path its rendered config names (storeDir = <run dir>/voicemail-store).
 */
export function volumesOf(e: ElementPlan, runId: string): Array<{ name: string; target: string }> {
  return e.kind === 'voicemail' ? [{ name: `imslab-${e.name}-store-${runId}`, target: `${CONTAINER_RUN_DIR}/voicemail-store` }] : [];
}

/** How elements see their files inside the images (services/node-service.Dockerfile, services/<kind>/Dockerfile). */
export function containerPaths(kmsSecrets?: KmsSecrets): ElementPaths {
  return {
    configDir: CONTAINER_CONFIG_DIR,
    pkiDir: CONTAINER_PKI_DIR,
    runDir: CONTAINER_RUN_DIR,
    // The bundles carry inline source maps (scripts/build-images.sh), as on the local target.
    nodeCommand: ['node', '--enable-source-maps'],
    serviceEntry: (service) => `/opt/imslab/${service}.mjs`,
    kmsSecrets,
  };
}

/** The networks an element is on, in attachment order, with its address on each. */
export function endpointsOf(e: ElementPlan): Array<{ link: NetworkName; network: string; address: string }> {
  return NETWORKS.filter((n) => e.addresses[n] !== undefined)
    // Two-network elements: the access side first (eth0), the core second.
    .sort((a, b) => (a === 'core' ? 1 : 0) - (b === 'core' ? 1 : 0))
    .map((link) => ({ link, network: DOCKER_NETWORKS[link].name, address: e.addresses[link]! }));
}


/**
 * Where collect() puts the files an element left in its run directory, as the
 * local target lays them out: a UE's (key logs: `<name>.srtp-keys.jsonl`,
 * `<name>.tls-keys.log`) in `<dir>/keys/`, every other element's (e.g. the
 * KMS audit log) in `<dir>/logs/`.
 */
export function collectedInto(kind: ElementKind): 'keys' | 'logs' {
  return kind === 'ue' ? 'keys' : 'logs';
}

export interface RenderedDockerElement {
  /** argv the container runs (the image's entrypoint execs it). */
  command: string[];
}

/**
 * Writes one element's configuration into `configDir` on the host, as the
 * container sees it at /etc/imslab: the rendered files, `argv` (the start
 * command, one argument per line, for docker compose), and `pki/` holding
 * only the CA certificate and the element's own certificate and key (never
 * the CA key).
 */
export function writeElementConfig(
  e: ElementPlan, configDir: string, pki: PkiFiles, ueExtra: Record<string, Record<string, unknown>> = {}, kmsSecrets?: KmsSecrets,
): RenderedDockerElement {
  const r = renderElement(e, containerPaths(kmsSecrets), ueExtra);
  for (const arg of r.command) {
    if (/[\n\r]/.test(arg)) throw new Error(`${e.name}: a start argument holds a line break, which argv files cannot carry`);
  }
  const files: Record<string, string> = { ...r.files, argv: r.command.join('\n') + '\n' };
  const pkiFiles: Record<string, string> = { 'ca.pem': pki.caFile };
  if (existsSync(pki.certFile(e.name)) && existsSync(pki.keyFile(e.name))) {
    pkiFiles[`${e.name}.pem`] = pki.certFile(e.name);
    pkiFiles[`${e.name}.key`] = pki.keyFile(e.name);
  }
  // Files are replaced in place, never the directories: a running container
  // keeps its bind mount of this directory.
  mkdirSync(join(configDir, 'pki'), { recursive: true });
  removeOthers(configDir, new Set([...Object.keys(files), 'pki']));
  removeOthers(join(configDir, 'pki'), new Set(Object.keys(pkiFiles)));
  for (const [file, content] of Object.entries(files)) writeFileSync(join(configDir, file), content);
  for (const [file, from] of Object.entries(pkiFiles)) copyFileSync(from, join(configDir, 'pki', file));
  return { command: r.command };
}

function removeOthers(dir: string, keep: Set<string>): void {
  for (const f of readdirSync(dir)) if (!keep.has(f)) rmSync(join(dir, f), { recursive: true, force: true });
}

/** Where docker-compose.yml takes each element's files from (relative to the repository root). */
export const COMPOSE_DIR = join('.imslab', 'compose');

export function composeConfigDir(root: string, element: string): string {
  return join(root, COMPOSE_DIR, element, 'config');
}

export function composeRunDir(root: string, element: string): string {
  return join(root, COMPOSE_DIR, element, 'run');
}

/**
 * Renders every element's configuration where docker-compose.yml mounts it
 * (`.imslab/compose/<element>/config`, read-only, and `.../run` for key logs),
 * replacing what an earlier render left. Returns the directory.
 */
export function renderComposeConfigs(
  plan: NetworkPlan, root: string, pki: PkiFiles, ueExtra: Record<string, Record<string, unknown>> = {}, kmsSecrets?: KmsSecrets,
): string {
  if (plan.target !== 'docker') throw new Error(`compose configs need a plan for the docker target, not ${plan.target}`);
  const dir = join(root, COMPOSE_DIR);
  mkdirSync(dir, { recursive: true });
  const names = new Set(plan.elements.map((e) => e.name));
  // An element that left the plan must not keep a stale configuration around.
  for (const old of readdirSync(dir)) if (!names.has(old)) rmSync(join(dir, old), { recursive: true, force: true });
  for (const e of plan.elements) {
    writeElementConfig(e, composeConfigDir(root, e.name), pki, ueExtra, kmsSecrets);
    mkdirSync(composeRunDir(root, e.name), { recursive: true });
  }
  return dir;
}

/**
 * Docker's multiplexed log stream (no TTY): frames of an 8-byte header
 * (stream, 0, 0, 0, big-endian length) and a payload. Returns the payloads in
 * order; anything that is not such a stream is returned unchanged.
 */
export function demuxLogs(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + 8 > buf.length) return buf;
    const stream = buf[off]!;
    if (stream > 2 || buf[off + 1] !== 0 || buf[off + 2] !== 0 || buf[off + 3] !== 0) return buf;
    const len = buf.readUInt32BE(off + 4);
    if (off + 8 + len > buf.length) return buf;
    parts.push(buf.subarray(off + 8, off + 8 + len));
    off += 8 + len;
  }
  return Buffer.concat(parts);
}
