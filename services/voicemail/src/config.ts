import { isIP } from 'node:net';
import { checkStrict, strictObject } from '@imslab/element-kit';
import { z } from 'zod';

/** Who may retrieve a mailbox: its owner only, or anyone (a careless server: the crypto must still hold). */
export const MAILBOX_ACCESS = ['owner', 'open'] as const;
export type MailboxAccess = (typeof MAILBOX_ACCESS)[number];

/**
 * What a compromised voicemail does on retrieval (issue 13): it cannot read
 * an e2e message, but it can play another one in its place. `swap-packets`
 * plays another message's SRTP under the asked-for message's TRANSFER_INIT;
 * `swap-message` plays another message whole (its packets and its
 * TRANSFER_INIT) as the asked-for one, so that the store's `from` lies.
 */
export const VOICEMAIL_ATTACKS = ['swap-packets', 'swap-message'] as const;
export type VoicemailAttack = (typeof VOICEMAIL_ATTACKS)[number];

const port = z.number().int().min(1).max(65535);
const positive = z.number().int().min(1);

/**
 * The voicemail's configuration: rendered by services/voicemail/element.ts
 * (input type), read by the voicemail (output type). Unknown fields are refused.
 */
export const VoicemailConfigSchema = strictObject({
  name: z.string().min(1),
  address: z.string().refine((v) => isIP(v) === 4, 'must be an IPv4 address'),
  sipPort: port,
  controlPort: port,
  domain: z.string().min(1),
  /** Message store directory (survives a restart of the element). */
  storeDir: z.string().min(1, 'must be a directory'),
  rtpPortMin: port,
  rtpPortMax: port,
  mailboxAccess: z.enum(MAILBOX_ACCESS).default('owner'),
  /** A compromised voicemail's attack on retrieval, or null. */
  attack: z.enum(VOICEMAIL_ATTACKS).nullable().default(null),
  /** Store bounds (default store.ts DEFAULT_LIMITS). */
  limits: strictObject({ maxBytesPerMessage: positive.optional(), maxMessagesPerMailbox: positive.optional(), maxTotalBytes: positive.optional() }, 'limits').optional(),
}, 'the voicemail configuration').refine((c) => c.rtpPortMax > c.rtpPortMin, { message: 'must be above rtpPortMin', path: ['rtpPortMax'] });

export type VoicemailConfigInput = z.input<typeof VoicemailConfigSchema>;
export type VoicemailConfig = z.output<typeof VoicemailConfigSchema>;

/** Checks a configuration object; a FileError names every bad field. */
export function parseVoicemailConfig(raw: unknown): VoicemailConfig {
  return checkStrict(VoicemailConfigSchema, raw, 'voicemail configuration');
}
