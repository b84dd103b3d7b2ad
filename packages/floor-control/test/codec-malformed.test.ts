/**
 * Malformed floor control packets: each comes back as a FloorDecodeError
 * value with the code and offset of what is wrong, never as an exception.
 */
import { describe, expect, it } from 'vitest';
import { decodeFloorMessage, encodeFloorMessage, FloorDecodeError, type FloorDecodeErrorCode } from '../src/index.ts';

const granted = encodeFloorMessage({ type: 'floor-granted', ackRequired: false, ssrc: 0x01020304, fields: { duration: 30, floorPriority: 1 } });
const denied = encodeFloorMessage({ type: 'floor-deny', ackRequired: false, ssrc: 1, fields: { rejectCause: { cause: 1, phrase: 'xyz' } } });

/** Copy of `b` with `edit` applied. */
function mutate(b: Uint8Array, edit: (c: Uint8Array) => void): Uint8Array {
  const c = Uint8Array.from(b);
  edit(c);
  return c;
}

/** An APP MCPT packet with the given subtype and raw field bytes (the length word is set to match). */
function app(subtype: number, body: number[], flags = 0): Uint8Array {
  const b = new Uint8Array(12 + body.length);
  b[0] = 0x80 | flags | subtype;
  b[1] = 204;
  b[3] = b.length / 4 - 1;
  b.set([0, 0, 0, 9, 0x4d, 0x43, 0x50, 0x54], 4);
  b.set(body, 12);
  return b;
}

const cases: [string, Uint8Array, FloorDecodeErrorCode, number][] = [
  ['empty', new Uint8Array(0), 'too-short', 0],
  ['header only', granted.subarray(0, 8), 'too-short', 0],
  ['version 1', mutate(granted, (c) => (c[0] = (c[0]! & 0x3f) | 0x40)), 'not-rtcp', 0],
  ['packet type RR', mutate(granted, (c) => (c[1] = 201)), 'not-app', 1],
  ['length word too large', mutate(granted, (c) => (c[3] = c[3]! + 1)), 'bad-length', 2],
  ['length word too small', mutate(granted, (c) => (c[3] = c[3]! - 1)), 'bad-length', 2],
  ['datagram cut inside a field', granted.subarray(0, granted.length - 4), 'bad-length', 2],
  ['RTCP padding bit set', mutate(granted, (c) => (c[0] = c[0]! | 0x20)), 'bad-padding', 0],
  ['name MCPC', mutate(granted, (c) => (c[11] = 0x43)), 'wrong-name', 8],
  ['name in lower case', mutate(granted, (c) => c.set([0x6d, 0x63, 0x70, 0x74], 8)), 'wrong-name', 8],
  ['subtype 7 (undefined)', app(7, []), 'unknown-subtype', 0],
  ['subtype 15 (multi-talker release, not supported)', app(15, []), 'unknown-subtype', 0],
  ['ack bit on Floor Request', app(0x10, []), 'ack-bit-not-allowed', 0],
  ['field length overruns the packet', app(1, [1, 9, 0, 30]), 'truncated-field', 12],
  ['field without its padding', app(1, [1, 2, 0, 30, 3, 1, 5, 0]).subarray(0, 16), 'bad-length', 2],
  ['value declared 3, padding missing', mutate(app(1, [1, 2, 0, 30, 6, 3, 0x61, 0x62]), () => {}), 'truncated-field', 16],
  ['non-zero padding', app(3, [2, 3, 0, 1, 0x61, 0xff, 0, 0]), 'bad-padding', 17],
  ['unknown field ID 40', app(0, [40, 2, 0, 0]), 'unknown-field', 12],
  ['field ID 200 with a 16-bit length', app(0, [200, 0, 1, 0x61]), 'unknown-field', 12],
  ['duplicate field', app(0, [0, 2, 1, 0, 0, 2, 2, 0]), 'duplicate-field', 16],
  ['Duration in a Floor Request', app(0, [1, 2, 0, 30]), 'field-not-allowed', 12],
  ['Floor Deny without Reject Cause', app(3, []), 'missing-field', 0],
  ['Floor Ack without Message Type', app(10, [10, 2, 0, 0]), 'missing-field', 0],
  ['Floor Priority of 3 octets', app(0, [0, 3, 1, 0, 0, 0, 0, 0]), 'bad-field-length', 14],
  ['SSRC of 4 octets', app(1, [1, 2, 0, 30, 14, 4, 1, 2, 3, 4, 0, 0]), 'bad-field-length', 18],
  ['Reject Cause of 1 octet', app(3, [2, 1, 1, 0]), 'bad-field-length', 14],
  ['Permission to Request the Floor = 2', app(2, [8, 2, 0, 1, 5, 2, 0, 2]), 'bad-field-value', 18],
  ['User ID not UTF-8', app(0, [6, 2, 0xc3, 0x28]), 'bad-field-value', 14],
  ['Track Info participant type overruns', app(4, [11, 2, 1, 9]), 'bad-field-length', 14],
  ['Track Info references not a multiple of 4', app(4, [11, 5, 1, 0, 1, 2, 3, 0]), 'bad-field-length', 14],
  ['Track Info participant type padding not zero', app(4, [11, 6, 1, 1, 0x61, 1, 0, 0, 0, 0, 0, 0]), 'bad-padding', 14],
];

describe('malformed packets', () => {
  it.each(cases)('%s', (_what, bytes, code, offset) => {
    const r = decodeFloorMessage(bytes);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(FloorDecodeError);
    expect(r.error.code).toBe(code);
    expect(r.error.offset).toBe(offset);
    expect(r.error.message).toContain(code);
  });

  it('messages say what was wrong', () => {
    const r = decodeFloorMessage(mutate(denied, (c) => (c[3] = c[3]! + 1)));
    expect(!r.ok && r.error.message).toMatch(/length field says 24 octets, the packet has 20/);
    const n = decodeFloorMessage(app(0, [40, 2, 0, 0]));
    expect(!n.ok && n.error.message).toMatch(/field ID 40 is not a floor control field/);
  });
});
