/**
 * Issue 13 point 3: property tests and a fixture-seeded mutation fuzzer for
 * the RTP/RTCP header code. fast-check runs use fixed seeds (printed by
 * fast-check on failure, and in the assertion messages); the mutation
 * fuzzer uses @imslab/fuzz's prng, so a failure replays from its iteration.
 *
 * Properties:
 * - build -> parse round trip: every field of a generated header (CSRCs,
 *   extension, padding, marker, modular seq/ts/ssrc) reads back from a view,
 *   at any offset inside a larger buffer, and parse -> build gives the same
 *   bytes back;
 * - sender reports: recognised as RTCP, SSRC/NTP/counters read back;
 * - demux agrees with looksLikeRtcp and rtpHeaderLength on arbitrary bytes;
 * - arbitrary and mutated bytes: the parsers return a view or an RtpProblem
 *   (never throw), `from` throws only RtpFormatError with the same problem,
 *   every accepted view points inside the bytes, within a time bound;
 * - the builders refuse impossible fields with RtpBuildError only;
 * - sequence arithmetic: seqDistance is antisymmetric and inverts addition.
 */
import fc from 'fast-check';
import { prng, timedRun } from '@imslab/fuzz';
import { describe, expect, it } from 'vitest';
import {
  buildRtp, buildSenderReport, checkRtpPacket, demuxRtpRtcp, estimateRoc, looksLikeRtcp, packetIndex, readRtpHeader, readU32, RTCP_PACKET_TYPE,
  RtpBuildError, RtpFormatError, RtpHeaderView, rtcpSenderSsrc, rtpHeaderLength, rtpHeaderSize, seqDistance, writeRtpHeader, type RtpHeaderFields,
  type RtpProblem,
} from '../src/index.ts';

const PROBLEMS = new Set<RtpProblem>(['too-short', 'bad-version', 'truncated-csrc', 'truncated-extension', 'bad-padding']);
/** Per-input time bound (ms) for the parsers; the worst seen is printed. */
const BOUND_MS = 50;

/**
 * Runs `f` and returns its time in ms. A run over the bound is timed again
 * (twice): a hang repeats, a GC pause or a busy machine does not, so the
 * bound catches slow inputs without flaking.
 */
function timed(f: () => unknown): number {
  return timedRun(f, BOUND_MS);
}

function must(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(`property failed: ${what}`);
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const fieldsArb: fc.Arbitrary<RtpHeaderFields> = fc.record({
  payloadType: fc.integer({ min: 0, max: 127 }),
  sequence: fc.integer({ min: 0, max: 0x2ffff }), // counts past the wrap: written modulo 2^16
  timestamp: fc.oneof(u32, fc.integer({ min: 0, max: 2 ** 40 })),
  ssrc: u32,
  marker: fc.boolean(),
  csrcs: fc.array(u32, { maxLength: 15 }),
  extension: fc.option(fc.record({ profile: fc.integer({ min: 0, max: 0xffff }), data: fc.uint8Array({ maxLength: 40 }).map((d) => d.subarray(0, d.length & ~3)) }), { nil: undefined }),
});
const packetArb = fc.record({ h: fieldsArb, payload: fc.uint8Array({ maxLength: 200 }), padding: fc.integer({ min: 0, max: 255 }) });

describe('RTP header round trip', () => {
  it('every generated header reads back field for field, at any offset, and rebuilding it gives the same bytes', () => {
    fc.assert(fc.property(packetArb, fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }), ({ h, payload, padding }, before, after) => {
      const pkt = buildRtp(h, payload, padding);
      expect(pkt.length).toBe(rtpHeaderSize(h) + payload.length + padding);
      // Inside a larger frame, as the capture code reads it.
      const frame = Buffer.concat([Buffer.alloc(before, 0xee), pkt, Buffer.alloc(after, 0xee)]);
      const v = RtpHeaderView.parse(frame, before, before + pkt.length);
      if (typeof v === 'string') throw new Error(`valid packet refused: ${v}`);
      const csrcs = h.csrcs ?? [];
      expect(v.toHeader()).toEqual({
        version: 2, padding: padding > 0, extension: h.extension !== undefined, csrcCount: csrcs.length, marker: h.marker ?? false,
        payloadType: h.payloadType, sequence: h.sequence % 0x10000, timestamp: h.timestamp % 2 ** 32, ssrc: h.ssrc, headerLength: rtpHeaderSize(h),
      });
      for (let i = 0; i < csrcs.length; i++) expect(v.csrc(i)).toBe(csrcs[i]);
      expect(v.csrc(csrcs.length)).toBeUndefined();
      expect(v.extensionProfile).toBe(h.extension?.profile);
      expect(v.paddingLength).toBe(padding);
      expect(Buffer.from(v.payload())).toEqual(Buffer.from(payload));
      expect(v.payloadOffset).toBe(before + rtpHeaderSize(h));
      expect(checkRtpPacket(frame, before, before + pkt.length)).toBeNull();
      // parse -> build: the fields the view gives rebuild the identical packet.
      const extBody = v.extension ? frame.subarray(before + 12 + 4 * v.csrcCount + 4, before + v.headerLength) : undefined;
      const again = buildRtp({
        payloadType: v.payloadType, sequence: v.sequence, timestamp: v.timestamp, ssrc: v.ssrc, marker: v.marker,
        csrcs: Array.from({ length: v.csrcCount }, (_, i) => v.csrc(i)!),
        extension: v.extension ? { profile: v.extensionProfile!, data: extBody! } : undefined,
      }, v.payload(), v.paddingLength);
      expect(again.equals(pkt)).toBe(true);
      // writeRtpHeader at an offset writes the same header.
      const out = Buffer.alloc(before + rtpHeaderSize(h));
      expect(writeRtpHeader(out, before, h)).toBe(rtpHeaderSize(h));
      expect(out.subarray(before).equals(pkt.subarray(0, rtpHeaderSize(h)).map((b, i) => (i === 0 ? b & ~0x20 : b)))).toBe(true);
    }), { seed: 0x13_0301, numRuns: 1000 });
  });

  it('a sender report reads back as RTCP: SSRC, NTP time, RTP timestamp and counters', () => {
    fc.assert(fc.property(u32, u32, fc.integer({ min: 0, max: 2 ** 40 }), u32, fc.integer({ min: 0, max: 4_000_000_000_000 }), (ssrc, ts, packets, octets, nowMs) => {
      const sr = buildSenderReport(ssrc, ts, packets, octets, nowMs);
      expect(looksLikeRtcp(sr)).toBe(true);
      expect(demuxRtpRtcp(sr)).toBe('rtcp');
      expect(sr[1]).toBe(RTCP_PACKET_TYPE.SR);
      expect(rtcpSenderSsrc(sr)).toBe(ssrc);
      expect(readU32(sr, 8)).toBe((Math.floor(nowMs / 1000) + 2_208_988_800) % 2 ** 32);
      const frac = readU32(sr, 12) / 2 ** 32;
      expect(Math.abs(frac - (nowMs % 1000) / 1000)).toBeLessThan(1e-6);
      expect([readU32(sr, 16), readU32(sr, 20), readU32(sr, 24)]).toEqual([ts, packets % 2 ** 32, octets]);
      // A truncated report no longer fits its length word.
      expect(looksLikeRtcp(sr.subarray(0, 27))).toBe(false);
    }), { seed: 0x13_0302, numRuns: 500 });
  });

  it('the builders refuse fields the header cannot carry with RtpBuildError only', () => {
    const bad = fc.oneof(
      fc.record({ payloadType: fc.oneof(fc.integer({ min: 128, max: 1e6 }), fc.integer({ min: -1e6, max: -1 }), fc.double({ noInteger: true })) }),
      fc.record({ csrcs: fc.array(u32, { minLength: 16, maxLength: 20 }) }),
      fc.record({ sequence: fc.constantFrom(NaN, Infinity, 1.5) }),
      fc.record({ extension: fc.record({ profile: fc.integer({ min: 0x10000, max: 0x7fffffff }), data: fc.constant(new Uint8Array(4)) }) }),
      fc.record({ extension: fc.record({ profile: fc.constant(0xbede), data: fc.uint8Array({ minLength: 1, maxLength: 15 }).filter((d) => d.length % 4 !== 0) }) }),
      fc.record({ padding: fc.oneof(fc.integer({ min: 256, max: 1e5 }), fc.constant(-1)) }),
    );
    fc.assert(fc.property(bad, (b) => {
      const { padding, ...over } = b as Partial<RtpHeaderFields> & { padding?: number };
      const h = { payloadType: 0, sequence: 1, timestamp: 2, ssrc: 3, ...over } as RtpHeaderFields;
      expect(() => buildRtp(h, new Uint8Array(4), padding ?? 0)).toThrow(RtpBuildError);
    }), { seed: 0x13_0303, numRuns: 500 });
  });
});

/** The invariants of whatever the parsers return for `b`; throws (untyped) when one fails. */
function checkParsers(b: Uint8Array, start: number, end: number): 'ok' | RtpProblem {
  const v = RtpHeaderView.parse(b, start, end);
  const h = rtpHeaderLength(b, start, end);
  let fromProblem: RtpProblem | 'ok' = 'ok';
  try {
    RtpHeaderView.from(b, start, end);
  } catch (e) {
    must(e instanceof RtpFormatError, `from threw ${String(e)}`);
    fromProblem = e.problem;
  }
  const kind = demuxRtpRtcp(b, start, end);
  const isRtcp = looksLikeRtcp(b, start, end);
  if (isRtcp) must(kind === 'rtcp', 'looksLikeRtcp but demux says otherwise');
  if (end - start >= 12 && b[start]! >> 6 === 2) must(kind !== 'neither', 'a version-2 packet of 12 octets demuxes as neither');
  if (typeof v === 'string') {
    must(PROBLEMS.has(v), `unknown problem ${v}`);
    must(fromProblem === v, 'from and parse disagree');
    must(typeof h === 'string' || v === 'bad-padding', 'header length accepted what the view refused for a header reason');
    return v;
  }
  must(fromProblem === 'ok', 'from refused what parse accepted');
  must(typeof h === 'number' && h === v.headerLength, 'headerLength disagrees');
  const cc = b[start]! & 0x0f;
  const ext = (b[start]! & 0x10) !== 0;
  must(v.headerLength === 12 + 4 * cc + (ext ? 4 + 4 * ((b[start + 14 + 4 * cc]! << 8) | b[start + 15 + 4 * cc]!) : 0), 'headerLength is not what the header says');
  must(v.payloadOffset >= start && v.payloadOffset <= v.payloadEnd && v.payloadEnd <= end, 'payload outside the packet');
  must(v.paddingLength >= 0 && v.paddingLength <= end - start - v.headerLength, 'padding outside the packet');
  must(v.version === 2 && v.csrcCount === cc && v.extension === ext, 'header bits misread');
  must(v.payload().length === v.payloadLength, 'payload length');
  const copy = readRtpHeader(b.subarray(start, end));
  must(typeof copy !== 'string' && copy.sequence === v.sequence && copy.ssrc === v.ssrc, 'subarray and offset reads differ');
  return 'ok';
}

describe('RTP/RTCP parsers on arbitrary bytes (fast-check)', () => {
  it('return a view or an RtpProblem, from() throws only RtpFormatError, demux is consistent', () => {
    let worst = 0;
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(20), fc.nat(20), (bytes, s, e) => {
      // Mostly version 2 so that the deeper checks are reached.
      const b = Buffer.from(bytes);
      if (b.length > 0 && (s & 1) === 0) b[0] = (b[0]! & 0x3f) | 0x80;
      const start = Math.min(s % 4, b.length);
      const end = Math.max(start, b.length - (e % 4));
      worst = Math.max(worst, timed(() => checkParsers(b, start, end)));
    }), { seed: 0x13_0304, numRuns: 3000 });
    console.log(`rtp arbitrary: 3000 inputs, worst ${worst.toFixed(3)} ms per input`);
    expect(worst).toBeLessThan(BOUND_MS);
  });

  it('sequence arithmetic: seqDistance is antisymmetric, inverts addition and packetIndex/estimateRoc agree near the wrap', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: -32767, max: 32767 }), fc.integer({ min: 1, max: 1000 }), (a, d, roc) => {
      const b = (a + d + 0x10000) & 0xffff;
      expect(seqDistance(a, b)).toBe(d);
      expect(seqDistance(b, a) + 0).toBe(-d + 0); // +0: no -0
      // A packet d away from the highest one (|d| < 2^15) gets the ROC that puts its index d away.
      const v = estimateRoc(b, a, roc);
      expect(packetIndex(v, b) - packetIndex(roc, a)).toBe(d);
    }), { seed: 0x13_0305, numRuns: 1000 });
  });
});

// ---------------------------------------------------------------- mutation fuzzer, seeded from fixtures

/** Valid packets to mutate: generated RTP with every optional part, the libsrtp/RFC 3711 packet plaintexts, sender reports. */
function seeds(): Buffer[] {
  const hexes = ['800f1234decafbadcafebabeabababababababababababababababab', '81c8000bcafebabeabababababababababababababababab'];
  const out: Buffer[] = hexes.map((h) => Buffer.from(h, 'hex'));
  const rnd = prng(0x1303);
  for (let i = 0; i < 40; i++) {
    const csrcs = Array.from({ length: i % 16 }, () => (rnd() * 2 ** 32) >>> 0);
    const ext = i % 3 === 0 ? { profile: 0xbede, data: Buffer.alloc(4 * (i % 5), i) } : undefined;
    out.push(buildRtp({ payloadType: i % 128, sequence: i * 4099, timestamp: i * 160, ssrc: i * 0x01010101, marker: i % 2 === 0, csrcs, extension: ext }, Buffer.alloc(i * 3, 0x5a), i % 4 === 0 ? 1 + (i % 20) : 0));
    out.push(buildSenderReport(i, i * 160, i, i * 100, 1_700_000_000_000 + i));
  }
  return out;
}

const int = (rnd: () => number, n: number): number => Math.floor(rnd() * n);

/** One structured mutation: bit flips, the V/P/X/CC octet, length words, padding count, truncation, insertion. */
function mutateRtp(rnd: () => number, src: Uint8Array): Buffer {
  const b = Buffer.from(src);
  if (b.length === 0) return Buffer.from([int(rnd, 256)]);
  switch (int(rnd, 8)) {
    case 0: b[int(rnd, b.length)]! ^= 1 << int(rnd, 8); return b;
    case 1: b[0] = (b[0]! & 0xc0) | int(rnd, 64); return b; // P, X, CC
    case 2: if (b.length > 15) { const at = 12 + 4 * int(rnd, 4); if (at + 3 < b.length) b.writeUInt16BE([0, 1, 0xffff, 0x7fff, int(rnd, 65536)][int(rnd, 5)]!, at + 2); } return b;
    case 3: b[b.length - 1] = [0, 1, 255, b.length, b.length - 11, int(rnd, 256)][int(rnd, 6)]! & 0xff; b[0]! |= 0x20; return b; // padding count
    case 4: return b.subarray(0, int(rnd, b.length + 1));
    case 5: { const at = int(rnd, b.length + 1); return Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(rnd, 8) }, () => int(rnd, 256))), b.subarray(at)]); }
    case 6: b[1] = [64, 95, 191, 192, 200, 223, 224, 255, int(rnd, 256)][int(rnd, 9)]!; return b; // RTP/RTCP boundary of RFC 5761
    default: b[0] = (int(rnd, 4) << 6) | (b[0]! & 0x3f); return b; // version
  }
}

describe('RTP/RTCP parsers on mutated packets (seeded mutation fuzzer)', () => {
  it('7,000 mutated fixture packets: a view or an RtpProblem, only RtpFormatError thrown, every view inside the packet', () => {
    const seed = 0x13_0306;
    const rnd = prng(seed);
    const base = seeds();
    const outcomes = new Map<string, number>();
    let worst = 0;
    for (let i = 0; i < 7000; i++) {
      let b = mutateRtp(rnd, base[i % base.length]!);
      if (rnd() < 0.3) b = mutateRtp(rnd, b);
      let r = '';
      try {
        worst = Math.max(worst, timed(() => (r = checkParsers(b, 0, b.length))));
      } catch (e) {
        throw new Error(`seed ${seed} iteration ${i} input ${b.toString('hex')}: ${String(e)}`);
      }
      outcomes.set(r, (outcomes.get(r) ?? 0) + 1);
    }
    console.log(`rtp mutation: 7000 inputs, worst ${worst.toFixed(3)} ms per input, outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`);
    expect(worst).toBeLessThan(BOUND_MS);
    // The mutations reach both acceptance and every kind of refusal.
    expect(outcomes.get('ok')).toBeGreaterThan(500);
    for (const p of PROBLEMS) expect(outcomes.get(p), p).toBeGreaterThan(10);
  });
});
