import { isIP } from 'node:net';
import { checkStrict, strictObject } from '@imslab/element-kit';
import { z } from 'zod';

const port = z.number().int().min(1).max(65535);
const positive = z.number().int().min(1);
const ipv4 = z.string().refine((v) => isIP(v) === 4, 'must be an IPv4 address');

export const ImGroupEntrySchema = strictObject({
  /** Request-URI user part: im-<group>. */
  user: z.string().regex(/^im-[a-z0-9-]+$/, 'must look like im-<group> (lower case)'),
  /** Member URIs (sip:<user>@<domain>); a MESSAGE asserted from anyone else is refused with 403. */
  members: z.array(z.string().regex(/^sips?:[^@\s]+@\S+$/, 'must be a SIP URI')).min(1, 'must name at least one member'),
}, 'an IM group');
export type ImGroupEntry = z.output<typeof ImGroupEntrySchema>;

/** The store of messages for offline members: one JSON meta file and one body file per message and member. */
const StoreSchema = strictObject({
  dir: z.string().min(1, 'must be a directory'),
  /** Messages kept at most (over every member); more are refused and recorded as store-full. */
  maxMessages: positive.default(1000),
  /** Body bytes kept at most. */
  maxBytes: positive.default(16 * 1024 * 1024),
  /** Retry timer: every pending message is offered again this often (and at once when its member sends anything). */
  retryMs: positive.default(5000),
}, 'the IM store');

/** The IM server's configuration: rendered by services/im/element.ts, read by the server. Unknown fields are refused. */
export const ImConfigSchema = strictObject({
  name: z.string().min(1),
  address: ipv4,
  sipPort: port,
  controlPort: port,
  domain: z.string().min(1),
  /** Where forwards go: the S-CSCF (terminating services for the member). */
  scscf: strictObject({ address: ipv4, port }, 'the S-CSCF'),
  groups: z.array(ImGroupEntrySchema),
  store: StoreSchema.optional(),
}, 'the IM configuration');

export type ImConfigInput = z.input<typeof ImConfigSchema>;
export type ImConfig = z.output<typeof ImConfigSchema>;

export function parseImConfig(raw: unknown): ImConfig {
  return checkStrict(ImConfigSchema, raw, 'IM configuration');
}
