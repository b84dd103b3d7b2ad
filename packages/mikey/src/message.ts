/**
 * Whole MIKEY messages: HDR followed by a payload chain (RFC 3830 sec. 6).
 * {@link encodeMessage} and {@link decodeMessage} are exact inverses on every
 * message either produces or accepts.
 */
import { Reader, Writer } from './bytes.ts';
import { MikeyEncodeError, MikeyPayloadOrderError, MikeySizeError } from './errors.ts';
import { decodeHeader, encodeHeader, type MikeyHeader } from './header.ts';
import { decodeChain, encodeChain, firstPayloadCode } from './payloads/chain.ts';
import type { Payload } from './payloads/types.ts';

/** A MIKEY message: the common header and the payloads in order. */
export interface MikeyMessage {
  header: MikeyHeader;
  payloads: Payload[];
}

/** Default upper bound on an encoded message, in octets. */
export const MAX_MESSAGE_LENGTH = 65536;

/** Options of {@link decodeMessage}. */
export interface DecodeOptions {
  /** Reject longer inputs before looking at them (default {@link MAX_MESSAGE_LENGTH}). */
  maxLength?: number;
}

/**
 * Decodes one MIKEY message. Every octet must be consumed; malformed input
 * ends in a {@link MikeyParseError} subclass carrying the offset.
 */
export function decodeMessage(bytes: Uint8Array, opts: DecodeOptions = {}): MikeyMessage {
  return decodeMessageWithOffsets(bytes, opts).message;
}

/** A decoded message with the absolute offset of each payload (its first octet). */
export interface LocatedMessage {
  message: MikeyMessage;
  /** `offsets[i]` is where `message.payloads[i]` starts. */
  offsets: number[];
  /** Length of HDR in octets. */
  headerLength: number;
}

/** Like {@link decodeMessage}, also reporting where each payload starts. */
export function decodeMessageWithOffsets(bytes: Uint8Array, opts: DecodeOptions = {}): LocatedMessage {
  const max = opts.maxLength ?? MAX_MESSAGE_LENGTH;
  if (bytes.length > max) throw new MikeySizeError({ offset: 0, expected: `a MIKEY message of at most ${max} octets`, limit: max, actual: bytes.length });
  const r = new Reader(bytes);
  const { header, next, nextAt } = decodeHeader(r);
  if (next === 0) {
    if (r.remaining > 0) throw new MikeyPayloadOrderError({ offset: r.offset, expected: 'end of message (HDR next payload is 0)', found: `${r.remaining} trailing octets` });
    return { message: { header, payloads: [] }, offsets: [], headerLength: r.offset };
  }
  const headerLength = r.offset;
  const offsets: number[] = [];
  const payloads = decodeChain(r, next, nextAt, { nested: false }, offsets);
  return { message: { header, payloads }, offsets, headerLength };
}

/** Encodes a MIKEY message (next-payload and length fields are derived). */
export function encodeMessage(m: MikeyMessage, maxLength = MAX_MESSAGE_LENGTH): Uint8Array {
  const w = new Writer();
  encodeHeader(w, m.header, firstPayloadCode(m.payloads));
  encodeChain(w, m.payloads);
  if (w.length > maxLength) throw new MikeyEncodeError('message', `${w.length} octets exceed the limit of ${maxLength}`);
  return w.finish();
}
