/**
 * Chunking with Byte-Range and reassembly (RFC 4975 sec. 5.1, 7.1.1,
 * 7.3.1): out of order, repeated chunks, and every way a Byte-Range can lie,
 * each a typed error that loses nothing received before.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chunkMessage, MessageAssembler, MsrpByteRangeError, Reassembler, type Chunk } from '../src/index.ts';
import { prng } from './helpers.ts';

const chunk = (start: number, data: string | Buffer, total: number | undefined, continuation: Chunk['continuation'] = '+', end?: number | 'star'): Chunk => {
  const d = typeof data === 'string' ? Buffer.from(data) : data;
  return { byteRange: { start, end: end === 'star' ? undefined : (end ?? start + d.length - 1), total }, data: d, continuation };
};
const code = (r: ReturnType<MessageAssembler['add']>) => (r.ok ? r.state : r.error.code);

describe('chunkMessage', () => {
  it('splits into ranges that carry the total, the last with $', () => {
    const c = chunkMessage(Buffer.from('abcdefghij'), 4);
    expect(c.map((x) => [x.byteRange, x.data.toString(), x.continuation])).toEqual([
      [{ start: 1, end: 4, total: 10 }, 'abcd', '+'],
      [{ start: 5, end: 8, total: 10 }, 'efgh', '+'],
      [{ start: 9, end: 10, total: 10 }, 'ij', '$'],
    ]);
    expect(chunkMessage(Buffer.alloc(0))).toEqual([{ byteRange: { start: 1, end: 0, total: 0 }, data: Buffer.alloc(0), continuation: '$' }]);
    expect(() => chunkMessage(Buffer.from('x'), 0)).toThrow(RangeError);
  });

  it('reassembles a random 200 kB message from shuffled, partly repeated chunks', () => {
    const rnd = prng(5547);
    const body = randomBytes(200_000);
    const chunks = chunkMessage(body, 1000 + Math.floor(rnd() * 3000));
    const last = chunks.pop()!;
    const order = [...chunks, ...chunks.slice(0, 5)].sort(() => rnd() - 0.5);
    const m = new MessageAssembler('m1');
    for (const c of order) expect(code(m.add(c))).toBe('partial');
    const r = m.add(last);
    expect(r.ok && r.state === 'complete' && r.body.equals(body)).toBe(true);
  });
});

describe('MessageAssembler refuses lying Byte-Ranges and keeps what it had', () => {
  it.each([
    ['a chunk longer than its range', [chunk(1, 'abcd', 8, '+', 3)], 'range-length-mismatch'],
    ['a range past the total', [chunk(1, 'abcd', 8), chunk(6, 'wxyz', 8)], 'range-beyond-total'],
    ['a total that changes', [chunk(1, 'abcd', 8), chunk(5, 'efgh', 9)], 'range-total-mismatch'],
    ['an overlap with different bytes', [chunk(1, 'abcd', 8), chunk(3, 'XXef', 8)], 'range-overlap'],
    ['a last chunk that leaves a gap', [chunk(1, 'ab', 8), chunk(5, 'efgh', 8, '$')], 'range-gap'],
    ['a last chunk short of the total', [chunk(1, 'abcd', 8, '$')], 'range-gap'],
    ['a chunk after completion', [chunk(1, 'ab', 2, '$'), chunk(1, 'ab', 2, '$')], 'range-after-end'],
    ['a total over the limit', [chunk(1, 'ab', 10_000_000)], 'message-too-large'],
  ])('%s', (_, chunks, expected) => {
    const m = new MessageAssembler('m1', 1_000_000);
    const results = chunks.map((c) => m.add(c));
    const r = results.at(-1)!;
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(MsrpByteRangeError);
      expect(r.error.code).toBe(expected);
      expect(r.error.messageId).toBe('m1');
    }
    // Everything accepted before the refusal is still there.
    const accepted = chunks.slice(0, -1).reduce((n, c) => n + c.data.length, 0);
    if (expected !== 'range-gap' && expected !== 'range-after-end') expect(m.receivedBytes).toBe(accepted);
  });

  it('after a refused chunk the right chunk still completes the message', () => {
    const m = new MessageAssembler('m2');
    m.add(chunk(1, 'abcd', 8));
    expect(code(m.add(chunk(3, 'XXef', 8)))).toBe('range-overlap');
    expect(code(m.add(chunk(9, 'z', 8)))).toBe('range-beyond-total');
    const r = m.add(chunk(5, 'efgh', 8, '$'));
    expect(r.ok && r.state === 'complete' && r.body.toString()).toBe('abcdefgh');
  });

  it('a gap reported at the end can still be filled, and the message then completes', () => {
    const m = new MessageAssembler('m3');
    m.add(chunk(1, 'ab', 6));
    expect(code(m.add(chunk(5, 'ef', 6, '$')))).toBe('range-gap');
    expect(m.receivedRanges()).toEqual([[1, 2], [5, 6]]);
    const r = m.add(chunk(3, 'cd', 6));
    expect(r.ok && r.state === 'complete' && r.body.toString()).toBe('abcdef');
  });

  it('unknown totals ("*") end with the $ chunk; an interrupted + chunk may be shorter than announced; # aborts', () => {
    const m = new MessageAssembler('m4');
    expect(code(m.add(chunk(1, 'abc', undefined, '+', 'star')))).toBe('partial');
    const r = m.add(chunk(4, 'de', undefined, '$', 'star'));
    expect(r.ok && r.state === 'complete' && r.body.toString()).toBe('abcde');
    const i = new MessageAssembler('m5');
    expect(code(i.add(chunk(1, 'ab', 10, '+', 6)))).toBe('partial');
    expect(code(i.add(chunk(3, 'cd', 10, '#')))).toBe('aborted');
    expect(i.receivedData().toString()).toBe('abcd');
  });

  it('Reassembler keeps messages apart by Message-ID and forgets finished ones', () => {
    const r = new Reassembler();
    r.add('x', chunk(1, 'ab', 4));
    r.add('y', chunk(1, 'XY', 2, '$'));
    expect(r.pending).toEqual(['x']);
    const done = r.add('x', chunk(3, 'cd', 4, '$'));
    expect(done.ok && done.state === 'complete' && done.body.toString()).toBe('abcd');
    expect(r.pending).toEqual([]);
  });
});
