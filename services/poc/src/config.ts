import { isIP } from 'node:net';
import { checkStrict, strictObject } from '@imslab/element-kit';
import { z } from 'zod';

/**
 * e2e: one group key the server never holds; it forwards the floor holder's
 * SRTP unchanged. e2m2e: each member's leg is keyed with the server (SDES,
 * the client-server key, which also protects floor control); the server
 * decrypts the holder's burst and re-encrypts it for each listener.
 */
export const POC_MODES = ['e2e', 'e2m2e'] as const;
export type PocMode = (typeof POC_MODES)[number];

const port = z.number().int().min(1).max(65535);
const positive = z.number().int().min(1);
const positiveMs = positive;

export const PocGroupEntrySchema = strictObject({
  /** Request-URI user part: poc-<group>. */
  user: z.string().regex(/^poc-[a-z0-9-]+$/, 'must look like poc-<group> (lower case)'),
  mode: z.enum(POC_MODES),
  /** Member URIs; an INVITE from anyone else is refused with 403. */
  members: z.array(z.string().regex(/^sips?:\S+$/, 'must be a SIP URI')).min(1, 'must name at least one member'),
  /** A Floor Request while the floor is taken: Floor Deny, or queued (TS 24.380 clause 6.3). */
  contention: z.enum(['deny', 'queue']),
  /**
   * Where the group's SRTP packets carry their key identifier, for the box's
   * record of it (the server holds no key, so it cannot find the MKI by
   * itself): the MKI's octets (8 with MIKEY-SAKKE GMKs, GMK-ID || GUK-ID;
   * 0: no MKI) before an authentication tag of `tagBytes` (10 for
   * AES_CM_128_HMAC_SHA1_80).
   */
  mkiBytes: z.number().int().min(0).max(255).default(0),
  tagBytes: z.number().int().min(0).max(64).default(10),
}, 'a PoC group');
export type PocGroupEntry = z.output<typeof PocGroupEntrySchema>;

/** Floor control server timers (TS 24.380 Annex F.2) this server overrides; the rest are @imslab/floor-control's defaults. */
const TimersSchema = strictObject({
  t1EndOfMediaMs: positiveMs.optional(),
  t2StopTalkingMs: positiveMs.optional(),
  t7FloorIdleMs: positiveMs.optional(),
}, 'floor timers');

/** Bounds of the box (default box-records.ts DEFAULT_BOX_LIMITS). */
const BoxLimitsSchema = strictObject({
  maxBytesPerBurst: positive.optional(),
  maxBurstsPerMember: positive.optional(),
  maxBytesPerMember: positive.optional(),
  maxBytesPerGroup: positive.optional(),
}, 'box limits');

/** The PoC box: recordings for members who are not joined; absent, the server keeps none. */
const BoxSchema = strictObject({
  /** Its directory (survives a restart of the element: a volume on the docker target). */
  dir: z.string().min(1, 'must be a directory'),
  limits: BoxLimitsSchema.optional(),
  /** Silence replayed between two bursts at most (the spacing inside a burst is replayed as it was). */
  maxReplayGapMs: z.number().int().min(0).default(500),
  /** Live packets that may wait behind a replay (30 s of 20 ms packets); more are dropped and counted. */
  maxQueuedLive: z.number().int().min(0).default(1500),
}, 'the PoC box');

/**
 * Where the server gets its own identity-based keys (TS 33.180 clause 5.3):
 * the KMS provisions its SAKKE receiver secret key like a UE's, after the
 * same device authentication (a pre-shared key, REQUEST_INIT_PSK). With it
 * the server opens the client-server keys (CSK) its members send it in
 * MIKEY-SAKKE I_MESSAGEs (clause 7.3). Absent: only SDES client-server keys.
 */
const KmsSchema = strictObject({
  /** Base URL of the KMS's HTTPS API, e.g. https://127.0.2.40:8443. */
  url: z.url({ protocol: /^https$/, error: 'must be an https:// URL like https://127.0.2.40:8443' }),
  /** The KMS's MIKEY identity (IDRkms); default its HTTPS origin. */
  kmsIdentity: z.string().min(1).optional(),
  /** The server's own identity, the IDRr of every CSK I_MESSAGE, e.g. sip:poc@ims.test. */
  identity: z.string().regex(/^sips?:[^@\s]+@\S+$/, 'must be a SIP URI like sip:poc@ims.test'),
  /** The device name whose pre-shared key this is (its IDRpsk is <device>@<domain>). */
  device: z.string().min(1),
  /** The pre-shared key with the KMS, hex; null when not provisioned. */
  secret: z.string().regex(/^(?:[0-9a-fA-F]{2}){16,64}$/, 'must be null or hex (32 to 128 digits)').nullable(),
  /** PEM of the CA that signed the KMS's certificate. */
  caFile: z.string().min(1),
  timeoutMs: z.number().positive().default(5000),
}, 'kms');
export type PocKmsConfig = z.output<typeof KmsSchema>;

/**
 * The PoC server's configuration: rendered by services/poc/element.ts, read
 * by the server. Unknown fields are refused.
 */
export const PocConfigSchema = strictObject({
  name: z.string().min(1),
  address: z.string().refine((v) => isIP(v) === 4, 'must be an IPv4 address'),
  sipPort: port,
  controlPort: port,
  domain: z.string().min(1),
  rtpPortMin: port,
  rtpPortMax: port,
  groups: z.array(PocGroupEntrySchema),
  floorTimers: TimersSchema.optional(),
  box: BoxSchema.optional(),
  kms: KmsSchema.optional(),
}, 'the PoC configuration').refine((c) => c.rtpPortMax > c.rtpPortMin + 1, { message: 'must be above rtpPortMin + 1 (an RTP and RTCP pair)', path: ['rtpPortMax'] });

export type PocConfigInput = z.input<typeof PocConfigSchema>;
export type PocConfig = z.output<typeof PocConfigSchema>;

/** Checks a configuration object; a FileError names every bad field. */
export function parsePocConfig(raw: unknown): PocConfig {
  return checkStrict(PocConfigSchema, raw, 'PoC configuration');
}
