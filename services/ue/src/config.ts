import { isIP } from 'node:net';
import { kmsIdentityUri } from '@imslab/kms-client';
import { ConfigError } from './errors.ts';

/** Transport toward the P-CSCF. */
export type TransportName = 'udp' | 'tcp' | 'tls';
/**
 * Media security of a call (TR 33.828 sec. 4.1.1 "security setting"): none,
 * SDES end-to-access-edge (TS 33.328 e2ae), SDES end-to-end, end-to-end keyed
 * by MIKEY-TICKET (TS 33.328 KMS, RFC 6043), or MIKEY-TICKET end-to-end with
 * a trusted middle element's SDES answer accepted (e2m2e).
 */
export type SecurityMode = 'none' | 'e2ae' | 'sdes-e2e' | 'e2e' | 'e2e-or-e2m2e' | 'stored-e2e' | 'group-e2e';

/**
 * Beyond TR 4.1.1: `stored-e2e` retrieves a message stored end-to-end
 * protected (TR 33.828 4.1.2: receive only, open the stored MIKEY message
 * with a deferred resolve at the KMS); `group-e2e` joins a conference
 * keyed with the group's key from the KMS (TR 33.828 4.1.3).
 */
export const SECURITY_MODES: readonly SecurityMode[] = ['none', 'e2ae', 'sdes-e2e', 'e2e', 'e2e-or-e2m2e', 'stored-e2e', 'group-e2e'];

/**
 * Who may resolve the caller's ticket (mirrors @imslab/mikey ResolutionPolicy):
 * protection automatic for any answering party ('retargeting'), for any device
 * of the called user, or only for the designated user and terminal.
 */
export type TicketPolicy = 'designated-device' | 'any-device-of-user' | 'retargeting';

export const TICKET_POLICIES: readonly TicketPolicy[] = ['designated-device', 'any-device-of-user', 'retargeting'];

/** The UE's access to the KMS (rendered by packages/topology ueConfig). */
export interface KmsConfig {
  /** Base URL of the KMS's HTTPS API, e.g. https://127.0.2.40:8443. */
  url: string;
  /** The user's MIKEY identity (a SIP URI), default the IMPU. */
  identity: string;
  /** The device's pre-shared key with the KMS, 32 octets; null when not provisioned. */
  secret: Uint8Array | null;
  /**
   * The KMS's MIKEY identity (IDRkms, bound into every exchange MAC), a URI.
   * Default: the KMS's HTTPS origin (@imslab/kms-client kmsIdentityUri).
   */
  kmsIdentity: string;
  /** Time limit of one KMS exchange (default 5000 ms). */
  timeoutMs: number;
}

/** The UE's configuration, as written by the runner (validated). */
export interface UeConfig {
  name: string;
  user: string;
  impu: string;
  impi: string;
  password: string;
  realm: string;
  displayName?: string | undefined;
  address: string;
  sipPort: number;
  sipTlsPort?: number | undefined;
  controlPort: number;
  transport: TransportName;
  pcscf: { host: string; udpPort: number; tcpPort: number; tlsPort: number };
  tls?: { caFile: string; certFile: string; keyFile: string; serverName?: string | undefined } | undefined;
  media: { portMin: number; portMax: number };
  e2aeCapable: boolean;
  defaultSecurity: SecurityMode;
  /** Resolution policy put in our tickets when POST /call names none (default 'any-device-of-user'). */
  defaultPolicy: TicketPolicy;
  /** KMS access for MIKEY-TICKET; undefined when the config has none. */
  kms?: KmsConfig | undefined;
  /** Answer new INVITEs with 486 Busy Here (POST /busy changes it). */
  busy: boolean;
  autoAnswer: boolean;
  answerDelayMs: number;
  /** REGISTER once at start-up (default false: the runner calls POST /register). */
  autoRegister: boolean;
  runDir: string;
}

type Obj = Record<string, unknown>;

function obj(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(field, 'must be an object');
  return v as Obj;
}
function str(o: Obj, key: string, prefix = ''): string {
  const v = o[key];
  if (typeof v !== 'string' || v.trim() === '') throw new ConfigError(prefix + key, v === undefined ? 'is missing (a non-empty string)' : 'must be a non-empty string');
  return v;
}
function optStr(o: Obj, key: string, prefix = ''): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, prefix);
}
function port(o: Obj, key: string, prefix = ''): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) throw new ConfigError(prefix + key, v === undefined ? 'is missing (a port number 1-65535)' : `must be a port number 1-65535, got ${JSON.stringify(v)}`);
  return v;
}
function bool(o: Obj, key: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new ConfigError(key, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}
function ipv4(o: Obj, key: string, prefix = ''): string {
  const v = str(o, key, prefix);
  if (isIP(v) !== 4) throw new ConfigError(prefix + key, `must be an IPv4 address, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Validates the runner's JSON config. Throws ConfigError naming the first bad
 * field. Unknown fields are ignored so the runner can add its own.
 */
export function parseConfig(raw: unknown): UeConfig {
  const o = obj(raw, '(root)');
  const name = str(o, 'name');
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new ConfigError('name', 'may contain only letters, digits, ".", "_" and "-" (it names files)');
  const user = str(o, 'user');
  const impu = str(o, 'impu');
  const m = /^sips?:([^@;]+)@([^;>?]+)/.exec(impu);
  if (!m) throw new ConfigError('impu', `must be a SIP URI like sip:alice@ims.test, got ${JSON.stringify(impu)}`);
  const domain = m[2]!;
  const transport = o['transport'] ?? 'udp';
  if (transport !== 'udp' && transport !== 'tcp' && transport !== 'tls') throw new ConfigError('transport', `must be "udp", "tcp" or "tls", got ${JSON.stringify(transport)}`);
  const p = obj(o['pcscf'], 'pcscf');
  const pcscf = {
    host: ipv4(p, 'host', 'pcscf.'),
    udpPort: p['udpPort'] === undefined ? 5060 : port(p, 'udpPort', 'pcscf.'),
    tcpPort: p['tcpPort'] === undefined ? 5060 : port(p, 'tcpPort', 'pcscf.'),
    tlsPort: p['tlsPort'] === undefined ? 5061 : port(p, 'tlsPort', 'pcscf.'),
  };
  let tls: UeConfig['tls'];
  if (o['tls'] !== undefined) {
    const t = obj(o['tls'], 'tls');
    tls = { caFile: str(t, 'caFile', 'tls.'), certFile: str(t, 'certFile', 'tls.'), keyFile: str(t, 'keyFile', 'tls.'), serverName: optStr(t, 'serverName', 'tls.') };
  }
  if (transport === 'tls' && !tls) throw new ConfigError('tls', 'is required when transport is "tls" (caFile, certFile, keyFile)');
  const sipTlsPort = o['sipTlsPort'] === undefined ? undefined : port(o, 'sipTlsPort');
  if (transport === 'tls' && sipTlsPort === undefined) throw new ConfigError('sipTlsPort', 'is required when transport is "tls"');
  const media = obj(o['media'], 'media');
  const portMin = port(media, 'portMin', 'media.');
  const portMax = port(media, 'portMax', 'media.');
  if (portMax < portMin + 1) throw new ConfigError('media.portMax', `must be at least media.portMin + 1 (${portMin + 1}), got ${portMax}`);
  const defaultSecurity = o['defaultSecurity'] ?? 'none';
  if (!SECURITY_MODES.includes(defaultSecurity as SecurityMode)) throw new ConfigError('defaultSecurity', `must be one of ${SECURITY_MODES.map((s) => `"${s}"`).join(', ')}, got ${JSON.stringify(defaultSecurity)}`);
  const defaultPolicy = o['defaultPolicy'] ?? 'any-device-of-user';
  if (!TICKET_POLICIES.includes(defaultPolicy as TicketPolicy)) throw new ConfigError('defaultPolicy', `must be one of ${TICKET_POLICIES.map((s) => `"${s}"`).join(', ')}, got ${JSON.stringify(defaultPolicy)}`);
  const kms = o['kms'] === undefined || o['kms'] === null ? undefined : parseKms(obj(o['kms'], 'kms'), impu);
  const answerDelayMs = o['answerDelayMs'] ?? 0;
  if (typeof answerDelayMs !== 'number' || !Number.isFinite(answerDelayMs) || answerDelayMs < 0) throw new ConfigError('answerDelayMs', `must be a number >= 0, got ${JSON.stringify(answerDelayMs)}`);
  return {
    name,
    user,
    impu,
    impi: optStr(o, 'impi') ?? `${m[1]}@${domain}`,
    password: typeof o['password'] === 'string' ? o['password'] : '',
    realm: optStr(o, 'realm') ?? domain,
    displayName: optStr(o, 'displayName'),
    address: ipv4(o, 'address'),
    sipPort: port(o, 'sipPort'),
    sipTlsPort,
    controlPort: port(o, 'controlPort'),
    transport,
    pcscf,
    tls,
    media: { portMin, portMax },
    e2aeCapable: bool(o, 'e2aeCapable', false),
    defaultSecurity: defaultSecurity as SecurityMode,
    defaultPolicy: defaultPolicy as TicketPolicy,
    kms,
    busy: bool(o, 'busy', false),
    autoAnswer: bool(o, 'autoAnswer', true),
    answerDelayMs,
    autoRegister: bool(o, 'autoRegister', false),
    runDir: str(o, 'runDir'),
  };
}

function parseKms(k: Obj, impu: string): KmsConfig {
  const url = str(k, 'url', 'kms.');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('kms.url', `must be a URL like https://127.0.2.40:8443, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'https:') throw new ConfigError('kms.url', `must be an https:// URL, got ${JSON.stringify(url)}`);
  const secretRaw = k['secret'];
  let secret: Uint8Array | null = null;
  if (secretRaw !== undefined && secretRaw !== null) {
    if (typeof secretRaw !== 'string' || !/^(?:[0-9a-fA-F]{2}){16,64}$/.test(secretRaw)) throw new ConfigError('kms.secret', 'must be null or hex (32 to 128 digits; the topology renders 64)');
    secret = new Uint8Array(Buffer.from(secretRaw, 'hex'));
  }
  const timeoutMs = k['timeoutMs'] ?? 5000;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new ConfigError('kms.timeoutMs', `must be a number of milliseconds > 0, got ${JSON.stringify(timeoutMs)}`);
  return { url, identity: optStr(k, 'identity', 'kms.') ?? impu, secret, kmsIdentity: optStr(k, 'kmsIdentity', 'kms.') ?? kmsIdentityUri(url), timeoutMs };
}

/** The IMPU's domain (the REGISTER Request-URI host). */
export function impuDomain(cfg: Pick<UeConfig, 'impu'>): string {
  return /^sips?:[^@]+@([^;>?:]+)/.exec(cfg.impu)?.[1] ?? 'invalid';
}
