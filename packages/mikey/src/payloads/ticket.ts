/**
 * TP and TICKET payload bodies, RFC 6043 sec. 6.10:
 *
 *   Next Payload(8) | Ticket Type(16) | Subtype(8) | Version(8) |
 *   PRF Func(7) | D E F G H I J K L M N O (1 bit each) | Res(5) |
 *   TP Data length(16) | TP Data |
 *   [TICKET only: Ticket Data length(16) | Ticket Data |
 *                 Initiator Data length(16) | Initiator Data]
 *
 * TP Data and Initiator Data are nested payload chains (First Payload octet,
 * then payloads); Ticket Data is opaque to everyone but the KMS.
 */
import { Reader, Writer, checkBytes } from '../bytes.ts';
import { MikeyEncodeError } from '../errors.ts';
import type { Payload, TicketFlags, TicketPayload, TicketPolicyFields, TpPayload } from './types.ts';

/** Decoder/encoder of a nested payload chain (supplied by chain.ts to avoid an import cycle). */
export interface NestedChainCodec {
  decode(r: Reader): Payload[] | undefined;
  encode(payloads: Payload[] | undefined, field: string): Uint8Array;
}

const FLAG_ORDER = ['D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O'] as const;

/** Packs PRF func, flags D..O and the 5 reserved bits into 24 bits. */
export function packPolicyBits(prf: number, flags: TicketFlags, reserved = 0): number {
  if (!Number.isInteger(prf) || prf < 0 || prf > 0x7f) throw new MikeyEncodeError('PRF func', 'must fit in 7 bits');
  if (!Number.isInteger(reserved) || reserved < 0 || reserved > 0x1f) throw new MikeyEncodeError('TP reserved', 'must fit in 5 bits');
  let v = prf;
  for (const f of FLAG_ORDER) v = (v << 1) | (flags[f] ? 1 : 0);
  return (v << 5) | reserved;
}

/** Unpacks the 24 bits written by {@link packPolicyBits}. */
export function unpackPolicyBits(v: number): { prf: number; flags: TicketFlags; reserved: number } {
  const reserved = v & 0x1f;
  let bits = v >>> 5;
  const flags = {} as TicketFlags;
  for (let i = FLAG_ORDER.length - 1; i >= 0; i--) {
    flags[FLAG_ORDER[i]!] = (bits & 1) === 1;
    bits >>>= 1;
  }
  return { prf: bits & 0x7f, flags, reserved };
}

/** A TicketFlags object with every flag cleared. */
export function noTicketFlags(): TicketFlags {
  return { D: false, E: false, F: false, G: false, H: false, I: false, J: false, K: false, L: false, M: false, N: false, O: false };
}

/**
 * Flag dependency violations of RFC 6043 sec. 6.10 (empty when consistent):
 * NOT D => L; G => F; NOT G => H; NOT H => G; I => E; K => D; M => F.
 */
export function ticketFlagViolations(f: TicketFlags): string[] {
  const v: string[] = [];
  if (!f.D && !f.L) v.push('NOT D => L');
  if (f.G && !f.F) v.push('G => F');
  if (!f.G && !f.H) v.push('NOT G => H');
  if (f.I && !f.E) v.push('I => E');
  if (f.K && !f.D) v.push('K => D');
  if (f.M && !f.F) v.push('M => F');
  return v;
}

function decodePolicyFields(r: Reader, nested: NestedChainCodec): TicketPolicyFields {
  const ticketType = r.u16('Ticket Type');
  const subtype = r.u8('Subtype');
  const version = r.u8('Version');
  const bits = Number(r.uint(3, 'PRF Func / flags D-O / Res'));
  const { prf, flags, reserved } = unpackPolicyBits(bits);
  const len = r.u16('TP Data length');
  const tpData = nested.decode(r.sub(len, 'TP Data'));
  const out: TicketPolicyFields = { ticketType, subtype, version, prf, flags };
  if (reserved !== 0) out.reserved = reserved;
  if (tpData !== undefined) out.tpData = tpData;
  return out;
}

function encodePolicyFields(w: Writer, p: TicketPolicyFields, nested: NestedChainCodec, name: string): void {
  const bits = packPolicyBits(p.prf, p.flags, p.reserved ?? 0);
  const tp = nested.encode(p.tpData, `${name}.tpData`);
  if (tp.length > 0xffff) throw new MikeyEncodeError(`${name}.tpData`, `${tp.length} octets exceed 65535`);
  w.u16(p.ticketType, `${name}.ticketType`).u8(p.subtype, `${name}.subtype`).u8(p.version, `${name}.version`);
  w.uint(BigInt(bits), 3, `${name} flags`).u16(tp.length, 'TP Data length').bytes(tp);
}

/** TP body. */
export function decodeTp(r: Reader, nested: NestedChainCodec): TpPayload {
  return { kind: 'TP', ...decodePolicyFields(r, nested) };
}

/** Writes a TP body. */
export function encodeTp(w: Writer, p: TpPayload, nested: NestedChainCodec): void {
  encodePolicyFields(w, p, nested, 'TP');
}

/** TICKET body. */
export function decodeTicket(r: Reader, nested: NestedChainCodec): TicketPayload {
  const fields = decodePolicyFields(r, nested);
  const tlen = r.u16('Ticket Data length');
  const ticketData = r.bytes(tlen, 'Ticket Data');
  const ilen = r.u16('Initiator Data length');
  const initiatorData = nested.decode(r.sub(ilen, 'Initiator Data'));
  const out: TicketPayload = { kind: 'TICKET', ...fields, ticketData };
  if (initiatorData !== undefined) out.initiatorData = initiatorData;
  return out;
}

/** Writes a TICKET body. */
export function encodeTicket(w: Writer, p: TicketPayload, nested: NestedChainCodec): void {
  encodePolicyFields(w, p, nested, 'TICKET');
  checkBytes(p.ticketData, 'TICKET.ticketData', 0xffff);
  const init = nested.encode(p.initiatorData, 'TICKET.initiatorData');
  if (init.length > 0xffff) throw new MikeyEncodeError('TICKET.initiatorData', `${init.length} octets exceed 65535`);
  w.u16(p.ticketData.length, 'Ticket Data length').bytes(p.ticketData).u16(init.length, 'Initiator Data length').bytes(init);
}

/**
 * The octets of the Ticket Policy part of a TP/TICKET (Ticket Type through TP
 * Data, i.e. everything the TP payload carries after its next-payload octet).
 * The KMS binds these into the ticket MAC.
 */
export function encodeTicketPolicyPart(p: TicketPolicyFields, nested: NestedChainCodec): Uint8Array {
  const w = new Writer();
  encodePolicyFields(w, p, nested, 'TP');
  return w.finish();
}
