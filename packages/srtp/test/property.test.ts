/**
 * Issue 13 point 3: property tests and a fixture-seeded mutation fuzzer for
 * the SRTP/SRTCP receive side (hostile packets given to unprotect) and the
 * SDES key parsing. fast-check runs have fixed seeds (fast-check prints the
 * seed and the shrunk counterexample on failure); the mutation fuzzer uses
 * @imslab/fuzz's prng and names seed, iteration and input when it fails.
 *
 * Properties, for every profile, with and without MKI, encrypted or not:
 * - protect -> unprotect gives the RTP/RTCP packet back, byte for byte;
 * - the same protected packet a second time is refused as `replayed`;
 * - ANY single-bit change of a protected packet is refused: `auth-failed`
 *   for a bit of the payload or tag, `mki-unknown` for a bit of the MKI,
 *   a typed header reason (or auth-failed) for a header bit; refusals leave
 *   the context unchanged (the untouched packet still unprotects once);
 * - arbitrary bytes and mutated fixture packets (the libsrtp/RFC 3711
 *   known packet, protected packets of every profile) never throw, never
 *   authenticate unless they are the untouched packet, and the counters add
 *   up; each input within a time bound;
 * - SDES: format -> parse round trips; arbitrary and mutated `a=crypto`
 *   values give an attribute or SdesParseError, and contextOptionsFromCrypto
 *   + SrtpContext accept it or throw an SrtpError only.
 */
import fc from 'fast-check';
import { buildRtp, RTCP_PACKET_TYPE } from '@imslab/rtp';
import { prng, timedRun } from '@imslab/fuzz';
import { describe, expect, it } from 'vitest';
import {
  contextOptionsFromCrypto, formatCryptoAttribute, parseCryptoAttribute, SDES_KEY_SALT_LENGTHS, SdesParseError, SRTP_PROFILES, SrtpContext, SrtpError,
  type CryptoAttribute, type SrtpContextOptions, type UnprotectFailure,
} from '../src/index.ts';
import { ALL_PROFILES, hex, keysFor, loadVectors } from './helpers.ts';

const BOUND_MS = 50;
const REASONS = new Set<UnprotectFailure>(['too-short', 'not-rtp', 'auth-failed', 'replayed', 'too-old', 'key-expired', 'mki-unknown']);

function timed(f: () => unknown): number {
  return timedRun(f, BOUND_MS);
}

function must(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(`property failed: ${what}`);
}

interface Setup {
  opts: SrtpContextOptions;
}

const setupArb: fc.Arbitrary<Setup> = fc.record({
  profile: fc.constantFrom(...ALL_PROFILES),
  mkiLen: fc.constantFrom(0, 0, 1, 4),
  unencryptedSrtp: fc.boolean(),
  unencryptedSrtcp: fc.boolean(),
  keySeed: fc.nat(255),
}).map(({ profile, mkiLen, unencryptedSrtp, unencryptedSrtcp, keySeed }) => ({
  opts: {
    profile, ...keysFor(profile, keySeed), unencryptedSrtp, unencryptedSrtcp,
    ...(mkiLen > 0 ? { mki: Buffer.alloc(mkiLen, 0xa5) } : {}),
  },
}));

const rtpArb = fc.record({
  pt: fc.integer({ min: 0, max: 127 }).filter((pt) => pt < 64 || pt > 95), // RFC 5761 sec. 4: not the RTCP range on a muxed port
  seq: fc.integer({ min: 0, max: 0xffff }),
  ts: fc.integer({ min: 0, max: 0xffffffff }),
  ssrc: fc.integer({ min: 0, max: 0xffffffff }),
  csrcs: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 3 }),
  ext: fc.option(fc.uint8Array({ maxLength: 8 }).map((d) => d.subarray(0, d.length & ~3)), { nil: undefined }),
  payload: fc.uint8Array({ maxLength: 64 }),
}).map((r) => buildRtp({ payloadType: r.pt, sequence: r.seq, timestamp: r.ts, ssrc: r.ssrc, csrcs: r.csrcs, extension: r.ext ? { profile: 0xbede, data: r.ext } : undefined }, r.payload));

const rtcpArb = fc.record({
  pt: fc.integer({ min: 192, max: 223 }),
  ssrc: fc.integer({ min: 0, max: 0xffffffff }),
  words: fc.nat(8),
  fill: fc.nat(255),
}).map(({ pt, ssrc, words, fill }) => {
  const p = Buffer.alloc(8 + 4 * words, fill);
  p[0] = 0x81;
  p[1] = pt;
  p.writeUInt16BE(1 + words, 2);
  p.writeUInt32BE(ssrc, 4);
  return p;
});

/** Offsets of a protected SRTP packet: [header end, payload end (= MKI or tag start)]. */
function srtpLayout(o: SrtpContextOptions, srtp: Buffer, rtpLen: number): { hdrEnd: number; mkiAt: number; mkiLen: number } {
  const p = SRTP_PROFILES[o.profile];
  const mkiLen = o.mki?.length ?? 0;
  const cc = srtp[0]! & 0x0f;
  let hdrEnd = 12 + 4 * cc;
  if (srtp[0]! & 0x10) hdrEnd += 4 + 4 * srtp.readUInt16BE(hdrEnd + 2);
  // HMAC: payload || MKI || tag; AEAD: payload || tag || MKI (RFC 7714 sec. 8).
  return { hdrEnd, mkiAt: p.aead ? rtpLen + p.authTagLength : rtpLen, mkiLen };
}

describe('SRTP: protect, unprotect, forgeries and replays (fast-check)', () => {
  it('round trips, refuses every single-bit change with a typed reason, and refuses a replay', () => {
    let flips = 0;
    let worst = 0;
    fc.assert(fc.property(setupArb, fc.array(rtpArb, { minLength: 1, maxLength: 3 }), ({ opts }, rtps) => {
      const tx = new SrtpContext(opts);
      const rx = new SrtpContext(opts);
      for (const rtp of rtps) {
        let srtp: Buffer;
        try {
          srtp = tx.protectRtp(rtp);
        } catch (e) {
          expect(e).toBeInstanceOf(SrtpError); // index reuse when the generator repeats SSRC and SEQ
          continue;
        }
        const { hdrEnd, mkiAt, mkiLen } = srtpLayout(opts, srtp, rtp.length);
        // Every single-bit change (all of them for short packets, a sample of 64 otherwise) is refused.
        const bits = srtp.length * 8;
        const step = bits <= 512 ? 1 : Math.ceil(bits / 64);
        for (let bit = 0; bit < bits; bit += step) {
          const bad = Buffer.from(srtp);
          bad[bit >> 3]! ^= 0x80 >> (bit & 7);
          let r!: ReturnType<SrtpContext['unprotectRtp']>;
          worst = Math.max(worst, timed(() => (r = rx.unprotectRtp(bad))));
          flips++;
          if (r.ok) throw new Error(`forged packet accepted: ${opts.profile} mki ${mkiLen} bit ${bit} of ${srtp.toString('hex')}`);
          const at = bit >> 3;
          if (at >= mkiAt && at < mkiAt + mkiLen) expect(r.reason).toBe('mki-unknown');
          else if (at >= hdrEnd || at >= 4 && at < 12 && at !== 2 && at !== 3) expect(r.reason, `bit ${bit}`).toBe('auth-failed'); // payload, tag, timestamp, SSRC
          else expect(REASONS.has(r.reason), r.reason).toBe(true);
        }
        // The refusals changed nothing: the genuine packet is accepted once, then refused as a replay.
        const ok = rx.unprotectRtp(srtp);
        expect(ok.ok && ok.packet.equals(rtp)).toBe(true);
        expect(rx.unprotectRtp(srtp)).toEqual({ ok: false, reason: 'replayed' });
      }
      // Counters add up: every call counted once.
      const s = rx.stats;
      expect(s.unprotected + s.authFailed + s.replayed + s.malformed + s.keyExpired).toBeGreaterThan(0);
    }), { seed: 0x13_0311, numRuns: 60 });
    console.log(`srtp bit flips: ${flips} forged packets, all refused, worst ${worst.toFixed(3)} ms per input`);
    expect(worst).toBeLessThan(BOUND_MS);
  });

  it('SRTCP: round trips, refuses every single-bit change and a replay; E=0 packets stay readable', () => {
    let flips = 0;
    fc.assert(fc.property(setupArb, fc.array(rtcpArb, { minLength: 1, maxLength: 3 }), ({ opts }, rtcps) => {
      const tx = new SrtpContext(opts);
      const rx = new SrtpContext(opts);
      for (const rtcp of rtcps) {
        const srtcp = tx.protectRtcp(rtcp);
        const mkiLen = opts.mki?.length ?? 0;
        const mkiAt = srtcp.length - mkiLen - (SRTP_PROFILES[opts.profile].aead ? 0 : SRTP_PROFILES[opts.profile].srtcpAuthTagLength);
        if (opts.unencryptedSrtcp) expect(srtcp.subarray(0, rtcp.length).equals(rtcp)).toBe(true);
        const bits = srtcp.length * 8;
        const step = bits <= 512 ? 1 : Math.ceil(bits / 64);
        for (let bit = 0; bit < bits; bit += step) {
          const bad = Buffer.from(srtcp);
          bad[bit >> 3]! ^= 0x80 >> (bit & 7);
          const r = rx.unprotectRtcp(bad);
          flips++;
          if (r.ok) throw new Error(`forged SRTCP accepted: ${opts.profile} bit ${bit} of ${srtcp.toString('hex')}`);
          const at = bit >> 3;
          if (at >= mkiAt && at < mkiAt + mkiLen) expect(r.reason).toBe('mki-unknown');
          else if (at >= 2) expect(r.reason, `bit ${bit}`).toMatch(/^(auth-failed|replayed|too-old)$/); // an index bit may name an index already seen
          else expect(REASONS.has(r.reason)).toBe(true);
        }
        const ok = rx.unprotectRtcp(srtcp);
        expect(ok.ok && ok.packet.equals(rtcp)).toBe(true);
        expect(rx.unprotectRtcp(srtcp)).toEqual({ ok: false, reason: 'replayed' });
      }
    }), { seed: 0x13_0312, numRuns: 40 });
    console.log(`srtcp bit flips: ${flips} forged packets, all refused`);
  });

  it('a packet older than the replay window is refused as too-old; reordering inside it is accepted, across the SEQ wrap', () => {
    fc.assert(fc.property(fc.constantFrom(...ALL_PROFILES), fc.integer({ min: 64, max: 300 }), fc.integer({ min: 0, max: 0xfffe }), fc.integer({ min: 2, max: 400 }), (profile, window, seq0, late) => {
      const opts = { profile, ...keysFor(profile), replayWindow: window };
      const tx = new SrtpContext(opts);
      const rx = new SrtpContext(opts);
      const rtp = (seq: number): Buffer => buildRtp({ payloadType: 0, sequence: seq, timestamp: 0, ssrc: 7 }, Buffer.alloc(10, seq & 0xff));
      const first = tx.protectRtp(rtp(seq0));
      const prime = tx.protectRtp(rtp(seq0 + 1));
      const later = tx.protectRtp(rtp(seq0 + late)); // may cross the wrap: ROC 1
      expect(rx.unprotectRtp(prime).ok).toBe(true); // the receiver learns s_l (ROC 0) from the first packet it gets
      const l = rx.unprotectRtp(later);
      expect(l.ok && l.packet.equals(rtp(seq0 + late))).toBe(true);
      const r = rx.unprotectRtp(first);
      if (late >= window) expect(r).toEqual({ ok: false, reason: 'too-old' });
      else expect(r.ok && r.packet.equals(rtp(seq0))).toBe(true);
      expect(rx.unprotectRtp(later)).toEqual({ ok: false, reason: 'replayed' });
    }), { seed: 0x13_0313, numRuns: 200 });
  });
});

// ---------------------------------------------------------------- arbitrary and mutated packets

interface Target {
  name: string;
  opts: SrtpContextOptions;
  rtp: Buffer[];
  rtcp: Buffer[];
}

/** Fixture packets: the libsrtp / RFC 3711 known packet under its keys, and protected packets of every profile. */
function targets(): Target[] {
  const v = loadVectors('srtp_known_packet_libsrtp.json');
  const out: Target[] = [{
    name: 'libsrtp known packet', opts: { profile: 'AES_CM_128_HMAC_SHA1_80', masterKey: hex(v.master_key), masterSalt: hex(v.master_salt) },
    rtp: [hex(v.srtp.srtp_packet)], rtcp: [hex(v.srtcp.srtcp_packet)],
  }];
  for (const profile of ALL_PROFILES) {
    for (const mki of [undefined, Buffer.from([1, 2])]) {
      const opts: SrtpContextOptions = { profile, ...keysFor(profile, 9), ...(mki ? { mki } : {}) };
      const tx = new SrtpContext(opts);
      const rtp = [0, 1, 2].map((i) => tx.protectRtp(buildRtp({ payloadType: 0, sequence: 100 + i, timestamp: i, ssrc: 0xabc, csrcs: i === 1 ? [1, 2] : [], extension: i === 2 ? { profile: 0xbede, data: Buffer.alloc(4, 1) } : undefined }, Buffer.alloc(20 * i, i))));
      const rr = Buffer.from('81c90007000000010000000200000003000000040000000500000006', 'hex');
      rr[1] = RTCP_PACKET_TYPE.RR;
      const rtcp = [tx.protectRtcp(rr), tx.protectRtcp(rr.subarray(0, 8).map((b, i) => (i === 3 ? 1 : b)))];
      out.push({ name: `${profile}${mki ? ' mki' : ''}`, opts, rtp, rtcp });
    }
  }
  return out;
}

const int = (rnd: () => number, n: number): number => Math.floor(rnd() * n);

/** One hostile change: bit flips, truncation, extension, header bits (V, P, X, CC, PT), the SRTCP E|index word, splices. */
function mutatePacket(rnd: () => number, src: Buffer): Buffer {
  const b = Buffer.from(src);
  switch (int(rnd, 9)) {
    case 0: for (let k = 1 + int(rnd, 3); k > 0; k--) b[int(rnd, b.length)]! ^= 1 << int(rnd, 8); return b;
    case 1: return b.subarray(0, int(rnd, b.length + 1));
    case 2: return Buffer.concat([b, Buffer.from(Array.from({ length: 1 + int(rnd, 20) }, () => int(rnd, 256)))]);
    case 3: b[0] = (int(rnd, 4) << 6) | int(rnd, 64); return b;
    case 4: b[1] = int(rnd, 256); return b;
    case 5: if (b.length >= 16) b.writeUInt32BE([0, 0x7fffffff, 0x80000000, 0xffffffff, int(rnd, 2 ** 32)][int(rnd, 5)]!, Math.max(0, b.length - 4 - int(rnd, 14))); return b;
    case 6: { const at = int(rnd, b.length); return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(rnd, 8)))]); }
    case 7: if (b.length >= 4) b.writeUInt16BE(int(rnd, 65536), 2); return b; // sequence number / RTCP length
    default: if (b.length >= 12) b.writeUInt32BE(int(rnd, 2 ** 32), 8 + 4 * int(rnd, (b.length - 8) >> 2)); return b;
  }
}

describe('SRTP/SRTCP unprotect on hostile input', () => {
  it('arbitrary bytes (fast-check): never throws, never authenticates, typed reason, counters add up', () => {
    const ctxs = ALL_PROFILES.map((profile) => new SrtpContext({ profile, ...keysFor(profile), mki: profile.endsWith('_32') ? Buffer.from([7]) : undefined }));
    let calls = 0;
    let worst = 0;
    fc.assert(fc.property(fc.nat(ctxs.length - 1), fc.uint8Array({ maxLength: 120 }), fc.boolean(), (i, bytes, rtcp) => {
      const b = Buffer.from(bytes);
      if (b.length > 1 && bytes.length % 3 !== 0) { b[0] = 0x80 | (b[0]! & 0x3f); b[1] = rtcp ? 200 + (b[1]! % 24) : b[1]! & 0x7f; }
      let r!: ReturnType<SrtpContext['unprotectRtp']>;
      worst = Math.max(worst, timed(() => (r = rtcp ? ctxs[i]!.unprotectRtcp(b) : ctxs[i]!.unprotectRtp(b))));
      calls++;
      must(!r.ok, `random bytes authenticated: ${b.toString('hex')}`);
      must(REASONS.has(r.reason), `reason ${r.reason}`);
    }), { seed: 0x13_0314, numRuns: 4000 });
    const total = ctxs.reduce((n, c) => n + c.stats.unprotected + c.stats.authFailed + c.stats.replayed + c.stats.malformed + c.stats.keyExpired, 0);
    expect(total).toBeGreaterThanOrEqual(calls); // timed() may call again on a slow input
    expect(ctxs.reduce((n, c) => n + c.stats.unprotected, 0)).toBe(0);
    console.log(`srtp arbitrary: ${calls} inputs, worst ${worst.toFixed(3)} ms per input`);
    expect(worst).toBeLessThan(BOUND_MS);
  });

  it('6,000 mutated fixture packets: only the untouched packet authenticates, refusals are typed, nothing throws', () => {
    const seed = 0x13_0315;
    const rnd = prng(seed);
    const all = targets();
    const reasons = new Map<string, number>();
    let worst = 0;
    let genuine = 0;
    for (let i = 0; i < 6000; i++) {
      const t = all[i % all.length]!;
      const rtcp = rnd() < 0.4;
      const pool = rtcp ? t.rtcp : t.rtp;
      const orig = pool[int(rnd, pool.length)]!;
      let bad = mutatePacket(rnd, orig);
      if (rnd() < 0.3) bad = mutatePacket(rnd, bad);
      // A fresh receiver: the untouched packet would be accepted, anything else must not be.
      const rx = new SrtpContext(t.opts);
      let r!: ReturnType<SrtpContext['unprotectRtp']>;
      try {
        worst = Math.max(worst, timed(() => (r = rtcp ? rx.unprotectRtcp(bad) : rx.unprotectRtp(bad))));
      } catch (e) {
        throw new Error(`seed ${seed} iteration ${i} (${t.name}) input ${bad.toString('hex')}: threw ${String(e)}`);
      }
      if (r.ok) {
        must(bad.equals(orig), `seed ${seed} iteration ${i} (${t.name}): forged packet accepted: ${bad.toString('hex')}`);
        genuine++;
        continue;
      }
      must(REASONS.has(r.reason), `reason ${r.reason}`);
      reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
    }
    console.log(`srtp mutation: 6000 inputs, worst ${worst.toFixed(3)} ms per input, ${genuine} untouched, refusals ${JSON.stringify(Object.fromEntries(reasons))}`);
    expect(worst).toBeLessThan(BOUND_MS);
    for (const reason of ['too-short', 'not-rtp', 'auth-failed', 'mki-unknown']) expect(reasons.get(reason), reason).toBeGreaterThan(20);
  });
});

// ---------------------------------------------------------------- SDES a=crypto

const SUITES = Object.keys(SDES_KEY_SALT_LENGTHS);

const cryptoArb: fc.Arbitrary<CryptoAttribute> = fc.record({
  tag: fc.integer({ min: 0, max: 999_999_999 }),
  suite: fc.constantFrom(...SUITES),
  keys: fc.integer({ min: 1, max: 3 }),
  lifetime: fc.option(fc.oneof(fc.integer({ min: 1, max: 1023 }), fc.integer({ min: 10, max: 48 }).map((e) => 2 ** e)), { nil: undefined }),
  mkiLen: fc.integer({ min: 1, max: 128 }),
  mkiValue: fc.nat(255),
  seed: fc.nat(255),
  sessionParams: fc.subarray(['KDR=3', 'WSH=128', 'UNENCRYPTED_SRTP', 'UNENCRYPTED_SRTCP', 'FEC_ORDER=FEC_SRTP', '-X-vendor=1']),
}).map((r) => ({
  tag: r.tag, suite: r.suite, sessionParams: r.sessionParams,
  keyParams: Array.from({ length: r.keys }, (_, k) => ({
    method: 'inline' as const,
    keySalt: Buffer.from(Array.from({ length: SDES_KEY_SALT_LENGTHS[r.suite]! }, (_, i) => (i * 7 + k + r.seed) & 0xff)),
    ...(r.lifetime !== undefined ? { lifetime: r.lifetime } : {}),
    ...(r.keys > 1 || r.seed % 2 === 0 ? { mki: { value: (r.mkiValue + k) % (r.mkiLen === 1 ? 256 : 65536), length: r.mkiLen } } : {}),
  })),
}));

/** parse, then the context a receiver would build from it: a value, or one of this package's errors. */
function sdesOutcome(text: string): string {
  let a: CryptoAttribute;
  try {
    a = parseCryptoAttribute(text);
  } catch (e) {
    must(e instanceof SdesParseError, `parseCryptoAttribute threw ${String(e)} for ${JSON.stringify(text)}`);
    must(e.message.length > 0, 'empty message');
    return 'parse-error';
  }
  must(Number.isInteger(a.tag) && a.keyParams.length >= 1, 'incoherent attribute');
  try {
    new SrtpContext(contextOptionsFromCrypto(a));
    return 'context';
  } catch (e) {
    must(e instanceof SrtpError, `contextOptionsFromCrypto/SrtpContext threw ${String(e)} for ${JSON.stringify(text)}`);
    return 'config-error';
  }
}

function mutateText(rnd: () => number, s: string): string {
  const at = int(rnd, s.length + 1);
  const tricks = [' ', '|', ':', ';', '=', '2^', '2^99', '0', '-', '\t', '\r\n', 'inline:', '\0', '=====', '9'.repeat(30), 'é', '|1:129', '|2^49'];
  switch (int(rnd, 5)) {
    case 0: return s.slice(0, at) + tricks[int(rnd, tricks.length)]! + s.slice(at);
    case 1: return s.slice(0, at) + s.slice(at + 1 + int(rnd, 6));
    case 2: return s.slice(0, at);
    case 3: return s.slice(0, at) + String.fromCharCode(int(rnd, 128)) + s.slice(at + 1);
    default: return s.replace(/[0-9]+/, String([0, 1, 128, 129, 2 ** 31, 2 ** 53, 1e21][int(rnd, 7)]));
  }
}

describe('SDES a=crypto parsing', () => {
  it('format -> parse round trips generated attributes (also with a=crypto: and CRLF around them)', () => {
    fc.assert(fc.property(cryptoArb, fc.boolean(), (a, wrapped) => {
      const text = formatCryptoAttribute(a);
      expect(parseCryptoAttribute(wrapped ? `a=crypto:${text}\r\n` : text)).toEqual(a);
    }), { seed: 0x13_0316, numRuns: 1000 });
  });

  it('arbitrary and mutated values give an attribute or SdesParseError; building a context throws only SrtpError', () => {
    const outcomes = new Map<string, number>();
    let worst = 0;
    const count = (o: string): void => void outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
    fc.assert(fc.property(fc.string({ maxLength: 120 }), (s) => {
      worst = Math.max(worst, timed(() => count(sdesOutcome(s))));
    }), { seed: 0x13_0317, numRuns: 1500 });
    const seed = 0x13_0318;
    const rnd = prng(seed);
    const facts = loadVectors('sdes_rfc4568_facts.json');
    const texts = [
      '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32',
      '1 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32 KDR=1 UNENCRYPTED_SRTCP',
      `2 AEAD_AES_256_GCM inline:${Buffer.alloc(44, 3).toString('base64')}|2^31|5:4;inline:${Buffer.alloc(44, 4).toString('base64')}|2^31|6:4 WSH=256`,
      ...JSON.stringify(facts).match(/\d+ [A-Z0-9_]+ inline:[A-Za-z0-9+/=|^:]+/g) ?? [],
    ];
    for (let i = 0; i < 8000; i++) {
      let t = mutateText(rnd, texts[i % texts.length]!);
      if (rnd() < 0.4) t = mutateText(rnd, t);
      try {
        worst = Math.max(worst, timed(() => count(sdesOutcome(t))));
      } catch (e) {
        throw new Error(`seed ${seed} iteration ${i}: ${String(e)}`);
      }
    }
    console.log(`sdes: 9500 inputs, worst ${worst.toFixed(3)} ms per input, outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`);
    expect(worst).toBeLessThan(BOUND_MS);
    expect(outcomes.get('context')).toBeGreaterThan(300);
    expect(outcomes.get('parse-error')).toBeGreaterThan(1000);
  });
});

