/**
 * Fuzzing the video and text parsers (RTP payloads from a network or a
 * capture are untrusted): 10,000 random and mutated inputs each. Every
 * parser returns a ProbeMediaDecodeError value (its offset inside the input)
 * or a value that writes back to the same octets; the receivers never throw.
 * Seeds are fixed, so a failure replays.
 */
import { describe, expect, it } from 'vitest';
import { encodeRedPayload, parseH264Payload, parsePps, parseRedPayload, parseSps, parseT140Block, ProbeMediaDecodeError, stapA, T140ProbeReceiver, T140ProbeSender, VideoProbeReceiver, VideoProbeSender } from '../src/index.ts';
import { MARKER, prng, rtpFields } from './media-helpers.ts';

const N = 10_000;
const SLOW = { timeout: 120_000 };

/** Mutations a hostile or broken sender could produce. */
function mutate(rand: () => number, base: Uint8Array): Uint8Array {
  let b = Uint8Array.from(base);
  const n = 1 + Math.floor(rand() * 4);
  for (let k = 0; k < n; k++) {
    const op = Math.floor(rand() * 5);
    const at = Math.floor(rand() * Math.max(1, b.length));
    if (op === 0 && b.length > 0) b[at] = Math.floor(rand() * 256);
    else if (op === 1 && b.length > 0) b[at] = b[at]! ^ (1 << Math.floor(rand() * 8));
    else if (op === 2) b = b.slice(0, at);
    else if (op === 3) b = Uint8Array.from([...b, ...Array.from({ length: 1 + Math.floor(rand() * 8) }, () => Math.floor(rand() * 256))]);
    else if (b.length > 0) b[at] = [0x00, 0x03, 0x18, 0x1c, 0x80, 0xff][Math.floor(rand() * 6)]!; // zeros, EPB, STAP-A, FU-A, F bits
  }
  return b;
}

const random = (rand: () => number, max: number) => Uint8Array.from({ length: Math.floor(rand() * max) }, () => Math.floor(rand() * 256));

function expectDecodeError(e: ProbeMediaDecodeError, input: Uint8Array): void {
  expect(e).toBeInstanceOf(ProbeMediaDecodeError);
  expect(e.offset).toBeGreaterThanOrEqual(0);
  expect(e.offset).toBeLessThanOrEqual(input.length);
  expect(e.message.length).toBeGreaterThan(20);
}

const video = new VideoProbeSender({ marker: MARKER, ssrc: 1, width: 48, height: 32, maxPacketSize: 600, idrInterval: 3 });
const videoPackets = Array.from({ length: 6 }, () => video.nextFrame().packets).flat();
const videoPayloads = videoPackets.map((p) => rtpFields(p).payload);
const text = new T140ProbeSender({ marker: MARKER, ssrc: 2, red: {}, text: (n) => (n % 3 === 0 ? `é${n}\u2028` : `#${n} `) });
const textPackets = Array.from({ length: 8 }, () => text.nextPacket().packet);
const textPayloads = textPackets.map((p) => rtpFields(p).payload);

describe('fuzz', SLOW, () => {
  it(`H.264 RTP payloads: ${N} inputs, an error value or NAL units that aggregate back to the same octets`, () => {
    const rand = prng(0x264);
    const counts = { ok: 0, error: 0 };
    for (let i = 0; i < N; i++) {
      const input = i % 4 === 0 ? random(rand, 64) : mutate(rand, videoPayloads[Math.floor(rand() * videoPayloads.length)]!);
      const r = parseH264Payload(input);
      if (!r.ok) {
        expectDecodeError(r.error, input);
        counts.error++;
        continue;
      }
      counts.ok++;
      if (r.value.kind === 'stap-a') expect(Buffer.compare(Buffer.from(stapA(r.value.nalUnits).subarray(1)), Buffer.from(input.subarray(1)))).toBe(0);
      if (r.value.kind === 'single') expect(r.value.nalUnits[0]).toBe(input);
    }
    expect(counts.ok).toBeGreaterThan(N / 10);
    expect(counts.error).toBeGreaterThan(N / 10);
  });

  it(`SPS and PPS: ${N} inputs each, a value or an error value`, () => {
    const rand = prng(0x5b5);
    for (const [parse, base] of [[parseSps, video.sps], [parsePps, video.pps]] as const) {
      let ok = 0;
      for (let i = 0; i < N; i++) {
        const input = mutate(rand, base);
        const r = parse(input);
        if (r.ok) ok++;
        else expectDecodeError(r.error, input);
      }
      expect(ok).toBeGreaterThan(N / 20);
    }
  });

  it(`the video receiver (slice decoding): ${N} packets of a stream, a tenth of them mutated, never a throw`, () => {
    const rand = prng(0x51ce);
    const rx = new VideoProbeReceiver();
    let frames = 0;
    let complete = 0;
    for (let i = 0; i < N; i++) {
      const k = i % videoPackets.length;
      const h = rtpFields(videoPackets[k]!);
      const payload = rand() < 0.1 ? mutate(rand, h.payload) : h.payload;
      const e = rx.receive({ sequence: i & 0xffff, timestamp: h.timestamp + Math.floor(i / videoPackets.length) * 60000, marker: h.marker, payload });
      if (e) expectDecodeError(e, payload);
      for (const f of rx.takeFrames()) {
        frames++;
        if (f.complete) complete++;
        for (const err of f.errors) expect(err).toBeInstanceOf(ProbeMediaDecodeError);
      }
    }
    expect(frames).toBeGreaterThan(100);
    expect(complete).toBeGreaterThan(frames / 10);
  });

  it(`RED payloads: ${N} inputs, an error value or blocks that encode back to the same octets`, () => {
    const rand = prng(0x2198);
    let ok = 0;
    for (let i = 0; i < N; i++) {
      const input = i % 4 === 0 ? random(rand, 48) : mutate(rand, textPayloads[Math.floor(rand() * textPayloads.length)]!);
      const r = parseRedPayload(input);
      if (!r.ok) {
        expectDecodeError(r.error, input);
        continue;
      }
      ok++;
      expect(Buffer.compare(Buffer.from(encodeRedPayload(r.value)), Buffer.from(input))).toBe(0);
    }
    expect(ok).toBeGreaterThan(N / 10);
  });

  it(`T140blocks: ${N} inputs, an error value or text that encodes back to the same octets`, () => {
    const rand = prng(0x140);
    const blocks = textPayloads.map((p) => {
      const r = parseRedPayload(p);
      if (!r.ok) throw r.error;
      return r.value.primary.data;
    });
    let ok = 0;
    for (let i = 0; i < N; i++) {
      const input = i % 4 === 0 ? random(rand, 24) : mutate(rand, blocks[Math.floor(rand() * blocks.length)]!);
      const r = parseT140Block(input);
      if (!r.ok) {
        expectDecodeError(r.error, input);
        continue;
      }
      ok++;
      expect(Buffer.compare(Buffer.from((r.value.marker ?? '') + r.value.text, 'utf8'), Buffer.from(input))).toBe(0);
    }
    expect(ok).toBeGreaterThan(N / 10);
  });

  it(`the text receiver: ${N} packets, mutated, reordered, with random sequence numbers, never a throw`, () => {
    const rand = prng(0x4103);
    const rx = new T140ProbeReceiver({ redPayloadType: 100 });
    for (let i = 0; i < N; i++) {
      const h = rtpFields(textPackets[Math.floor(rand() * textPackets.length)]!);
      const payload = rand() < 0.5 ? mutate(rand, h.payload) : h.payload;
      const sequence = rand() < 0.9 ? (i + Math.floor(rand() * 5)) & 0xffff : Math.floor(rand() * 0x10000);
      const e = rx.receive({ sequence, timestamp: h.timestamp, payloadType: rand() < 0.95 ? 100 : Math.floor(rand() * 128), payload });
      if (e) expectDecodeError(e, payload);
    }
    const r = rx.result();
    expect(r.packets).toBeGreaterThan(N / 10);
    expect(typeof r.text).toBe('string');
    for (const l of r.lost) expect(l.packets).toBeGreaterThan(0);
  });
});
