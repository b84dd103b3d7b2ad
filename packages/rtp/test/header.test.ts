/** RTP fixed-header parsing (RFC 3550 sec. 5.1, 5.3.1), in place and as a view, with malformed packets. */
import { describe, expect, it } from 'vitest';
import {
  checkRtpPacket, describeRtpProblem, readRtpHeader, RtpFormatError, RtpHeaderView, rtpHeaderLength, rtpPaddingLength, rtpSequence, rtpSsrc, rtpTimestamp,
  type RtpProblem,
} from '../src/index.ts';
import { hex } from './helpers.ts';

// RFC 7714 sec. 16.1.1, the RTP packet every AEAD_AES_*_GCM example protects:
// V=2 P=0 X=0 CC=0 M=0 PT=64, SEQ 0xf17b, TS 0x8041f8d3, SSRC 0x5501a0b2, 38 octets of payload
// ("Gallia est omnis divisa in partes tres").
const RFC7714_RTP = hex('8040f17b 8041f8d3 5501a0b2 47616c6c69612065737420 6f6d6e697320646976697361 20696e2070617274657320 74726573');
// RFC 3711 sec. 3.1's reference implementation's known packet (libsrtp srtp_driver.c srtp_validate):
// PT 15, SEQ 0x1234, TS 0xdecafbad, SSRC 0xcafebabe, 16 octets 0xab.
const LIBSRTP_RTP = hex('800f1234 decafbad cafebabe abababababababababababababababab');

describe('RFC 3550 sec. 5.1 fixed header', () => {
  it('reads every field of the RFC 7714 sec. 16.1.1 packet', () => {
    expect(readRtpHeader(RFC7714_RTP)).toEqual({
      version: 2, padding: false, extension: false, csrcCount: 0, marker: false, payloadType: 64,
      sequence: 0xf17b, timestamp: 0x8041f8d3, ssrc: 0x5501a0b2, headerLength: 12,
    });
    const v = RtpHeaderView.from(RFC7714_RTP);
    expect(v.payloadOffset).toBe(12);
    expect(v.payloadLength).toBe(RFC7714_RTP.length - 12);
    expect(Buffer.from(v.payload()).toString('ascii')).toBe('Gallia est omnis divisa in partes tres');
  });

  it('reads the libsrtp known packet, unsigned SSRC and timestamp above 2^31', () => {
    expect(readRtpHeader(LIBSRTP_RTP)).toMatchObject({ payloadType: 15, sequence: 0x1234, timestamp: 0xdecafbad, ssrc: 0xcafebabe, marker: false });
    expect(rtpSsrc(LIBSRTP_RTP)).toBe(0xcafebabe);
    expect(rtpTimestamp(LIBSRTP_RTP)).toBe(0xdecafbad);
    expect(checkRtpPacket(LIBSRTP_RTP)).toBeNull();
  });

  it('marker bit and payload type share the second octet (M=1, PT=96 is 0xe0)', () => {
    const h = readRtpHeader(hex('80e0fffe 12345678 deadbeef 00000000'));
    expect(h).toMatchObject({ marker: true, payloadType: 96, sequence: 0xfffe });
  });

  it('reads fields in place at an offset inside a larger buffer, without copying', () => {
    const frame = Buffer.concat([Buffer.alloc(42, 0xee), LIBSRTP_RTP, Buffer.alloc(4, 0xee)]);
    const end = 42 + LIBSRTP_RTP.length;
    expect(rtpHeaderLength(frame, 42, end)).toBe(12);
    expect(rtpSequence(frame, 42)).toBe(0x1234);
    const v = new RtpHeaderView();
    expect(v.wrap(frame, 42, end)).toBeNull();
    expect(v.bytes).toBe(frame);
    expect([v.payloadOffset, v.payloadEnd]).toEqual([54, end]);
    // A view, not a copy: it reads the bytes as they are now.
    frame[42 + 3] = 0x35;
    expect(v.sequence).toBe(0x1235);
  });

  it('counts CSRCs (RFC 3550 sec. 5.1) and the header extension (sec. 5.3.1) into the header length', () => {
    const csrc = hex('82000001 00000002 00000003 0000000a 0000000b cafe');
    const v = RtpHeaderView.from(csrc);
    expect([v.csrcCount, v.headerLength, v.csrc(0), v.csrc(1), v.csrc(2)]).toEqual([2, 20, 10, 11, undefined]);
    // X=1, one-word extension with profile 0xBEDE (RFC 8285 one-byte headers), then 5 octets of payload.
    const ext = hex('90000001 00000002 00000003 bede0001 11223344 0102030405');
    const e = RtpHeaderView.from(ext);
    expect([e.extension, e.extensionProfile, e.headerLength, e.payloadLength]).toEqual([true, 0xbede, 20, 5]);
    // CSRCs and extension together: 12 + 4 + 4 + 8.
    expect(rtpHeaderLength(hex('91000001 00000002 00000003 00000004 10000002 0000000000000000'))).toBe(28);
  });

  it('padding: the last octet counts the padding, itself included (RFC 3550 sec. 5.1)', () => {
    const p = hex('a0000001 00000002 00000003 aaaa 000003');
    const v = RtpHeaderView.from(p);
    expect([v.padding, v.paddingLength, v.payloadLength]).toEqual([true, 3, 2]);
    expect(rtpPaddingLength(p, 0, p.length, 12)).toBe(3);
    expect(rtpPaddingLength(LIBSRTP_RTP, 0, LIBSRTP_RTP.length, 12)).toBe(0);
    // Padding may fill the whole payload.
    expect(RtpHeaderView.from(hex('a0000001 00000002 00000003 0002')).payloadLength).toBe(0);
  });

  it('leaves the padding alone in rtpHeaderLength: SRTP ends with the tag, not the count (RFC 3711 sec. 3.1)', () => {
    expect(rtpHeaderLength(hex('a0000001 00000002 00000003 aaaa 00'))).toBe(12);
  });
});

describe('malformed packets are values, never exceptions', () => {
  const cases: Array<[string, string, RtpProblem]> = [
    ['empty', '', 'too-short'],
    ['11 octets', '80000001 00000002 000000', 'too-short'],
    ['version 1', '40000001 00000002 00000003', 'bad-version'],
    ['version 0 (e.g. STUN, RFC 7983)', '00010000 2112a442 00000000', 'bad-version'],
    ['version 3', 'c0000001 00000002 00000003', 'bad-version'],
    ['3 CSRCs announced, 1 present', '83000001 00000002 00000003 00000004', 'truncated-csrc'],
    ['15 CSRCs announced, none present', '8f000001 00000002 00000003', 'truncated-csrc'],
    ['X bit, no extension header', '90000001 00000002 00000003 bede', 'truncated-extension'],
    ['extension longer than the packet', '90000001 00000002 00000003 bede0009 00000000', 'truncated-extension'],
    ['padding count 0', 'a0000001 00000002 00000003 aaaa00', 'bad-padding'],
    ['padding longer than the payload', 'a0000001 00000002 00000003 aaaa09', 'bad-padding'],
    ['padding with no payload at all', 'a0000001 00000002 00000003', 'bad-padding'],
  ];
  for (const [what, bytes, problem] of cases) {
    it(`${what}: ${problem}`, () => {
      const p = hex(bytes);
      expect(readRtpHeader(p)).toBe(problem);
      expect(checkRtpPacket(p)).toBe(problem);
      expect(RtpHeaderView.parse(p)).toBe(problem);
      const v = new RtpHeaderView();
      expect(v.wrap(p)).toBe(problem);
      expect(v.valid).toBe(false);
      expect(() => RtpHeaderView.from(p)).toThrow(RtpFormatError);
      expect(describeRtpProblem(problem)).toMatch(/RFC 3550 sec\. 5\./);
    });
  }

  it('RtpFormatError is named and says what was wrong', () => {
    try {
      RtpHeaderView.from(hex('83000001 00000002 00000003'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RtpFormatError);
      expect((e as RtpFormatError).name).toBe('RtpFormatError');
      expect((e as RtpFormatError).problem).toBe('truncated-csrc');
      expect((e as Error).message).toMatch(/12 octets.*CSRC list/);
    }
  });

  it('a view never reaches past the array, whatever bounds it is given', () => {
    const v = new RtpHeaderView();
    expect(v.wrap(LIBSRTP_RTP, 0, 1000)).toBeNull();
    expect(v.payloadEnd).toBe(LIBSRTP_RTP.length);
    expect(v.wrap(LIBSRTP_RTP, 20, 10)).toBe('too-short');
    expect(v.wrap(LIBSRTP_RTP, -4)).toBe('bad-version');
  });

  it('a view that failed to wrap forgets its previous packet', () => {
    const v = new RtpHeaderView();
    expect(v.wrap(LIBSRTP_RTP)).toBeNull();
    expect(v.wrap(hex('4000'))).toBe('too-short');
    expect([v.valid, v.sequence, v.ssrc, v.headerLength, v.payload().length]).toEqual([false, 0, 0, 0, 0]);
  });

  it('never throws on random bytes, and what it accepts fits the bytes', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const v = new RtpHeaderView();
    for (let i = 0; i < 20_000; i++) {
      const p = Buffer.from(Array.from({ length: (rnd() * 40) | 0 }, () => (rnd() * 256) | 0));
      if (p.length > 0 && rnd() < 0.7) p[0] = 0x80 | (p[0]! & 0x3f);
      if (v.wrap(p) === null) {
        expect(v.version).toBe(2);
        expect(v.payloadOffset).toBeLessThanOrEqual(v.payloadEnd);
        expect(v.payloadEnd).toBeLessThanOrEqual(p.length);
      }
    }
  });
});
