/**
 * One floor control message as one RTCP APP packet (RFC 3550 sec. 6.7;
 * TS 24.380 clause 8.1.2): V=2, P=0, the message subtype in the 5-bit count
 * field, PT=204, length in 32-bit words minus one, the sender's SSRC, the
 * name `MCPT`, then the floor control specific fields (clause 8.2.3), each
 * an 8-bit field ID, an 8-bit length (16-bit from ID 192), the value, and
 * zero padding to the next 32-bit boundary.
 */
import { RTCP_PACKET_TYPE } from '@imslab/rtp';
import {
  ACK_CAPABLE,
  ACK_REQUIRED_BIT,
  FIELD_ID,
  FIELD_NAME_BY_ID,
  LEGACY_FIELD_ID,
  MCPT_NAME,
  SUBTYPE,
  TWO_OCTET_LENGTH_FROM_ID,
  messageTypeOfSubtype,
  type FieldName,
  type FloorMessageType,
} from './codes.ts';
import { FloorDecodeError, FloorEncodeError } from './errors.ts';
import { decodeFieldValue, encodeFieldValue, pad4, PROPERTY_OF_FIELD, type FloorFields } from './fields.ts';
import { MESSAGE_FORMAT } from './formats.ts';

/** A floor control message in typed form. */
export interface FloorMessage {
  type: FloorMessageType;
  /** Subtype bit "acknowledgment required" (table 8.2.2-1); only for the types in `ACK_CAPABLE`. */
  ackRequired: boolean;
  /** SSRC of the sender: the floor participant or the floor control server. */
  ssrc: number;
  fields: FloorFields;
}

/** Outcome of decoding: the message, or what was wrong with the bytes. */
export type FloorDecodeResult = { ok: true; message: FloorMessage } | { ok: false; error: FloorDecodeError };

/** RTCP APP header (4) + SSRC (4) + name (4). */
export const APP_HEADER_LENGTH = 12;

const NAME_BYTES = new TextEncoder().encode(MCPT_NAME);

/** Whether bytes[at, at+4) are the APP name `MCPT` (compared as bytes, so case matters as RFC 3550 sec. 6.7 says). */
export function isMcptName(bytes: Uint8Array, at: number): boolean {
  return bytes[at] === NAME_BYTES[0] && bytes[at + 1] === NAME_BYTES[1] && bytes[at + 2] === NAME_BYTES[2] && bytes[at + 3] === NAME_BYTES[3];
}

/**
 * Encodes a message as one RTCP APP packet.
 * @throws FloorEncodeError when a value is out of range or the message type does not carry a field
 */
export function encodeFloorMessage(m: FloorMessage): Uint8Array {
  const format = MESSAGE_FORMAT[m.type];
  if (!format) throw new FloorEncodeError('type', `unknown message type ${String(m.type)}`);
  if (!Number.isInteger(m.ssrc) || m.ssrc < 0 || m.ssrc > 0xffffffff) throw new FloorEncodeError('ssrc', `must be a 32-bit unsigned integer, got ${m.ssrc}`);
  if (m.ackRequired && !ACK_CAPABLE.has(m.type)) throw new FloorEncodeError('ackRequired', `${m.type} has no "acknowledgment required" variant (TS 24.380 table 8.2.2-1)`);
  const parts: Uint8Array[] = [];
  const present = new Set<FieldName>();
  for (const name of format.fields) {
    const x = m.fields[PROPERTY_OF_FIELD[name]];
    if (x === undefined) continue;
    const v = encodeFieldValue(name, x);
    if (typeof v === 'string') throw new FloorEncodeError(PROPERTY_OF_FIELD[name], v);
    const tlv = new Uint8Array(pad4(2 + v.length));
    tlv[0] = FIELD_ID[name];
    tlv[1] = v.length;
    tlv.set(v, 2);
    parts.push(tlv);
    present.add(name);
  }
  for (const k of Object.keys(m.fields) as (keyof FloorFields)[]) {
    if (m.fields[k] === undefined) continue;
    const name = (Object.keys(PROPERTY_OF_FIELD) as FieldName[]).find((n) => PROPERTY_OF_FIELD[n] === k);
    if (!name || !present.has(name)) throw new FloorEncodeError(k, `${m.type} does not carry this field (TS 24.380 clause ${format.clause})`);
  }
  for (const name of format.required) {
    if (!present.has(name)) throw new FloorEncodeError(PROPERTY_OF_FIELD[name], `${m.type} requires this field (TS 24.380 clause ${format.clause})`);
  }
  const bodyLen = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(APP_HEADER_LENGTH + bodyLen);
  out[0] = 0x80 | (m.ackRequired ? ACK_REQUIRED_BIT : 0) | SUBTYPE[m.type];
  out[1] = RTCP_PACKET_TYPE.APP;
  const words = out.length / 4 - 1;
  out[2] = words >> 8;
  out[3] = words & 0xff;
  out[4] = m.ssrc >>> 24;
  out[5] = (m.ssrc >>> 16) & 0xff;
  out[6] = (m.ssrc >>> 8) & 0xff;
  out[7] = m.ssrc & 0xff;
  out.set(NAME_BYTES, 8);
  let o = APP_HEADER_LENGTH;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function fail(code: FloorDecodeError['code'], offset: number, detail: string): FloorDecodeResult {
  return { ok: false, error: new FloorDecodeError(code, offset, detail) };
}

/**
 * Decodes exactly one RTCP APP `MCPT` packet occupying bytes[start, end).
 * Never throws: anything malformed is returned as a {@link FloorDecodeError}.
 */
export function decodeFloorMessage(bytes: Uint8Array, start = 0, end = bytes.length): FloorDecodeResult {
  const len = end - start;
  if (len < APP_HEADER_LENGTH) return fail('too-short', start, `an RTCP APP packet has at least ${APP_HEADER_LENGTH} octets (header, SSRC, name; RFC 3550 sec. 6.7), found ${len}`);
  const b0 = bytes[start]!;
  if (b0 >> 6 !== 2) return fail('not-rtcp', start, `RTCP version must be 2, found ${b0 >> 6}`);
  if (bytes[start + 1] !== RTCP_PACKET_TYPE.APP) return fail('not-app', start + 1, `packet type must be APP (204), found ${bytes[start + 1]}`);
  const declared = (((bytes[start + 2]! << 8) | bytes[start + 3]!) + 1) * 4;
  if (declared !== len) return fail('bad-length', start + 2, `length field says ${declared} octets, the packet has ${len}`);
  // TS 24.380 clause 8.1.2: "The padding bit P is set to '0'"; fields pad themselves.
  if (b0 & 0x20) return fail('bad-padding', start, 'the RTCP padding bit is set; TS 24.380 clause 8.1.2 requires P=0');
  if (!isMcptName(bytes, start + 8)) return fail('wrong-name', start + 8, `APP name must be "${MCPT_NAME}"`);
  const subtype = b0 & 0x1f;
  const type = messageTypeOfSubtype(subtype);
  if (!type || (subtype & 0x0f) !== SUBTYPE[type]) return fail('unknown-subtype', start, `subtype ${subtype} is not a floor control message this package knows (TS 24.380 table 8.2.2-1)`);
  const ackRequired = (subtype & ACK_REQUIRED_BIT) !== 0;
  if (ackRequired && !ACK_CAPABLE.has(type)) return fail('ack-bit-not-allowed', start, `${type} has no "acknowledgment required" variant (subtype ${subtype})`);
  const format = MESSAGE_FORMAT[type];
  const fields: FloorFields = {};
  const seen = new Set<FieldName>();
  let o = start + APP_HEADER_LENGTH;
  while (o < end) {
    const id = bytes[o]!;
    const lenLen = id >= TWO_OCTET_LENGTH_FROM_ID ? 2 : 1;
    if (o + 1 + lenLen > end) return fail('truncated-field', o, `field ID ${id} has no complete length octet(s)`);
    const vLen = lenLen === 1 ? bytes[o + 1]! : (bytes[o + 1]! << 8) | bytes[o + 2]!;
    const vStart = o + 1 + lenLen;
    const next = o + pad4(1 + lenLen + vLen);
    if (vStart + vLen > end) return fail('truncated-field', o, `field ID ${id} declares ${vLen} value octets, ${end - vStart} remain`);
    if (next > end) return fail('truncated-field', o, `field ID ${id} lacks its padding to a 32-bit boundary (TS 24.380 clause 8.2.3.1)`);
    for (let i = vStart + vLen; i < next; i++) if (bytes[i] !== 0) return fail('bad-padding', i, `padding after field ID ${id} is not zero`);
    const name = FIELD_NAME_BY_ID.get(id) ?? LEGACY_FIELD_ID.get(id);
    if (!name) return fail('unknown-field', o, `field ID ${id} is not a floor control field this package knows`);
    if (seen.has(name)) return fail('duplicate-field', o, `${name} appears twice`);
    if (!format.fields.includes(name)) return fail('field-not-allowed', o, `${type} does not carry ${name} (TS 24.380 clause ${format.clause})`);
    const v = decodeFieldValue(name, bytes.subarray(vStart, vStart + vLen));
    if (!('value' in v)) return fail(v.code, vStart, v.detail);
    (fields as Record<string, unknown>)[PROPERTY_OF_FIELD[name]] = v.value;
    seen.add(name);
    o = next;
  }
  for (const name of format.required) {
    if (!seen.has(name)) return fail('missing-field', start, `${type} requires ${name} (TS 24.380 clause ${format.clause})`);
  }
  const ssrc = ((bytes[start + 4]! << 24) | (bytes[start + 5]! << 16) | (bytes[start + 6]! << 8) | bytes[start + 7]!) >>> 0;
  return { ok: true, message: { type, ackRequired, ssrc, fields } };
}
