import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { TopologyError } from './errors.ts';

export type AccessNetwork = 'access-a' | 'access-b';
export type E2aePolicy = 'allow' | 'forbid';

export interface Device {
  /** Element name of the UE, unique in the network (e.g. `bob-1`). */
  name: string;
  /** Host part of its address on the subscriber's access network. */
  host: number;
  autoAnswer: boolean;
}

/** Call forwarding at the S-CSCF (TR 33.828 4.1.1 forwarding, 4.1.2 deferred delivery). */
export interface Forwarding {
  /** Target URI for every call. */
  unconditional?: string;
  /** Target URI when no device answers within `seconds`. */
  noAnswer?: { to: string; seconds: number };
  /** Target URI when the user is busy (486/600). */
  busy?: string;
}

export interface Subscriber {
  user: string;
  displayName: string;
  password: string;
  network: AccessNetwork;
  devices: Device[];
  forwarding: Forwarding;
}

export interface SubscriberFile {
  domain: string;
  subscribers: Subscriber[];
  policy: Record<'pcscf-a' | 'pcscf-b', { e2ae: E2aePolicy }>;
}

const ACCESS: readonly string[] = ['access-a', 'access-b'];
const NAME = /^[a-z][a-z0-9-]{0,30}$/;

function fail(where: string, message: string): never {
  throw new TopologyError(message, where);
}

function str(v: unknown, where: string, pattern?: RegExp): string {
  if (typeof v !== 'string' || v.length === 0) fail(where, 'expected a non-empty string');
  if (pattern && !pattern.test(v)) fail(where, `"${v}" does not match ${pattern}`);
  return v;
}

const SIP_URI = /^sips?:[^\s"<>]+$/;

/** Validates forwarding rules; every target must be a SIP URI. */
export function validateForwarding(raw: unknown, where: string): Forwarding {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object') fail(where, 'expected a mapping with unconditional, noAnswer, busy');
  const r = raw as Record<string, unknown>;
  const out: Forwarding = {};
  for (const k of Object.keys(r)) if (!['unconditional', 'noAnswer', 'busy'].includes(k)) fail(`${where}.${k}`, 'unknown rule; use unconditional, noAnswer or busy');
  if (r.unconditional !== undefined) out.unconditional = str(r.unconditional, `${where}.unconditional`, SIP_URI);
  if (r.busy !== undefined) out.busy = str(r.busy, `${where}.busy`, SIP_URI);
  if (r.noAnswer !== undefined) {
    const n = (r.noAnswer ?? {}) as Record<string, unknown>;
    const seconds = n.seconds;
    if (typeof seconds !== 'number' || seconds < 1 || seconds > 120) fail(`${where}.noAnswer.seconds`, 'expected a number of seconds 1..120');
    out.noAnswer = { to: str(n.to, `${where}.noAnswer.to`, SIP_URI), seconds };
  }
  return out;
}

/** Validates a parsed subscriber file; every error names the field and what is expected. */
export function validateSubscribers(raw: unknown, source = 'subscribers'): SubscriberFile {
  if (typeof raw !== 'object' || raw === null) fail(source, 'expected a mapping with domain, subscribers, policy');
  const r = raw as Record<string, unknown>;
  const domain = str(r.domain, `${source}.domain`, /^[a-z0-9.-]+$/);
  if (!Array.isArray(r.subscribers) || r.subscribers.length === 0) fail(`${source}.subscribers`, 'expected a non-empty list');
  const seenDevices = new Set<string>();
  const seenHosts = new Set<string>();
  const subscribers = r.subscribers.map((s: unknown, i: number): Subscriber => {
    const at = `${source}.subscribers[${i}]`;
    if (typeof s !== 'object' || s === null) fail(at, 'expected a mapping');
    const o = s as Record<string, unknown>;
    const user = str(o.user, `${at}.user`, NAME);
    const network = str(o.network, `${at}.network`);
    if (!ACCESS.includes(network)) fail(`${at}.network`, `"${network}" is not an access network; use one of ${ACCESS.join(', ')}`);
    if (!Array.isArray(o.devices) || o.devices.length === 0) fail(`${at}.devices`, 'expected at least one device');
    const devices = o.devices.map((d: unknown, j: number): Device => {
      const dat = `${at}.devices[${j}]`;
      const dv = (d ?? {}) as Record<string, unknown>;
      const name = str(dv.name, `${dat}.name`, NAME);
      const host = dv.host;
      if (typeof host !== 'number' || !Number.isInteger(host) || host < 50 || host > 250) fail(`${dat}.host`, 'expected an integer 50..250 (lower hosts are the network elements)');
      if (seenDevices.has(name)) fail(`${dat}.name`, `device name "${name}" is used twice`);
      if (seenHosts.has(`${network}/${host}`)) fail(`${dat}.host`, `host ${host} on ${network} is used twice`);
      seenDevices.add(name);
      seenHosts.add(`${network}/${host}`);
      return { name, host, autoAnswer: dv.autoAnswer === undefined ? true : dv.autoAnswer === true };
    });
    return {
      user,
      forwarding: validateForwarding(o.forwarding, `${at}.forwarding`),
      displayName: typeof o.displayName === 'string' ? o.displayName : user,
      password: str(o.password, `${at}.password`),
      network: network as AccessNetwork,
      devices,
    };
  });
  const p = (r.policy ?? {}) as Record<string, { e2ae?: unknown } | undefined>;
  const policyOf = (name: 'pcscf-a' | 'pcscf-b') => {
    const e2ae = p[name]?.e2ae ?? 'allow';
    if (e2ae !== 'allow' && e2ae !== 'forbid') fail(`${source}.policy.${name}.e2ae`, `"${String(e2ae)}" is not allow or forbid`);
    return { e2ae: e2ae as E2aePolicy };
  };
  return { domain, subscribers, policy: { 'pcscf-a': policyOf('pcscf-a'), 'pcscf-b': policyOf('pcscf-b') } };
}

export function loadSubscribers(path: string): SubscriberFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TopologyError(`cannot read (${(e as Error).message}); pass --subscribers <file>`, path);
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new TopologyError(`not valid YAML: ${(e as Error).message}`, path);
  }
  return validateSubscribers(raw, path);
}
