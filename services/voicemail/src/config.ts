import { isIP } from 'node:net';

/** Who may retrieve a mailbox: its owner only, or anyone (a careless server: the crypto must still hold). */
export type MailboxAccess = 'owner' | 'open';

/** The voicemail's JSON configuration (rendered by packages/topology). */
export interface VoicemailConfig {
  name: string;
  address: string;
  sipPort: number;
  controlPort: number;
  domain: string;
  /** Message store directory (survives a restart of the element). */
  storeDir: string;
  rtpPortMin: number;
  rtpPortMax: number;
  mailboxAccess: MailboxAccess;
  /** Store bounds (default store.ts DEFAULT_LIMITS). */
  limits?: { maxBytesPerMessage?: number; maxMessagesPerMailbox?: number; maxTotalBytes?: number };
}

function need<T>(o: Record<string, unknown>, k: string, ok: (v: unknown) => boolean, what: string): T {
  if (!ok(o[k])) throw new Error(`"${k}" must be ${what}, got ${JSON.stringify(o[k])}`);
  return o[k] as T;
}

const port = (v: unknown) => Number.isInteger(v) && (v as number) > 0 && (v as number) < 65536;
const text = (v: unknown) => typeof v === 'string' && v.length > 0;

/** Validates the config; errors name the field and what it must be. */
export function parseVoicemailConfig(raw: unknown): VoicemailConfig {
  if (typeof raw !== 'object' || raw === null) throw new Error('the config must be a JSON object');
  const o = raw as Record<string, unknown>;
  const cfg: VoicemailConfig = {
    name: need(o, 'name', text, 'a name'),
    address: need(o, 'address', (v) => typeof v === 'string' && isIP(v) === 4, 'an IPv4 address'),
    sipPort: need(o, 'sipPort', port, 'a port'),
    controlPort: need(o, 'controlPort', port, 'a port'),
    domain: need(o, 'domain', text, 'a domain'),
    storeDir: need(o, 'storeDir', text, 'a directory'),
    rtpPortMin: need(o, 'rtpPortMin', port, 'a port'),
    rtpPortMax: need(o, 'rtpPortMax', port, 'a port'),
    mailboxAccess: (o.mailboxAccess ?? 'owner') as MailboxAccess,
  };
  if (cfg.mailboxAccess !== 'owner' && cfg.mailboxAccess !== 'open') throw new Error(`"mailboxAccess" must be owner or open, got ${JSON.stringify(o.mailboxAccess)}`);
  if (cfg.rtpPortMax <= cfg.rtpPortMin) throw new Error('"rtpPortMax" must be above "rtpPortMin"');
  if (o.limits !== undefined) {
    const l = o.limits as Record<string, unknown>;
    if (typeof l !== 'object' || l === null) throw new Error('"limits" must be an object of maxBytesPerMessage, maxMessagesPerMailbox, maxTotalBytes');
    for (const [k, v] of Object.entries(l)) {
      if (!['maxBytesPerMessage', 'maxMessagesPerMailbox', 'maxTotalBytes'].includes(k)) throw new Error(`"limits.${k}" is not a store limit (maxBytesPerMessage, maxMessagesPerMailbox, maxTotalBytes)`);
      if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`"limits.${k}" must be a positive integer, got ${JSON.stringify(v)}`);
    }
    cfg.limits = l as NonNullable<VoicemailConfig['limits']>;
  }
  return cfg;
}
