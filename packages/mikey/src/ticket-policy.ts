/**
 * Ticket Policy contents (RFC 6043 sec. 6.10): TP Data = First Payload,
 * [IDRkms], [IDRi], [TRs], [TRe], [TRr], [KEMAC], {IDRapp}, (IDRr), plus this
 * project's resolution policy.
 *
 * The resolution policy travels in a GENERAL_EXT payload of type 0 "Vendor
 * ID" (RFC 3830 sec. 6.15: vendor-specific byte string), placed last in TP
 * Data and in the ticket data:
 *
 *   "imslab" (6 octets) | item 0x01 | length 0x01 | policy (1 designated-device,
 *   2 any-device-of-user, 3 retargeting, 4 group)
 */
import { GenExtType, IdRole, TicketType, TsRole, TsType } from './codes.ts';
import { MikeyEncodeError } from './errors.ts';
import { idrPayload, identityOf, type MikeyIdentity } from './identity.ts';
import { noTicketFlags, ticketFlagViolations } from './payloads/ticket.ts';
import { msFromTimestamp, ntpFromMs } from './payloads/timestamp.ts';
import type { GeneralExtPayload, Payload, TicketFlags } from './payloads/types.ts';

/**
 * Who may resolve a ticket:
 * - 'designated-device': only the exact Responder identity (IDRr) in the ticket;
 * - 'any-device-of-user': any device whose user ({@link defaultUserOf} or the
 *   KMS's own mapping) equals the user of IDRr;
 * - 'retargeting': any Responder the KMS authenticates (the call may have been
 *   forwarded to another user).
 */
export type ResolutionPolicy = 'designated-device' | 'any-device-of-user' | 'retargeting' | 'group';

/** 'group' (4): a conference's group key, issued to each member on its own request and resolvable by nobody. */
const POLICY_CODE: Record<ResolutionPolicy, number> = { 'designated-device': 1, 'any-device-of-user': 2, retargeting: 3, group: 4 };
const VENDOR = new TextEncoder().encode('imslab');

/** Ticket type / subtype / version of the ticket format defined in ticket.ts. */
export const IMSLAB_TICKET = { ticketType: TicketType.THREEGPP_BASE, subtype: 1, version: 1 } as const;

/** The GENERAL_EXT (Vendor ID) payload carrying a resolution policy. */
export function resolutionPolicyExt(policy: ResolutionPolicy): GeneralExtPayload {
  const code = POLICY_CODE[policy];
  if (code === undefined) throw new MikeyEncodeError('resolution policy', `unknown policy ${String(policy)}`);
  const data = new Uint8Array(VENDOR.length + 3);
  data.set(VENDOR);
  data.set([0x01, 0x01, code], VENDOR.length);
  return { kind: 'GENERAL_EXT', extType: GenExtType.VENDOR_ID, data };
}

/** The resolution policy of a GENERAL_EXT payload, or undefined when it is not ours / not valid. */
export function resolutionPolicyOf(p: Payload): ResolutionPolicy | undefined {
  if (p.kind !== 'GENERAL_EXT' || p.extType !== GenExtType.VENDOR_ID || p.data.length !== VENDOR.length + 3) return undefined;
  for (let i = 0; i < VENDOR.length; i++) if (p.data[i] !== VENDOR[i]) return undefined;
  if (p.data[VENDOR.length] !== 0x01 || p.data[VENDOR.length + 1] !== 0x01) return undefined;
  const code = p.data[VENDOR.length + 2];
  return (Object.keys(POLICY_CODE) as ResolutionPolicy[]).find((k) => POLICY_CODE[k] === code);
}

/** Readable view of TP Data. */
export interface TicketPolicyData {
  kms?: MikeyIdentity;
  initiator?: MikeyIdentity;
  validFromMs?: number;
  validToMs?: number;
  responders: MikeyIdentity[];
  policy?: ResolutionPolicy;
}

/** Builds TP Data: [IDRkms], [IDRi], [TRs], [TRe], (IDRr), [policy GENERAL_EXT]. */
export function buildTicketPolicyData(d: TicketPolicyData): Payload[] {
  const out: Payload[] = [];
  if (d.kms) out.push(idrPayload(IdRole.KMS, d.kms));
  if (d.initiator) out.push(idrPayload(IdRole.INITIATOR, d.initiator));
  if (d.validFromMs !== undefined) out.push({ kind: 'TR', role: TsRole.VALID_FROM, tsType: TsType.NTP_UTC, value: ntpFromMs(d.validFromMs) });
  if (d.validToMs !== undefined) out.push({ kind: 'TR', role: TsRole.VALID_TO, tsType: TsType.NTP_UTC, value: ntpFromMs(d.validToMs) });
  for (const r of d.responders) out.push(idrPayload(IdRole.RESPONDER, r));
  if (d.policy) out.push(resolutionPolicyExt(d.policy));
  return out;
}

/** Reads TP Data (unknown payloads are ignored; the first of each kind wins). */
export function readTicketPolicyData(tpData: readonly Payload[] | undefined): TicketPolicyData {
  const d: TicketPolicyData = { responders: [] };
  for (const p of tpData ?? []) {
    if (p.kind === 'IDR') {
      if (p.role === IdRole.KMS && !d.kms) d.kms = identityOf(p);
      else if (p.role === IdRole.INITIATOR && !d.initiator) d.initiator = identityOf(p);
      else if (p.role === IdRole.RESPONDER) d.responders.push(identityOf(p));
    } else if (p.kind === 'TR') {
      const ms = msFromTimestamp(p.tsType, p.value);
      if (ms === undefined) continue;
      if (p.role === TsRole.VALID_FROM && d.validFromMs === undefined) d.validFromMs = ms;
      if (p.role === TsRole.VALID_TO && d.validToMs === undefined) d.validToMs = ms;
    } else if (!d.policy) {
      const pol = resolutionPolicyOf(p);
      if (pol) d.policy = pol;
    }
  }
  return d;
}

/**
 * Flags of tickets issued here: D (KMS-generated), E (resolve mandatory),
 * F (TRANSFER_RESP sent), G (Responder generates RANDRr), H (RANDRi in the
 * TEK derivation), N and O (RFC 6043 TRANSFER_INIT). No forking, no reuse.
 */
export function defaultTicketFlags(over: Partial<TicketFlags> = {}): TicketFlags {
  const f = { ...noTicketFlags(), D: true, E: true, F: true, G: true, H: true, N: true, O: true, ...over };
  const bad = ticketFlagViolations(f);
  if (bad.length > 0) throw new MikeyEncodeError('ticket flags', `violate RFC 6043 sec. 6.10 dependencies: ${bad.join('; ')}`);
  return f;
}
