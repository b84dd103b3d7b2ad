import { isIP } from 'node:net';
import { checkStrict, strictObject } from '@imslab/element-kit';
import { z } from 'zod';

const port = z.number().int().min(1).max(65535);
const positive = z.number().int().min(1);
const ipv4 = z.string().refine((v) => isIP(v) === 4, 'must be an IPv4 address');
const file = z.string().min(1, 'must be a file path');

export const ChatRoomEntrySchema = strictObject({
  /** Request-URI user part: chat-<group>. */
  user: z.string().regex(/^chat-[a-z0-9-]+$/, 'must look like chat-<group> (lower case)'),
  /** Member URIs (sip:<user>@<domain>); an INVITE asserted from anyone else is refused with 403. */
  members: z.array(z.string().regex(/^sips?:[^@\s]+@\S+$/, 'must be a SIP URI')).min(1, 'must name at least one member'),
}, 'a chat room');
export type ChatRoomEntry = z.output<typeof ChatRoomEntrySchema>;

/** MSRP over TLS: where the relay (or a participant) connects, with the testbed PKI's certificate. */
const MsrpSchema = strictObject({
  port,
  tls: strictObject({ caFile: file, certFile: file, keyFile: file }, 'the MSRP TLS files'),
  /** TLS secrets of every accepted connection (NSS key log format), so captures of the relay->chat leg open. */
  keylogFile: file.optional(),
}, 'the MSRP listener');

/** The room store: one JSONL file per room, every message in the clear. */
const StoreSchema = strictObject({
  dir: z.string().min(1, 'must be a directory'),
  /** Bytes written over every room at most; later messages are still relayed but not stored (logged). */
  maxBytes: positive.default(64 * 1024 * 1024),
}, 'the chat store');

/** The chat server's configuration: rendered by services/chat/element.ts, read by the server. Unknown fields are refused. */
export const ChatConfigSchema = strictObject({
  name: z.string().min(1),
  address: ipv4,
  sipPort: port,
  controlPort: port,
  domain: z.string().min(1),
  msrp: MsrpSchema,
  rooms: z.array(ChatRoomEntrySchema),
  store: StoreSchema,
  /** Messages held per participant whose connection is not there yet; older ones are dropped first. */
  maxHeld: positive.default(100),
}, 'the chat configuration');

export type ChatConfigInput = z.input<typeof ChatConfigSchema>;
export type ChatConfig = z.output<typeof ChatConfigSchema>;

export function parseChatConfig(raw: unknown): ChatConfig {
  return checkStrict(ChatConfigSchema, raw, 'chat configuration');
}
