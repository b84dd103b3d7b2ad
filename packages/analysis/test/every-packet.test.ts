/**
 * Point 1 of "sampling hides packets": every packet of a flow is plaintext,
 * SRTP under a named key, a replay, or unknown, and is counted as what it is.
 *
 * A trusted flow of 10,000 SRTP packets under a logged key (its sequence
 * numbers wrap, so the second half is under ROC 1) gets plaintext packets,
 * forged packets and replays injected: singly at every offset (each offset
 * in one of 250 scans, the injections of one scan 250 packets apart so each
 * is alone), in bursts of many lengths, and as periodic leaks of many
 * periods at every phase. The old analyser checked one packet in 16 after 64
 * verified ones: up to 15 plaintext packets in a row, or a leak on a period
 * of 16, went uncounted. Every scan here must count exactly.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { linearToUlaw, markerFor } from '@imslab/probe';
import { SrtpContext } from '@imslab/srtp';
import { MAX_SCAN_GAP } from '../src/link-scan.ts';
import { REPLAY_WINDOW } from '../src/replay-window.ts';
import { DT, makeKey, rtpStream, scanFrames, sum, T0, udp } from './scan-helpers.ts';

const N = 10_000;
const MARKER = markerFor('call-under-test', 'orig');
const K = makeKey('alice/tx/call-und');
const plainPkts = rtpStream({ n: N, seq0: 60_000 });
const srtpPkts = (() => {
  const ctx = K.ctx();
  return plainPkts.map((p) => ctx.protectRtp(p));
})();
const SRTP = srtpPkts.map((p) => udp(p));
const PLAIN = plainPkts.map((p) => udp(p));

/** A forged packet in place of SRTP packet i: its tag replaced by random octets, or one payload bit flipped. */
function forged(i: number, how: 'tag' | 'bit'): Buffer {
  const p = Buffer.from(srtpPkts[i]!);
  if (how === 'tag') randomBytes(10).copy(p, p.length - 10);
  else p[12 + (i % 150)]! ^= 1 << (i % 8);
  return udp(p);
}

/** Speech-like G.711 without the marker (what a relay leaking real audio sends). */
function speech(i: number): Buffer {
  const out = Buffer.alloc(160);
  for (let n = 0; n < 160; n++) {
    const t = (i * 160 + n) / 8000;
    out[n] = linearToUlaw((0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t)) * (3000 * Math.sin(2 * Math.PI * 220 * t) + 1200 * Math.sin(2 * Math.PI * 660 * t)));
  }
  return out;
}
const UNMARKED = rtpStream({ n: N, seq0: 60_000, payload: speech }).map((p) => udp(p));

/** The trusted flow with the packets at `positions` replaced by `by(i)`. */
function replaced(positions: Iterable<number>, by: (i: number) => Buffer): Buffer[] {
  const frames = [...SRTP];
  for (const i of positions) frames[i] = by(i);
  return frames;
}

/** The trusted flow with `extra(i)` sent right before (or after) packet i, for each i in `positions`. */
function inserted(positions: Set<number>, extra: (i: number) => Buffer, after = false): Buffer[] {
  const frames: Buffer[] = [];
  SRTP.forEach((f, i) => {
    if (positions.has(i) && !after) frames.push(extra(i));
    frames.push(f);
    if (positions.has(i) && after) frames.push(extra(i));
  });
  return frames;
}

function only(frames: Buffer[]) {
  const { media } = scanFrames(frames, [K.key]);
  expect(media).toHaveLength(1);
  return media[0]!;
}

/** Injection patterns: singles at every offset, bursts of many lengths, periodic leaks at every phase. */
const SINGLE_SPACING = 250;
const singles = Array.from({ length: SINGLE_SPACING }, (_, phase) => new Set(Array.from({ length: N / SINGLE_SPACING }, (_, k) => phase + k * SINGLE_SPACING)));
const BURSTS = [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 300];
function bursts(len: number): Set<number> {
  const out = new Set<number>();
  // Bursts 400 packets apart, each starting at a different offset modulo 64.
  for (let b = 0, at = 37; at + len <= N; b++, at += len + 400 + (b * 13) % 64) for (let i = 0; i < len; i++) out.add(at + i);
  return out;
}
const PERIODS = [2, 3, 4, 7, 15, 16, 17, 31, 32, 33, 64];
const periodic = PERIODS.flatMap((p) => Array.from({ length: p }, (_, phase) => ({ p, phase, at: new Set(Array.from({ length: Math.ceil((N - phase) / p) }, (_, k) => phase + k * p)) })));

describe('a trusted SRTP flow with nothing injected', () => {
  it('10,000 packets: every tag verified, every packet under the key with its marker, across the sequence wrap', () => {
    const f = only(SRTP);
    expect(f.packets).toBe(N);
    expect(f.srtp).toEqual({ [K.key.id]: N });
    expect(f.srtpVerified).toBe(N);
    expect(f.markers[MARKER]!.srtp).toEqual({ [K.key.id]: N });
    expect(f.markers[MARKER]!.srtpSpan).toEqual([T0, T0 + (N - 1) * DT]);
    expect([f.plaintext, f.replayed, f.unknown, f.unauthenticated, f.lost]).toEqual([0, 0, 0, 0, 0]);
    // Every verified packet's marker read.
    expect(f.srtpDecrypted).toBe(N);
  });
});

describe('plaintext leaks in a trusted flow (a relay sending some packets in the clear)', () => {
  const check = (at: Set<number>, label: string) => {
    const f = only(replaced(at, (i) => PLAIN[i]!));
    expect({ label, plaintext: f.plaintext, srtp: sum(f.srtp), marked: f.markers[MARKER]!.plaintext, underKey: f.markers[MARKER]!.srtp[K.key.id], unknown: f.unknown, replayed: f.replayed })
      .toEqual({ label, plaintext: at.size, srtp: N - at.size, marked: at.size, underKey: N - at.size, unknown: 0, replayed: 0 });
  };

  it('single plaintext packets at every offset (250 scans, 40 singles each)', () => {
    for (const [phase, at] of singles.entries()) check(at, `singles from ${phase}`);
  }, 60_000);

  it('bursts of 1 to 300 plaintext packets', () => {
    for (const len of BURSTS) check(bursts(len), `bursts of ${len}`);
  }, 60_000);

  it('periodic leaks at every phase of periods 2 to 64 (16 included: the old sampling period)', () => {
    for (const { p, phase, at } of periodic) check(at, `period ${p} phase ${phase}`);
  }, 60_000);

  it('SRTP that authenticates but is not encrypted (UNENCRYPTED_SRTP), with the marker readable: plaintext, never hidden as SRTP', () => {
    const { masterKey, masterSalt } = (() => {
      const ks = Buffer.from(K.key.entry.keySalt, 'base64');
      return { masterKey: ks.subarray(0, 16), masterSalt: ks.subarray(16) };
    })();
    const nullCipher = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt, unencryptedSrtp: true });
    const ctx = K.ctx();
    // Encrypted, then (same key, same SSRC) unencrypted from packet 1000 on: the tags verify throughout.
    const frames = plainPkts.slice(0, 2000).map((p, i) => udp(i < 1000 ? ctx.protectRtp(p) : nullCipher.protectRtp(p)));
    expect(K.key.verifier.authenticatesRtp(nullCipher.protectRtp(plainPkts[2000]!), [0])).toBe(0);
    const f = only(frames);
    expect([sum(f.srtp), f.plaintext, f.unknown]).toEqual([1000, 1000, 0]);
    expect(f.markers[MARKER]!.plaintext).toBe(1000);
  });

  it('leaked audio without the marker: not SRTP; audio-like, so plaintextUnmarked', () => {
    for (const at of [singles[7]!, bursts(16), periodic.find((x) => x.p === 16 && x.phase === 15)!.at]) {
      const f = only(replaced(at, (i) => UNMARKED[i]!));
      expect(sum(f.srtp)).toBe(N - at.size);
      expect(f.plaintextUnmarked).toBe(at.size);
      expect(f.unknown).toBe(0);
    }
  }, 60_000);
});

describe('forged packets in a trusted flow', () => {
  const check = (frames: Buffer[], forgedCount: number, srtp: number, label: string) => {
    const f = only(frames);
    expect({ label, unknown: f.unknown, unauthenticated: f.unauthenticated, srtp: sum(f.srtp), plaintext: f.plaintext, replayed: f.replayed, unmarked: f.plaintextUnmarked })
      .toEqual({ label, unknown: forgedCount, unauthenticated: forgedCount, srtp, plaintext: 0, replayed: 0, unmarked: 0 });
  };

  it('a forged copy (random tag, or a payload bit flipped) next to the genuine packet, at every offset', () => {
    for (const [phase, at] of singles.entries()) {
      // Before the genuine packet (which must still count), or after it (same index: still not a replay, since it does not authenticate).
      check(inserted(at, (i) => forged(i, phase % 2 ? 'tag' : 'bit'), phase % 3 === 0), at.size, N, `singles from ${phase}`);
    }
  }, 60_000);

  it('forged packets instead of genuine ones, in bursts and periodically at every phase', () => {
    for (const len of BURSTS) {
      const at = bursts(len);
      check(replaced(at, (i) => forged(i, 'tag')), at.size, N - at.size, `bursts of ${len}`);
    }
    for (const { p, phase, at } of periodic.filter((x) => x.p <= 32)) check(replaced(at, (i) => forged(i, 'bit')), at.size, N - at.size, `period ${p} phase ${phase}`);
  }, 60_000);
});

describe('replays', () => {
  it('a verified packet sent again later is replayed, whether inside the replay window or older than it', () => {
    for (const d of [1, 2, 15, 16, 63, 64, REPLAY_WINDOW - 1, REPLAY_WINDOW, REPLAY_WINDOW + 1, 1000]) {
      // Packet i again right after packet i + d, for i every 300 packets.
      const again = new Map<number, number>();
      for (let i = 5; i + d < N; i += 300) again.set(i + d, i);
      const frames: Buffer[] = [];
      SRTP.forEach((f, k) => {
        frames.push(f);
        if (again.has(k)) frames.push(SRTP[again.get(k)!]!);
      });
      const f = only(frames);
      expect({ d, replayed: f.replayed, srtp: sum(f.srtp), unknown: f.unknown }).toEqual({ d, replayed: again.size, srtp: N, unknown: 0 });
      expect(f.replayedPlaintext).toBe(0);
      expect(f.markers[MARKER]!.srtp[K.key.id]).toBe(N);
    }
  }, 60_000);

  it('a late packet inside the window is not a replay; plaintext repeats are replays whose markers still count', () => {
    // Packets 10 and 11 swapped: reordering, not replay.
    const swapped = [...SRTP];
    [swapped[10], swapped[11]] = [swapped[11]!, swapped[10]!];
    expect(only(swapped).replayed).toBe(0);
    const plain = PLAIN.slice(0, 1000);
    const f = only([...plain, ...plain.slice(500, 600)]);
    expect([f.plaintext, f.replayed, f.replayedPlaintext, f.markers[MARKER]!.plaintext]).toEqual([1000, 100, 100, 1100]);
  });

  it('a plaintext copy of a packet already seen under SRTP is plaintext, never hidden as a replay', () => {
    const frames = [...SRTP.slice(0, 2000), ...PLAIN.slice(1000, 1010)];
    const f = only(frames);
    expect([f.plaintext, sum(f.srtp), f.replayed]).toEqual([10, 2000, 0]);
    expect(f.markers[MARKER]!.plaintext).toBe(10);
  });
});

describe('the marker of every SRTP packet is read', () => {
  it('a marker change under one key is seen at the packet where it happens: counts per marker are exact', () => {
    const other = markerFor('another-call', 'orig');
    for (const c of [0, 1, 2, 3, 4, 5, 17, 100, ...Array.from({ length: 32 }, (_, k) => 1000 + k)]) {
      const ctx = K.ctx();
      const a = rtpStream({ n: c, seq0: 100 });
      const b = rtpStream({ n: 2000 - c, seq0: 100 + c, marker: other });
      const f = only([...a, ...b].map((p) => udp(ctx.protectRtp(p))));
      expect(f.markers[MARKER]?.srtp[K.key.id] ?? 0, `change at ${c}`).toBe(c);
      expect(f.markers[other]!.srtp[K.key.id], `change at ${c}`).toBe(2000 - c);
      expect(f.markers[other]!.srtpSpan![0], `change at ${c}`).toBe(T0 + c * DT);
      expect(f.srtpVerified).toBe(2000);
    }
  }, 60_000);

  // A conference bridge stamps each mixed packet with one contributor's marker in turn (by sequence
  // number): with any fixed sampling stride, a contributor whose turns never land on a sample vanishes.
  it('markers that take turns packet by packet (a mixing bridge), for 2 to 5 contributors and periodic patterns, are each counted exactly', () => {
    const markers = ['m1', 'm2', 'm3', 'm4', 'm5'].map((x) => markerFor(x, 'orig'));
    const patterns: Array<[string, (i: number) => number]> = [
      ...[2, 3, 4, 5].map((k): [string, (i: number) => number] => [`round-robin of ${k}`, (i) => i % k]),
      ['one packet in 16 is m2', (i) => (i % 16 === 7 ? 1 : 0)],
      ['one packet in 32 is m2', (i) => (i % 32 === 31 ? 1 : 0)],
    ];
    for (const [label, pick] of patterns) {
      const ctx = K.ctx();
      const n = 1600;
      const frames = Array.from({ length: n }, (_, i) => udp(ctx.protectRtp(rtpStream({ n: 1, seq0: 500 + i, marker: markers[pick(i)]! })[0]!)));
      const f = only(frames);
      const want = new Map<string, number>();
      for (let i = 0; i < n; i++) want.set(markers[pick(i)]!, (want.get(markers[pick(i)]!) ?? 0) + 1);
      for (const [m, count] of want) expect(f.markers[m]?.srtp[K.key.id], `${label}: ${m}`).toBe(count);
      expect(sum(f.srtp), label).toBe(n);
    }
  }, 60_000);
});

describe('keys that change', () => {
  it('a re-key to another logged key on the same SSRC: every packet under the right key, none unknown', () => {
    const K2 = makeKey('alice/tx/second');
    const c1 = K.ctx();
    const c2 = K2.ctx();
    const frames = plainPkts.slice(0, 3000).map((p, i) => udp(i < 1234 ? c1.protectRtp(p) : c2.protectRtp(p)));
    const { media } = scanFrames(frames, [K.key, K2.key]);
    expect(media[0]!.srtp).toEqual({ [K.key.id]: 1234, [K2.key.id]: 3000 - 1234 });
    expect(media[0]!.unknown).toBe(0);
  });

  it(`a stream under an unlogged key that switches to a logged one is found within ${MAX_SCAN_GAP} packets`, () => {
    const hidden = makeKey('nobody/tx/x');
    for (const c of [10, 500, 2345]) {
      const c1 = hidden.ctx();
      const c2 = K.ctx();
      const frames = plainPkts.slice(0, 5000).map((p, i) => udp(i < c ? c1.protectRtp(p) : c2.protectRtp(p)));
      const f = only(frames);
      expect(f.unknown).toBeGreaterThanOrEqual(c);
      expect(f.unknown - c).toBeLessThan(MAX_SCAN_GAP);
      expect(f.unknown + sum(f.srtp)).toBe(5000);
    }
  });

  it('AES-GCM (checked one by one, decrypting is the check) and packets over 2 KiB are counted the same way', () => {
    const G = makeKey('bob-1/tx/gcm', 'AEAD_AES_128_GCM');
    const ctx = G.ctx();
    const big = rtpStream({ n: 300, payload: (i) => Buffer.concat([Buffer.from(MARKER), randomBytes(2200 + i)]) });
    const cm = K.ctx();
    const frames = [
      ...plainPkts.slice(0, 500).map((p, i) => udp(i % 50 === 7 ? p : ctx.protectRtp(p))),
      ...big.map((p, i) => udp(i % 30 === 3 ? p : cm.protectRtp(p), '127.0.1.100:40002', '127.0.1.11:30002')),
    ];
    const { media } = scanFrames(frames, [K.key, G.key]);
    const [gcm, large] = media;
    expect([gcm!.plaintext, gcm!.srtp[G.key.id], gcm!.unknown]).toEqual([10, 490, 0]);
    expect(gcm!.markers[MARKER]!.srtp[G.key.id]).toBe(490);
    expect([large!.plaintext, large!.srtp[K.key.id], large!.unknown]).toEqual([10, 290, 0]);
  });
});

describe('several streams in one flow', () => {
  it('two SRTP streams under different keys and a plaintext one, interleaved, with leaks: each counted', () => {
    const K2 = makeKey('carol/tx/x');
    const c1 = K.ctx();
    const c2 = K2.ctx();
    const s2 = rtpStream({ n: 3000, ssrc: 0x33334444, marker: markerFor('call-2', 'orig') });
    const s3 = rtpStream({ n: 3000, ssrc: 0x55556666, marker: markerFor('call-3', 'orig') });
    const frames: Buffer[] = [];
    for (let i = 0; i < 3000; i++) {
      frames.push(udp(i % 16 === 5 ? plainPkts[i]! : c1.protectRtp(plainPkts[i]!)));
      frames.push(udp(c2.protectRtp(s2[i]!)));
      frames.push(udp(s3[i]!));
    }
    const { media } = scanFrames(frames, [K.key, K2.key]);
    const f = media[0]!;
    expect(f.ssrcs).toHaveLength(3);
    expect(f.srtp).toEqual({ [K.key.id]: 3000 - 188, [K2.key.id]: 3000 });
    expect(f.plaintext).toBe(188 + 3000);
    expect(f.markers[MARKER]!.plaintext).toBe(188);
    expect(f.markers[markerFor('call-3', 'orig')]!.plaintext).toBe(3000);
    expect(f.markers[markerFor('call-2', 'orig')]!.srtp[K2.key.id]).toBe(3000);
  });
});
