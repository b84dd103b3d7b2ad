import { LINKTYPE } from '@imslab/capture';

/**
 * The analyser's hot path: an IPv4/UDP frame's addresses, ports and payload
 * bounds read straight from the bytes, without building strings or objects.
 * Anything else (IPv6, TCP, fragments, VLAN tags, odd link types) returns
 * false and takes the general `decodeFrame` path.
 */
export interface UdpView {
  srcIp: number;
  dstIp: number;
  srcPort: number;
  dstPort: number;
  start: number;
  end: number;
}

export function fastUdp(linkType: number, f: Uint8Array, out: UdpView): boolean {
  let at: number;
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      if (f.length < 14 || f[12] !== 0x08 || f[13] !== 0x00) return false;
      at = 14;
      break;
    case LINKTYPE.LINUX_SLL:
      if (f.length < 16 || f[14] !== 0x08 || f[15] !== 0x00) return false;
      at = 16;
      break;
    case LINKTYPE.LINUX_SLL2:
      if (f.length < 20 || f[0] !== 0x08 || f[1] !== 0x00) return false;
      at = 20;
      break;
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
      at = 0;
      break;
    default:
      return false;
  }
  if (f.length < at + 28) return false;
  const vihl = f[at]!;
  if (vihl >> 4 !== 4) return false;
  const ihl = (vihl & 0x0f) * 4;
  // UDP only, and not a fragment (MF clear, offset 0).
  if (f[at + 9] !== 17 || ihl < 20 || (f[at + 6]! & 0x3f) !== 0 || f[at + 7] !== 0) return false;
  const totalLength = (f[at + 2]! << 8) | f[at + 3]!;
  const ipEnd = Math.min(f.length, at + totalLength);
  const udp = at + ihl;
  if (udp + 8 > ipEnd) return false;
  out.srcIp = ((f[at + 12]! << 24) | (f[at + 13]! << 16) | (f[at + 14]! << 8) | f[at + 15]!) >>> 0;
  out.dstIp = ((f[at + 16]! << 24) | (f[at + 17]! << 16) | (f[at + 18]! << 8) | f[at + 19]!) >>> 0;
  out.srcPort = (f[udp]! << 8) | f[udp + 1]!;
  out.dstPort = (f[udp + 2]! << 8) | f[udp + 3]!;
  const udpLength = (f[udp + 4]! << 8) | f[udp + 5]!;
  out.start = udp + 8;
  out.end = Math.min(ipEnd, udp + Math.max(8, udpLength));
  return true;
}

export function ipv4String(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}
