/**
 * The KMS's MIKEY-SAKKE side over the same HTTPS interface, each request a
 * REQUEST_INIT_PSK so a device authenticates exactly as for a ticket (its
 * PSK, its user, replay) before it gets anything:
 *
 *   POST /sakke/keys  IDRr = the user itself        → 200 JSON key provision:
 *        the user's SAKKE RSK and ECCSI SSK/PVT for this month, the KMS's Z
 *        and KPAK; secrets wrapped under the device's transport key
 *        (TS 33.180 clause 5.3's KeyProvision, in JSON);
 *   POST /gms/gmk     IDRr = the group URI           → 200 application/mikey:
 *        the group management server's I_MESSAGE (RFC 6509) carrying the
 *        current epoch's GMK to this member, encrypted to the member's
 *        identity and signed with the GMS's ECCSI key (TS 33.180 clause 7.4).
 *
 * A removed member or a non-member gets a 403 and nothing else.
 */
import { identityToString } from '@imslab/mikey';
import type { AuditDraft } from './audit-log.ts';
import { KmsRefusal } from './errors.ts';
import type { SakkeKms } from './sakke-kms.ts';
import { authenticateRequestInit, type TicketContext } from './ticket-issuer.ts';

/** The key provision (JSON bytes) of the authenticated device's user. */
export function provisionSakkeKeys(bytes: Uint8Array, ctx: TicketContext, sakke: SakkeKms, draft: AuditDraft): Uint8Array {
  const { req, device, responder, now } = authenticateRequestInit(bytes, ctx, draft);
  const user = identityToString(req.initiator);
  if (identityToString(responder).toLowerCase() !== user.toLowerCase()) {
    throw new KmsRefusal(400, 'provision-self-only', `a key provisioning request names the user itself as IDRr (${user}), not ${identityToString(responder)}: a device gets only its own user's keys`);
  }
  const p = sakke.provision(user, device.secret, new Date(now));
  draft.how = `SAKKE RSK and ECCSI SSK for ${p.user} (identifier month ${Buffer.from(p.identifier, 'hex').toString('latin1').slice(0, 7)}) to device ${device.nai}`;
  return new TextEncoder().encode(JSON.stringify(p));
}

/** The I_MESSAGE carrying the group's current GMK to the authenticated member. */
export function issueGroupMasterKey(bytes: Uint8Array, ctx: TicketContext, sakke: SakkeKms, draft: AuditDraft): Uint8Array {
  const { req, responder, now } = authenticateRequestInit(bytes, ctx, draft);
  if (!ctx.groups) throw new KmsRefusal(403, 'unknown-group', `${identityToString(responder)} is not a group at this KMS`);
  const g = ctx.groups.require(identityToString(responder), 'sakke');
  const member = identityToString(req.initiator);
  ctx.groups.requireMember(g, member);
  const gmk = ctx.groups.gmk(g);
  draft.how = `GMK-ID 0x${gmk.gmkId.toString(16).padStart(8, '0')} of ${g.uri} (epoch ${gmk.epoch}) to member ${member} by MIKEY-SAKKE`;
  return sakke.gmkIMessage(gmk, member, now);
}
