/**
 * Encoding and decoding of every floor control message: round trip, the RTCP
 * APP layout of RFC 3550 sec. 6.7 / TS 24.380 clause 8.1.2, the TLV layout
 * of clause 8.2.3.1, legacy field IDs, and the encoder's refusals.
 */
import { describe, expect, it } from 'vitest';
import { ACK_CAPABLE, decodeFloorMessage, encodeFloorMessage, FIELD_ID, FloorEncodeError, MESSAGE_FORMAT, SUBTYPE, type FloorMessage } from '../src/index.ts';
import { everyMessage, minimalMessages } from './helpers.ts';

function decodeOk(bytes: Uint8Array): FloorMessage {
  const r = decodeFloorMessage(bytes);
  if (!r.ok) throw r.error;
  return r.message;
}

describe('round trip', () => {
  it.each(everyMessage())('$name: decode(encode(m)) equals m', ({ message }) => {
    expect(decodeOk(encodeFloorMessage(message))).toEqual(message);
  });

  it('every message type is covered, with every field its format allows', () => {
    const all = everyMessage().map((x) => x.message);
    expect(new Set(all.map((m) => m.type))).toEqual(new Set(Object.keys(SUBTYPE)));
    for (const m of all) expect(Object.keys(m.fields).length).toBe(MESSAGE_FORMAT[m.type].fields.length);
  });

  it.each(minimalMessages())('minimal $type (required fields only) round-trips', (m) => {
    expect(decodeOk(encodeFloorMessage(m))).toEqual(m);
  });
});

describe('RTCP APP layout', () => {
  it.each(everyMessage())('$name: V=2, P=0, subtype in the count field, PT=204, length, SSRC, name MCPT', ({ message }) => {
    const b = encodeFloorMessage(message);
    expect(b.length % 4).toBe(0);
    expect(b[0]! >> 6).toBe(2);
    expect(b[0]! & 0x20).toBe(0);
    expect(b[0]! & 0x1f).toBe(SUBTYPE[message.type] | (message.ackRequired ? 0x10 : 0));
    expect(b[1]).toBe(204);
    expect(((b[2]! << 8) | b[3]!) + 1).toBe(b.length / 4);
    expect(Buffer.from(b.subarray(4, 8)).readUInt32BE(0)).toBe(message.ssrc);
    expect(new TextDecoder().decode(b.subarray(8, 12))).toBe('MCPT');
  });

  it('fields are ID, length, value and zero padding to 32 bits (clause 8.2.3.1)', () => {
    const b = encodeFloorMessage({ type: 'floor-deny', ackRequired: false, ssrc: 9, fields: { rejectCause: { cause: 0x0102, phrase: 'abc' }, userId: 'u' } });
    // Reject Cause: id 2, len 5, 01 02 'a' 'b' 'c', one padding octet -> 8 octets; User ID: id 6, len 1, 'u', one padding octet.
    expect(Buffer.from(b.subarray(12)).toString('hex')).toBe('0205' + '0102' + '616263' + '00' + '0601' + '75' + '00');
  });

  it('Floor Priority and Message Type are one octet then a spare octet; SSRC has 16 spare bits (clauses 8.2.3.2, 8.2.3.14, 8.2.3.16)', () => {
    const g = encodeFloorMessage({ type: 'floor-granted', ackRequired: false, ssrc: 1, fields: { duration: 0x1234, grantedSsrc: 0xcafebabe, floorPriority: 200 } });
    expect(Buffer.from(g.subarray(12)).toString('hex')).toBe('01021234' + '0e06cafebabe0000' + '0002c800');
    const a = encodeFloorMessage({ type: 'floor-ack', ackRequired: false, ssrc: 1, fields: { source: 2, messageType: 0x11 } });
    expect(Buffer.from(a.subarray(12)).toString('hex')).toBe('0a020002' + '0c021100');
  });

  it('Track Info pads the participant type to 32 bits before the floor participant references (clause 8.2.3.13)', () => {
    const b = encodeFloorMessage({ type: 'floor-release', ackRequired: false, ssrc: 1, fields: { trackInfo: { queueingCapability: 1, participantType: 'abcde', floorParticipantRefs: [0x11223344] } } });
    expect(Buffer.from(b.subarray(12)).toString('hex')).toBe('0b0e' + '0105' + '6162636465000000' + '11223344');
  });

  it('the ack bit sets subtype bit 0x10 only for the messages that have that variant', () => {
    expect([...ACK_CAPABLE].sort()).toEqual(['floor-deny', 'floor-granted', 'floor-idle', 'floor-queue-position-info', 'floor-release', 'floor-taken']);
  });
});

describe('legacy field IDs', () => {
  it('Rel-13 IDs 102.. decode as the same fields (Wireshark and MCOP still list them)', () => {
    const b = encodeFloorMessage({ type: 'floor-granted', ackRequired: false, ssrc: 1, fields: { duration: 30, floorPriority: 3 } });
    const legacy = Uint8Array.from(b);
    legacy[12] = 103; // Duration
    legacy[16] = 102; // Floor Priority
    expect(decodeOk(legacy)).toEqual(decodeOk(b));
    expect(FIELD_ID.duration).toBe(1);
  });
});

describe('encoder refusals (caller bugs throw FloorEncodeError)', () => {
  const base = (m: Partial<FloorMessage>): FloorMessage => ({ type: 'floor-request', ackRequired: false, ssrc: 1, fields: {}, ...m });
  it.each([
    ['a field the type does not carry', base({ fields: { duration: 5 } }), 'duration'],
    ['a missing required field', base({ type: 'floor-deny' }), 'rejectCause'],
    ['a priority above 255', base({ fields: { floorPriority: 256 } }), 'floorPriority'],
    ['a negative SSRC', base({ ssrc: -1 }), 'ssrc'],
    ['the ack bit on Floor Request', base({ ackRequired: true }), 'ackRequired'],
    ['a User ID longer than 255 octets', base({ fields: { userId: 'x'.repeat(256) } }), 'userId'],
    ['a reject phrase that overflows the length octet', base({ type: 'floor-deny', fields: { rejectCause: { cause: 1, phrase: 'p'.repeat(254) } } }), 'rejectCause'],
  ] as const)('%s', (_what, m, field) => {
    let err: unknown;
    try {
      encodeFloorMessage(m);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FloorEncodeError);
    expect((err as FloorEncodeError).field).toBe(field);
  });
});
