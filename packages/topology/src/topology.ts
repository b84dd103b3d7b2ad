import type { AccessNetwork, Device, E2aePolicy, Forwarding, Subscriber, SubscriberFile } from './subscribers.ts';
import { TopologyError } from './errors.ts';

/** Where the network runs: processes on loopback addresses, or containers on Docker networks. */
export type TargetName = 'local' | 'docker';
export const TARGETS: readonly TargetName[] = ['local', 'docker'];

export const NETWORKS = ['access-a', 'core', 'access-b'] as const;
export type NetworkName = (typeof NETWORKS)[number];

/**
 * The first three octets of each network per target. Local: 127.0.0.0/8 all
 * routes to `lo` on Linux, so each network is a /24 of it. Docker: inside
 * 198.18.0.0/15 (RFC 2544 benchmarking range), outside Docker's automatic
 * address pools, so the project's subnets never collide with a default bridge.
 */
export const NETWORK_PREFIX: Record<TargetName, Record<NetworkName, string>> = {
  local: { 'access-a': '127.0.1', core: '127.0.2', 'access-b': '127.0.3' },
  docker: { 'access-a': '198.18.1', core: '198.18.2', 'access-b': '198.18.3' },
};

export const SIP_PORT = 5060;
export const SIP_TLS_PORT = 5061;
export const CONTROL_PORT = 8000;
/** Kamailio's HTTP JSON-RPC listener (xhttp + jsonrpcs), used for status and policy. */
export const KAMAILIO_RPC_PORT = 8080;
export const NG_PORT = 2223;
/** The KMS's HTTPS listener for the MIKEY-TICKET exchanges (TS 33.328 carries them over HTTP). */
export const KMS_HTTPS_PORT = 8443;
export const UE_MEDIA_PORTS = { portMin: 40000, portMax: 40098 } as const;

interface Base {
  name: string;
  /** The element this one is part of, for reports (the transcoder's media engine is part of the transcoder). */
  partOf?: string;
  /** Address per attached network; the runner captures each network as one link. */
  addresses: Partial<Record<NetworkName, string>>;
}

export interface UePlan extends Base {
  kind: 'ue';
  address: string;
  subscriber: Subscriber;
  device: Device;
  domain: string;
  pcscf: string;
  pcscfAddress: string;
  /** Where this UE reaches the KMS (its address on the UE's access network). */
  kmsAddress: string;
  /** The KMS's core address, which names it in MIKEY (IDRkms). */
  kmsIdentityAddress: string;
}

export interface PcscfPlan extends Base {
  kind: 'pcscf';
  access: AccessNetwork;
  accessAddress: string;
  coreAddress: string;
  agw: string;
  agwNgAddress: string;
  scscfAddress: string;
  domain: string;
  e2ae: E2aePolicy;
  /**
   * How the IMS-AGW relays media it does not terminate: `passthrough` leaves
   * the SDP's crypto lines as they are; `default` is rtpengine's own
   * behaviour, which adds a dozen SDES keys of its own to the offer (unused
   * when the answerer picks the caller's suite).
   */
  relay: 'passthrough' | 'default';
  /** A fault this P-CSCF injects, for negative scenarios: it behaves as a compromised hop. */
  attack: PcscfAttack | null;
}

/** `tamper-key-mgmt`: alters one character of every MIKEY message (a=key-mgmt) in the offers it forwards. */
export type PcscfAttack = 'tamper-key-mgmt';

export interface ScscfPlan extends Base {
  kind: 'scscf';
  address: string;
  domain: string;
  subscribers: Subscriber[];
  /** Users whose incoming calls pass through the transcoder, and its address. */
  transcode: string[];
  transcoderAddress: string | null;
  /** Application servers by Request-URI user part (voicemail, conferences) -> address. */
  appServers: Record<string, string>;
}

export interface AgwPlan extends Base {
  kind: 'ims-agw';
  /** The first interface's address: on the access network, or (transcoder media) an inner address no link carries. */
  accessAddress: string;
  /** rtpengine's name for that interface: `access`, or `inner` for the transcoder's media engine. */
  accessName: 'access' | 'inner';
  coreAddress: string;
  portMin: number;
  portMax: number;
}

/** The voicemail application server (TR 33.828 4.1.2). */
export interface VoicemailPlan extends Base {
  kind: 'voicemail';
  address: string;
  domain: string;
  mailboxAccess: 'owner' | 'open';
}

/** One conference the bridge hosts: its URI user part, mode and members (user names). */
export interface ConferenceSpec {
  user: string;
  /** e2e: one group key from the KMS, the bridge forwards SRTP untouched; e2m2e: per-leg SDES keys, the bridge mixes. */
  mode: 'e2e' | 'e2m2e';
  members: string[];
}

/** The conference bridge (TR 33.828 4.1.3). */
export interface ConferencePlan extends Base {
  kind: 'conference';
  address: string;
  domain: string;
  conferences: ConferenceSpec[];
}

export interface KmsPlan extends Base {
  kind: 'kms';
  /** Core address: control API, and the identity (IDRkms) the KMS signs as. */
  address: string;
  /** The KMS also listens on each access network, where the UEs reach it (Docker networks do not route). */
  accessAddresses: string[];
  domain: string;
  subscribers: Subscriber[];
  /** Conferences keyed with a group key (e2e mode): URI and member URIs. */
  groups: Array<{ uri: string; members: string[] }>;
}

/** The transcoder's signalling part (Kamailio); its media engine is an `ims-agw` element. */
export interface TranscoderPlan extends Base {
  kind: 'transcoder';
  address: string;
  media: string;
  mediaNgAddress: string;
}

export type ElementPlan = UePlan | PcscfPlan | ScscfPlan | AgwPlan | KmsPlan | TranscoderPlan | VoicemailPlan | ConferencePlan;
export type ElementKind = ElementPlan['kind'];

export interface LinkPlan {
  /** Link name, also the capture file name: access-a, core, access-b. */
  name: NetworkName;
  prefix: string;
  subnet: string;
}

export interface NetworkPlan {
  target: TargetName;
  domain: string;
  links: LinkPlan[];
  /** In start order: media gateways, then CSCFs and servers, then UEs. */
  elements: ElementPlan[];
}

/** Per-scenario changes to the subscriber file's defaults (policy, per-UE settings). */
export interface PlanOverrides {
  policy?: Partial<Record<'pcscf-a' | 'pcscf-b', { e2ae: E2aePolicy }>>;
  /** Faults injected at a P-CSCF (negative scenarios). */
  attacks?: Partial<Record<'pcscf-a' | 'pcscf-b', PcscfAttack>>;
  /** How each P-CSCF's IMS-AGW relays media it does not terminate (default passthrough). */
  relay?: Partial<Record<'pcscf-a' | 'pcscf-b', 'passthrough' | 'default'>>;
  /** Forwarding rules per user, replacing the subscriber file's. */
  forwarding?: Record<string, Forwarding>;
  /** Application servers to run (a scenario names the ones it needs). */
  servers?: ServerKind[];
  /** Users whose incoming calls the S-CSCF routes through the transcoder. */
  transcode?: string[];
  /** Voicemail settings (needs the voicemail server). */
  voicemail?: { mailboxAccess?: 'owner' | 'open' };
  /** Conferences the bridge hosts (needs the conference server). */
  conferences?: ConferenceSpec[];
}

/** Servers in the core that a scenario may ask for. */
export const SERVER_KINDS = ['kms', 'transcoder', 'voicemail', 'conference'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

const SIDE: Record<AccessNetwork, { pcscf: 'pcscf-a' | 'pcscf-b'; agw: string; pcscfCore: number; agwCore: number; portMin: number }> = {
  'access-a': { pcscf: 'pcscf-a', agw: 'ims-agw-a', pcscfCore: 10, agwCore: 11, portMin: 30000 },
  'access-b': { pcscf: 'pcscf-b', agw: 'ims-agw-b', pcscfCore: 30, agwCore: 31, portMin: 32000 },
};
const SCSCF_HOST = 20;
const KMS_HOST = 40;
const TRANSCODER_HOST = 50;
const TRANSCODER_MEDIA_HOST = 51;
const VOICEMAIL_HOST = 60;
const CONFERENCE_HOST = 70;
/** The voicemail's Request-URI user (forwarding rules name sip:voicemail@<domain>). */
export const VOICEMAIL_USER = 'voicemail';
/** The conference factory's Request-URI user; ad-hoc conferences it creates are conf-adhoc-<n>. */
export const CONFERENCE_FACTORY_USER = 'conference-factory';
/**
 * The transcoder media engine's inner interface: an address on no link, so
 * the plaintext between its two sessions stays inside the element (on Docker,
 * the container's own loopback).
 */
const TRANSCODER_INNER: Record<TargetName, string> = { local: '127.0.9.51', docker: '127.0.0.1' };
const PCSCF_ACCESS_HOST = 10;
const AGW_ACCESS_HOST = 11;

/** Builds the whole network from the subscriber file for one target. */
export function planNetwork(subs: SubscriberFile, target: TargetName, overrides: PlanOverrides = {}): NetworkPlan {
  const prefix = NETWORK_PREFIX[target];
  if (!prefix) throw new TopologyError(`unknown target; use one of ${TARGETS.join(', ')}`, String(target));
  const at = (net: NetworkName, host: number) => `${prefix[net]}.${host}`;
  const scscfAddress = at('core', SCSCF_HOST);
  for (const user of Object.keys(overrides.forwarding ?? {})) {
    if (!subs.subscribers.some((s) => s.user === user)) {
      throw new TopologyError(`forwarding for unknown user; users: ${subs.subscribers.map((s) => s.user).join(', ')}`, user);
    }
  }
  const subscribers = subs.subscribers.map((s) => ({ ...s, forwarding: overrides.forwarding?.[s.user] ?? s.forwarding }));
  const elements: ElementPlan[] = [];
  const sides: AccessNetwork[] = ['access-a', 'access-b'];
  for (const access of sides) {
    const s = SIDE[access];
    elements.push({
      kind: 'ims-agw', name: s.agw,
      addresses: { [access]: at(access, AGW_ACCESS_HOST), core: at('core', s.agwCore) },
      accessAddress: at(access, AGW_ACCESS_HOST), accessName: 'access', coreAddress: at('core', s.agwCore),
      portMin: s.portMin, portMax: s.portMin + 999,
    });
  }
  const withTranscoder = overrides.servers?.includes('transcoder') ?? false;
  for (const user of overrides.transcode ?? []) {
    if (!withTranscoder) throw new TopologyError('transcode needs the transcoder server (network.servers: [transcoder])', user);
    if (!subs.subscribers.some((s) => s.user === user)) throw new TopologyError(`transcode for unknown user; users: ${subs.subscribers.map((s) => s.user).join(', ')}`, user);
  }
  if (withTranscoder) {
    const media = at('core', TRANSCODER_MEDIA_HOST);
    elements.push({
      kind: 'ims-agw', name: 'transcoder-media', partOf: 'transcoder', addresses: { core: media },
      accessAddress: TRANSCODER_INNER[target], accessName: 'inner', coreAddress: media, portMin: 34000, portMax: 34999,
    });
  }
  const appServers: Record<string, string> = {};
  const servers = overrides.servers ?? [];
  if (servers.includes('voicemail')) appServers[VOICEMAIL_USER] = at('core', VOICEMAIL_HOST);
  const conferences = overrides.conferences ?? [];
  if (conferences.length > 0 && !servers.includes('conference')) throw new TopologyError('conferences need the conference server (network.servers: [conference])', conferences[0]!.user);
  for (const c of conferences) {
    if (!/^conf-[a-z0-9-]+$/.test(c.user)) throw new TopologyError('a conference URI user must look like conf-<name> (lower case)', c.user);
    for (const m of c.members) if (!subs.subscribers.some((s) => s.user === m)) throw new TopologyError(`conference member is not a subscriber; users: ${subs.subscribers.map((s) => s.user).join(', ')}`, m);
    appServers[c.user] = at('core', CONFERENCE_HOST);
  }
  if (servers.includes('conference')) appServers[CONFERENCE_FACTORY_USER] = at('core', CONFERENCE_HOST);
  elements.push({
    kind: 'scscf', name: 'scscf', addresses: { core: scscfAddress }, address: scscfAddress, domain: subs.domain, subscribers,
    transcode: overrides.transcode ?? [], transcoderAddress: withTranscoder ? at('core', TRANSCODER_HOST) : null, appServers,
  });
  if (servers.includes('voicemail')) {
    const address = at('core', VOICEMAIL_HOST);
    elements.push({ kind: 'voicemail', name: 'voicemail', addresses: { core: address }, address, domain: subs.domain, mailboxAccess: overrides.voicemail?.mailboxAccess ?? 'owner' });
  }
  if (servers.includes('conference')) {
    const address = at('core', CONFERENCE_HOST);
    elements.push({ kind: 'conference', name: 'conference', addresses: { core: address }, address, domain: subs.domain, conferences });
  }
  if (withTranscoder) {
    const address = at('core', TRANSCODER_HOST);
    elements.push({ kind: 'transcoder', name: 'transcoder', addresses: { core: address }, address, media: 'transcoder-media', mediaNgAddress: at('core', TRANSCODER_MEDIA_HOST) });
  }
  const kmsAddress = at('core', KMS_HOST);
  for (const server of overrides.servers ?? []) {
    if (!SERVER_KINDS.includes(server)) throw new TopologyError(`unknown server; servers: ${SERVER_KINDS.join(', ')}`, String(server));
  }
  if (overrides.servers?.includes('kms')) {
    elements.push({
      kind: 'kms', name: 'kms',
      addresses: { 'access-a': at('access-a', KMS_HOST), core: kmsAddress, 'access-b': at('access-b', KMS_HOST) },
      address: kmsAddress, accessAddresses: [at('access-a', KMS_HOST), at('access-b', KMS_HOST)], domain: subs.domain, subscribers,
      groups: conferences.filter((c) => c.mode === 'e2e').map((c) => ({ uri: `sip:${c.user}@${subs.domain}`, members: c.members.map((m) => `sip:${m}@${subs.domain}`) })),
    });
  }
  for (const access of sides) {
    const s = SIDE[access];
    elements.push({
      kind: 'pcscf', name: s.pcscf, access,
      addresses: { [access]: at(access, PCSCF_ACCESS_HOST), core: at('core', s.pcscfCore) },
      accessAddress: at(access, PCSCF_ACCESS_HOST), coreAddress: at('core', s.pcscfCore),
      agw: s.agw, agwNgAddress: at('core', s.agwCore), scscfAddress, domain: subs.domain,
      e2ae: overrides.policy?.[s.pcscf]?.e2ae ?? subs.policy[s.pcscf].e2ae,
      relay: overrides.relay?.[s.pcscf] ?? 'passthrough',
      attack: overrides.attacks?.[s.pcscf] ?? null,
    });
  }
  for (const sub of subscribers) {
    for (const device of sub.devices) {
      const address = at(sub.network, device.host);
      elements.push({
        kind: 'ue', name: device.name, addresses: { [sub.network]: address }, address,
        subscriber: sub, device, domain: subs.domain,
        pcscf: SIDE[sub.network].pcscf, pcscfAddress: at(sub.network, PCSCF_ACCESS_HOST),
        kmsAddress: at(sub.network, KMS_HOST), kmsIdentityAddress: kmsAddress,
      });
    }
  }
  const links = NETWORKS.map((name) => ({ name, prefix: prefix[name], subnet: `${prefix[name]}.0/24` }));
  return { target, domain: subs.domain, links, elements };
}

/** Looks an element up by name; the error lists the names that exist. */
export function elementByName(plan: NetworkPlan, name: string): ElementPlan {
  const e = plan.elements.find((x) => x.name === name);
  if (!e) throw new TopologyError(`no such element; known: ${plan.elements.map((x) => x.name).join(', ')}`, name);
  return e;
}

export function uesOf(plan: NetworkPlan): UePlan[] {
  return plan.elements.filter((e): e is UePlan => e.kind === 'ue');
}
