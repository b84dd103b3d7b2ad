import { describe, expect, it } from 'vitest';
import {
  findMarker,
  linearToUlaw,
  markerFor,
  MARKER_LENGTH,
  probePayload,
  SAMPLES_PER_PACKET,
  ulawToLinear,
} from '@imslab/probe';
import { decodeFrame, encodeFrame, markerOffset, mixFor, ulawDecode, ulawEncode } from '../src/mixer.ts';

const N = SAMPLES_PER_PACKET;

/** A PCMU payload of `n` samples given by `f(i)`. */
function pcmu(f: (i: number) => number, n = N): Buffer {
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) pcm[i] = Math.round(f(i));
  return encodeFrame(pcm);
}

const constant = (v: number, n = N) => pcmu(() => v, n);
const sine = (hz: number, amp: number) => pcmu((i) => amp * Math.sin((2 * Math.PI * hz * i) / 8000));

/** Upper bound of |Q(x) - x| for µ-law quantisation (half a step, away from clipping). */
const qerr = (x: number) => (Math.abs(x) + 132) / 32;

const sat = (v: number) => Math.max(-32768, Math.min(32767, v));

describe('G.711 µ-law', () => {
  it('decodes known table values', () => {
    const known: Array<[number, number]> = [
      [0xff, 0],
      [0x7f, 0],
      [0x00, -32124],
      [0x80, 32124],
      [0x01, -31100],
      [0x81, 31100],
      [0xfe, 8],
      [0x7e, -8],
      [0xf0, 120],
      [0xef, 132],
      [0xe7, 260],
      [0xdf, 396],
      [0x8f, 16764],
      [0x0f, -16764],
    ];
    for (const [b, v] of known) expect(ulawDecode(b), `0x${b.toString(16)}`).toBe(v);
    expect(Object.is(ulawDecode(0x7f), -0)).toBe(false);
  });

  it('encode(decode(b)) === b for every byte except 0x7f (-0 -> 0xff)', () => {
    for (let b = 0; b < 256; b++) {
      expect(ulawEncode(ulawDecode(b)), `0x${b.toString(16)}`).toBe(b === 0x7f ? 0xff : b);
    }
  });

  it('encodes known values and clips', () => {
    expect(ulawEncode(0)).toBe(0xff);
    expect(ulawEncode(-1)).toBe(0x7f);
    expect(ulawEncode(32124)).toBe(0x80);
    expect(ulawEncode(32635)).toBe(0x80);
    expect(ulawEncode(32767)).toBe(0x80);
    expect(ulawEncode(1e9)).toBe(0x80);
    expect(ulawEncode(-32124)).toBe(0x00);
    expect(ulawEncode(-32768)).toBe(0x00);
    expect(ulawEncode(-1e9)).toBe(0x00);
    expect(ulawEncode(260.4)).toBe(ulawEncode(260));
  });

  it('is monotonic over the whole int16 range and within half a step', () => {
    let prev = -Infinity;
    const bad: number[] = [];
    for (let s = -32768; s <= 32767; s++) {
      const d = ulawDecode(ulawEncode(s));
      if (d < prev || (Math.abs(s) <= 32124 && Math.abs(d - s) > qerr(s))) bad.push(s);
      prev = d;
    }
    expect(bad).toEqual([]);
  });

  it('agrees with the probe codec (linearToUlaw / ulawToLinear)', () => {
    const bad: number[] = [];
    for (let s = -32768; s <= 32767; s++) if (ulawEncode(s) !== linearToUlaw(s)) bad.push(s);
    expect(bad).toEqual([]);
    for (let b = 0; b < 256; b++) expect(ulawDecode(b)).toBe(ulawToLinear(b) + 0);
  });

  it('frame codecs match the per-sample functions', () => {
    const bytes = new Uint8Array(256);
    for (let b = 0; b < 256; b++) bytes[b] = b;
    const pcm = decodeFrame(bytes);
    expect(pcm).toBeInstanceOf(Int16Array);
    expect(pcm.length).toBe(256);
    for (let b = 0; b < 256; b++) expect(pcm[b]).toBe(ulawDecode(b));

    const enc = encodeFrame(pcm);
    expect(Buffer.isBuffer(enc)).toBe(true);
    for (let b = 0; b < 256; b++) expect(enc[b]).toBe(b === 0x7f ? 0xff : b);

    const ramp = new Int16Array(4096);
    for (let i = 0; i < ramp.length; i++) ramp[i] = -32768 + i * 16;
    const out = encodeFrame(ramp);
    for (let i = 0; i < ramp.length; i++) expect(out[i]).toBe(ulawEncode(ramp[i]!));
  });
});

describe('markerOffset', () => {
  it('finds the marker where findMarker does, and reports its offset', () => {
    const m = markerFor('call-1', 'orig');
    expect(markerOffset(probePayload(m, 3))).toBe(0);

    const p = sine(700, 3000);
    p.write(m, 40, MARKER_LENGTH, 'ascii');
    expect(markerOffset(p)).toBe(40);
    expect(findMarker(p)).toBe(m);

    // A plain Uint8Array view into a larger buffer.
    const big = new Uint8Array(300);
    big.set(p, 100);
    expect(markerOffset(big.subarray(100, 100 + N))).toBe(40);
  });

  it('rejects malformed or truncated markers', () => {
    expect(markerOffset(constant(1000))).toBe(-1);
    const bad = constant(0);
    bad.write('IMSLAB0123ABCDEF', 10, 'ascii'); // upper-case hex: not a marker
    expect(markerOffset(bad)).toBe(-1);
    expect(findMarker(bad)).toBeNull();
    const cut = constant(0);
    cut.write('IMSLAB01234', N - 11, 'ascii'); // runs off the end
    expect(markerOffset(cut)).toBe(-1);
    // A bad candidate followed by a good one.
    const both = constant(0);
    const m = markerFor('call-2', 'term');
    both.write('IMSLABzz', 5, 'ascii');
    both.write(m, 60, 'ascii');
    expect(markerOffset(both)).toBe(60);
  });
});

describe('mixFor', () => {
  it('gives everyone the sum of the others, never themselves', () => {
    const levels = { A: 1000, B: 2500, C: -700 } as const;
    const inputs = new Map<string, Uint8Array>(Object.entries(levels).map(([id, v]) => [id, constant(v)]));
    const out = mixFor(inputs, ['A', 'B', 'C'], 0);
    expect([...out.keys()].sort()).toEqual(['A', 'B', 'C']);

    for (const [id, own] of Object.entries(levels)) {
      const others = Object.entries(levels).filter(([o]) => o !== id);
      const ideal = others.reduce((s, [, v]) => s + v, 0);
      const withSelf = ideal + own;
      const pcm = decodeFrame(out.get(id)!);
      expect(pcm.length).toBe(N);
      // Exactly the requantised sum of the decoded others.
      const decodedSum = others.reduce((s, [o]) => s + decodeFrame(inputs.get(o)!)[0]!, 0);
      const tol = qerr(decodedSum) + others.reduce((s, [, v]) => s + qerr(v), 0);
      for (const v of pcm) {
        expect(v).toBe(ulawDecode(ulawEncode(decodedSum)));
        expect(Math.abs(v - ideal)).toBeLessThanOrEqual(tol);
        expect(Math.abs(v - withSelf)).toBeGreaterThan(tol);
      }
    }
  });

  it('mixes distinct tones sample by sample', () => {
    const tones = { A: sine(400, 6000), B: sine(1000, 5000), C: sine(1700, 4000) };
    const inputs = new Map<string, Uint8Array>(Object.entries(tones));
    const out = mixFor(inputs, ['A'], 7);
    const a = decodeFrame(out.get('A')!);
    const b = decodeFrame(tones.B);
    const c = decodeFrame(tones.C);
    const self = decodeFrame(tones.A);
    let selfDiff = 0;
    for (let i = 0; i < N; i++) {
      const sum = b[i]! + c[i]!;
      expect(Math.abs(a[i]! - sum)).toBeLessThanOrEqual(qerr(sum));
      selfDiff = Math.max(selfDiff, Math.abs(a[i]! - (sum + self[i]!)));
    }
    expect(selfDiff).toBeGreaterThan(3000);
  });

  it('a listener without input hears everybody', () => {
    const inputs = new Map<string, Uint8Array>([
      ['A', constant(1000)],
      ['B', constant(2000)],
    ]);
    const out = mixFor(inputs, ['L'], 0);
    const sum = ulawDecode(inputs.get('A')![0]!) + ulawDecode(inputs.get('B')![0]!);
    for (const v of decodeFrame(out.get('L')!)) expect(v).toBe(ulawDecode(ulawEncode(sum)));
  });

  it('saturates at int16', () => {
    const hi = new Map<string, Uint8Array>([
      ['A', constant(0)],
      ['B', constant(30000)],
      ['C', constant(20000)],
    ]);
    expect([...mixFor(hi, ['A'], 0).get('A')!]).toEqual(new Array(N).fill(0x80));
    const lo = new Map<string, Uint8Array>([
      ['A', constant(0)],
      ['B', constant(-30000)],
      ['C', constant(-32768)],
      ['D', constant(-20000)],
    ]);
    expect([...mixFor(lo, ['A'], 0).get('A')!]).toEqual(new Array(N).fill(0x00));
    // A's own loud audio must not pull the others' saturated sum back down.
    const self = new Map<string, Uint8Array>([
      ['A', constant(-32000)],
      ['B', constant(30000)],
      ['C', constant(30000)],
    ]);
    expect([...mixFor(self, ['A'], 0).get('A')!]).toEqual(new Array(N).fill(0x80));
  });

  it('passes a single contributor through byte-identical (as a copy)', () => {
    const b = probePayload(markerFor('call-b', 'orig'), 5);
    b[100] = 0x7f; // even the negative-zero code survives
    const inputs = new Map<string, Uint8Array>([
      ['A', sine(500, 9000)],
      ['B', b],
    ]);
    for (const seq of [0, 1, 2, 3]) {
      const out = mixFor(inputs, ['A', 'B'], seq);
      const forA = out.get('A')!;
      expect(Buffer.compare(forA, b)).toBe(0);
      expect(Buffer.compare(out.get('B')!, Buffer.from(inputs.get('A')!))).toBe(0);
      forA[0] = 0;
      expect(b[0]).toBe('I'.charCodeAt(0));
    }
    const odd = new Uint8Array([1, 2, 3, 0x7f, 0xff]);
    const out = mixFor(new Map([['X', odd]]), ['Y'], 0).get('Y')!;
    expect([...out]).toEqual([...odd]);
  });

  it('returns 160 octets of silence when nobody else contributes', () => {
    const silence = new Array(N).fill(0xff);
    expect([...mixFor(new Map(), ['A'], 0).get('A')!]).toEqual(silence);
    const onlyA = new Map<string, Uint8Array>([['A', constant(5000)]]);
    const out = mixFor(onlyA, ['A', 'B'], 3);
    expect([...out.get('A')!]).toEqual(silence);
    expect(Buffer.compare(out.get('B')!, Buffer.from(onlyA.get('A')!))).toBe(0);
    expect(mixFor(new Map(), [], 0).size).toBe(0);
  });

  it('stamps one contributor marker, round-robin by seq over the sorted ids', () => {
    const markers = {
      A: markerFor('conf-a', 'orig'),
      B: markerFor('conf-b', 'orig'),
      C: markerFor('conf-c', 'term'),
    };
    const expected: Record<string, string[]> = {
      A: [markers.B, markers.C],
      B: [markers.A, markers.C],
      C: [markers.A, markers.B],
    };
    for (let seq = 0; seq < 6; seq++) {
      // Insertion order deliberately not sorted.
      const inputs = new Map<string, Uint8Array>([
        ['C', probePayload(markers.C, seq)],
        ['A', probePayload(markers.A, seq)],
        ['B', probePayload(markers.B, seq)],
      ]);
      const out = mixFor(inputs, ['A', 'B', 'C'], seq);
      for (const id of ['A', 'B', 'C']) {
        const p = out.get(id)!;
        expect(p.length).toBe(N);
        expect(findMarker(p), `${id} seq ${seq}`).toBe(expected[id]![seq % 2]);
        expect(markerOffset(p)).toBe(0);
        expect(findMarker(p, 1)).toBeNull();
        // Past the marker the payload is the plain mix of the others.
        const others = ['A', 'B', 'C'].filter((o) => o !== id).map((o) => decodeFrame(inputs.get(o)!));
        for (let i = MARKER_LENGTH; i < N; i++) {
          expect(p[i]).toBe(ulawEncode(sat(others[0]![i]! + others[1]![i]!)));
        }
      }
    }
    // Negative and large sequence numbers keep cycling.
    const inputs = new Map<string, Uint8Array>(
      Object.entries(markers).map(([id, m]) => [id, probePayload(m, 0)]),
    );
    expect(findMarker(mixFor(inputs, ['A'], -1).get('A')!)).toBe(markers.C);
    expect(findMarker(mixFor(inputs, ['A'], 2 ** 32 + 1).get('A')!)).toBe(markers.C);
  });

  it('keeps the marker at its input offset and leaves unmarked contributors unstamped', () => {
    const mB = markerFor('conf-b', 'term');
    const b = sine(1000, 4000);
    b.write(mB, 40, MARKER_LENGTH, 'ascii');
    const c = sine(300, 4000); // no marker
    const inputs = new Map<string, Uint8Array>([
      ['A', sine(600, 4000)],
      ['B', b],
      ['C', c],
    ]);
    const plain = (() => {
      const pb = decodeFrame(b);
      const pc = decodeFrame(c);
      const mix = new Int16Array(N);
      for (let i = 0; i < N; i++) mix[i] = sat(pb[i]! + pc[i]!);
      return encodeFrame(mix);
    })();

    const stamped = mixFor(inputs, ['A'], 0).get('A')!; // B's turn
    expect(markerOffset(stamped)).toBe(40);
    expect(findMarker(stamped)).toBe(mB);
    const expectStamped = Buffer.from(plain);
    expectStamped.write(mB, 40, MARKER_LENGTH, 'ascii');
    expect(Buffer.compare(stamped, expectStamped)).toBe(0);

    const unstamped = mixFor(inputs, ['A'], 1).get('A')!; // C's turn: C has no marker
    expect(findMarker(unstamped)).toBeNull();
    expect(Buffer.compare(unstamped, plain)).toBe(0);
  });

  it('mixes payloads of different lengths to the longest', () => {
    const inputs = new Map<string, Uint8Array>([
      ['B', constant(1000, 80)],
      ['C', constant(2000)],
    ]);
    const out = decodeFrame(mixFor(inputs, ['A'], 0).get('A')!);
    expect(out.length).toBe(N);
    const b = ulawDecode(inputs.get('B')![0]!);
    const c = ulawDecode(inputs.get('C')![0]!);
    expect(out[0]).toBe(ulawDecode(ulawEncode(b + c)));
    expect(out[N - 1]).toBe(c);
  });
});
