import { TopologyError } from './errors.ts';

/** Where the network runs: processes on loopback addresses, or containers on Docker networks. */
export type TargetName = 'local' | 'docker';
export const TARGETS: readonly TargetName[] = ['local', 'docker'];

/** The links of the network; each is captured as one file. */
export const NETWORKS = ['access-a', 'core', 'access-b'] as const;
export type NetworkName = (typeof NETWORKS)[number];
export type AccessNetwork = 'access-a' | 'access-b';
export const ACCESS_NETWORKS: readonly AccessNetwork[] = ['access-a', 'access-b'];

/**
 * How many networks the local target can run side by side (scenarios in
 * parallel), each on loopback addresses of its own: slot k uses 127.k.x.y.
 */
export const LOCAL_SLOTS = 8;

const THIRD_OCTET: Record<NetworkName, number> = { 'access-a': 1, core: 2, 'access-b': 3 };
/** An address on no link: what stays inside an element (the transcoder's two media sessions). */
const INNER_OCTET = 9;

/**
 * The first three octets of each network. Local: 127.0.0.0/8 all routes to
 * `lo` on Linux, so each network of slot k is 127.k.{1,2,3}.0/24. Docker:
 * inside 198.18.0.0/15 (RFC 2544 benchmarking range), outside Docker's
 * automatic address pools, so the project's subnets never collide with a
 * default bridge. The docker target has one slot.
 */
export function networkPrefix(target: TargetName, net: NetworkName, slot = 0): string {
  if (target === 'docker') {
    if (slot !== 0) throw new TopologyError('the docker target runs one network at a time (slot 0)', `slot ${slot}`);
    return `198.18.${THIRD_OCTET[net]}`;
  }
  if (!Number.isInteger(slot) || slot < 0 || slot >= LOCAL_SLOTS) throw new TopologyError(`a local slot is 0..${LOCAL_SLOTS - 1}`, `slot ${slot}`);
  return `127.${slot}.${THIRD_OCTET[net]}`;
}

/** Every address one host number has on one network, over every target and slot (certificates name them all). */
export function everyAddressOf(net: NetworkName, host: number): string[] {
  const out = [`${networkPrefix('docker', net)}.${host}`];
  for (let s = 0; s < LOCAL_SLOTS; s++) out.push(`${networkPrefix('local', net, s)}.${host}`);
  return out;
}

export interface LinkPlan {
  /** Link name, also the capture file name: access-a, core, access-b. */
  name: NetworkName;
  prefix: string;
  subnet: string;
}

/** Addresses of one network instance (a target and a slot). */
export interface Addressing {
  target: TargetName;
  slot: number;
  /** The address of host number `host` on a network. */
  at(net: NetworkName, host: number): string;
  /**
   * An address on no link, inside the element (loopback on both targets: on
   * Docker the container's own, locally one no capture filter matches).
   */
  inner(host: number): string;
  links: LinkPlan[];
}

export function addressing(target: TargetName, slot = 0): Addressing {
  if (!TARGETS.includes(target)) throw new TopologyError(`unknown target; use one of ${TARGETS.join(', ')}`, String(target));
  const prefix = (net: NetworkName) => networkPrefix(target, net, slot);
  return {
    target,
    slot,
    at: (net, host) => `${prefix(net)}.${host}`,
    inner: (host) => (target === 'docker' ? '127.0.0.1' : `127.${slot}.${INNER_OCTET}.${host}`),
    links: NETWORKS.map((name) => ({ name, prefix: prefix(name), subnet: `${prefix(name)}.0/24` })),
  };
}

/** Well-known ports, the same for every element that has them. */
export const SIP_PORT = 5060;
export const SIP_TLS_PORT = 5061;
/** Every element of ours answers its HTTP/JSON control API here (GET /health). */
export const CONTROL_PORT = 8000;
/** rtpengine's ng control protocol. */
export const NG_PORT = 2223;
/** Host number of the KMS on every network (its clients reach it on their own network: Docker networks do not route). */
export const KMS_HOST = 40;
/** The KMS's HTTPS listener for the MIKEY exchanges (TS 33.328 carries them over HTTP). */
export const KMS_HTTPS_PORT = 8443;
/** Media ports of the application servers (each has an address of its own, so one range serves all). */
export const APP_SERVER_MEDIA_PORTS = { rtpPortMin: 36000, rtpPortMax: 36998 } as const;
