/** RTP/RTCP demultiplexing on one port (RFC 5761 sec. 4) and RTCP header recognition (RFC 3550 sec. 6.4). */
import { describe, expect, it } from 'vitest';
import { buildRtp, buildSenderReport, demuxRtpRtcp, isRtcpPacketType, looksLikeRtcp, RTCP_PACKET_TYPE, rtcpSenderSsrc } from '../src/index.ts';
import { hex } from './helpers.ts';

// RFC 7714 sec. 17.1: the SR the SRTCP examples protect, SSRC 0x4d617273 ("Mars"). It is 13 words long
// but its length word says 13, i.e. 14 words (RFC 3550 sec. 6.4.1 counts words minus one): a
// packet type that demultiplexes as RTCP, with a length that does not fit.
const RFC7714_SR = hex('81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef');
// libsrtp srtp_driver.c srtcp known packet: SR, length 11 would need 48 octets but only 24 are there (a fragment).
const LIBSRTP_SR_FRAGMENT = hex('81c8000b cafebabe abababababababababababababababab');

describe('RFC 5761 sec. 4: the second octet separates RTP from RTCP', () => {
  it('RTCP packet types 192..223 are RTCP, everything else is RTP', () => {
    expect(isRtcpPacketType(191)).toBe(false);
    for (let t = 192; t <= 223; t++) expect(isRtcpPacketType(t)).toBe(true);
    expect(isRtcpPacketType(224)).toBe(false);
    expect(Object.values(RTCP_PACKET_TYPE).every(isRtcpPacketType)).toBe(true);
  });

  it('sorts the RFC 7714 packets: the sec. 16.1.1 RTP packet (PT 64, M=0) is RTP, the sec. 17 SR is RTCP', () => {
    expect(demuxRtpRtcp(hex('8040f17b 8041f8d3 5501a0b2 4761'))).toBe('rtp');
    expect(demuxRtpRtcp(RFC7714_SR)).toBe('rtcp');
  });

  it('RTP with the marker set: PT 96 (0xe0) and PT 0 (0x80) are RTP; PT 72 with M=1 would be an SR and is why sec. 4 forbids PT 64..95', () => {
    expect(demuxRtpRtcp(buildRtp({ payloadType: 96, marker: true, sequence: 1, timestamp: 1, ssrc: 1 }, Buffer.alloc(4)))).toBe('rtp');
    expect(demuxRtpRtcp(buildRtp({ payloadType: 0, marker: true, sequence: 1, timestamp: 1, ssrc: 1 }, Buffer.alloc(4)))).toBe('rtp');
    expect(demuxRtpRtcp(buildRtp({ payloadType: 72, marker: true, sequence: 1, timestamp: 1, ssrc: 1 }, Buffer.alloc(4)))).toBe('rtcp');
  });

  it('neither: not version 2, or too short for the header it would have', () => {
    expect(demuxRtpRtcp(hex(''))).toBe('neither');
    expect(demuxRtpRtcp(hex('40c80001 11111111'))).toBe('neither'); // version 1
    expect(demuxRtpRtcp(hex('16fefd00 00000000 00000000'))).toBe('neither'); // DTLS (RFC 7983: first octet 20..63)
    expect(demuxRtpRtcp(hex('80c90001 1111'))).toBe('neither'); // 6 octets: no RTCP header
    expect(demuxRtpRtcp(hex('80c90000 11111111'))).toBe('rtcp'); // an 8-octet RR without report blocks
    expect(demuxRtpRtcp(hex('80000001 00000002'))).toBe('neither'); // 8 octets: no RTP fixed header
  });

  it('works at an offset in a larger buffer', () => {
    const frame = Buffer.concat([Buffer.alloc(42), buildSenderReport(0x4d617273, 0, 0, 0, 0)]);
    expect(demuxRtpRtcp(frame, 42)).toBe('rtcp');
    expect(looksLikeRtcp(frame, 42)).toBe(true);
    expect(rtcpSenderSsrc(frame, 42)).toBe(0x4d617273);
  });
});

describe('looksLikeRtcp (RFC 3550 sec. 6.4.1 length word)', () => {
  it('accepts RTCP whose length word fits', () => {
    // The RFC 7714 SR with its length word corrected to 12 (13 words).
    expect(looksLikeRtcp(Buffer.concat([hex('81c8000c'), RFC7714_SR.subarray(4)]))).toBe(true);
    expect(looksLikeRtcp(hex('81c90001 22222222 33333333'))).toBe(true); // RR, length 1: 8 octets of 12
    expect(looksLikeRtcp(hex('80cd0001 22222222 33333333'))).toBe(true); // RTPFB 205 (RFC 4585)
  });

  it('rejects RTP, short packets and lengths past the end', () => {
    expect(looksLikeRtcp(buildRtp({ payloadType: 0, sequence: 1, timestamp: 1, ssrc: 1 }, Buffer.alloc(20)))).toBe(false);
    expect(looksLikeRtcp(buildRtp({ payloadType: 96, marker: true, sequence: 1, timestamp: 1, ssrc: 1 }, Buffer.alloc(20)))).toBe(false); // second octet 224
    expect(looksLikeRtcp(hex('80c80006 1111'))).toBe(false);
    expect(looksLikeRtcp(RFC7714_SR)).toBe(false);
    expect(looksLikeRtcp(LIBSRTP_SR_FRAGMENT)).toBe(false);
    expect(looksLikeRtcp(hex('40c80001 11111111 00000000'))).toBe(false);
  });
});
