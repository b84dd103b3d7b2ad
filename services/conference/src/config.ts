import { isIP } from 'node:net';
import { checkStrict, strictObject } from '@imslab/element-kit';
import { z } from 'zod';

/**
 * e2e: one group key from the KMS, the bridge forwards SRTP untouched (it may not mix);
 * e2m2e: each leg keyed with the bridge (SDES), the bridge decrypts, mixes and re-encrypts.
 */
export const CONFERENCE_MODES = ['e2e', 'e2m2e'] as const;
export type ConferenceMode = (typeof CONFERENCE_MODES)[number];

const port = z.number().int().min(1).max(65535);

export const ConferenceEntrySchema = strictObject({
  /** Request-URI user part, e.g. conf-team. */
  user: z.string().regex(/^conf-[a-z0-9-]+$/, 'must look like conf-<name> (lower case)'),
  mode: z.enum(CONFERENCE_MODES),
  /** Member URIs; an empty list admits anyone (ad-hoc conferences made by the factory). */
  members: z.array(z.string().regex(/^sips?:\S+$/, 'must be a SIP URI')),
}, 'a conference');
export type ConferenceConfigEntry = z.output<typeof ConferenceEntrySchema>;

/**
 * The bridge's configuration: rendered by services/conference/element.ts,
 * read by the bridge. Unknown fields are refused.
 */
export const ConferenceConfigSchema = strictObject({
  name: z.string().min(1),
  address: z.string().refine((v) => isIP(v) === 4, 'must be an IPv4 address'),
  sipPort: port,
  controlPort: port,
  domain: z.string().min(1),
  rtpPortMin: port,
  rtpPortMax: port,
  conferences: z.array(ConferenceEntrySchema),
}, 'the conference configuration').refine((c) => c.rtpPortMax > c.rtpPortMin, { message: 'must be above rtpPortMin', path: ['rtpPortMax'] });

export type ConferenceConfigInput = z.input<typeof ConferenceConfigSchema>;
export type ConferenceServerConfig = z.output<typeof ConferenceConfigSchema>;

/** Checks a configuration object; a FileError names every bad field. */
export function parseConferenceConfig(raw: unknown): ConferenceServerConfig {
  return checkStrict(ConferenceConfigSchema, raw, 'conference configuration');
}
