/**
 * Ticket Request, KMS side (RFC 6043 sec. 4.1): authenticate REQUEST_INIT_PSK
 * with the initiating device's PSK, check what it asks for, seal a ticket
 * under the KMS master key and answer REQUEST_RESP. The MIKEY work is
 * @imslab/mikey's (verifyRequestInit, buildRequestResp, KmsTicketCodec);
 * this file adds who may ask for what.
 */
import {
  IdRole,
  IdType,
  MikeyTicketError,
  buildRequestResp,
  decodeMessage,
  identityToString,
  verifyRequestInit,
  type KmsTicketCodec,
  type MikeyIdentity,
  type ReplayCache,
} from '@imslab/mikey';
import type { AuditDraft } from './audit-log.ts';
import { KmsRefusal } from './errors.ts';
import type { GroupKeys } from './group-keys.ts';
import { chooseKmsIdentity, claimOf, deviceLookup } from './peer-auth.ts';
import type { DeviceEntry, SubscriberDirectory } from './subscriber-directory.ts';

/** Longest ticket validity granted (the brief's cap; RFC 6043 sec. 6.10 lets the KMS shorten TRe, flag K). */
export const MAX_TICKET_VALIDITY_MS = 3_600_000;

/** What issuing and resolving need from the KMS. */
export interface TicketContext {
  dir: SubscriberDirectory;
  /** Groups with a group key (conferences by ticket, PoC groups by GMK), with their epochs. */
  groups?: GroupKeys;
  codec: KmsTicketCodec;
  /** Identities this KMS answers to, canonical first. */
  kmsIds: readonly MikeyIdentity[];
  replayCache: ReplayCache;
  /** Clock in ms (tests move it). */
  now: () => number;
  /** Longest validity granted (default MAX_TICKET_VALIDITY_MS). */
  maxValidityMs?: number;
}

/**
 * Handles one REQUEST_INIT_PSK; returns REQUEST_RESP. Fills `draft` as it
 * learns who asks for what; throws {@link KmsRefusal} or a mikey error on
 * refusal (see refusal.ts).
 */
export function issueTicket(bytes: Uint8Array, ctx: TicketContext, draft: AuditDraft): Uint8Array {
  const { req, kms, responder, now } = authenticateRequestInit(bytes, ctx, draft);
  const group = req.policy === 'group' ? groupFor(ctx, responder, req.initiator) : undefined;
  if (!group) checkResponder(ctx.dir, responder, req.policy);
  else draft.how = `group key of ${identityToString(responder)} (epoch ${group.epoch}) to member ${identityToString(req.initiator)}`;
  let issued;
  try {
    issued = buildRequestResp(req, { codec: ctx.codec, kms, nowMs: now, maxValidityMs: ctx.maxValidityMs ?? MAX_TICKET_VALIDITY_MS, ...(group ? { tgk: group.tgk } : {}) });
  } catch (e) {
    if (e instanceof MikeyTicketError && e.reason === 'policy-mismatch') throw new KmsRefusal(400, 'bad-validity', `the requested validity (TRs..TRe) is empty or already over`);
    throw e;
  }
  // The ticket id is the sealed RAND; opening our own ticket at its start reads it (and proves the seal).
  const opened = ctx.codec.open(issued.ticket, issued.validFromMs);
  draft.ticketId = Buffer.from(opened.ticketId).toString('hex');
  draft.validTo = new Date(issued.validToMs).toISOString();
  return issued.bytes;
}

/** A verified REQUEST_INIT_PSK: who asked (device checked), for which one responder. */
export interface AuthenticatedRequest {
  req: ReturnType<typeof verifyRequestInit>;
  device: DeviceEntry;
  kms: MikeyIdentity;
  responder: MikeyIdentity;
  now: number;
}

/**
 * Verifies a REQUEST_INIT_PSK (MAC under the initiating device's PSK, the
 * device belongs to IDRi, IDRkms is this KMS, timestamp and replay) and
 * fills `draft`. Ticket requests use it, and so do SAKKE key provisioning and
 * GMK requests, which a device authenticates the same way (sakke-endpoint.ts).
 */
export function authenticateRequestInit(bytes: Uint8Array, ctx: TicketContext, draft: AuditDraft): AuthenticatedRequest {
  const m = decodeMessage(bytes);
  const claimed = claimOf(m, IdRole.INITIATOR);
  if (claimed) draft.claimed = claimed;
  const kms = chooseKmsIdentity(m, ctx.kmsIds);
  let device: DeviceEntry | undefined;
  const now = ctx.now();
  const req = verifyRequestInit(bytes, { kms, lookupPsk: deviceLookup(ctx.dir, 'IDRi', (d) => (device = d)), replayCache: ctx.replayCache, nowMs: now });
  // Authenticated from here on: name the initiator by what was verified.
  delete draft.claimed;
  draft.initiator = identityToString(req.initiator);
  draft.initiatorDevice = device!.nai;
  draft.policy = req.policy;
  if (req.responders.length !== 1) {
    throw new KmsRefusal(400, 'one-responder-per-ticket', `TP Data names ${req.responders.length} responders (IDRr); this KMS seals one intended responder per ticket: request one ticket per responder`);
  }
  const responder = req.responders[0]!;
  draft.responder = identityToString(responder);
  return { req, device: device!, kms, responder, now };
}

/**
 * The intended responder must be someone the KMS can later authorise: a
 * device NAI for 'designated-device' (TR 33.828 4.1.1: "only for the
 * designated user and terminal"), a subscriber (URI, or a device NAI standing
 * for its user) otherwise.
 */
function checkResponder(dir: SubscriberDirectory, r: MikeyIdentity, policy: string): void {
  const name = identityToString(r);
  if (policy === 'designated-device') {
    if (r.idType !== IdType.NAI || !dir.deviceByPskId(r)) {
      const user = dir.userOf(r);
      throw user
        ? new KmsRefusal(400, 'designated-device-needs-device', `policy designated-device names the device, not the user: use a device NAI of ${user.uri} (${user.devices.map((d) => d.nai).join(', ')}) as IDRr, not ${name}`)
        : new KmsRefusal(403, 'unknown-responder', `IDRr ${name} is not a device known to this KMS`);
    }
    return;
  }
  if (!dir.userOf(r)) throw new KmsRefusal(403, 'unknown-responder', `IDRr ${name} is not a subscriber of this KMS, so nobody could resolve the ticket`);
}

/**
 * A group ticket (TR 33.828 4.1.3): the responder must be a conference this
 * KMS keys, the initiator one of its members; the ticket then carries the
 * group's TGK, the same for every member, so every member derives one SRTP
 * key. The conference bridge is not a member and never gets it.
 */
function groupFor(ctx: TicketContext, conference: MikeyIdentity, member: MikeyIdentity): { tgk: Uint8Array; epoch: number } {
  if (!ctx.groups) throw new KmsRefusal(403, 'unknown-group', `${identityToString(conference)} is not a conference with a group key at this KMS`);
  const g = ctx.groups.require(identityToString(conference), 'ticket');
  ctx.groups.requireMember(g, identityToString(member));
  return { tgk: ctx.groups.tgk(g), epoch: g.epoch };
}
