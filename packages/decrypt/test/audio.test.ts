/**
 * G.711 decoding and WAV writing. The tables were compared code by code with
 * CPython's audioop (alaw2lin, ulaw2lin), an independent implementation of
 * the same G.711 reference; the values below are from it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulawToLinear } from '@imslab/probe';
import { buildRtp } from '@imslab/rtp';
import { ALAW_TO_LINEAR, g711Table, ULAW_TO_LINEAR, WAV_HEADER_BYTES, WavFile } from '../src/index.ts';
import { StreamAudio } from '../src/stream-audio.ts';
import { tempDir } from './synth.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

const samplesOf = (wav: Buffer): number[] => Array.from({ length: (wav.length - WAV_HEADER_BYTES) / 2 }, (_, i) => wav.readInt16LE(WAV_HEADER_BYTES + 2 * i));

describe('G.711 tables', () => {
  it('mu-law and A-law decode as the G.711 reference does (values from audioop)', () => {
    const codes = [0x00, 0x01, 0x0f, 0x10, 0x2a, 0x55, 0x7f, 0x80, 0xaa, 0xd5, 0xf0, 0xff];
    expect(codes.map((c) => ALAW_TO_LINEAR[c])).toEqual([-5504, -5248, -6784, -2752, -32256, -8, -848, 5504, 32256, 8, 688, 848]);
    expect(codes.map((c) => ULAW_TO_LINEAR[c])).toEqual([-32124, -31100, -16764, -15996, -5372, -716, 0, 32124, 5372, 716, 120, 0]);
    expect(ALAW_TO_LINEAR.reduce((s, v) => s + Math.abs(v), 0)).toBe(1564672);
    expect(ULAW_TO_LINEAR.reduce((s, v) => s + Math.abs(v), 0)).toBe(1532928);
    for (let c = 0; c < 256; c++) expect(ULAW_TO_LINEAR[c]).toBe(ulawToLinear(c) + 0); // the probe's decoder agrees (+ 0: it returns -0 for 0x7f)
    expect(g711Table(0)).toBe(ULAW_TO_LINEAR);
    expect(g711Table(8)).toBe(ALAW_TO_LINEAR);
    expect(g711Table(9)).toBeUndefined();
  });
});

describe('WavFile', () => {
  it('places samples by position: out of order, across windows, late into flushed data, gaps silent', async () => {
    const path = join(dir, 'w.wav');
    const w = new WavFile(path, 8000);
    const id = Int16Array.from({ length: 256 }, (_, i) => i - 128); // octet -> sample, to see where each landed
    const bytes = (n: number, v: number): Buffer => Buffer.alloc(n, v);
    w.put(160, bytes(160, 2), 0, 160, id);
    w.put(0, bytes(160, 1), 0, 160, id);
    w.put(20_000, bytes(160, 3), 0, 160, id); // far beyond the window: a hole in between
    w.put(100, bytes(100, 4), 0, 100, id); // late: before the window, partly over what was written
    w.put(19_950, bytes(100, 5), 0, 100, id); // late, its tail reaching into the window
    w.close();
    const wav = await readFile(path);
    expect(wav.readUInt32LE(40)).toBe(20_160 * 2);
    const s = samplesOf(wav);
    expect(s.length).toBe(20_160);
    const at = (i: number): number => s[i]! + 128;
    expect([at(0), at(99), at(100), at(199), at(200), at(319), at(320), at(19_949), at(19_950), at(20_049), at(20_050), at(20_159)])
      .toEqual([1, 1, 4, 4, 2, 2, 128, 128, 5, 5, 3, 3]);
    expect(s.slice(320, 19_950).every((v) => v === 0)).toBe(true);
  });

  it('an empty file is a valid WAV with no samples', async () => {
    const path = join(dir, 'empty.wav');
    new WavFile(path, 8000).close();
    const wav = await readFile(path);
    expect(wav.length).toBe(44);
    expect([wav.toString('ascii', 0, 4), wav.readUInt32LE(4), wav.toString('ascii', 8, 12), wav.readUInt32LE(40)]).toEqual(['RIFF', 36, 'WAVE', 0]);
  });
});

describe('StreamAudio', () => {
  const pkt = (ts: number, v: number, pt = 0, seq = 0): Buffer => buildRtp({ payloadType: pt, sequence: seq, timestamp: ts >>> 0, ssrc: 1 }, Buffer.alloc(160, v));

  it('unwraps the 32-bit timestamp, skips non-G.711, counts early packets', async () => {
    const path = join(dir, 'wrap.wav');
    const a = new StreamAudio(path);
    const start = 2 ** 32 - 320; // wraps after two packets
    expect(a.add(pkt(start + 160, 0x80))).toBe(true); // first seen (second sent): the base
    expect(a.add(pkt(start, 0x80))).toBe(true); // before the base: early, left out
    expect(a.add(pkt(start + 320, 0x80))).toBe(true); // timestamp 0 after the wrap
    expect(a.add(pkt(start + 480, 0x80, 101))).toBe(false); // telephone-event: not audio here
    expect(a.add(pkt(start + 640, 0x80))).toBe(true);
    expect(a.close()).toEqual({ file: path, samples: 640, packets: 3, early: 1, discontinuities: 0 });
    const s = samplesOf(await readFile(path));
    expect(s.slice(0, 320).every((v) => v === 32124)).toBe(true);
    expect(s.slice(320, 480).every((v) => v === 0)).toBe(true);
  });

  it('a jump of more than a minute is a new timestamp base, not a minute of silence', () => {
    const a = new StreamAudio(join(dir, 'jump.wav'));
    a.add(pkt(1000, 0xff));
    a.add(pkt(1000 + 8000 * 3600, 0xff));
    a.add(pkt(1160 + 8000 * 3600, 0xff));
    expect(a.close()).toMatchObject({ samples: 480, discontinuities: 1 });
  });
});
