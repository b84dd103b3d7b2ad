/**
 * Frame builders for fixtures and tests: link header + IPv4/IPv6 + UDP/TCP
 * with correct checksums (RFC 791 header checksum, RFC 768 / RFC 9293
 * pseudo-header checksums, RFC 8200 sec 8.1 for IPv6), so tshark shows no
 * checksum warnings. Deterministic: fixed IP identification 0 with DF set,
 * MAC addresses derived from the IP addresses (locally administered 02:...).
 */
import { FrameBuildError } from './errors.ts';
import { parseIpv4, parseIpv6 } from './ip-address.ts';
import { LINKTYPE } from './linktypes.ts';

/** TCP header fields to build. */
export interface TcpBuildFields {
  seq: number;
  ack?: number;
  /** Default PSH|ACK (0x18). */
  flags?: number;
  window?: number;
}

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

/**
 * UDP datagram in an IP packet in a frame of `linkType`: ETHERNET, LINUX_SLL,
 * LINUX_SLL2, NULL, LOOP, RAW, IPV4 (and IPV6). IPv4 with correct checksums;
 * IPv6 addresses are accepted too (addition).
 */
export function buildUdpFrame(linkType: number, src: string, srcPort: number, dst: string, dstPort: number, payload: Buffer): Buffer {
  checkPort('srcPort', srcPort);
  checkPort('dstPort', dstPort);
  const udp = Buffer.alloc(8 + payload.length);
  udp.writeUInt16BE(srcPort, 0);
  udp.writeUInt16BE(dstPort, 2);
  udp.writeUInt16BE(udp.length, 4);
  payload.copy(udp, 8);
  return frame(linkType, src, dst, IPPROTO_UDP, udp, 6);
}

/** TCP segment in an IP packet in a frame of `linkType` (addition; same link types as {@link buildUdpFrame}). */
export function buildTcpFrame(linkType: number, src: string, srcPort: number, dst: string, dstPort: number, payload: Buffer, tcp: TcpBuildFields): Buffer {
  checkPort('srcPort', srcPort);
  checkPort('dstPort', dstPort);
  const seg = Buffer.alloc(20 + payload.length);
  seg.writeUInt16BE(srcPort, 0);
  seg.writeUInt16BE(dstPort, 2);
  seg.writeUInt32BE(tcp.seq >>> 0, 4);
  seg.writeUInt32BE((tcp.ack ?? 0) >>> 0, 8);
  seg[12] = 5 << 4; // data offset: 5 words, no options
  seg[13] = (tcp.flags ?? 0x18) & 0xff;
  seg.writeUInt16BE(tcp.window ?? 65535, 14);
  payload.copy(seg, 20);
  return frame(linkType, src, dst, IPPROTO_TCP, seg, 16);
}

function checkPort(field: string, port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FrameBuildError(field, port, 'port out of range');
}

function address(field: string, s: string): Buffer {
  const a = s.includes(':') ? parseIpv6(s) : parseIpv4(s);
  if (!a) throw new FrameBuildError(field, s, 'not an IP address');
  return a;
}

/** Wraps a transport segment (checksum at `csumAt` still zero) into IP and the link header. */
function frame(linkType: number, src: string, dst: string, proto: number, seg: Buffer, csumAt: number): Buffer {
  const s = address('src', src);
  const d = address('dst', dst);
  if (s.length !== d.length) throw new FrameBuildError('dst', dst, 'src and dst are of different IP versions');
  const v6 = s.length === 16;
  if ((linkType === LINKTYPE.IPV4 && v6) || (linkType === LINKTYPE.IPV6 && !v6)) throw new FrameBuildError('src', src, `IP version does not match link type ${linkType}`);
  // Pseudo-header checksum (RFC 768; RFC 8200 sec 8.1).
  let sum = sum16(s) + sum16(d) + proto + seg.length;
  sum += sum16(seg);
  let csum = fold(sum);
  if (csum === 0 && proto === IPPROTO_UDP) csum = 0xffff; // 0 means "no checksum" for UDP
  seg.writeUInt16BE(csum, csumAt);
  const ip = v6 ? ipv6Header(s, d, proto, seg.length) : ipv4Header(s, d, proto, seg.length);
  const link = linkHeader(linkType, v6, s, d);
  return Buffer.concat([link, ip, seg]);
}

function ipv4Header(s: Buffer, d: Buffer, proto: number, segLen: number): Buffer {
  if (20 + segLen > 0xffff) throw new FrameBuildError('payload', segLen, 'too large for IPv4');
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + segLen, 2);
  h.writeUInt16BE(0x4000, 6); // DF, so no reader sees a fragment
  h[8] = 64;
  h[9] = proto;
  s.copy(h, 12);
  d.copy(h, 16);
  h.writeUInt16BE(fold(sum16(h)), 10);
  return h;
}

function ipv6Header(s: Buffer, d: Buffer, proto: number, segLen: number): Buffer {
  if (segLen > 0xffff) throw new FrameBuildError('payload', segLen, 'too large for IPv6 without jumbograms');
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(segLen, 4);
  h[6] = proto;
  h[7] = 64;
  s.copy(h, 8);
  d.copy(h, 24);
  return h;
}

function mac(ip: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x02, 0x00]), ip.subarray(ip.length - 4)]);
}

function linkHeader(linkType: number, v6: boolean, s: Buffer, d: Buffer): Buffer {
  const etherType = v6 ? 0x86dd : 0x0800;
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      const h = Buffer.alloc(14);
      mac(d).copy(h, 0);
      mac(s).copy(h, 6);
      h.writeUInt16BE(etherType, 12);
      return h;
    }
    case LINKTYPE.LINUX_SLL: {
      // packet type 0 (to us), ARPHRD_ETHER 1, address length 6, address, protocol
      const h = Buffer.alloc(16);
      h.writeUInt16BE(1, 2);
      h.writeUInt16BE(6, 4);
      mac(s).copy(h, 6);
      h.writeUInt16BE(etherType, 14);
      return h;
    }
    case LINKTYPE.LINUX_SLL2: {
      // protocol, reserved, interface index, ARPHRD_ETHER, packet type, address length, address
      const h = Buffer.alloc(20);
      h.writeUInt16BE(etherType, 0);
      h.writeUInt32BE(1, 4);
      h.writeUInt16BE(1, 8);
      h[11] = 6;
      mac(s).copy(h, 12);
      return h;
    }
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      // AF_INET 2; AF_INET6 24 (the BSD value every reader accepts). NULL: little-endian host order; LOOP: network order.
      const h = Buffer.alloc(4);
      const fam = v6 ? 24 : 2;
      if (linkType === LINKTYPE.NULL) h.writeUInt32LE(fam, 0);
      else h.writeUInt32BE(fam, 0);
      return h;
    }
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
      return Buffer.alloc(0);
    default:
      throw new FrameBuildError('linkType', linkType, 'unsupported link type for building frames');
  }
}

function sum16(b: Buffer): number {
  let s = 0;
  const n = b.length & ~1;
  for (let i = 0; i < n; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (b.length & 1) s += b[b.length - 1]! << 8;
  return s;
}

function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return ~s & 0xffff;
}
