import { describe, expect, it } from 'vitest';
// RTP and RTCP recognition (readRtpHeader, looksLikeRtcp) is @imslab/rtp's, tested in packages/rtp/test.
import { looksLikeDtls, looksLikeMsrp, looksLikeSip, looksLikeTls } from '../src/index.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

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
