import { createHash } from 'node:crypto';
import { strictObject } from '@imslab/element-kit';
import { z } from 'zod';
import type { MessageReceived } from '../ue-client.ts';
import { defineCheck, type CallRecord } from './check.ts';

/**
 * What a `message` step observed (pager mode, RFC 3428), kept on its call
 * record: the sender's view (final response, marker, size, transport) and
 * every UE's record of the MESSAGE (GET /messages) once it arrived.
 */
export interface MessageOutcome {
  to: string;
  security: string;
  /** markerFor(callId, 'orig'): what the sender appended to the text. */
  marker: string;
  /** The final response the sender got; null when it refused to send (too large for UDP). */
  status: number | null;
  reason: string;
  bytes: number | null;
  transport: string | null;
  structure: string | null;
  /** Device name -> what it recorded. */
  receivedBy: Record<string, MessageReceived>;
  /** The sender's refusal to send (RFC 3428's size limit over UDP). */
  notSent?: string;
  /** A group message: the users it was encrypted to. */
  recipients?: string[];
  /** SHA-256 of the body as sent: a server that forwards it (IM server, its offline store) keeps the bytes, not the Call-ID. */
  bodySha256?: string;
  /** Session mode: the MSRP Message-ID of the SEND that carried it. */
  msrpMessageId?: string;
}

export type MessageCallRecord = CallRecord & { message: MessageOutcome };

export function messageOf(call: CallRecord): MessageOutcome | undefined {
  return (call as Partial<MessageCallRecord>).message;
}

const STRUCTURES = ['text', 'cpim', 'signed', 'auth-enveloped', 'enveloped', 'file'] as const;
const device = z.string().min(1);

const Schema = strictObject({
  /** Devices that must have received it and read its plaintext (the marker in the text); default: at least one. */
  by: z.union([device, z.array(device).min(1)]).optional(),
  /** The body's outermost structure as it arrived. */
  structure: z.enum(STRUCTURES).optional(),
  /** Opened from an Enveloped/AuthEnvelopedData with the receiver's key (and the marker was not readable in the body). */
  decrypted: z.boolean().optional(),
  /** The signature verified, with the signer the sender and the Date covered. */
  signatureVerified: z.boolean().optional(),
  /** Instead of accepted: refused by `by` with this code (e.g. not-a-recipient, bad-signature) and a 4xx. */
  refused: z.string().min(1).optional(),
  /** RFC 5547 file transfer: the file arrived whole, its size and SHA-1 those of the offer's file-selector. */
  fileIntact: z.boolean().optional(),
  /** The sender refused to send it: larger than RFC 3428's 1300 bytes while on UDP only. */
  notSent: z.literal('too-large').optional(),
}, 'messageDelivered');

export const messageDelivered = defineCheck({
  key: 'messageDelivered',
  basis: 'UE reports',
  doc: 'A message step\'s MESSAGE (pager mode): who received it, its structure, whether it was decrypted and its signature (with the Date) verified, or the refusal; from the UEs\' records (GET /messages).',
  schema: Schema,
  run(want, ctx) {
    const m = messageOf(ctx.call);
    if (!m) {
      ctx.mismatch(`${ctx.alias} is not a message step's MESSAGE: no message record`);
      return;
    }
    if (want.notSent) {
      if (m.notSent) ctx.saw(`the sender refused to send it: ${m.notSent}`);
      else ctx.mismatch(`it was sent (final response ${m.status} ${m.reason}); expected the sender to refuse it as too large`);
      return;
    }
    if (m.notSent) {
      ctx.mismatch(`the sender refused to send it: ${m.notSent}`);
      return;
    }
    ctx.saw(`sent ${m.structure} (${m.bytes} bytes over ${m.transport}), final response ${m.status} ${m.reason}`);
    const names = want.by === undefined ? Object.keys(m.receivedBy) : Array.isArray(want.by) ? want.by : [want.by];
    if (names.length === 0) ctx.mismatch('no UE recorded it');
    for (const name of names) {
      const r = m.receivedBy[name];
      if (!r) {
        ctx.mismatch(`${name} has no record of it (recorded by ${Object.keys(m.receivedBy).join(', ') || 'nobody'})`);
        continue;
      }
      // The sender's marker read in the plaintext: by Call-ID, or by digest in a copy an IM server forwarded under a new Call-ID.
      const readIt = r.markerInText || (r.markerSha256 != null && r.markerSha256 === createHash('sha256').update(m.marker, 'latin1').digest('hex'));
      const decrypted = (r.structure === 'auth-enveloped' || r.structure === 'enveloped') && r.accepted && readIt && !r.markerInBody;
      const verified = r.signatureVerified && r.dateCovered;
      ctx.saw(`${name}: ${r.accepted ? 'accepted' : `refused (${r.refusal?.code})`} ${r.response.status}, ${r.layers.join(' > ') || r.structure}${r.cipher ? ` ${r.cipher}` : ''}, signature ${r.signatureVerified ? `verified (${r.signer?.join(', ')}, Date ${r.dateCovered ? 'covered' : 'NOT covered'})` : 'none verified'}, marker ${readIt ? 'in the plaintext' : 'not read'}${r.markerInBody ? ' and readable in the body as it arrived' : ''}`);
      if (want.refused !== undefined) {
        if (r.accepted) ctx.mismatch(`${name} accepted it; expected a refusal with ${want.refused}`);
        else if (r.refusal?.code !== want.refused) ctx.mismatch(`${name} refused it with ${r.refusal?.code}, expected ${want.refused}`);
        else if (r.response.status < 400 || r.response.status >= 500) ctx.mismatch(`${name} answered ${r.response.status}, expected a 4xx`);
        else if (readIt) ctx.mismatch(`${name} refused it but still read its plaintext`);
      } else {
        if (!r.accepted) ctx.mismatch(`${name} refused it: ${r.refusal?.code}: ${r.refusal?.reason}`);
        else if (!readIt) ctx.mismatch(`${name} accepted it but its plaintext lacks the marker ${m.marker}`);
      }
      if (want.structure !== undefined && r.structure !== want.structure) ctx.mismatch(`${name} received ${r.structure}, expected ${want.structure}`);
      if (want.decrypted !== undefined && decrypted !== want.decrypted) ctx.mismatch(`${name} ${decrypted ? 'decrypted it' : 'did not decrypt it'}, expected ${want.decrypted ? 'decrypted' : 'not decrypted'}`);
      if (want.fileIntact !== undefined) {
        const intact = r.file?.matchesSelector === true;
        ctx.saw(`${name}: ${r.file ? `file ${r.file.name ?? '(no name)'} ${r.file.type ?? ''} ${r.file.size} bytes, ${intact ? 'matches' : 'does not match'} the file-selector` : 'no file'}`);
        if (intact !== want.fileIntact) ctx.mismatch(`${name}: ${r.file ? `the file ${intact ? 'matches' : 'does not match'} its file-selector` : 'received no file'}; expected ${want.fileIntact ? 'an intact file' : 'no intact file'}`);
      }
      if (want.signatureVerified !== undefined && verified !== want.signatureVerified) ctx.mismatch(`${name}: signature ${r.signatureVerified ? `verified, Date ${r.dateCovered ? 'covered' : 'not covered'}` : 'not verified'}; expected ${want.signatureVerified ? 'verified with the Date covered' : 'not verified'}`);
    }
  },
});
