import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { buildUdpFrame, decodeFrame, LINKTYPE, readCaptureBuffer } from '../src/index.ts';
import { fixture } from './helpers.ts';

const udp4 = (payload = Buffer.from('hello')): Buffer => buildUdpFrame(LINKTYPE.ETHERNET, '10.1.2.3', 1234, '10.4.5.6', 5678, payload);
const raw6 = (payload = Buffer.from('hello')): Buffer => buildUdpFrame(LINKTYPE.RAW, '2001:db8::a', 1111, '2001:db8::b', 2222, payload);

/** Inserts IPv6 extension headers between the fixed header and UDP of a raw IPv6 frame. */
function withIpv6Ext(frame: Buffer, headers: Array<{ type: number; body: Buffer }>): Buffer {
  const fixed = Buffer.from(frame.subarray(0, 40));
  const upper = frame.subarray(40);
  const exts: Buffer[] = [];
  let next = fixed[6]!;
  for (let i = headers.length - 1; i >= 0; i--) {
    const h = Buffer.concat([Buffer.from([next]), headers[i]!.body]);
    exts.unshift(h);
    next = headers[i]!.type;
  }
  fixed[6] = next;
  const all = Buffer.concat([...exts, upper]);
  fixed.writeUInt16BE(all.length, 4);
  return Buffer.concat([fixed, all]);
}

describe('decodeFrame', () => {
  it('decodes 802.1Q-tagged IPv6 UDP (fixture)', async () => {
    const [p] = [...readCaptureBuffer(await readFile(fixture('udp-ipv6-vlan-ipv4-frags.eth.pcap')))];
    const d = decodeFrame(p!.linkType, p!.data)!;
    expect(d).toMatchObject({ ipVersion: 6, src: '2001:db8::1', dst: '2001:db8::2', protocol: 'udp', srcPort: 5062, dstPort: 5062, ipProtocol: 17 });
    expect(d.payload.toString('latin1')).toMatch(/^OPTIONS sip:bob@\[2001:db8::2\] SIP\/2.0\r\n/);
  });

  it('decodes the first IPv4 fragment and rejects the others (fixture)', async () => {
    const [, first, rest] = [...readCaptureBuffer(await readFile(fixture('udp-ipv6-vlan-ipv4-frags.eth.pcap')))];
    const d = decodeFrame(first!.linkType, first!.data)!;
    expect(d).toMatchObject({ ipVersion: 4, src: '10.0.0.5', dst: '10.0.0.6', srcPort: 6000, dstPort: 6002 });
    expect(d.payload.length).toBe(24);
    expect(decodeFrame(rest!.linkType, rest!.data)).toBeNull();
  });

  it('handles 802.1ad QinQ double tags', () => {
    const f = udp4();
    const tagged = Buffer.concat([f.subarray(0, 12), Buffer.from([0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20]), f.subarray(12)]);
    expect(decodeFrame(LINKTYPE.ETHERNET, tagged)).toMatchObject({ src: '10.1.2.3', srcPort: 1234, dst: '10.4.5.6', dstPort: 5678 });
  });

  it('trims Ethernet padding using the IP length', () => {
    const f = udp4(Buffer.from('ab'));
    const padded = Buffer.concat([f, Buffer.alloc(60 - f.length, 0xcc)]);
    expect(decodeFrame(LINKTYPE.ETHERNET, padded)!.payload.toString()).toBe('ab');
  });

  it('walks IPv6 hop-by-hop and fragment headers; non-first IPv6 fragments give null', () => {
    const hbh = { type: 0, body: Buffer.from([0, 1, 4, 0, 0, 0, 0]) }; // PadN to 8 octets
    const frag = (offset: number, more: boolean): { type: number; body: Buffer } => {
      const b = Buffer.alloc(7);
      b.writeUInt16BE((offset << 3) | (more ? 1 : 0), 1);
      b.writeUInt32BE(0xabcdef, 3);
      return { type: 44, body: b };
    };
    const first = withIpv6Ext(raw6(), [hbh, frag(0, true)]);
    expect(decodeFrame(LINKTYPE.RAW, first)).toMatchObject({ ipVersion: 6, protocol: 'udp', srcPort: 1111, dstPort: 2222 });
    expect(decodeFrame(LINKTYPE.RAW, first)!.payload.toString()).toBe('hello');
    expect(decodeFrame(LINKTYPE.RAW, withIpv6Ext(raw6(), [frag(8, false)]))).toBeNull();
  });

  it('reports ESP and other protocols as `other` with the IP protocol number', () => {
    const f = buildUdpFrame(LINKTYPE.IPV4, '10.0.0.1', 1, '10.0.0.2', 2, Buffer.from('esp-bytes'));
    f[9] = 50; // ESP (RFC 4303); the old UDP header is now ESP SPI + sequence
    const d = decodeFrame(LINKTYPE.IPV4, f)!;
    expect(d).toMatchObject({ protocol: 'other', ipProtocol: 50, srcPort: 0, dstPort: 0, tcp: undefined });
    expect(d.payload.length).toBe(8 + 9);
  });

  it('accepts BSD loopback families in either byte order and every AF_INET6 value', () => {
    const ip4 = buildUdpFrame(LINKTYPE.RAW, '127.0.0.1', 1, '127.0.0.2', 2, Buffer.from('x'));
    const ip6 = raw6();
    const fam = (v: number, le: boolean): Buffer => {
      const b = Buffer.alloc(4);
      if (le) b.writeUInt32LE(v);
      else b.writeUInt32BE(v);
      return b;
    };
    for (const lt of [LINKTYPE.NULL, LINKTYPE.LOOP]) {
      for (const le of [true, false]) {
        expect(decodeFrame(lt, Buffer.concat([fam(2, le), ip4]))?.ipVersion).toBe(4);
        for (const af6 of [10, 24, 28, 30]) expect(decodeFrame(lt, Buffer.concat([fam(af6, le), ip6]))?.ipVersion).toBe(6);
        expect(decodeFrame(lt, Buffer.concat([fam(7, le), ip4]))).toBeNull();
      }
    }
  });

  it('formats IPv6 addresses per RFC 5952', () => {
    const cases: Array<[string, string]> = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['::', '::'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run wins
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of equal runs
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['FE80::ABCD', 'fe80::abcd'],
    ];
    for (const [input, canonical] of cases) {
      const d = decodeFrame(LINKTYPE.RAW, buildUdpFrame(LINKTYPE.RAW, input, 1, '::1', 2, Buffer.alloc(0)));
      expect(d?.src, input).toBe(canonical);
    }
  });

  it('returns null for malformed or unsupported frames', () => {
    const f = udp4();
    const mutate = (fn: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(f);
      fn(b);
      return b;
    };
    expect(decodeFrame(LINKTYPE.ETHERNET, mutate((b) => (b[14] = 0x44)))).toBeNull(); // IHL 4
    expect(decodeFrame(LINKTYPE.ETHERNET, mutate((b) => b.writeUInt16BE(10, 16)))).toBeNull(); // total < IHL
    expect(decodeFrame(LINKTYPE.ETHERNET, mutate((b) => b.writeUInt16BE(500, 38)))).toBeNull(); // UDP length > IP payload
    expect(decodeFrame(LINKTYPE.ETHERNET, mutate((b) => b.writeUInt16BE(4, 38)))).toBeNull(); // UDP length < 8
    expect(decodeFrame(LINKTYPE.ETHERNET, mutate((b) => b.writeUInt16BE(0x0806, 12)))).toBeNull(); // ARP
    expect(decodeFrame(LINKTYPE.ETHERNET, f.subarray(0, 30))).toBeNull(); // cut inside the IP header
    expect(decodeFrame(LINKTYPE.ETHERNET, f.subarray(0, 38))).toBeNull(); // cut inside UDP
    expect(decodeFrame(147, f)).toBeNull(); // a link type we do not decode
    expect(decodeFrame(LINKTYPE.RAW, Buffer.from([0x50, 0, 0, 0]))).toBeNull(); // IP version 5
    expect(decodeFrame(LINKTYPE.IPV4, raw6())).toBeNull();
  });
});
