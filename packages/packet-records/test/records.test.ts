import { describe, expect, it } from 'vitest';
import { prng } from '@imslab/fuzz';
import { encodeRecord, RECORD_HEADER_BYTES, scanRecords, type RecordedPacket } from '../src/index.ts';

const pkt = (i: number, len: number): RecordedPacket => ({ atUs: 1_700_000_000_000_000 + i * 20_000, data: Buffer.alloc(len, i & 0xff) });

describe('packets.bin records', () => {
  it('round trip: every record back in order, with times and counts', () => {
    const ps = [pkt(0, 172), pkt(1, 0), pkt(2, 1500)];
    const got: RecordedPacket[] = [];
    const s = scanRecords(Buffer.concat(ps.map(encodeRecord)), (p) => got.push(p));
    expect(got).toEqual(ps);
    expect(s).toEqual({ count: 3, bytes: 1672, end: 3 * RECORD_HEADER_BYTES + 1672, firstUs: ps[0]!.atUs, lastUs: ps[2]!.atUs, issue: null });
  });

  it('a torn last write is a tail issue after the whole records; a bad length inside is damage', () => {
    const whole = Buffer.concat([pkt(0, 100), pkt(1, 100)].map(encodeRecord));
    const torn = Buffer.concat([whole, encodeRecord(pkt(2, 100)).subarray(0, 50)]);
    expect(scanRecords(torn)).toMatchObject({ count: 2, end: whole.length, issue: { offset: whole.length, tail: true } });
    const zeroTail = Buffer.concat([whole, Buffer.alloc(64)]);
    expect(scanRecords(zeroTail).issue).toMatchObject({ tail: true, what: expect.stringContaining('zero-filled') });
    const damaged = Buffer.from(whole);
    damaged.writeUInt32BE(70_000, RECORD_HEADER_BYTES + 100);
    expect(scanRecords(damaged)).toMatchObject({ count: 1, issue: { tail: false, what: expect.stringContaining('exceeds the maximum UDP payload') } });
  });

  it('10,000 random images: never throws, whole records only, `end` never past the image', () => {
    const next = prng(0x7ec);
    for (let i = 0; i < 10_000; i++) {
      const b = Buffer.alloc(Math.floor(next() * 200));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(next() * 256);
      const s = scanRecords(b);
      expect(s.end).toBeLessThanOrEqual(b.length);
      expect(s.issue === null).toBe(s.end === b.length);
    }
  });
});
