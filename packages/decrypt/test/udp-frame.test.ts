/**
 * Locating and rewriting the UDP datagram of a frame: a rewritten frame must
 * be byte for byte what @imslab/capture's frame builder (correct lengths and
 * checksums, checked against tshark in that package) builds for the new
 * payload, on every link type; anything that is not one whole UDP datagram
 * is refused.
 */
import { describe, expect, it } from 'vitest';
import { buildTcpFrame, buildUdpFrame, LINKTYPE } from '@imslab/capture';
import { locateUdp, replaceUdpPayload, type UdpLocation } from '../src/index.ts';

const loc = (): UdpLocation => ({ ipVersion: 4, ip: 0, udp: 0, payload: 0, end: 0 });
const OLD = Buffer.from(Array.from({ length: 182 }, (_, i) => (i * 7) & 0xff));
const NEW = Buffer.from(Array.from({ length: 171 }, (_, i) => (i * 11 + 3) & 0xff)); // odd length: the checksum's padding octet

const LINKS: Array<[string, number, string, string]> = [
  ['Ethernet', LINKTYPE.ETHERNET, '10.0.0.1', '10.0.0.2'],
  ['Linux SLL', LINKTYPE.LINUX_SLL, '10.0.0.1', '10.0.0.2'],
  ['Linux SLL2', LINKTYPE.LINUX_SLL2, '10.0.0.1', '10.0.0.2'],
  ['BSD NULL', LINKTYPE.NULL, '10.0.0.1', '10.0.0.2'],
  ['BSD LOOP', LINKTYPE.LOOP, '10.0.0.1', '10.0.0.2'],
  ['raw IPv4', LINKTYPE.RAW, '10.0.0.1', '10.0.0.2'],
  ['IPv4', LINKTYPE.IPV4, '10.0.0.1', '10.0.0.2'],
  ['raw IPv6', LINKTYPE.RAW, 'fd00::1', 'fd00::2'],
  ['IPv6', LINKTYPE.IPV6, '2001:db8::1', '2001:db8::2'],
  ['Ethernet IPv6', LINKTYPE.ETHERNET, 'fe80::1', 'fe80::2'],
  ['Linux SLL2 IPv6', LINKTYPE.LINUX_SLL2, 'fd00::a', 'fd00::b'],
];

describe('locateUdp and replaceUdpPayload', () => {
  for (const [name, lt, src, dst] of LINKS) {
    it(`${name}: finds the payload; the rewrite equals a freshly built frame`, () => {
      const f = buildUdpFrame(lt, src, 40000, dst, 30000, OLD);
      const l = loc();
      expect(locateUdp(lt, f, l)).toBe(true);
      expect(l.ipVersion).toBe(src.includes(':') ? 6 : 4);
      expect(f.subarray(l.payload, l.end).equals(OLD)).toBe(true);
      expect(replaceUdpPayload(f, l, NEW).equals(buildUdpFrame(lt, src, 40000, dst, 30000, NEW))).toBe(true);
    });
  }

  it('802.1Q and QinQ tags are walked and kept', () => {
    const plain = buildUdpFrame(LINKTYPE.ETHERNET, '10.0.0.1', 1, '10.0.0.2', 2, OLD);
    const tag = (f: Buffer, tpid: number): Buffer => Buffer.concat([f.subarray(0, 12), Buffer.from([tpid >> 8, tpid & 0xff, 0x00, 0x64]), f.subarray(12)]);
    const f = tag(tag(plain, 0x8100), 0x88a8);
    const l = loc();
    expect(locateUdp(LINKTYPE.ETHERNET, f, l)).toBe(true);
    expect(l.ip).toBe(22);
    expect(replaceUdpPayload(f, l, NEW).equals(tag(tag(buildUdpFrame(LINKTYPE.ETHERNET, '10.0.0.1', 1, '10.0.0.2', 2, NEW), 0x8100), 0x88a8))).toBe(true);
  });

  it('IPv6 extension headers before UDP are walked; the lengths stay right', () => {
    const plain = buildUdpFrame(LINKTYPE.IPV6, 'fd00::1', 1, 'fd00::2', 2, OLD);
    // Insert an 8-octet hop-by-hop header (RFC 8200 sec 4.3: PadN) between the fixed header and UDP.
    const withExt = (f: Buffer): Buffer => {
      const hbh = Buffer.from([17, 0, 1, 4, 0, 0, 0, 0]);
      const out = Buffer.concat([f.subarray(0, 40), hbh, f.subarray(40)]);
      out[6] = 0;
      out.writeUInt16BE(f.readUInt16BE(4) + 8, 4);
      return out;
    };
    const f = withExt(plain);
    const l = loc();
    expect(locateUdp(LINKTYPE.IPV6, f, l)).toBe(true);
    expect(l.udp).toBe(48);
    expect(replaceUdpPayload(f, l, NEW).equals(withExt(buildUdpFrame(LINKTYPE.IPV6, 'fd00::1', 1, 'fd00::2', 2, NEW)))).toBe(true);
  });

  it('an IPv4 UDP checksum of zero (none sent) stays zero; Ethernet padding after the IP packet is dropped', () => {
    const f = Buffer.concat([buildUdpFrame(LINKTYPE.ETHERNET, '10.0.0.1', 1, '10.0.0.2', 2, Buffer.from('abc')), Buffer.alloc(15)]);
    f.writeUInt16BE(0, 14 + 20 + 6);
    const l = loc();
    expect(locateUdp(LINKTYPE.ETHERNET, f, l)).toBe(true);
    expect(l.end).toBe(14 + 20 + 8 + 3);
    const out = replaceUdpPayload(f, l, Buffer.from('hello'));
    expect(out.length).toBe(14 + 20 + 8 + 5);
    expect(out.readUInt16BE(14 + 20 + 6)).toBe(0);
    expect(out.readUInt16BE(14 + 2)).toBe(20 + 8 + 5);
    expect(out.readUInt16BE(14 + 20 + 4)).toBe(8 + 5);
  });

  it('refuses what is not one whole UDP datagram: fragments, cut frames, TCP, unknown link types, garbage', () => {
    const l = loc();
    const f = buildUdpFrame(LINKTYPE.RAW, '10.0.0.1', 1, '10.0.0.2', 2, OLD);
    const mf = Buffer.from(f);
    mf.writeUInt16BE(0x2000, 6); // more fragments
    const later = Buffer.from(f);
    later.writeUInt16BE(0x0010, 6); // fragment offset
    expect(locateUdp(LINKTYPE.RAW, mf, l)).toBe(false);
    expect(locateUdp(LINKTYPE.RAW, later, l)).toBe(false);
    expect(locateUdp(LINKTYPE.RAW, f.subarray(0, f.length - 1), l)).toBe(false);
    expect(locateUdp(LINKTYPE.RAW, buildTcpFrame(LINKTYPE.RAW, '10.0.0.1', 1, '10.0.0.2', 2, OLD, { seq: 1 }), l)).toBe(false);
    expect(locateUdp(147, f, l)).toBe(false);
    const v6 = buildUdpFrame(LINKTYPE.IPV6, 'fd00::1', 1, 'fd00::2', 2, OLD);
    const frag = Buffer.concat([v6.subarray(0, 40), Buffer.from([17, 0, 0, 1, 0, 0, 0, 1]), v6.subarray(40)]);
    frag[6] = 44; // fragment header (RFC 8200 sec 4.5)
    frag.writeUInt16BE(v6.readUInt16BE(4) + 8, 4);
    expect(locateUdp(LINKTYPE.IPV6, frag, l)).toBe(false);
    for (let n = 0; n < 64; n++) expect(locateUdp(LINKTYPE.ETHERNET, Buffer.alloc(n, 0x45), l)).toBe(false);
  });
});
