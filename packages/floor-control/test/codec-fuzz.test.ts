/**
 * Fuzzing the decoders (TS 24.380 packets from a network are untrusted): for
 * 10,000 mutated packets, 10,000 random packets and 10,000 mutated compounds
 * (issue 13 point 3; `npm run bench` runs 1,000,000 of each through
 * packages/fuzz/bench/parsers-bench-messaging-floor.ts), each decoder returns
 * either a FloorDecodeError value or messages that re-encode to a packet
 * decoding to the same messages. Nothing throws. Seeds are fixed so a failure
 * replays.
 */
import { describe, expect, it } from 'vitest';
import { decodeFloorControlPacket, decodeFloorMessage, encodeFloorMessage, findClearFloorControl, FloorDecodeError } from '../src/index.ts';
import { concat, everyMessage, minimalMessages, prng, receiverReport } from './helpers.ts';

const seeds = [...everyMessage().map((x) => x.message), ...minimalMessages()].map(encodeFloorMessage);

/** Mutations a hostile or broken sender could produce. */
function mutant(rand: () => number): Uint8Array {
  const base = seeds[Math.floor(rand() * seeds.length)]!;
  let b: Uint8Array = Uint8Array.from(base);
  const n = 1 + Math.floor(rand() * 4);
  for (let k = 0; k < n; k++) {
    const op = Math.floor(rand() * 6);
    const at = Math.floor(rand() * Math.max(1, b.length));
    if (op === 0) b[at] = Math.floor(rand() * 256); // overwrite an octet
    else if (op === 1) b[at] = b[at]! ^ (1 << Math.floor(rand() * 8)); // flip a bit
    else if (op === 2) b = b.subarray(0, at); // truncate
    else if (op === 3) b = concat(b, Uint8Array.from({ length: 1 + Math.floor(rand() * 8) }, () => Math.floor(rand() * 256))); // append garbage
    else if (op === 4 && b.length > 12) b[12 + Math.floor(rand() * (b.length - 12))] = [0, 6, 11, 14, 200, 255][Math.floor(rand() * 6)]!; // plausible field IDs
    else if (b.length >= 4) b[3] = Math.floor(rand() * 16); // length word
  }
  return b;
}

function random(rand: () => number): Uint8Array {
  const len = Math.floor(rand() * 64);
  const b = Uint8Array.from({ length: len }, () => Math.floor(rand() * 256));
  // Half of them get a plausible APP MCPT header, so the field parser is reached.
  if (len >= 12 && rand() < 0.5) {
    b[0] = 0x80 | (b[0]! & 0x1f);
    b[1] = 204;
    b[2] = 0;
    b[3] = rand() < 0.5 ? Math.floor(len / 4) - 1 : b[3]!;
    b.set([0x4d, 0x43, 0x50, 0x54], 8);
  }
  return b;
}

function checkOne(b: Uint8Array): 'ok' | 'error' {
  const r = decodeFloorMessage(b);
  if (!r.ok) {
    expect(r.error).toBeInstanceOf(FloorDecodeError);
    expect(r.error.offset).toBeGreaterThanOrEqual(0);
    expect(r.error.offset).toBeLessThanOrEqual(b.length);
    return 'error';
  }
  // A packet we accept is one we can write back: its re-encoding decodes to the same message.
  const again = decodeFloorMessage(encodeFloorMessage(r.message));
  expect(again.ok && again.message).toEqual(r.message);
  return 'ok';
}

describe('fuzz', () => {
  it('10,000 mutated packets: a typed error or a message that re-encodes to itself', () => {
    const rand = prng(0x5eed);
    const tally = { ok: 0, error: 0 };
    for (let i = 0; i < 10_000; i++) tally[checkOne(mutant(rand))]++;
    // Both outcomes occur, so the mutations reach past the header checks.
    expect(tally.ok).toBeGreaterThan(100);
    expect(tally.error).toBeGreaterThan(2000);
  });

  it('10,000 random packets: a typed error or a valid message', () => {
    const rand = prng(0xbad5eed);
    for (let i = 0; i < 10_000; i++) checkOne(random(rand));
  });

  it('compound decoding and the clear-text check never throw on 10,000 mutated compounds', () => {
    const rand = prng(42);
    for (let i = 0; i < 10_000; i++) {
      const d = rand() < 0.5 ? concat(receiverReport(7), mutant(rand)) : concat(mutant(rand), mutant(rand));
      const r = decodeFloorControlPacket(d);
      if (!r.ok) expect(r.error).toBeInstanceOf(FloorDecodeError);
      const clear = findClearFloorControl(d);
      if (clear) {
        expect(clear.messages.length).toBeGreaterThan(0);
        expect(clear.trailingOctets).toBeGreaterThanOrEqual(0);
      }
      // Whatever decodes as a whole compound is also found by the clear-text check.
      if (r.ok && r.messages.length > 0) expect(clear?.messages).toEqual(r.messages);
    }
  });
});
