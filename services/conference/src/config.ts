import { isIP } from 'node:net';

/**
 * e2e: one group key from the KMS, the bridge forwards SRTP untouched (it may not mix);
 * e2m2e: each leg keyed with the bridge (SDES), the bridge decrypts, mixes and re-encrypts.
 */
export type ConferenceMode = 'e2e' | 'e2m2e';

export interface ConferenceConfigEntry {
  /** Request-URI user part, e.g. conf-team. */
  user: string;
  mode: ConferenceMode;
  /** Member URIs; an empty list admits anyone (ad-hoc conferences made by the factory). */
  members: string[];
}

export interface ConferenceServerConfig {
  name: string;
  address: string;
  sipPort: number;
  controlPort: number;
  domain: string;
  rtpPortMin: number;
  rtpPortMax: number;
  conferences: ConferenceConfigEntry[];
}

const port = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) < 65536;

/** Validates the config; errors name the field and what it must be. */
export function parseConferenceConfig(raw: unknown): ConferenceServerConfig {
  if (typeof raw !== 'object' || raw === null) throw new Error('the config must be a JSON object');
  const o = raw as Record<string, unknown>;
  for (const k of ['name', 'address', 'domain']) if (typeof o[k] !== 'string' || !o[k]) throw new Error(`"${k}" must be a non-empty string`);
  if (isIP(o.address as string) !== 4) throw new Error(`"address" must be an IPv4 address, got ${JSON.stringify(o.address)}`);
  for (const k of ['sipPort', 'controlPort', 'rtpPortMin', 'rtpPortMax']) if (!port(o[k])) throw new Error(`"${k}" must be a port, got ${JSON.stringify(o[k])}`);
  if (!Array.isArray(o.conferences)) throw new Error('"conferences" must be a list of { user, mode, members }');
  const conferences = o.conferences.map((c, i) => {
    const e = c as Record<string, unknown>;
    if (typeof e.user !== 'string' || !/^conf-[a-z0-9-]+$/.test(e.user)) throw new Error(`conferences[${i}].user must look like conf-<name>, got ${JSON.stringify(e.user)}`);
    if (e.mode !== 'e2e' && e.mode !== 'e2m2e') throw new Error(`conferences[${i}].mode must be e2e or e2m2e, got ${JSON.stringify(e.mode)}`);
    if (!Array.isArray(e.members) || !e.members.every((m) => typeof m === 'string')) throw new Error(`conferences[${i}].members must be a list of SIP URIs`);
    return { user: e.user, mode: e.mode as ConferenceMode, members: e.members as string[] };
  });
  return { name: o.name as string, address: o.address as string, sipPort: o.sipPort as number, controlPort: o.controlPort as number, domain: o.domain as string, rtpPortMin: o.rtpPortMin as number, rtpPortMax: o.rtpPortMax as number, conferences };
}
