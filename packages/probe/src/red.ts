/**
 * RTP Payload for Redundant Audio Data (RFC 2198), as text/red carries T.140
 * (RFC 4103): R four-octet headers of redundant blocks (F = 1, block payload
 * type, 14-bit timestamp offset, 10-bit block length), the one-octet header
 * of the primary (F = 0, payload type), then the blocks' data in the same
 * order, the primary last and running to the end of the payload.
 */
import { ProbeMediaConfigError, ProbeMediaDecodeError, type ProbeMediaResult } from './media-errors.ts';

/** RFC 2198 sec. 3: the block length field is 10 bits, the timestamp offset 14. */
export const RED_MAX_BLOCK_LENGTH = 1023;
export const RED_MAX_TIMESTAMP_OFFSET = 0x3fff;

/** A redundant block of a RED payload (RFC 2198 sec. 3). */
export interface RedBlock {
  payloadType: number;
  /** Primary timestamp minus this block's timestamp. */
  timestampOffset: number;
  data: Uint8Array;
}

/** A RED payload: the redundant blocks, oldest first, and the primary. */
export interface RedPayload {
  redundant: RedBlock[];
  primary: { payloadType: number; data: Uint8Array };
}

/** RED payload from its blocks (RFC 2198 sec. 3). @throws ProbeMediaConfigError for a field its header cannot carry */
export function encodeRedPayload(p: RedPayload): Uint8Array {
  for (const b of [...p.redundant, p.primary]) {
    if (!Number.isInteger(b.payloadType) || b.payloadType < 0 || b.payloadType > 127) throw new ProbeMediaConfigError('payloadType', b.payloadType, 'the block PT field is 7 bits (RFC 2198 sec. 3)');
  }
  for (const b of p.redundant) {
    if (b.data.length > RED_MAX_BLOCK_LENGTH) throw new ProbeMediaConfigError('block length', b.data.length, `the block length field is 10 bits: at most ${RED_MAX_BLOCK_LENGTH} octets (RFC 2198 sec. 3)`);
    if (!Number.isInteger(b.timestampOffset) || b.timestampOffset < 0 || b.timestampOffset > RED_MAX_TIMESTAMP_OFFSET) {
      throw new ProbeMediaConfigError('timestampOffset', b.timestampOffset, `the timestamp offset field is 14 bits: 0..${RED_MAX_TIMESTAMP_OFFSET} (RFC 2198 sec. 3)`);
    }
  }
  const head = 4 * p.redundant.length + 1;
  const out = new Uint8Array(head + p.redundant.reduce((n, b) => n + b.data.length, 0) + p.primary.data.length);
  let at = 0;
  let data = head;
  for (const b of p.redundant) {
    out[at] = 0x80 | b.payloadType;
    out[at + 1] = b.timestampOffset >> 6;
    out[at + 2] = ((b.timestampOffset & 0x3f) << 2) | (b.data.length >> 8);
    out[at + 3] = b.data.length & 0xff;
    out.set(b.data, data);
    at += 4;
    data += b.data.length;
  }
  out[at] = p.primary.payloadType;
  out.set(p.primary.data, data);
  return out;
}

const err = (code: ProbeMediaDecodeError['code'], offset: number, detail: string): { ok: false; error: ProbeMediaDecodeError } => ({
  ok: false,
  error: new ProbeMediaDecodeError('red', code, offset, detail),
});

/** Takes a RED payload apart (RFC 2198 sec. 3); a malformed one is an error value. */
export function parseRedPayload(payload: Uint8Array): ProbeMediaResult<RedPayload> {
  const headers: Array<{ payloadType: number; timestampOffset: number; length: number }> = [];
  let at = 0;
  for (;;) {
    if (at >= payload.length) return err('no-primary', at, 'the payload ends before the primary block header (the one with F = 0, RFC 2198 sec. 3)');
    const b0 = payload[at]!;
    if ((b0 & 0x80) === 0) break;
    if (at + 4 > payload.length) return err('truncated-red-header', at, 'a redundant block header (F = 1) has four octets (RFC 2198 sec. 3)');
    headers.push({ payloadType: b0 & 0x7f, timestampOffset: (payload[at + 1]! << 6) | (payload[at + 2]! >> 2), length: ((payload[at + 2]! & 3) << 8) | payload[at + 3]! });
    at += 4;
  }
  const primaryType = payload[at]! & 0x7f;
  let data = at + 1;
  const redundant: RedBlock[] = [];
  for (const h of headers) {
    if (data + h.length > payload.length) return err('red-block-overrun', data, `a redundant block of ${h.length} octets runs ${data + h.length - payload.length} past the payload (RFC 2198 sec. 3)`);
    redundant.push({ payloadType: h.payloadType, timestampOffset: h.timestampOffset, data: payload.subarray(data, data + h.length) });
    data += h.length;
  }
  return { ok: true, value: { redundant, primary: { payloadType: primaryType, data: payload.subarray(data) } } };
}
