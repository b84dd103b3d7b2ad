/**
 * Where a UDP datagram lies in a captured frame, and the same frame with a
 * different UDP payload: the link header is kept byte for byte, the IP and
 * UDP lengths and checksums are made right for the new payload, so readers
 * (tshark) see a well-formed packet. @imslab/capture's decodeFrame answers
 * "what is in it"; rewriting needs "at which offsets", hence this walk.
 */
import { LINKTYPE } from '@imslab/capture';

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

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100, ETH_QINQ = 0x88a8, ETH_QINQ_OLD = 0x9100;
const BY_VERSION = -1;
const MAX_VLAN_TAGS = 4;
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
  let at: number;
  let proto: number;
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      if (len < 14) return false;
      proto = be16(f, 12);
      at = 14;
      break;
    case LINKTYPE.LINUX_SLL:
      if (len < 16) return false;
      proto = be16(f, 14);
      at = 16;
      break;
    case LINKTYPE.LINUX_SLL2:
      if (len < 20) return false;
      proto = be16(f, 0);
      at = 20;
      break;
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      // AF_ value in the capturing host's order (NULL) or network order (LOOP): accept either, as decodeFrame does.
      if (len < 4) return false;
      let fam = (f[0]! | (f[1]! << 8) | (f[2]! << 16) | (f[3]! << 24)) >>> 0;
      if (fam > 0xffff) fam = ((f[0]! << 24) | (f[1]! << 16) | (f[2]! << 8) | f[3]!) >>> 0;
      if (fam === 2) proto = ETH_IPV4;
      else if (fam === 10 || fam === 24 || fam === 28 || fam === 30) proto = ETH_IPV6;
      else return false;
      at = 4;
      break;
    }
    case LINKTYPE.RAW: at = 0; proto = BY_VERSION; break;
    case LINKTYPE.IPV4: at = 0; proto = ETH_IPV4; break;
    case LINKTYPE.IPV6: at = 0; proto = ETH_IPV6; break;
    default: return false;
  }
  for (let tags = 0; proto === ETH_VLAN || proto === ETH_QINQ || proto === ETH_QINQ_OLD; tags++) {
    if (tags === MAX_VLAN_TAGS || len < at + 4) return false;
    proto = be16(f, at + 2);
    at += 4;
  }
  if (proto === BY_VERSION) {
    if (len <= at) return false;
    const v = f[at]! >> 4;
    proto = v === 4 ? ETH_IPV4 : v === 6 ? ETH_IPV6 : 0;
  }
  let udp: number;
  let ipEnd: number;
  if (proto === ETH_IPV4) {
    if (len < at + 20 || f[at]! >> 4 !== 4) return false;
    const ihl = (f[at]! & 15) * 4;
    ipEnd = at + be16(f, at + 2);
    // MF set or a fragment offset: the datagram is split across frames (RFC 791 sec 3.1).
    if (ihl < 20 || f[at + 9] !== IPPROTO_UDP || (be16(f, at + 6) & 0x3fff) !== 0) return false;
    udp = at + ihl;
    out.ipVersion = 4;
  } else if (proto === ETH_IPV6) {
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
  } else {
    return false;
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
