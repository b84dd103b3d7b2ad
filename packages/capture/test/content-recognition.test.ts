/**
 * Recognition by content, for an analyser that no longer trusts ports: SIP
 * must be told from text that only starts like it, and IPv6 must decode down
 * to TCP and UDP on every link type the analyser reads.
 */
import { describe, expect, it } from 'vitest';
import { buildTcpFrame, buildUdpFrame, decodeFrame, LINKTYPE, looksLikeSip, TCP_FLAGS } from '../src/index.ts';

describe('looksLikeSip is strict enough to run on any port', () => {
  it('accepts whole and cut SIP messages, compact headers, every start line form', () => {
    for (const s of [
      'INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP x\r\n\r\n',
      'OPTIONS sip:x SIP/2.0\r\ni: abc\r\n', // compact Call-ID
      'REGISTER sips:ims.example.net SIP/2.0\r\nVia', // cut inside the first header name
      'NOTIFY sip:x SIP/2.0\r\nEvent : reg\r\n', // space before the colon (RFC 3261 sec. 7.3.1 allows LWS)
      'SIP/2.0 200 OK\r\n\r\n', // no header fields at all
      'SIP/2.0 180 Ringing\nVia: x\n', // bare LF line ends, as some stacks send
      'MESSAGE tel:+15551234 SIP/2.0\r\n',
    ]) expect(looksLikeSip(Buffer.from(s)), s).toBe(true);
  });

  it('rejects what only starts like SIP, lower-case methods, and binary', () => {
    for (const s of [
      'INVITE sip:bob@example.com SIP/2.0\r\n<html>\r\n', // the next line is no header field
      'INVITE sip:bob@example.com SIP/2.0\r\n: value\r\n', // an empty header name
      'INVITE sip:bob@example.com SIP/2.0\r\nVia x\r\n', // a header name without its colon
      'invite sip:bob@example.com SIP/2.0\r\nVia: x\r\n', // methods are case-sensitive and upper case here
      'SIP/2.0 200 OK\rVia: x\r\n', // CR not followed by LF
      'GET / HTTP/1.1\r\nHost: x\r\n',
    ]) expect(looksLikeSip(Buffer.from(s)), s).toBe(false);
    expect(looksLikeSip(Buffer.from([0x80, 0x00, 0x00, 0x01, ...Buffer.from('INVITE sip:x SIP/2.0\r\n')]))).toBe(false);
  });
});

describe('decodeFrame on IPv6', () => {
  it('decodes TCP over IPv6 with its sequence number and flags, on every link type the builder makes', () => {
    for (const lt of [LINKTYPE.ETHERNET, LINKTYPE.LINUX_SLL, LINKTYPE.LINUX_SLL2, LINKTYPE.NULL, LINKTYPE.LOOP, LINKTYPE.RAW, LINKTYPE.IPV6]) {
      const f = buildTcpFrame(lt, '2001:db8::a', 5060, 'fe80::1', 40000, Buffer.from('SIP/2.0 200 OK\r\n'), { seq: 0xfffffff0, flags: TCP_FLAGS.PSH | TCP_FLAGS.ACK });
      const d = decodeFrame(lt, f);
      expect(d, `link type ${lt}`).toMatchObject({ ipVersion: 6, src: '2001:db8::a', dst: 'fe80::1', protocol: 'tcp', srcPort: 5060, dstPort: 40000, tcp: { seq: 0xfffffff0, flags: 0x18 } });
      expect(d!.payload.toString()).toBe('SIP/2.0 200 OK\r\n');
      const u = decodeFrame(lt, buildUdpFrame(lt, '2001:db8::a', 5090, '2001:db8::b', 5070, Buffer.from('x')));
      expect(u, `link type ${lt}`).toMatchObject({ ipVersion: 6, protocol: 'udp', srcPort: 5090, dstPort: 5070 });
    }
  });
});
