import type { ImageSpec, NetworkName, PlannedElement } from '@imslab/topology';
import { NETWORKS } from '@imslab/topology';
import { kindOf, KINDS } from './registry.ts';

/**
 * The docker target's fixed layout, shared by the runner (dockerode) and the
 * compose file generated for users: images, network and bridge names,
 * labels, and where an element finds its files inside its container. Pure:
 * no Docker engine needed.
 */

/** Every container, network and volume of imslab carries this label; removal goes by it. */
export const LABEL = 'imslab';
export const LABEL_RUN = 'imslab.run';
export const LABEL_ELEMENT = 'imslab.element';
export const LABEL_KIND = 'imslab.kind';
/** The run label of everything `docker compose up` starts. */
export const COMPOSE_RUN = 'compose';

/** Image tag built by `imslab compose` / scripts/build-images.sh (IMSLAB_IMAGE_TAG to use another). */
export function imageTag(): string {
  return process.env.IMSLAB_IMAGE_TAG || 'dev';
}

export function imageOf(kind: string): string {
  return `imslab/${kindOf(kind).image.name}:${imageTag()}`;
}

/** Every image the registry's kinds run, once each (several Kamailio kinds share one). */
export function allImages(): ImageSpec[] {
  const out = new Map<string, ImageSpec>();
  for (const k of KINDS) out.set(k.image.name, k.image);
  return [...out.values()];
}

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

/** A Docker volume of an element (its store), named by run so runs never share one. */
export function volumeName(element: string, volume: string, run: string): string {
  return run === COMPOSE_RUN ? `imslab-${element}-${volume}` : `imslab-${element}-${volume}-${run}`;
}

/** Mount points inside every container. */
export const CONTAINER_CONFIG_DIR = '/etc/imslab';
export const CONTAINER_PKI_DIR = '/etc/imslab/pki';
export const CONTAINER_RUN_DIR = '/var/lib/imslab';

/** How elements see their files inside the images (services/node-service.Dockerfile, each kind's Dockerfile). */
export const CONTAINER_PATHS = {
  configDir: CONTAINER_CONFIG_DIR,
  pkiDir: CONTAINER_PKI_DIR,
  runDir: CONTAINER_RUN_DIR,
  // The bundles carry inline source maps, as on the local target.
  nodeCommand: ['node', '--enable-source-maps'],
  serviceEntry: (service: string) => `/opt/imslab/${service}.mjs`,
};

/** The networks an element is on, in attachment order, with its address on each. */
export function endpointsOf(e: PlannedElement): Array<{ link: NetworkName; network: string; address: string }> {
  return NETWORKS.filter((n) => e.addresses[n] !== undefined)
    // Two-network elements: the access side first (eth0), the core second.
    .sort((a, b) => (a === 'core' ? 1 : 0) - (b === 'core' ? 1 : 0))
    .map((link) => ({ link, network: DOCKER_NETWORKS[link].name, address: e.addresses[link]! }));
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
