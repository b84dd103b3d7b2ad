/**
 * Where a UDP datagram lies in a captured frame, and the same frame with a
 * different UDP payload: the link header is kept byte for byte, the IP and
 * UDP lengths and checksums are made right for the new payload, so readers
 * (tshark) see a well-formed packet. @imslab/capture's decodeFrame answers
 * "what is in it"; rewriting needs "at which offsets", hence this walk.
 */
import { ipOffset, isIpv6, locateIp } from '@imslab/capture';

/** Offsets of one unfragmented UDP datagram inside a frame. */
export interface UdpLocation {
  ipVersion: 4 | 6;
  /** Start of the IP header. */
  ip: number;
  /** Start of the UDP header (RFC 768). */
  udp: number;
  /** Start and end of the UDP payload. */
  payload: number;
  end: number;
}

const MAX_IPV6_EXT_HEADERS = 8;
const IPPROTO_UDP = 17;

const be16 = (f: Uint8Array, at: number): number => (f[at]! << 8) | f[at + 1]!;

/**
 * Locates the UDP datagram of a frame of `linkType` (Ethernet with 802.1Q/ad
 * tags, Linux SLL and SLL2, BSD NULL/LOOP, raw IP, IPv4, IPv6) and writes
 * its offsets into `out`. False for anything else: not UDP, an IP fragment
 * (RFC 791; RFC 8200 sec 4.5: the datagram is not whole in this frame), a
 * frame cut by the snap length, inconsistent lengths. Never throws.
 */
export function locateUdp(linkType: number, f: Uint8Array, out: UdpLocation): boolean {
  const len = f.length;
  const ip = locateIp(linkType, f);
  if (ip < 0) return false;
  const at = ipOffset(ip);
  let udp: number;
  let ipEnd: number;
  if (!isIpv6(ip)) {
    if (len < at + 20 || f[at]! >> 4 !== 4) return false;
    const ihl = (f[at]! & 15) * 4;
    ipEnd = at + be16(f, at + 2);
    // MF set or a fragment offset: the datagram is split across frames (RFC 791 sec 3.1).
    if (ihl < 20 || f[at + 9] !== IPPROTO_UDP || (be16(f, at + 6) & 0x3fff) !== 0) return false;
    udp = at + ihl;
    out.ipVersion = 4;
  } else {
    if (len < at + 40 || f[at]! >> 4 !== 6) return false;
    ipEnd = at + 40 + be16(f, at + 4);
    let nh = f[at + 6]!;
    udp = at + 40;
    // Hop-by-hop, routing, destination options may precede UDP (RFC 8200 sec 4); a fragment header means not whole.
    for (let n = 0; nh === 0 || nh === 43 || nh === 60; n++) {
      if (n === MAX_IPV6_EXT_HEADERS || udp + 8 > len) return false;
      nh = f[udp]!;
      udp += (f[udp + 1]! + 1) * 8;
    }
    if (nh !== IPPROTO_UDP) return false;
    out.ipVersion = 6;
  }
  if (udp + 8 > len) return false;
  const ulen = be16(f, udp + 4);
  // The whole datagram must be in the frame (not cut by the snap length) and inside the IP packet (RFC 768).
  if (ulen < 8 || udp + ulen > ipEnd || ipEnd > len) return false;
  out.ip = at;
  out.udp = udp;
  out.payload = udp + 8;
  out.end = udp + ulen;
  return true;
}

/**
 * The frame `f` with the UDP payload at `loc` replaced by `payload`. Link
 * header and IP header fields are kept; IPv4 total length and header
 * checksum (RFC 791 sec 3.1), IPv6 payload length (RFC 8200 sec 3), UDP
 * length and checksum (RFC 768; RFC 8200 sec 8.1) are recomputed. An IPv4
 * checksum of zero ("none sent", RFC 768) stays zero. Bytes after the IP
 * packet (Ethernet padding, a trailer) are dropped: they padded the old size.
 */
export function replaceUdpPayload(f: Uint8Array, loc: UdpLocation, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(loc.payload + payload.length);
  out.set(f.subarray(0, loc.payload), 0);
  out.set(payload, loc.payload);
  const ulen = 8 + payload.length;
  const ipEnd = loc.udp + ulen;
  if (loc.ipVersion === 4) {
    writeBe16(out, loc.ip + 2, ipEnd - loc.ip);
    const ihl = (out[loc.ip]! & 15) * 4;
    writeBe16(out, loc.ip + 10, 0);
    writeBe16(out, loc.ip + 10, ~sum16(out, loc.ip, loc.ip + ihl, 0) & 0xffff);
  } else {
    writeBe16(out, loc.ip + 4, ipEnd - loc.ip - 40);
  }
  writeBe16(out, loc.udp + 4, ulen);
  const hadChecksum = be16(f, loc.udp + 6) !== 0;
  writeBe16(out, loc.udp + 6, 0);
  if (loc.ipVersion === 6 || hadChecksum) {
    // Pseudo-header: source, destination, protocol, UDP length (RFC 768; IPv6: RFC 8200 sec 8.1).
    const [src, addrLen] = loc.ipVersion === 4 ? [loc.ip + 12, 8] : [loc.ip + 8, 32];
    let sum = sum16(out, src, src + addrLen, IPPROTO_UDP + ulen);
    sum = sum16(out, loc.udp, ipEnd, sum);
    let csum = ~fold(sum) & 0xffff;
    if (csum === 0) csum = 0xffff; // a computed zero is sent as all ones (RFC 768)
    writeBe16(out, loc.udp + 6, csum);
  }
  return out;
}

function writeBe16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

/** One's-complement sum of the 16-bit words of `b[from, to)` added to `acc`, folded (RFC 1071). */
function sum16(b: Uint8Array, from: number, to: number, acc: number): number {
  let s = acc;
  const even = from + ((to - from) & ~1);
  for (let i = from; i < even; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (even < to) s += b[even]! << 8;
  return fold(s);
}

function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}
