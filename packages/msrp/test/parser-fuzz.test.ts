/**
 * Fuzzing the parser: thousands of frames, valid and mutated, fed in random
 * splits. The parser must never throw, must give exactly the same events
 * whatever the split (it is a pure function of the byte stream), and must
 * round-trip every valid frame, whatever its body holds.
 */
import { describe, expect, it } from 'vitest';
import { buildSend, inspectFrame, MsrpStreamParser, serializeFrame, type MsrpUri } from '../src/index.ts';
import { feed, prng, summary } from './helpers.ts';

const from: MsrpUri = { scheme: 'msrp', host: 'a.example', port: 7777, sessionId: 'sa', transport: 'tcp', params: [] };
const to: MsrpUri = { scheme: 'msrps', host: 'b.example', sessionId: 'sb', transport: 'tcp', params: [] };
const TRICKS = ['\r\n', '-------', '$', '+', '#', 'MSRP ', ': ', '\r\n-------', '\n', '\r'];

function randomBody(rnd: () => number, tidOfOthers: string): Buffer {
  const parts: Buffer[] = [];
  const n = Math.floor(rnd() * 12);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.3) parts.push(Buffer.from(TRICKS[Math.floor(rnd() * TRICKS.length)]!));
    else if (r < 0.4) parts.push(Buffer.from(`\r\n-------${tidOfOthers}$\r\n`));
    else parts.push(Buffer.from(Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256))));
  }
  return Buffer.concat(parts);
}

function randomFrame(rnd: () => number, i: number): Buffer {
  const body = randomBody(rnd, `other${i}x`);
  const flag = (['$', '+', '#'] as const)[Math.floor(rnd() * 3)]!;
  return serializeFrame(buildSend({ toPath: [to], fromPath: [from], messageId: `m${i}abcd`, body, contentType: 'application/octet-stream', byteRange: { start: 1, end: body.length, total: body.length }, continuation: flag }));
}

function mutate(rnd: () => number, b: Buffer): Buffer {
  const out = Buffer.from(b);
  const kind = Math.floor(rnd() * 4);
  const at = Math.floor(rnd() * Math.max(1, out.length));
  if (kind === 0) out[at] = Math.floor(rnd() * 256);
  else if (kind === 1) return Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + Math.floor(rnd() * 8)))]);
  else if (kind === 2) return Buffer.concat([out.subarray(0, at), Buffer.from(TRICKS[Math.floor(rnd() * TRICKS.length)]!), out.subarray(at)]);
  else out[at] = [0x0d, 0x0a, 0x2d, 0x20, 0x3a][Math.floor(rnd() * 5)]!;
  return out;
}

describe('parser fuzz', () => {
  it('valid frames with tricky bodies round-trip under random splits (2000 frames)', () => {
    const rnd = prng(4975);
    for (let round = 0; round < 200; round++) {
      const frames = Array.from({ length: 10 }, (_, i) => randomFrame(rnd, round * 10 + i));
      const stream = Buffer.concat(frames);
      const { events, parser } = feed(stream, () => 1 + Math.floor(rnd() * 64));
      expect(parser.idle).toBe(true);
      expect(events.map((e) => e.kind)).toEqual(frames.map(() => 'frame'));
      events.forEach((e, i) => {
        if (e.kind !== 'frame') return;
        expect(serializeFrame(e.frame).equals(frames[i]!)).toBe(true);
        expect(inspectFrame(e.frame).ok).toBe(true);
      });
    }
  });

  it('mutated frames never throw and give the same events for any split (5000 streams)', () => {
    const rnd = prng(4976);
    let fatal = 0;
    let invalid = 0;
    let frames = 0;
    for (let i = 0; i < 5000; i++) {
      let b = randomFrame(rnd, i);
      const mutations = 1 + Math.floor(rnd() * 3);
      for (let m = 0; m < mutations; m++) b = mutate(rnd, b);
      // A valid frame after the mutated one: shows whether the stream survived.
      const stream = Buffer.concat([b, randomFrame(rnd, i + 100000)]);
      const whole = new MsrpStreamParser();
      const ref = [...whole.push(stream), ...whole.end()];
      const split = feed(stream, () => 1 + Math.floor(rnd() * 17));
      const got = [...split.events, ...split.parser.end()];
      expect(summary(got)).toEqual(summary(ref));
      for (const e of ref) {
        if (e.kind === 'error') fatal++;
        else if (e.kind === 'invalid') invalid++;
        else {
          frames++;
          inspectFrame(e.frame); // total too: a value, never an exception
        }
      }
    }
    // The mutations reach every outcome.
    expect(fatal).toBeGreaterThan(100);
    expect(invalid).toBeGreaterThan(10);
    expect(frames).toBeGreaterThan(3000);
  });

  it('random bytes never throw', () => {
    const rnd = prng(7);
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(Array.from({ length: Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256)));
      const p = new MsrpStreamParser();
      expect(() => [p.push(Buffer.concat([Buffer.from('MSRP abcd1234 SEND\r\n'), b])), p.end()]).not.toThrow();
    }
  });
});
