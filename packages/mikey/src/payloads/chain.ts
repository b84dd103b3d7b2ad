/**
 * Payload chains (RFC 3830 sec. 6: each payload's first octet names the type
 * of the next one, 0 ends the chain; SIGN has no such octet and is always
 * last). Used for the message body after HDR and for the nested chains in
 * TP Data and TICKET Initiator Data (RFC 6043 sec. 6.10), which start with a
 * First Payload octet instead.
 */
import { Reader, Writer } from '../bytes.ts';
import { PayloadType, payloadTypeName } from '../codes.ts';
import { MikeyEncodeError, MikeyPayloadOrderError, MikeySizeError, MikeyUnsupportedError } from '../errors.ts';
import { decodeCert, decodeId, decodeIdr, encodeCert, encodeId, encodeIdr } from './identity.ts';
import { decodeDh, decodeKemac, encodeDh, encodeKemac } from './kemac.ts';
import { decodeErr, decodeGeneralExt, encodeErr, encodeGeneralExt } from './misc.ts';
import { decodeRand, decodeRandr, encodeRand, encodeRandr } from './rand.ts';
import { decodeSakke, encodeSakke } from './sakke.ts';
import { decodeSp, encodeSp } from './sp.ts';
import { decodeTicket, decodeTp, encodeTicket, encodeTp, type NestedChainCodec } from './ticket.ts';
import { decodeT, decodeTr, encodeT, encodeTr } from './timestamp.ts';
import type { Payload, PayloadKind } from './types.ts';
import { decodeChash, decodePke, decodeSign, decodeV, encodeChash, encodePke, encodeSign, encodeV } from './verification.ts';

/** At most this many payloads in one chain (top level or nested). */
export const MAX_PAYLOADS = 64;

/** Next-payload code of each payload kind. */
export const PAYLOAD_CODE: Readonly<Record<PayloadKind, number>> = {
  KEMAC: PayloadType.KEMAC,
  PKE: PayloadType.PKE,
  DH: PayloadType.DH,
  SIGN: PayloadType.SIGN,
  T: PayloadType.T,
  ID: PayloadType.ID,
  CERT: PayloadType.CERT,
  CHASH: PayloadType.CHASH,
  V: PayloadType.V,
  SP: PayloadType.SP,
  RAND: PayloadType.RAND,
  ERR: PayloadType.ERR,
  TR: PayloadType.TR,
  IDR: PayloadType.IDR,
  RANDR: PayloadType.RANDR,
  TP: PayloadType.TP,
  TICKET: PayloadType.TICKET,
  GENERAL_EXT: PayloadType.GENERAL_EXT,
  SAKKE: PayloadType.SAKKE,
};

/** Where a chain sits, which decides the order rules. */
interface ChainContext {
  /** Inside TP Data / Initiator Data: TP and TICKET are not allowed, V may be followed by V (Vi, Vr). */
  nested: boolean;
}

const nested: NestedChainCodec = {
  decode(r: Reader): Payload[] | undefined {
    if (r.remaining === 0) return undefined;
    const firstAt = r.offset;
    const first = r.u8('First Payload');
    if (first === PayloadType.LAST) {
      if (r.remaining > 0) throw new MikeyPayloadOrderError({ offset: r.offset, expected: 'end of nested data after First Payload 0', payloadType: r.payloadType, found: `${r.remaining} trailing octets` });
      return [];
    }
    return decodeChain(r, first, firstAt, { nested: true });
  },
  encode(payloads: Payload[] | undefined, field: string): Uint8Array {
    if (payloads === undefined) return new Uint8Array(0);
    const w = new Writer();
    w.u8(payloads.length === 0 ? PayloadType.LAST : codeOf(payloads[0]!, field), `${field} First Payload`);
    encodeChainInto(w, payloads, { nested: true }, field);
    return w.finish();
  },
};

/** The nested chain codec used for TP Data / Initiator Data. */
export const nestedChainCodec: NestedChainCodec = nested;

function codeOf(p: Payload, field: string): number {
  const c = PAYLOAD_CODE[p.kind];
  if (c === undefined) throw new MikeyEncodeError(field, `unknown payload kind ${String((p as { kind: unknown }).kind)}`);
  return c;
}

function decodeBody(type: number, r: Reader, announcedAt: number, ctx: ChainContext): Payload {
  switch (type) {
    case PayloadType.KEMAC:
      return decodeKemac(r);
    case PayloadType.PKE:
      return decodePke(r);
    case PayloadType.DH:
      return decodeDh(r);
    case PayloadType.SIGN:
      return decodeSign(r);
    case PayloadType.T:
      return decodeT(r);
    case PayloadType.ID:
      return decodeId(r);
    case PayloadType.CERT:
      return decodeCert(r);
    case PayloadType.CHASH:
      return decodeChash(r);
    case PayloadType.V:
      return decodeV(r);
    case PayloadType.SP:
      return decodeSp(r);
    case PayloadType.RAND:
      return decodeRand(r);
    case PayloadType.ERR:
      return decodeErr(r);
    case PayloadType.TR:
      return decodeTr(r);
    case PayloadType.IDR:
      return decodeIdr(r);
    case PayloadType.RANDR:
      return decodeRandr(r);
    case PayloadType.GENERAL_EXT:
      return decodeGeneralExt(r);
    case PayloadType.SAKKE:
      return decodeSakke(r);
    case PayloadType.TP:
    case PayloadType.TICKET:
      if (ctx.nested) throw new MikeyPayloadOrderError({ offset: announcedAt, expected: 'no TP/TICKET inside TP Data or Initiator Data', found: payloadTypeName(type) });
      return type === PayloadType.TP ? decodeTp(r, nested) : decodeTicket(r, nested);
    case PayloadType.KEY_DATA:
      throw new MikeyPayloadOrderError({ offset: announcedAt, expected: 'a payload type other than 20 (Key data only occurs inside KEMAC)', found: '20' });
    default:
      throw new MikeyUnsupportedError({ offset: announcedAt, expected: 'a known next payload type (0-17, 21, 26)', found: payloadTypeName(type) });
  }
}

/**
 * Decodes a payload chain whose first payload has type `first` (announced by
 * the octet at `announcedAt`), up to the end of `r`.
 */
export function decodeChain(r: Reader, first: number, announcedAt: number, ctx: ChainContext = { nested: false }, offsets?: number[]): Payload[] {
  const out: Payload[] = [];
  let type = first;
  for (;;) {
    if (out.length >= MAX_PAYLOADS) throw new MikeySizeError({ offset: r.offset, expected: `at most ${MAX_PAYLOADS} payloads in a chain`, limit: MAX_PAYLOADS, actual: out.length + 1 });
    r.payloadType = type;
    const startAt = r.offset;
    offsets?.push(startAt);
    let next: number = PayloadType.LAST;
    let nextAt = startAt;
    if (type !== PayloadType.SIGN) {
      // Peek the next-payload octet first so an unknown type is reported where it was announced.
      nextAt = r.offset;
      next = r.u8('next payload');
    }
    const p = decodeBody(type, r, announcedAt, ctx);
    out.push(p);
    if (type === PayloadType.SIGN || next === PayloadType.LAST) break;
    if (type === PayloadType.V && !ctx.nested) {
      throw new MikeyPayloadOrderError({ offset: nextAt, expected: 'next payload 0: V is the last payload of a message', payloadType: PayloadType.V, found: payloadTypeName(next) });
    }
    type = next;
    announcedAt = nextAt;
  }
  r.payloadType = undefined;
  if (r.remaining > 0) {
    throw new MikeyPayloadOrderError({ offset: r.offset, expected: `end of data after the last payload (${payloadTypeName(type)} ended the next-payload chain)`, found: `${r.remaining} trailing octets` });
  }
  return out;
}

function encodeChainInto(w: Writer, payloads: readonly Payload[], ctx: ChainContext, field: string): void {
  if (payloads.length > MAX_PAYLOADS) throw new MikeyEncodeError(field, `more than ${MAX_PAYLOADS} payloads`);
  payloads.forEach((p, i) => {
    const f = `${field}[${i}](${p.kind})`;
    codeOf(p, f);
    const last = i === payloads.length - 1;
    if (p.kind === 'SIGN') {
      if (!last) throw new MikeyEncodeError(f, 'SIGN has no next-payload field and must be last');
      encodeSign(w, p);
      return;
    }
    if (p.kind === 'V' && !last && !ctx.nested) throw new MikeyEncodeError(f, 'V must be the last payload of a message');
    if ((p.kind === 'TP' || p.kind === 'TICKET') && ctx.nested) throw new MikeyEncodeError(f, 'TP/TICKET cannot be nested');
    w.u8(last ? PayloadType.LAST : codeOf(payloads[i + 1]!, f), `${f} next payload`);
    switch (p.kind) {
      case 'KEMAC':
        return encodeKemac(w, p);
      case 'PKE':
        return encodePke(w, p);
      case 'DH':
        return encodeDh(w, p);
      case 'T':
        return encodeT(w, p);
      case 'ID':
        return encodeId(w, p);
      case 'CERT':
        return encodeCert(w, p);
      case 'CHASH':
        return encodeChash(w, p);
      case 'V':
        return encodeV(w, p);
      case 'SP':
        return encodeSp(w, p);
      case 'RAND':
        return encodeRand(w, p);
      case 'ERR':
        return encodeErr(w, p);
      case 'TR':
        return encodeTr(w, p);
      case 'IDR':
        return encodeIdr(w, p);
      case 'RANDR':
        return encodeRandr(w, p);
      case 'GENERAL_EXT':
        return encodeGeneralExt(w, p);
      case 'SAKKE':
        return encodeSakke(w, p);
      case 'TP':
        return encodeTp(w, p, nested);
      case 'TICKET':
        return encodeTicket(w, p, nested);
    }
  });
}

/** Encodes a top-level payload chain (after HDR). */
export function encodeChain(w: Writer, payloads: readonly Payload[]): void {
  encodeChainInto(w, payloads, { nested: false }, 'payloads');
}

/** The next-payload code of the first payload (0 for an empty list). */
export function firstPayloadCode(payloads: readonly Payload[]): number {
  return payloads.length === 0 ? PayloadType.LAST : codeOf(payloads[0]!, 'payloads[0]');
}
