/**
 * RTP / RTCP header recognition (RFC 3550, RFC 5761).
 */

/** RTP fixed header fields (RFC 3550 sec 5.1). */
export interface RtpHeader {
  version: number;
  padding: boolean;
  extension: boolean;
  csrcCount: number;
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  /** Fixed header + CSRC list + header extension, in bytes: where the payload starts. */
  headerLength: number;
}

/**
 * RFC 3550 sec 5.1 header; null when not plausibly RTP: version != 2, too
 * short, header (with CSRCs and extension, sec 5.3.1) longer than the packet,
 * or padding (sec 5.1 "P") that does not fit. Never throws.
 */
export function parseRtpHeader(buf: Buffer): RtpHeader | null {
  const len = buf.length;
  if (len < 12) return null;
  const b0 = buf[0]!;
  if (b0 >> 6 !== 2) return null;
  const csrcCount = b0 & 0x0f;
  const extension = (b0 & 0x10) !== 0;
  let headerLength = 12 + 4 * csrcCount;
  if (extension) {
    if (headerLength + 4 > len) return null;
    headerLength += 4 + 4 * ((buf[headerLength + 2]! << 8) | buf[headerLength + 3]!);
  }
  if (headerLength > len) return null;
  const padding = (b0 & 0x20) !== 0;
  if (padding) {
    // The last octet counts the padding octets, itself included.
    const pad = buf[len - 1]!;
    if (pad === 0 || headerLength + pad > len) return null;
  }
  const b1 = buf[1]!;
  return {
    version: 2,
    padding,
    extension,
    csrcCount,
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequence: (buf[2]! << 8) | buf[3]!,
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    headerLength,
  };
}

/**
 * RFC 5761 sec 4 demultiplexing: with RTP and RTCP on one port, the second
 * octet 192..223 (RTCP packet types 192-223, e.g. SR 200, RR 201, SDES 202,
 * BYE 203, APP 204, RTPFB 205, PSFB 206) marks RTCP. We also require
 * version 2 and an 8-octet header + SSRC whose length word fits the packet
 * (RFC 3550 sec 6.4.1), so arbitrary bytes are rarely taken for RTCP.
 */
export function looksLikeRtcp(buf: Buffer): boolean {
  if (buf.length < 8) return false;
  const b1 = buf[1]!;
  if (buf[0]! >> 6 !== 2 || b1 < 192 || b1 > 223) return false;
  return (((buf[2]! << 8) | buf[3]!) + 1) * 4 <= buf.length;
}

/** SSRC of the sender of the first RTCP packet (octets 4-7), assuming {@link looksLikeRtcp}. */
export function rtcpSenderSsrc(buf: Buffer): number {
  return buf.readUInt32BE(4);
}
