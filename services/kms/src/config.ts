/**
 * The KMS's JSON configuration, as rendered by packages/topology
 * (`kmsConfig` in render.ts). Every field is validated; the first bad one is
 * reported by name and the process exits 2. Unknown fields are ignored so
 * the runner can add its own.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { KmsConfigError } from './errors.ts';

/** Call forwarding rules of a user (the S-CSCF applies them; the KMS follows them for 'retargeting' tickets). */
export interface ForwardingRules {
  unconditional?: string;
  noAnswer?: { to: string; seconds: number };
  busy?: string;
}

/** A device and the secret it shares with the KMS (TS 33.328: from GBA; the testbed provisions it). */
export interface DeviceConfig {
  /** Element name, e.g. `bob-1`; its IDRpsk is `<name>@<domain>`. */
  name: string;
  /** 32-octet pre-shared key. */
  secret: Uint8Array;
}

/** A subscriber known to the KMS. */
export interface UserConfig {
  /** Public user identity, e.g. `sip:bob@ims.test`. */
  uri: string;
  user: string;
  forwarding: ForwardingRules;
  devices: DeviceConfig[];
}

/** The validated configuration. */
export interface KmsConfig {
  name: string;
  address: string;
  /** More addresses for the HTTPS listener (the access networks the UEs are on); default none. */
  accessAddresses: string[];
  httpsPort: number;
  controlPort: number;
  domain: string;
  tls: { caFile: string; certFile: string; keyFile: string };
  /** 32-octet master key sealing the tickets (RFC 6043 App. A: the ticket protection key). */
  masterKey: Uint8Array;
  users: UserConfig[];
  /** Conferences keyed with one group key (TR 33.828 4.1.3): the conference URI and its members' URIs. */
  groups: GroupConfig[];
  auditLog: string;
  runDir: string;
}

/** A conference whose members get its group key from this KMS. */
export interface GroupConfig {
  uri: string;
  members: string[];
}

function groups(raw: unknown, users: UserConfig[]): GroupConfig[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new KmsConfigError('groups', 'must be a list of { uri, members }');
  const known = new Set(users.map((u) => u.uri.toLowerCase()));
  return raw.map((g, i) => {
    const at = `groups[${i}]`;
    const o = obj(g, at);
    const uri = str(o, 'uri', `${at}.`, SIP_URI, 'a SIP URI like sip:conf-team@ims.test');
    if (known.has(uri.toLowerCase())) throw new KmsConfigError(`${at}.uri`, `${uri} is a user, not a conference`);
    if (!Array.isArray(o.members) || o.members.length === 0) throw new KmsConfigError(`${at}.members`, 'must be a non-empty list of user URIs');
    const members = o.members.map((m, j) => {
      if (typeof m !== 'string' || !known.has(m.toLowerCase())) throw new KmsConfigError(`${at}.members[${j}]`, `${JSON.stringify(m)} is not a user of this KMS`);
      return m;
    });
    return { uri, members };
  });
}

type Obj = Record<string, unknown>;

const NAME = /^[A-Za-z0-9._-]+$/;
const DOMAIN = /^[A-Za-z0-9.-]+$/;
const SIP_URI = /^sips?:[^\s"<>@;?]+@[A-Za-z0-9.-]+$/;
const HEX32 = /^[0-9a-fA-F]{64}$/;

function obj(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new KmsConfigError(field, v === undefined ? 'is missing (an object)' : 'must be an object');
  return v as Obj;
}

function str(o: Obj, key: string, at: string, pattern?: RegExp, what?: string): string {
  const v = o[key];
  const field = at + key;
  if (typeof v !== 'string' || v.trim() === '') throw new KmsConfigError(field, v === undefined ? 'is missing (a non-empty string)' : `must be a non-empty string, got ${JSON.stringify(v)}`);
  if (pattern && !pattern.test(v)) throw new KmsConfigError(field, `must be ${what ?? `a string matching ${pattern}`}, got ${JSON.stringify(v)}`);
  return v;
}

function port(o: Obj, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) throw new KmsConfigError(key, v === undefined ? 'is missing (a port number 1-65535)' : `must be a port number 1-65535, got ${JSON.stringify(v)}`);
  return v;
}

function hexKey(o: Obj, key: string, at: string): Uint8Array {
  const v = o[key];
  const field = at + key;
  if (v === null) throw new KmsConfigError(field, 'is null: no KMS secrets were provisioned (the topology renders them from kms-secrets.json)');
  if (typeof v !== 'string' || !HEX32.test(v)) throw new KmsConfigError(field, v === undefined ? 'is missing (64 hex digits)' : 'must be 64 hex digits (a 256-bit key)');
  return new Uint8Array(Buffer.from(v, 'hex'));
}

function forwarding(raw: unknown, at: string): ForwardingRules {
  if (raw === undefined || raw === null) return {};
  const r = obj(raw, at);
  const out: ForwardingRules = {};
  for (const k of Object.keys(r)) if (!['unconditional', 'noAnswer', 'busy'].includes(k)) throw new KmsConfigError(`${at}.${k}`, 'unknown forwarding rule; use unconditional, noAnswer or busy');
  if (r.unconditional !== undefined) out.unconditional = str(r, 'unconditional', `${at}.`, SIP_URI, 'a SIP URI like sip:carol@ims.test');
  if (r.busy !== undefined) out.busy = str(r, 'busy', `${at}.`, SIP_URI, 'a SIP URI like sip:carol@ims.test');
  if (r.noAnswer !== undefined) {
    const n = obj(r.noAnswer, `${at}.noAnswer`);
    const seconds = n.seconds;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) throw new KmsConfigError(`${at}.noAnswer.seconds`, `must be a positive number of seconds, got ${JSON.stringify(seconds)}`);
    out.noAnswer = { to: str(n, 'to', `${at}.noAnswer.`, SIP_URI, 'a SIP URI like sip:carol@ims.test'), seconds };
  }
  return out;
}

function users(raw: unknown): UserConfig[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new KmsConfigError('users', raw === undefined ? 'is missing (a non-empty list of users)' : 'must be a non-empty list of users');
  const uris = new Set<string>();
  const devices = new Set<string>();
  return raw.map((u, i) => {
    const at = `users[${i}]`;
    const o = obj(u, at);
    const uri = str(o, 'uri', `${at}.`, SIP_URI, 'a SIP URI like sip:bob@ims.test');
    const user = str(o, 'user', `${at}.`);
    const userPart = uri.slice(uri.indexOf(':') + 1, uri.lastIndexOf('@'));
    if (userPart !== user) throw new KmsConfigError(`${at}.user`, `"${user}" is not the user part of ${uri}`);
    const key = uri.replace(/^sips?:/, '').toLowerCase();
    if (uris.has(key)) throw new KmsConfigError(`${at}.uri`, `${uri} is listed twice`);
    uris.add(key);
    if (!Array.isArray(o.devices) || o.devices.length === 0) throw new KmsConfigError(`${at}.devices`, 'must be a non-empty list of { name, secret }');
    const devs = o.devices.map((d, j) => {
      const dat = `${at}.devices[${j}]`;
      const dobj = obj(d, dat);
      const name = str(dobj, 'name', `${dat}.`, NAME, 'a device name of letters, digits, ".", "_" and "-"');
      if (devices.has(name.toLowerCase())) throw new KmsConfigError(`${dat}.name`, `device ${name} is listed twice`);
      devices.add(name.toLowerCase());
      return { name, secret: hexKey(dobj, 'secret', `${dat}.`) };
    });
    return { uri, user, forwarding: forwarding(o.forwarding, `${at}.forwarding`), devices: devs };
  });
}

/** Validates the KMS configuration; throws {@link KmsConfigError} naming the first bad field. */
export function parseKmsConfig(raw: unknown): KmsConfig {
  const o = obj(raw, '(root)');
  const name = str(o, 'name', '', NAME, 'letters, digits, ".", "_" and "-" (it names files)');
  const address = str(o, 'address', '');
  if (isIP(address) === 0) throw new KmsConfigError('address', `must be an IP address, got ${JSON.stringify(address)}`);
  const httpsPort = port(o, 'httpsPort');
  const controlPort = port(o, 'controlPort');
  if (httpsPort === controlPort) throw new KmsConfigError('controlPort', `must differ from httpsPort (${httpsPort})`);
  const domain = str(o, 'domain', '', DOMAIN, 'a domain name like ims.test');
  const t = obj(o.tls, 'tls');
  const tls = { caFile: str(t, 'caFile', 'tls.'), certFile: str(t, 'certFile', 'tls.'), keyFile: str(t, 'keyFile', 'tls.') };
  const masterKey = hexKey(o, 'masterKey', '');
  const us = users(o.users);
  for (const [i, u] of us.entries()) {
    const d = u.uri.slice(u.uri.lastIndexOf('@') + 1).toLowerCase();
    if (d !== domain.toLowerCase()) throw new KmsConfigError(`users[${i}].uri`, `${u.uri} is not in the KMS's domain ${domain}`);
  }
  const rawAccess = o.accessAddresses ?? [];
  if (!Array.isArray(rawAccess) || !rawAccess.every((a) => typeof a === 'string' && isIP(a) !== 0)) {
    throw new KmsConfigError('accessAddresses', `must be a list of IP addresses, got ${JSON.stringify(rawAccess)}`);
  }
  const accessAddresses = rawAccess as string[];
  return { name, address, accessAddresses, httpsPort, controlPort, domain, tls, masterKey, users: us, groups: groups(o.groups, us), auditLog: str(o, 'auditLog', ''), runDir: str(o, 'runDir', '') };
}

/** PEM material of the HTTPS listener, read from the files the config names. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

/** Reads the TLS files; an unreadable one is a {@link KmsConfigError} naming its field. */
export function readTlsMaterial(cfg: KmsConfig): TlsMaterial {
  const read = (field: 'caFile' | 'certFile' | 'keyFile'): Buffer => {
    const file = cfg.tls[field];
    try {
      return readFileSync(file);
    } catch (e) {
      throw new KmsConfigError(`tls.${field}`, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  return { ca: read('caFile'), cert: read('certFile'), key: read('keyFile') };
}
