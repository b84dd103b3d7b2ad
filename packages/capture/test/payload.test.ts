import { describe, expect, it } from 'vitest';
import { buildRtpPacket, looksLikeDtls, looksLikeMsrp, looksLikeRtcp, looksLikeSip, looksLikeTls, parseRtpHeader } from '../src/index.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('parseRtpHeader (RFC 3550 sec 5.1)', () => {
  it('reads every fixed-header field', () => {
    const p = hex('80 e0 ff fe 12345678 deadbeef');
    const h = parseRtpHeader(Buffer.concat([p, Buffer.alloc(4)]));
    expect(h).toEqual({
      version: 2, padding: false, extension: false, csrcCount: 0, marker: true, payloadType: 96,
      sequence: 0xfffe, timestamp: 0x12345678, ssrc: 0xdeadbeef, headerLength: 12,
    });
  });

  it('counts CSRCs and the header extension into headerLength', () => {
    const csrc = buildRtpPacket({ payloadType: 0, sequence: 1, timestamp: 2, ssrc: 3, csrcs: [10, 11] }, Buffer.alloc(10));
    expect(parseRtpHeader(csrc)).toMatchObject({ csrcCount: 2, headerLength: 20 });
    // X bit with a one-word extension (profile 0xbede, RFC 8285), then payload.
    const ext = Buffer.concat([hex('90 00 0001 00000002 00000003'), hex('bede 0001 11223344'), Buffer.alloc(5)]);
    expect(parseRtpHeader(ext)).toMatchObject({ extension: true, headerLength: 20 });
  });

  it('rejects what is not plausibly RTP', () => {
    expect(parseRtpHeader(hex('40 00 0001 00000002 00000003'))).toBeNull(); // version 1
    expect(parseRtpHeader(hex('80 00 0001 00000002 0000'))).toBeNull(); // 10 bytes
    expect(parseRtpHeader(hex('83 00 0001 00000002 00000003 00000004'))).toBeNull(); // 3 CSRCs announced, 1 present
    expect(parseRtpHeader(hex('90 00 0001 00000002 00000003 bede 0009 00000000'))).toBeNull(); // extension longer than packet
    expect(parseRtpHeader(hex('a0 00 0001 00000002 00000003 aaaa 00'))).toBeNull(); // padding count 0
    expect(parseRtpHeader(hex('a0 00 0001 00000002 00000003 aaaa 09'))).toBeNull(); // padding longer than payload
    expect(parseRtpHeader(hex('a0 00 0001 00000002 00000003 aaaa 03'))).toMatchObject({ padding: true });
  });
});

describe('looksLikeRtcp (RFC 5761 sec 4)', () => {
  it('accepts RTCP packet types 192..223 with a consistent length', () => {
    const sr = hex('80 c8 0006 11111111 00000000 00000000 00000000 00000000 00000000');
    expect(looksLikeRtcp(sr)).toBe(true);
    expect(looksLikeRtcp(hex('81 c9 0001 22222222 33333333'))).toBe(true); // RR length 1 → 8 bytes
    expect(looksLikeRtcp(hex('80 cd 0001 22222222 33333333'))).toBe(true); // RTPFB 205
  });

  it('rejects RTP, short packets and impossible lengths', () => {
    expect(looksLikeRtcp(buildRtpPacket({ payloadType: 0, sequence: 1, timestamp: 1, ssrc: 1 }, Buffer.alloc(20)))).toBe(false);
    expect(looksLikeRtcp(buildRtpPacket({ payloadType: 96, marker: true, sequence: 1, timestamp: 1, ssrc: 1 }, Buffer.alloc(20)))).toBe(false); // byte 224
    expect(looksLikeRtcp(hex('80 c8 0006 1111'))).toBe(false);
    expect(looksLikeRtcp(hex('80 c8 00ff 11111111 00000000'))).toBe(false);
    expect(looksLikeRtcp(hex('40 c8 0001 11111111 00000000'))).toBe(false);
  });
});

describe('looksLikeTls / looksLikeDtls', () => {
  it('recognises TLS record headers (RFC 8446 sec 5.1)', () => {
    expect(looksLikeTls(hex('16 0301 0200 01'))).toBe(true);
    expect(looksLikeTls(hex('17 0303 4000'))).toBe(true);
    expect(looksLikeTls(hex('14 0300 0001 01'))).toBe(true);
  });
  it('rejects other bytes', () => {
    expect(looksLikeTls(hex('16 0305 0010'))).toBe(false); // no such version
    expect(looksLikeTls(hex('18 0303 0010'))).toBe(false); // heartbeat is outside 20..23
    expect(looksLikeTls(hex('16 0303 0000'))).toBe(false); // empty record
    expect(looksLikeTls(hex('17 0303 ffff'))).toBe(false); // longer than 2^14 + 2048
    expect(looksLikeTls(hex('16 03'))).toBe(false);
    expect(looksLikeTls(Buffer.from('GET / HTTP/1.1\r\n'))).toBe(false);
  });
  it('recognises DTLS 1.0 / 1.2 record headers (RFC 6347 sec 4.1)', () => {
    expect(looksLikeDtls(hex('16 fefd 0000 000000000000 0040'))).toBe(true);
    expect(looksLikeDtls(hex('16 0303 0000 000000000000 0040'))).toBe(false);
  });
});

describe('looksLikeSip (RFC 3261 sec 7)', () => {
  it('accepts request and status lines', () => {
    for (const s of [
      'INVITE sip:bob@example.com SIP/2.0\r\nVia: x\r\n',
      'REGISTER sips:ims.example.net SIP/2.0\r\n',
      'MESSAGE tel:+15551234 SIP/2.0\r\n',
      'SIP/2.0 200 OK\r\n',
      'SIP/2.0 180 Ringing\r\n',
      'SIP/2.0 100 Trying', // cut before CRLF
    ]) expect(looksLikeSip(Buffer.from(s)), s).toBe(true);
  });
  it('rejects other protocols and near misses', () => {
    for (const s of [
      'GET / HTTP/1.1\r\n', 'HTTP/1.1 200 OK\r\n', 'SIP/2.0 2000 OK\r\n', 'INVITE sip:x SIP/3.0\r\n', 'INVITE http://x SIP/2.0\r\n',
      'MSRP a786hjs2 SEND\r\n', '\r\n\r\n', '',
    ]) expect(looksLikeSip(Buffer.from(s)), s).toBe(false);
    expect(looksLikeSip(hex('80 00 0001 00000002 00000003 494e56495445'))).toBe(false);
  });
});

describe('looksLikeMsrp (RFC 4975 sec 7)', () => {
  it('accepts request and response lines', () => {
    expect(looksLikeMsrp(Buffer.from('MSRP a786hjs2 SEND\r\nTo-Path: msrp://x\r\n'))).toBe(true);
    expect(looksLikeMsrp(Buffer.from('MSRP a786hjs2 200 OK\r\n'))).toBe(true);
    expect(looksLikeMsrp(Buffer.from('MSRP d93kswow REPORT\r\n'))).toBe(true);
  });
  it('rejects near misses', () => {
    expect(looksLikeMsrp(Buffer.from('MSRP ab SEND\r\n'))).toBe(false); // transaction id too short
    expect(looksLikeMsrp(Buffer.from('MSRP a786hjs2 send\r\n'))).toBe(false); // methods are upper case
    expect(looksLikeMsrp(Buffer.from('MSRPS a786hjs2 SEND\r\n'))).toBe(false);
    expect(looksLikeMsrp(Buffer.from('INVITE sip:x SIP/2.0\r\n'))).toBe(false);
  });
});
