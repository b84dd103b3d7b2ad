/** Big-endian word access (network byte order, RFC 3550 sec. 5.1), exported for SRTP's ROC and SRTCP index words. */
import { describe, expect, it } from 'vitest';
import { readU16, readU32, writeU16, writeU32 } from '../src/index.ts';
import { hex } from './helpers.ts';

describe('readU16/readU32/writeU16/writeU32', () => {
  it('read big-endian and unsigned at an offset', () => {
    const b = hex('00 ff fe dc ba 98 01');
    expect(readU16(b, 1)).toBe(0xfffe);
    expect(readU32(b, 1)).toBe(0xfffedcba);
    expect(readU32(b, 3)).toBe(0xdcba9801);
  });

  it('write big-endian modulo 2^16 / 2^32, leaving the neighbours alone', () => {
    const b = Buffer.alloc(8, 0xee);
    writeU32(b, 1, 0x80000001);
    expect(b).toEqual(hex('ee 80000001 eeeeee'));
    writeU32(b, 1, 2 ** 32 + 5);
    expect(readU32(b, 1)).toBe(5);
    writeU16(b, 5, 0x1234);
    expect(b).toEqual(hex('ee 00000005 1234 ee'));
    writeU16(b, 5, 0x10001);
    expect(readU16(b, 5)).toBe(1);
  });

  it('match Buffer\'s own readers', () => {
    const b = Buffer.from([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc]);
    for (let off = 0; off <= 2; off++) expect(readU32(b, off)).toBe(b.readUInt32BE(off));
    for (let off = 0; off <= 4; off++) expect(readU16(b, off)).toBe(b.readUInt16BE(off));
  });
});
