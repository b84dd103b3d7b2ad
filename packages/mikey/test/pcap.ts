/**
 * Minimal pcap writer for the tshark interop test: classic pcap global
 * header, one record per datagram, Ethernet II / IPv4 / UDP framing
 * (IPv4 header checksum computed, UDP checksum 0 = none).
 */

/** One UDP datagram to put into the capture. */
export interface UdpDatagram {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
  /** Capture time in ms since the Unix epoch. */
  timeMs: number;
}

function ipv4(a: string): number[] {
  return a.split('.').map((x) => Number(x) & 0xff);
}

function ipChecksum(h: Buffer): number {
  let s = 0;
  for (let i = 0; i < h.length; i += 2) s += h.readUInt16BE(i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Ethernet + IPv4 + UDP frame around a payload. */
export function udpFrame(d: UdpDatagram, id = 1): Buffer {
  const udpLen = 8 + d.payload.length;
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + udpLen, 2);
  ip.writeUInt16BE(id & 0xffff, 4);
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from(ipv4(d.src)).copy(ip, 12);
  Buffer.from(ipv4(d.dst)).copy(ip, 16);
  ip.writeUInt16BE(ipChecksum(ip), 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(d.srcPort, 0);
  udp.writeUInt16BE(d.dstPort, 2);
  udp.writeUInt16BE(udpLen, 4);
  const eth = Buffer.from([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
  return Buffer.concat([eth, ip, udp, Buffer.from(d.payload)]);
}

/** A pcap file (LINKTYPE_ETHERNET) holding the datagrams in order. */
export function pcapFile(datagrams: readonly UdpDatagram[]): Buffer {
  const g = Buffer.alloc(24);
  g.writeUInt32LE(0xa1b2c3d4, 0);
  g.writeUInt16LE(2, 4);
  g.writeUInt16LE(4, 6);
  g.writeUInt32LE(65535, 16);
  g.writeUInt32LE(1, 20);
  const recs = datagrams.map((d, i) => {
    const f = udpFrame(d, i + 1);
    const h = Buffer.alloc(16);
    h.writeUInt32LE(Math.floor(d.timeMs / 1000), 0);
    h.writeUInt32LE((d.timeMs % 1000) * 1000, 4);
    h.writeUInt32LE(f.length, 8);
    h.writeUInt32LE(f.length, 12);
    return Buffer.concat([h, f]);
  });
  return Buffer.concat([g, ...recs]);
}

/** A SIP INVITE whose SDP offer carries `a=key-mgmt:<value>` at session level. */
export function sipInviteWithKeyMgmt(keyMgmtValue: string, n: number): Uint8Array {
  const sdp = [
    'v=0',
    `o=alice 2890844526 ${2890844526 + n} IN IP4 192.0.2.10`,
    's=-',
    'c=IN IP4 192.0.2.10',
    't=0 0',
    `a=key-mgmt:${keyMgmtValue}`,
    'm=audio 49170 RTP/SAVP 0',
    'a=rtpmap:0 PCMU/8000',
    '',
  ].join('\r\n');
  const body = Buffer.from(sdp);
  const head = [
    'INVITE sip:bob@ims.example SIP/2.0',
    `Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-mikey-${n}`,
    'Max-Forwards: 70',
    'From: <sip:alice@ims.example>;tag=a1',
    'To: <sip:bob@ims.example>',
    `Call-ID: mikey-interop-${n}@192.0.2.10`,
    `CSeq: ${n + 1} INVITE`,
    'Contact: <sip:alice@192.0.2.10:5060>',
    'Content-Type: application/sdp',
    `Content-Length: ${body.length}`,
    '',
    '',
  ].join('\r\n');
  return new Uint8Array(Buffer.concat([Buffer.from(head), body]));
}
