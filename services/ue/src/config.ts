import { isIP } from 'node:net';
import { checkStrict, strictObject } from '@imslab/element-kit';
import { kmsIdentityUri } from '@imslab/kms-client';
import { z } from 'zod';

/**
 * The UE's configuration: one schema, used by the topology to render it
 * (services/ue/element.ts, the input type) and by the UE to read it (the
 * output type). Unknown fields are refused.
 */

/** Transport toward the P-CSCF. */
export const TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

/**
 * Media security of a call (TR 33.828 sec. 4.1.1 "security setting"): none,
 * SDES end-to-access-edge (TS 33.328 e2ae), SDES end-to-end, end-to-end keyed
 * by MIKEY-TICKET (TS 33.328 KMS, RFC 6043), or MIKEY-TICKET end-to-end with
 * a trusted middle element's SDES answer accepted (e2m2e). Beyond TR 4.1.1:
 * `stored-e2e` retrieves a message stored end-to-end protected (TR 33.828
 * 4.1.2: receive only, open the stored MIKEY message with a deferred resolve
 * at the KMS); `group-e2e` joins a conference keyed with the group's key
 * from the KMS (TR 33.828 4.1.3); `poc-e2e` joins a PoC group (TR 33.828
 * 4.2): media under the group's key from the KMS, floor control as SRTCP
 * under an SDES key pair with the PoC server (the client-server key);
 * `poc-e2m2e` joins a PoC group whose server re-encrypts: that SDES key
 * pair keys the media too.
 */
export const SECURITY_MODES = ['none', 'e2ae', 'sdes-e2e', 'e2e', 'e2e-or-e2m2e', 'stored-e2e', 'group-e2e', 'poc-e2e', 'poc-e2m2e'] as const;
export type SecurityMode = (typeof SECURITY_MODES)[number];

/**
 * Who may resolve the caller's ticket (mirrors @imslab/mikey ResolutionPolicy):
 * protection automatic for any answering party ('retargeting'), for any device
 * of the called user, or only for the designated user and terminal.
 */
export const TICKET_POLICIES = ['designated-device', 'any-device-of-user', 'retargeting'] as const;
export type TicketPolicy = (typeof TICKET_POLICIES)[number];

const text = z.string().trim().min(1, 'must be a non-empty string');
const port = z.number().int().min(1).max(65535);
const ipv4 = z.string().refine((v) => isIP(v) === 4, 'must be an IPv4 address');
const sipUri = z.string().regex(/^sips?:([^@;]+)@([^;>?]+)/, 'must be a SIP URI like sip:alice@ims.test');

const KmsSchema = strictObject({
  /** Base URL of the KMS's HTTPS API, e.g. https://127.0.2.40:8443. */
  url: z.url({ protocol: /^https$/, error: 'must be an https:// URL like https://127.0.2.40:8443' }),
  /** The user's MIKEY identity (a SIP URI), default the IMPU. */
  identity: text.optional(),
  /** The device's pre-shared key with the KMS, 32 octets, hex; null when not provisioned. */
  secret: z.string().regex(/^(?:[0-9a-fA-F]{2}){16,64}$/, 'must be null or hex (32 to 128 digits; the topology renders 64)').nullable().default(null),
  /** The KMS's MIKEY identity (IDRkms, bound into every exchange MAC); default its HTTPS origin. */
  kmsIdentity: text.optional(),
  /** Time limit of one KMS exchange. */
  timeoutMs: z.number().positive().default(5000),
}, 'kms');

/**
 * Pager-mode messaging (RFC 3428 MESSAGE with RFC 8591 S/MIME): this user's
 * S/MIME certificate and key from the testbed PKI (a sip: URI in
 * subjectAltName, emailProtection), the CA that vouches for every user's,
 * and a small directory of the users' certificates (IMPU -> certificate
 * files, one per certificate the user holds). Absent: S/MIME is unavailable,
 * messages in the clear still work.
 */
const MessagingSchema = strictObject({
  certFile: text,
  keyFile: text,
  caFile: text,
  directory: z.record(sipUri, z.array(text).min(1)).default({}),
  /** Users whose clients lack AuthEnvelopedData: EnvelopedData (AES-CBC) for them. */
  envelopedOnly: z.array(sipUri).default([]),
}, 'messaging');

const UeConfigObject = strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'may contain only letters, digits, ".", "_" and "-" (it names files)'),
  user: text,
  impu: sipUri,
  impi: text.optional(),
  password: z.string().default(''),
  realm: text.optional(),
  displayName: text.optional(),
  address: ipv4,
  sipPort: port,
  sipTlsPort: port.optional(),
  controlPort: port,
  transport: z.enum(TRANSPORTS).default('udp'),
  pcscf: strictObject({ host: ipv4, udpPort: port.default(5060), tcpPort: port.default(5060), tlsPort: port.default(5061) }, 'pcscf'),
  tls: strictObject({ caFile: text, certFile: text, keyFile: text, serverName: text.optional() }, 'tls').optional(),
  media: strictObject({ portMin: port, portMax: port }, 'media').refine((m) => m.portMax >= m.portMin + 1, { message: 'portMax must be at least portMin + 1', path: ['portMax'] }),
  e2aeCapable: z.boolean().default(false),
  defaultSecurity: z.enum(SECURITY_MODES).default('none'),
  /** Resolution policy put in our tickets when POST /call names none. */
  defaultPolicy: z.enum(TICKET_POLICIES).default('any-device-of-user'),
  /** KMS access for MIKEY-TICKET; absent or null when the network has none. */
  kms: KmsSchema.nullable().optional(),
  /** S/MIME for SIP MESSAGE (RFC 8591); absent or null when the PKI has no S/MIME certificates. */
  messaging: MessagingSchema.nullable().optional(),
  /**
   * Session-mode messaging (MSRP, RFC 4975) goes through this relay (RFC
   * 4976, over TLS; AUTH with the user's SIP credentials). Absent or null:
   * no MSRP.
   */
  msrpRelay: strictObject({ host: ipv4, port }, 'msrpRelay').nullable().optional(),
  /** Answer new INVITEs with 486 Busy Here (POST /busy changes it). */
  busy: z.boolean().default(false),
  autoAnswer: z.boolean().default(true),
  answerDelayMs: z.number().min(0).default(0),
  /** REGISTER once at start-up (default false: the runner calls POST /register). */
  autoRegister: z.boolean().default(false),
  runDir: text,
}, 'the UE configuration');

/** What a scenario may set per UE (`network.ues.<name>`): behaviour, never identity or addresses. */
export const UeSettingsSchema = strictObject({
  e2aeCapable: z.boolean(), autoAnswer: z.boolean(), busy: z.boolean(), answerDelayMs: z.number().min(0),
  defaultSecurity: z.enum(SECURITY_MODES), defaultPolicy: z.enum(TICKET_POLICIES), transport: z.enum(TRANSPORTS),
}, 'a UE\'s settings').partial();
export type UeSettings = z.input<typeof UeSettingsSchema>;

export const UeConfigSchema = UeConfigObject
  .refine((c) => c.transport !== 'tls' || c.tls !== undefined, { message: 'is required when transport is "tls" (caFile, certFile, keyFile)', path: ['tls'] })
  .refine((c) => c.transport !== 'tls' || c.sipTlsPort !== undefined, { message: 'is required when transport is "tls"', path: ['sipTlsPort'] })
  .transform((c) => {
    const [, user, domain] = /^sips?:([^@;]+)@([^;>?]+)/.exec(c.impu)!;
    const kms = c.kms
      ? {
          url: c.kms.url,
          identity: c.kms.identity ?? c.impu,
          secret: c.kms.secret === null ? null : new Uint8Array(Buffer.from(c.kms.secret, 'hex')),
          kmsIdentity: c.kms.kmsIdentity ?? kmsIdentityUri(c.kms.url),
          timeoutMs: c.kms.timeoutMs,
        }
      : undefined;
    return { ...c, impi: c.impi ?? `${user}@${domain}`, realm: c.realm ?? domain!, kms };
  });

/** What the topology writes. */
export type UeConfigInput = z.input<typeof UeConfigSchema>;
/** What the UE runs with. */
export type UeConfig = z.output<typeof UeConfigSchema>;
export type KmsConfig = NonNullable<UeConfig['kms']>;
export type MessagingConfig = NonNullable<UeConfig['messaging']>;

/** Checks a configuration object; a FileError names every bad field. */
export function parseConfig(raw: unknown, what = 'UE configuration'): UeConfig {
  return checkStrict(UeConfigSchema, raw, what);
}

/** The IMPU's domain (the REGISTER Request-URI host). */
export function impuDomain(cfg: Pick<UeConfig, 'impu'>): string {
  return /^sips?:[^@]+@([^;>?:]+)/.exec(cfg.impu)?.[1] ?? 'invalid';
}
