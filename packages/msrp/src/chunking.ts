/**
 * Chunking a message into SEND frames with Byte-Range, and reassembling it
 * on receipt (RFC 4975 sec. 5.1, 7.1.1, 7.3.1).
 *
 * A receiver must not believe a Byte-Range blindly: a chunk whose length
 * disagrees with its range, that reaches past the total, that changes the
 * total, that rewrites bytes already received with other bytes, or a last
 * chunk that leaves holes, is refused with a typed MsrpByteRangeError and
 * changes nothing: every byte received before stays. Re-sending identical
 * bytes (a chunk repeated after an interruption) is accepted.
 */
import { MSRP } from './constants.ts';
import { MsrpByteRangeError, type MsrpByteRangeCode } from './errors.ts';
import type { ContinuationFlag } from './frame.ts';
import type { ByteRange } from './headers.ts';

export interface Chunk {
  byteRange: ByteRange;
  data: Buffer;
  continuation: ContinuationFlag;
}

/**
 * Splits a message into chunks of at most `chunkSize` bytes, every one
 * carrying the total (sec. 7.1.1: the sender knows it). An empty message is
 * one empty chunk 1-0/0.
 */
export function chunkMessage(body: Buffer, chunkSize: number = MSRP.defaultChunkSize): Chunk[] {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunk size must be a positive integer: ${chunkSize}`);
  const total = body.length;
  if (total === 0) return [{ byteRange: { start: 1, end: 0, total: 0 }, data: body, continuation: '$' }];
  const out: Chunk[] = [];
  for (let off = 0; off < total; off += chunkSize) {
    const data = body.subarray(off, Math.min(total, off + chunkSize));
    const last = off + data.length >= total;
    out.push({ byteRange: { start: off + 1, end: off + data.length, total }, data, continuation: last ? '$' : '+' });
  }
  return out;
}

export type AssemblyState = 'partial' | 'complete' | 'aborted';

export type AddResult =
  | { ok: true; state: 'partial' }
  | { ok: true; state: 'complete'; body: Buffer }
  | { ok: true; state: 'aborted'; received: number }
  | { ok: false; error: MsrpByteRangeError };

interface Segment {
  /** 1-based first byte. */
  start: number;
  data: Buffer;
}

/** One message being received. */
export class MessageAssembler {
  private segments: Segment[] = [];
  private total: number | undefined;
  /** Last byte of the '$' chunk, once seen. */
  private lastEnd: number | undefined;
  private covered = 0;
  private state: AssemblyState = 'partial';

  constructor(
    readonly messageId: string,
    private readonly maxBytes: number = MSRP.maxMessageBytes,
  ) {}

  /** Bytes received so far (without duplicates). */
  get receivedBytes(): number {
    return this.covered;
  }

  /** The received ranges, 1-based inclusive, in order (for partial Failure-Reports). */
  receivedRanges(): Array<[number, number]> {
    return this.segments.map((s) => [s.start, s.start + s.data.length - 1]);
  }

  /** The bytes received so far, holes left out (for a caller that wants to keep what came of an aborted message). */
  receivedData(): Buffer {
    return Buffer.concat(this.segments.map((s) => s.data));
  }

  private refuse(code: MsrpByteRangeCode, msg: string): AddResult {
    return { ok: false, error: new MsrpByteRangeError(code, `message ${this.messageId}: ${msg}`, this.messageId) };
  }

  add(chunk: Chunk): AddResult {
    const { byteRange: r, data, continuation } = chunk;
    const shown = `${r.start}-${r.end ?? '*'}/${r.total ?? '*'}`;
    if (this.state !== 'partial') return this.refuse('range-after-end', `chunk ${shown} after the message was ${this.state}`);
    if (r.end !== undefined && r.end - r.start + 1 !== data.length && continuation !== '#') {
      // An interrupted chunk ('#', or '+' cut short) may carry fewer bytes than announced (sec. 7.1.1).
      if (!(continuation === '+' && data.length < r.end - r.start + 1)) {
        return this.refuse('range-length-mismatch', `Byte-Range ${shown} announces ${r.end - r.start + 1} bytes, the chunk has ${data.length}`);
      }
    }
    const end = r.start + data.length - 1;
    if (r.total !== undefined && this.total !== undefined && r.total !== this.total) {
      return this.refuse('range-total-mismatch', `Byte-Range ${shown} changes the total from ${this.total}`);
    }
    const total = r.total ?? this.total;
    if ((total ?? 0) > this.maxBytes || end > this.maxBytes) return this.refuse('message-too-large', `larger than ${this.maxBytes} bytes (413)`);
    if (total !== undefined && end > total) return this.refuse('range-beyond-total', `Byte-Range ${shown} ends at ${end}, beyond the total ${total}`);
    if (this.lastEnd !== undefined && end > this.lastEnd) return this.refuse('range-beyond-total', `Byte-Range ${shown} ends beyond the last chunk's end ${this.lastEnd}`);
    if (continuation === '$' && total !== undefined && total < end) return this.refuse('range-beyond-total', `last chunk ${shown} ends beyond ${total}`);
    // Overlap: identical bytes are a repeat, different bytes a lie.
    const fresh: Segment[] = [];
    let cursor = r.start;
    for (const s of this.segments) {
      const sEnd = s.start + s.data.length - 1;
      if (sEnd < r.start || s.start > end) continue;
      const lo = Math.max(s.start, r.start);
      const hi = Math.min(sEnd, end);
      if (!data.subarray(lo - r.start, hi - r.start + 1).equals(s.data.subarray(lo - s.start, hi - s.start + 1))) {
        return this.refuse('range-overlap', `Byte-Range ${shown} rewrites bytes ${lo}-${hi} already received with different data`);
      }
      if (lo > cursor) fresh.push({ start: cursor, data: data.subarray(cursor - r.start, lo - r.start) });
      cursor = hi + 1;
    }
    if (cursor <= end) fresh.push({ start: cursor, data: data.subarray(cursor - r.start, end - r.start + 1) });

    // Accepted: from here on nothing can fail.
    for (const f of fresh) {
      this.segments.push({ start: f.start, data: Buffer.from(f.data) });
      this.covered += f.data.length;
    }
    this.segments.sort((a, b) => a.start - b.start);
    if (total !== undefined) this.total = total;
    if (continuation === '#') {
      this.state = 'aborted';
      return { ok: true, state: 'aborted', received: this.covered };
    }
    if (continuation === '$') {
      this.lastEnd = Math.max(end, this.lastEnd ?? 0);
      this.total ??= this.lastEnd;
    }
    if (this.total !== undefined && this.covered === this.total && this.lastEnd !== undefined) {
      this.state = 'complete';
      return { ok: true, state: 'complete', body: this.assemble() };
    }
    if (continuation === '$') {
      const missing = (this.total ?? end) - this.covered;
      return this.refuse('range-gap', `last chunk ${shown} arrived with ${missing} bytes missing (received ${this.describe()})`);
    }
    return { ok: true, state: 'partial' };
  }

  private describe(): string {
    return this.receivedRanges().map(([a, b]) => `${a}-${b}`).join(',') || 'nothing';
  }

  private assemble(): Buffer {
    const out = Buffer.concat(this.segments.map((s) => s.data), this.covered);
    this.segments = [{ start: 1, data: out }];
    return out;
  }
}

/** Every message being received on a session, by Message-ID. */
export class Reassembler {
  private readonly messages = new Map<string, MessageAssembler>();

  constructor(private readonly maxBytes: number = MSRP.maxMessageBytes) {}

  add(messageId: string, chunk: Chunk): AddResult {
    let m = this.messages.get(messageId);
    if (!m) {
      m = new MessageAssembler(messageId, this.maxBytes);
      this.messages.set(messageId, m);
    }
    const r = m.add(chunk);
    if (r.ok && r.state !== 'partial') this.messages.delete(messageId);
    return r;
  }

  /** A message still being received (or refused with holes). */
  get(messageId: string): MessageAssembler | undefined {
    return this.messages.get(messageId);
  }

  get pending(): string[] {
    return [...this.messages.keys()];
  }
}
