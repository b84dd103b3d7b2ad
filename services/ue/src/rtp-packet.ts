/** Minimal RTP (RFC 3550 sec. 5.1) packing for the probe stream. */

/** Header fields of one RTP packet. */
export interface RtpHeader {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
}

/** Packs a 12-byte header (V=2, no padding/extension/CSRC) and the payload. */
export function buildRtp(h: RtpHeader, payload: Buffer): Buffer {
  const out = Buffer.alloc(12 + payload.length);
  out[0] = 0x80;
  out[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  out.writeUInt16BE(h.sequence & 0xffff, 2);
  out.writeUInt32BE(h.timestamp >>> 0, 4);
  out.writeUInt32BE(h.ssrc >>> 0, 8);
  payload.copy(out, 12);
  return out;
}

/** Parses an RTP packet; null when it is not RTP version 2 or is truncated. Honors CSRCs, extension and padding. */
export function parseRtp(b: Buffer): (RtpHeader & { payload: Buffer }) | null {
  if (b.length < 12 || b[0]! >> 6 !== 2) return null;
  const cc = b[0]! & 0x0f;
  let off = 12 + 4 * cc;
  if (b.length < off) return null;
  if (b[0]! & 0x10) {
    if (b.length < off + 4) return null;
    off += 4 + 4 * b.readUInt16BE(off + 2);
    if (b.length < off) return null;
  }
  let end = b.length;
  if (b[0]! & 0x20) {
    const pad = b[b.length - 1]!;
    if (pad === 0 || off + pad > b.length) return null;
    end -= pad;
  }
  const pt = b[1]! & 0x7f;
  // RFC 5761 sec. 4: payload types 64-95 in this position are RTCP, not RTP.
  if (pt >= 72 && pt <= 76) return null;
  return { payloadType: pt, marker: (b[1]! & 0x80) !== 0, sequence: b.readUInt16BE(2), timestamp: b.readUInt32BE(4), ssrc: b.readUInt32BE(8), payload: b.subarray(off, end) };
}

/** A Sender Report without report blocks (RFC 3550 sec. 6.4.1). */
export function buildSenderReport(ssrc: number, rtpTimestamp: number, packets: number, octets: number, now = Date.now()): Buffer {
  const out = Buffer.alloc(28);
  out[0] = 0x80;
  out[1] = 200;
  out.writeUInt16BE(6, 2);
  out.writeUInt32BE(ssrc >>> 0, 4);
  const ntpSeconds = Math.floor(now / 1000) + 2208988800;
  out.writeUInt32BE(ntpSeconds >>> 0, 8);
  out.writeUInt32BE(Math.floor(((now % 1000) / 1000) * 2 ** 32) >>> 0, 12);
  out.writeUInt32BE(rtpTimestamp >>> 0, 16);
  out.writeUInt32BE(packets >>> 0, 20);
  out.writeUInt32BE(octets >>> 0, 24);
  return out;
}
