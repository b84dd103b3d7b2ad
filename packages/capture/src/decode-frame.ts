/**
 * Frame decoding: link layer → IPv4/IPv6 → UDP/TCP. Pure, bounds-checked
 * byte indexing (no Buffer read* calls that could throw), so malformed input
 * yields null instead of an exception. The payload is a view, not a copy.
 */
import { formatIpv4, formatIpv6 } from './ip-address.ts';
import { ipOffset, isIpv6, locateIp } from './link-layer.ts';

/** A frame decoded down to the transport layer. */
export interface DecodedPacket {
  ipVersion: 4 | 6;
  src: string;
  dst: string;
  protocol: 'udp' | 'tcp' | 'other';
  /** 0 unless UDP/TCP. */
  srcPort: number;
  dstPort: number;
  /** UDP/TCP payload; for `other`, the IP payload after IPv6 extension headers. A view into the frame. */
  payload: Buffer;
  tcp?: { seq: number; ack: number; flags: number };
  /** IP protocol number (IPv6: the last Next Header), e.g. 50 for ESP. Addition; always set by decodeFrame. */
  ipProtocol?: number;
}

/** TCP flag bits (RFC 9293 sec 3.1; NS/AE is bit 8). */
export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

const MAX_IPV6_EXT_HEADERS = 8;

const be16 = (f: Buffer, at: number): number => (f[at]! << 8) | f[at + 1]!;
const be32 = (f: Buffer, at: number): number => ((f[at]! << 24) | (f[at + 1]! << 16) | (f[at + 2]! << 8) | f[at + 3]!) >>> 0;

/**
 * Decodes Ethernet (incl. 802.1Q), Linux cooked SLL and SLL2, BSD loopback
 * NULL/LOOP, raw IP; IPv4 and IPv6; UDP and TCP. Returns null for anything
 * else or anything malformed (never throws). IPv4/IPv6 non-first fragments
 * give null; first fragments decode with the partial payload. Ethernet
 * padding is trimmed using the IP length; a frame cut by the snap length is
 * decoded with the bytes present.
 */
export function decodeFrame(linkType: number, frame: Buffer): DecodedPacket | null {
  const ip = locateIp(linkType, frame);
  if (ip < 0) return null;
  return isIpv6(ip) ? decodeIpv6(frame, ipOffset(ip)) : decodeIpv4(frame, ipOffset(ip));
}

function decodeIpv4(f: Buffer, at: number): DecodedPacket | null {
  if (f.length < at + 20) return null;
  const vihl = f[at]!;
  const ihl = (vihl & 15) * 4;
  if (vihl >> 4 !== 4 || ihl < 20) return null;
  const total = be16(f, at + 2);
  if (total < ihl) return null;
  const declaredEnd = at + total;
  const capEnd = Math.min(declaredEnd, f.length);
  if (at + ihl > capEnd) return null;
  const frag = be16(f, at + 6);
  if ((frag & 0x1fff) !== 0) return null; // non-first fragment: no transport header (RFC 791)
  const fragmented = (frag & 0x2000) !== 0;
  return decodeTransport(4, formatIpv4(f, at + 12), formatIpv4(f, at + 16), f[at + 9]!, f, at + ihl, declaredEnd, capEnd, fragmented);
}

function decodeIpv6(f: Buffer, at: number): DecodedPacket | null {
  if (f.length < at + 40 || f[at]! >> 4 !== 6) return null;
  const declaredEnd = at + 40 + be16(f, at + 4);
  const capEnd = Math.min(declaredEnd, f.length);
  let nh = f[at + 6]!;
  let o = at + 40;
  let fragmented = false;
  // Walk the extension headers that may precede the transport header (RFC 8200 sec 4).
  for (let n = 0; n <= MAX_IPV6_EXT_HEADERS; n++) {
    if (nh === 0 || nh === 43 || nh === 60) { // hop-by-hop, routing, destination options
      if (o + 8 > capEnd) return null;
      const next = f[o]!;
      o += (f[o + 1]! + 1) * 8;
      nh = next;
    } else if (nh === 44) { // fragment header
      if (o + 8 > capEnd) return null;
      const off = be16(f, o + 2);
      if (off >> 3 !== 0) return null;
      fragmented = (off & 1) !== 0;
      nh = f[o]!;
      o += 8;
    } else if (nh === 51) { // AH: length in 4-octet units minus 2 (RFC 4302 sec 2.2)
      if (o + 8 > capEnd) return null;
      const next = f[o]!;
      o += (f[o + 1]! + 2) * 4;
      nh = next;
    } else {
      break;
    }
    if (n === MAX_IPV6_EXT_HEADERS) return null;
  }
  if (o > capEnd) return null;
  return decodeTransport(6, formatIpv6(f, at + 8), formatIpv6(f, at + 24), nh, f, o, declaredEnd, capEnd, fragmented);
}

function decodeTransport(
  ipVersion: 4 | 6, src: string, dst: string, ipProtocol: number,
  f: Buffer, l4: number, declaredEnd: number, capEnd: number, fragmented: boolean,
): DecodedPacket | null {
  if (ipProtocol === 17) {
    if (capEnd - l4 < 8) return null;
    const ulen = be16(f, l4 + 4);
    let end = capEnd;
    if (!fragmented) {
      // The UDP length must fit the IP payload the header declares (RFC 768).
      if (ulen < 8 || l4 + ulen > declaredEnd) return null;
      end = Math.min(l4 + ulen, capEnd);
    }
    return {
      ipVersion, src, dst, protocol: 'udp', srcPort: be16(f, l4), dstPort: be16(f, l4 + 2),
      payload: f.subarray(l4 + 8, end), tcp: undefined, ipProtocol,
    };
  }
  if (ipProtocol === 6) {
    if (capEnd - l4 < 20) return null;
    const dataOffset = (f[l4 + 12]! >> 4) * 4;
    if (dataOffset < 20 || l4 + dataOffset > capEnd) return null;
    return {
      ipVersion, src, dst, protocol: 'tcp', srcPort: be16(f, l4), dstPort: be16(f, l4 + 2),
      payload: f.subarray(l4 + dataOffset, capEnd),
      tcp: { seq: be32(f, l4 + 4), ack: be32(f, l4 + 8), flags: f[l4 + 13]! | ((f[l4 + 12]! & 1) << 8) },
      ipProtocol,
    };
  }
  return { ipVersion, src, dst, protocol: 'other', srcPort: 0, dstPort: 0, payload: f.subarray(l4, capEnd), tcp: undefined, ipProtocol };
}
