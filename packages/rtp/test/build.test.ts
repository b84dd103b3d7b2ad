/** RTP header building (RFC 3550 sec. 5.1, 5.3.1) and RTCP sender reports (sec. 6.4.1). */
import { describe, expect, it } from 'vitest';
import { buildRtp, buildSenderReport, looksLikeRtcp, readRtpHeader, RtpBuildError, RtpHeaderView, rtcpSenderSsrc, writeRtpHeader } from '../src/index.ts';
import { hex } from './helpers.ts';

describe('buildRtp', () => {
  it('rebuilds the RFC 7714 sec. 16.1.1 packet octet for octet', () => {
    const payload = Buffer.from('Gallia est omnis divisa in partes tres', 'ascii');
    expect(buildRtp({ payloadType: 64, sequence: 0xf17b, timestamp: 0x8041f8d3, ssrc: 0x5501a0b2 }, payload).toString('hex'))
      .toBe('8040f17b8041f8d35501a0b2' + payload.toString('hex'));
  });

  it('rebuilds the libsrtp known packet (PT 15, SEQ 0x1234)', () => {
    expect(buildRtp({ payloadType: 15, sequence: 0x1234, timestamp: 0xdecafbad, ssrc: 0xcafebabe }, Buffer.alloc(16, 0xab)))
      .toEqual(hex('800f1234 decafbad cafebabe abababababababababababababababab'));
  });

  it('writes marker, CSRCs, extension and padding that the parser reads back', () => {
    const p = buildRtp(
      { payloadType: 96, marker: true, sequence: 7, timestamp: 8, ssrc: 9, csrcs: [0xffffffff, 2], extension: { profile: 0xbede, data: hex('10aa0000') } },
      Buffer.from('abc'),
      5,
    );
    const v = RtpHeaderView.from(p);
    expect(v.toHeader()).toEqual({
      version: 2, padding: true, extension: true, csrcCount: 2, marker: true, payloadType: 96,
      sequence: 7, timestamp: 8, ssrc: 9, headerLength: 12 + 8 + 8,
    });
    expect([v.csrc(0), v.csrc(1), v.extensionProfile, v.paddingLength]).toEqual([0xffffffff, 2, 0xbede, 5]);
    expect(Buffer.from(v.payload()).toString()).toBe('abc');
  });

  it('wraps sequence number modulo 2^16 and timestamp and SSRC modulo 2^32, as senders count', () => {
    const h = readRtpHeader(buildRtp({ payloadType: 0, sequence: 65536 + 5, timestamp: 2 ** 32 + 160, ssrc: -1 }, Buffer.alloc(0)));
    expect(h).toMatchObject({ sequence: 5, timestamp: 160, ssrc: 0xffffffff });
  });

  it('refuses what the header cannot carry, with a named error', () => {
    const base = { payloadType: 0, sequence: 0, timestamp: 0, ssrc: 0 };
    expect(() => buildRtp({ ...base, payloadType: 128 }, Buffer.alloc(0))).toThrow(RtpBuildError);
    expect(() => buildRtp({ ...base, payloadType: 1.5 }, Buffer.alloc(0))).toThrow(/payloadType/);
    expect(() => buildRtp({ ...base, csrcs: Array(16).fill(1) }, Buffer.alloc(0))).toThrow(/at most 15 CSRCs/);
    expect(() => buildRtp({ ...base, extension: { profile: 1, data: Buffer.alloc(3) } }, Buffer.alloc(0))).toThrow(/32-bit words/);
    expect(() => buildRtp(base, Buffer.alloc(0), 256)).toThrow(/padding/);
    expect(() => buildRtp({ ...base, sequence: Number.NaN }, Buffer.alloc(0))).toThrow(RtpBuildError);
  });

  it('writeRtpHeader writes in place and checks the room', () => {
    const out = Buffer.alloc(16, 0xff);
    expect(writeRtpHeader(out, 4, { payloadType: 0, sequence: 1, timestamp: 2, ssrc: 3 })).toBe(12);
    expect(out.subarray(4)).toEqual(hex('80000001 00000002 00000003'));
    expect(out.subarray(0, 4)).toEqual(hex('ffffffff'));
    expect(() => writeRtpHeader(out, 5, { payloadType: 0, sequence: 1, timestamp: 2, ssrc: 3 })).toThrow(RtpBuildError);
  });
});

describe('buildSenderReport (RFC 3550 sec. 6.4.1)', () => {
  it('is a 28-octet SR, length word 6, with the NTP time of the given instant', () => {
    // 2001-09-09T01:46:40.500Z: Unix 1e9 s + 0.5 s; NTP seconds = Unix + 2208988800 (RFC 3550 sec. 4), fraction 0.5 = 0x80000000.
    const sr = buildSenderReport(0xcafebabe, 0x01020304, 10, 1600, 1_000_000_000_500);
    expect(sr.toString('hex')).toBe('80c80006' + 'cafebabe' + (1_000_000_000 + 2_208_988_800).toString(16) + '80000000' + '01020304' + '0000000a' + '00000640');
    expect(looksLikeRtcp(sr)).toBe(true);
    expect(rtcpSenderSsrc(sr)).toBe(0xcafebabe);
  });
});
