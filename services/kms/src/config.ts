import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkStrict, strictObject } from '@imslab/element-kit';
import { z } from 'zod';
import { KmsConfigError } from './errors.ts';

const NAME = /^[A-Za-z0-9._-]+$/;
const SIP_URI = /^sips?:[^\s"<>@;?]+@[A-Za-z0-9.-]+$/;
const sipUri = z.string().regex(SIP_URI, 'must be a SIP URI like sip:bob@ims.test');
const port = z.number().int().min(1).max(65535);
const ip = z.string().refine((v) => isIP(v) !== 0, 'must be an IP address');
/** A 256-bit key as 64 hex digits; null means the topology had no secrets to render. */
const hexKey = z
  .string({ error: (i) => (i.input === null ? 'is null: no KMS secrets were provisioned (the topology renders them from kms-secrets.json)' : 'must be 64 hex digits (a 256-bit key)') })
  .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits (a 256-bit key)')
  .transform((v) => new Uint8Array(Buffer.from(v, 'hex')));

/** Call forwarding rules of a user (the S-CSCF applies them; the KMS follows them for 'retargeting' tickets). */
const ForwardingSchema = strictObject({
  unconditional: sipUri.optional(),
  noAnswer: strictObject({ to: sipUri, seconds: z.number().positive() }, 'noAnswer').optional(),
  busy: sipUri.optional(),
}, 'forwarding');

/** A device and the secret it shares with the KMS (TS 33.328: from GBA; the testbed provisions it). */
const DeviceSchema = strictObject({
  /** Element name, e.g. `bob-1`; its IDRpsk is `<name>@<domain>`. */
  name: z.string().regex(NAME, 'must be a device name of letters, digits, ".", "_" and "-"'),
  /** 32-octet pre-shared key. */
  secret: hexKey,
}, 'a device');

/** A subscriber known to the KMS. */
const UserSchema = strictObject({
  /** Public user identity, e.g. `sip:bob@ims.test`. */
  uri: sipUri,
  user: z.string().min(1),
  forwarding: ForwardingSchema.nullable().default({}).transform((f) => f ?? {}),
  devices: z.array(DeviceSchema).min(1, 'must be a non-empty list of { name, secret }'),
}, 'a user').superRefine((u, ctx) => {
  const userPart = u.uri.slice(u.uri.indexOf(':') + 1, u.uri.lastIndexOf('@'));
  if (userPart !== u.user) ctx.addIssue({ code: 'custom', path: ['user'], message: `"${u.user}" is not the user part of ${u.uri}` });
});

/** A conference whose members get its group key from this KMS. */
const GroupSchema = strictObject(
  {
    uri: sipUri,
    members: z.array(z.string()).min(1, 'must be a non-empty list of user URIs'),
    /** ticket: MIKEY-TICKET group tickets (e2e conferences); sakke: GMKs in MIKEY-SAKKE I_MESSAGEs (PoC groups). */
    keying: z.enum(['ticket', 'sakke']).default('ticket'),
  },
  'a group',
);

/**
 * The KMS's configuration: rendered by services/kms/element.ts (input type),
 * read by the KMS (output type). Unknown fields are refused.
 */
export const KmsConfigSchema = strictObject({
  name: z.string().regex(NAME, 'letters, digits, ".", "_" and "-" (it names files)'),
  address: ip,
  /** More addresses for the HTTPS listener (the access networks the UEs are on). */
  accessAddresses: z.array(ip).default([]),
  httpsPort: port,
  controlPort: port,
  domain: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a domain name like ims.test'),
  tls: strictObject({ caFile: z.string().min(1), certFile: z.string().min(1), keyFile: z.string().min(1) }, 'tls'),
  /** 32-octet master key sealing the tickets (RFC 6043 App. A: the ticket protection key). */
  masterKey: hexKey,
  users: z.array(UserSchema).min(1, 'must be a non-empty list of users'),
  /** Conferences keyed with one group key (TR 33.828 4.1.3): the conference URI and its members' URIs. */
  groups: z.array(GroupSchema).default([]),
  auditLog: z.string().min(1),
  runDir: z.string().min(1),
  /** Longest ticket validity granted, ms (RFC 6043 sec. 6.10: the KMS may shorten TRe, flag K); short for a scenario that lets a ticket expire. */
  maxTicketValidityMs: z.number().int().min(100).max(86_400_000).default(3_600_000),
}, 'the KMS configuration').superRefine((c, ctx) => {
  if (c.httpsPort === c.controlPort) ctx.addIssue({ code: 'custom', path: ['controlPort'], message: `must differ from httpsPort (${c.httpsPort})` });
  const uris = new Set<string>();
  const devices = new Set<string>();
  c.users.forEach((u, i) => {
    const key = u.uri.replace(/^sips?:/, '').toLowerCase();
    if (uris.has(key)) ctx.addIssue({ code: 'custom', path: ['users', i, 'uri'], message: `${u.uri} is listed twice` });
    uris.add(key);
    if (u.uri.slice(u.uri.lastIndexOf('@') + 1).toLowerCase() !== c.domain.toLowerCase()) ctx.addIssue({ code: 'custom', path: ['users', i, 'uri'], message: `${u.uri} is not in the KMS's domain ${c.domain}` });
    u.devices.forEach((d, j) => {
      if (devices.has(d.name.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['users', i, 'devices', j, 'name'], message: `device ${d.name} is listed twice` });
      devices.add(d.name.toLowerCase());
    });
  });
  const known = new Set(c.users.map((u) => u.uri.toLowerCase()));
  c.groups.forEach((g, i) => {
    if (known.has(g.uri.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['groups', i, 'uri'], message: `${g.uri} is a user, not a conference` });
    g.members.forEach((m, j) => {
      if (!known.has(m.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['groups', i, 'members', j], message: `${JSON.stringify(m)} is not a user of this KMS` });
    });
  });
});

export type KmsConfigInput = z.input<typeof KmsConfigSchema>;
/** The validated configuration. */
export type KmsConfig = z.output<typeof KmsConfigSchema>;
export type UserConfig = KmsConfig['users'][number];
export type DeviceConfig = UserConfig['devices'][number];
export type ForwardingRules = UserConfig['forwarding'];
export type GroupConfig = KmsConfig['groups'][number];

/** Checks the KMS configuration; a FileError names every bad field. */
export function parseKmsConfig(raw: unknown): KmsConfig {
  return checkStrict(KmsConfigSchema, raw, 'KMS configuration');
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
