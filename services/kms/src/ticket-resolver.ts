/**
 * Ticket Resolve, KMS side (RFC 6043 sec. 4.3): authenticate RESOLVE_INIT_PSK
 * with the resolving device's PSK, open the ticket under the KMS master key,
 * apply the ticket's resolution policy to that device, answer RESOLVE_RESP.
 *
 * Why not mikey's verifyResolveInit: its policy step compares the
 * authenticated identity (here always the user's SIP URI) with the ticket's
 * IDRr, and has no view of which device's key (IDRpsk) authenticated the
 * message, so 'designated-device' (IDRr = a device NAI) could never pass and
 * forwarding chains need a hook it lacks. The steps below are mikey's, in
 * mikey's order (MAC before anything else is trusted, then timestamp and
 * replay, identities, ticket), composed from the primitives it exports; only
 * the authorisation is the KMS's own (resolution-policy.ts).
 */
import {
  DataType,
  IdRole,
  MikeyProtocolError,
  MikeyTicketError,
  buildResolveResp,
  checkTimestamp,
  dataTypeName,
  decodeMessageWithOffsets,
  deriveTicketMessageKeys,
  identitiesEqual,
  identityToString,
  prfHash,
  readTicketPolicyData,
  validateGrammar,
  verifyMessageMac,
  type MikeyMessage,
  type OpenedTicket,
  type Payload,
  type TicketPayload,
  type VerifiedResolveInit,
} from '@imslab/mikey';
import { createHash } from 'node:crypto';
import type { AuditDraft } from './audit-log.ts';
import { KmsRefusal } from './errors.ts';
import { chooseKmsIdentity, claimOf, deviceLookup, idrOf } from './peer-auth.ts';
import { decideDeferredResolution, decideResolution } from './resolution-policy.ts';
import type { DeviceEntry } from './subscriber-directory.ts';
import type { TicketContext } from './ticket-issuer.ts';

function need<K extends Payload['kind']>(m: MikeyMessage, kind: K): Extract<Payload, { kind: K }> {
  const p = m.payloads.find((x) => x.kind === kind) as Extract<Payload, { kind: K }> | undefined;
  if (!p) throw new MikeyProtocolError('missing-payload', `RESOLVE_INIT_PSK lacks a ${kind} payload`);
  return p;
}

/**
 * Handles one RESOLVE_INIT_PSK; returns RESOLVE_RESP. Fills `draft`;
 * throws {@link KmsRefusal} or a mikey error on refusal.
 */
export function resolveTicket(bytes: Uint8Array, ctx: TicketContext, draft: AuditDraft, deferred = false): Uint8Array {
  const { message: m, offsets } = decodeMessageWithOffsets(bytes);
  if (m.header.dataType !== DataType.RESOLVE_INIT_PSK) {
    throw new MikeyProtocolError('unexpected-data-type', `expected ${dataTypeName(DataType.RESOLVE_INIT_PSK)}, got ${dataTypeName(m.header.dataType)}`, 11);
  }
  validateGrammar(m, offsets);
  const claimed = claimOf(m, IdRole.RESPONDER);
  if (claimed) draft.claimed = claimed;
  const kms = chooseKmsIdentity(m, ctx.kmsIds);

  // RFC 6043 sec. 4.3.1 / 5.1.2: keys from the device PSK, RANDRr, direction 0x01.
  let device: DeviceEntry | undefined;
  const found = deviceLookup(ctx.dir, 'IDRr', (d) => (device = d))({ identity: idrOf(m, IdRole.RESPONDER), pskId: idrOf(m, IdRole.PSK) })!;
  const randRr = need(m, 'RANDR').rand;
  const v = m.payloads[m.payloads.length - 1];
  if (!v || v.kind !== 'V') throw new MikeyProtocolError('missing-payload', 'RESOLVE_INIT_PSK does not end with V');
  const k = deriveTicketMessageKeys(found.psk, m.header.csbId, 'initial', { randRr }, { encrAlg: 0, macAlg: v.macAlg, hash: prfHash(m.header.prf) });
  verifyMessageMac(bytes, m, k.authKey, { identities: [found.identity.data, kms.data] });

  // Authentic from here on (RFC 3830 sec. 5.4: timestamp window, then replay cache).
  const dev = device!;
  delete draft.claimed;
  draft.resolver = dev.user.uri;
  draft.resolverDevice = dev.nai;
  const now = ctx.now();
  const t = need(m, 'T');
  const ms = checkTimestamp(t, now, ctx.replayCache.windowMs);
  ctx.replayCache.check(`${m.header.dataType}:${Buffer.from(v.mac).toString('hex')}`, ms, now);

  const ticketPayload = need(m, 'TICKET');
  const ticket = openForAudit(ctx, ticketPayload, now, draft);
  if (deferred) draft.deferred = true;
  const decision = deferred ? decideDeferredResolution(ctx.dir, ticket, dev) : decideResolution(ctx.dir, ticket, dev);
  if (!decision.allowed) throw new KmsRefusal(403, decision.code, decision.reason);
  draft.how = decision.how;

  // RFC 6043 sec. 4.3.2: RESOLVE_RESP under keys from the same PSK, direction 0x02. Tickets that more than
  // one device may resolve fork keys (flag I, sec. 5.1.4): buildResolveResp sends this device MPKr' and TGK'
  // forked for its IDRr with a fresh RANDRkms, so no device can derive another device's keys.
  const verified: VerifiedResolveInit = {
    message: m,
    responder: found.identity,
    psk: found.psk,
    csbId: m.header.csbId,
    prf: m.header.prf,
    macAlg: v.macAlg,
    randRr,
    t,
    ticket,
    redirected: !identitiesEqual(found.identity, ticket.responder),
  };
  const resp = buildResolveResp(verified, { kms, nowMs: now, deferred });
  if (resp.keys.randRkms) draft.forked = true;
  draft.keyFingerprint = keyFingerprint(resp.keys.mpkr, resp.keys.tgk);
  return resp.bytes;
}

/**
 * First 8 octets of SHA-256(MPKr || TGK) as handed out: lets the audit show
 * that forked devices got different keys without recording any key.
 */
function keyFingerprint(mpkr: Uint8Array, tgk: Uint8Array): string {
  return createHash('sha256').update(mpkr).update(tgk).digest('hex').slice(0, 16);
}

/**
 * Opens the ticket (ticket MAC, decryption, validity: KmsTicketCodec.open)
 * and records its parties in the audit draft. When the ticket is authentic
 * but outside its validity, the parties are still recorded (read by opening
 * it at its own start time) before the refusal goes out.
 */
function openForAudit(ctx: TicketContext, tp: TicketPayload, now: number, draft: AuditDraft): OpenedTicket {
  const note = (o: OpenedTicket) => {
    draft.initiator = identityToString(o.initiator);
    draft.responder = identityToString(o.responder);
    draft.policy = o.policy;
    draft.ticketId = Buffer.from(o.ticketId).toString('hex');
  };
  try {
    const o = ctx.codec.open(tp, now);
    note(o);
    return o;
  } catch (e) {
    if (e instanceof MikeyTicketError && (e.reason === 'expired' || e.reason === 'not-yet-valid')) {
      const from = readTicketPolicyData(tp.tpData).validFromMs;
      if (from !== undefined) {
        try {
          note(ctx.codec.open(tp, from));
        } catch {
          // the refusal below says enough
        }
      }
    }
    throw e;
  }
}
