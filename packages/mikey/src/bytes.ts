/**
 * Bounds-checked big-endian reader and growable writer. Every read names what
 * it expected so that a short or malformed buffer ends in a typed error with
 * the absolute offset (offsets of nested data are relative to the outermost
 * buffer handed to the decoder).
 */
import { MikeyEncodeError, MikeyTruncatedError } from './errors.ts';

/** Sequential reader over `buf[start, end)`; offsets in errors are `base + position`. */
export class Reader {
  private pos: number;

  /**
   * @param buf whole buffer
   * @param base absolute offset of `buf[0]` in the outermost message
   * @param payloadType payload being read, reported in errors
   */
  constructor(
    public readonly buf: Uint8Array,
    private readonly base = 0,
    public payloadType?: number,
    start = 0,
    private readonly end = buf.length,
  ) {
    // A Buffer's slice() is a view; normalise to a plain Uint8Array so copies are real copies.
    if (Object.getPrototypeOf(buf) !== Uint8Array.prototype) this.buf = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
  }

  /** Absolute offset of the next unread octet. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Octets left before the end. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** Position relative to `buf`. */
  get position(): number {
    return this.pos;
  }

  private need(n: number, expected: string): void {
    if (this.end - this.pos < n) {
      throw new MikeyTruncatedError({
        offset: this.offset,
        expected: `${expected} (${n} octet${n === 1 ? '' : 's'})`,
        payloadType: this.payloadType,
        found: `${this.end - this.pos} octet${this.end - this.pos === 1 ? '' : 's'} left`,
      });
    }
  }

  /** Reads one octet. */
  u8(expected: string): number {
    this.need(1, expected);
    return this.buf[this.pos++]!;
  }

  /** Reads a 16-bit big-endian integer. */
  u16(expected: string): number {
    this.need(2, expected);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  /** Reads a 32-bit big-endian unsigned integer. */
  u32(expected: string): number {
    this.need(4, expected);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  /** Reads an `n`-octet big-endian unsigned integer as a bigint. */
  uint(n: number, expected: string): bigint {
    this.need(n, expected);
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.buf[this.pos + i]!);
    this.pos += n;
    return v;
  }

  /** Returns a copy of the next `n` octets. */
  bytes(n: number, expected: string): Uint8Array {
    this.need(n, expected);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Returns a Reader over the next `n` octets (same absolute offsets) and skips them. */
  sub(n: number, expected: string, payloadType = this.payloadType): Reader {
    this.need(n, expected);
    const r = new Reader(this.buf, this.base, payloadType, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  /** Looks at the next octet without consuming it. */
  peek(expected: string): number {
    this.need(1, expected);
    return this.buf[this.pos]!;
  }
}

/** Growable big-endian writer with range checks (values out of range are encode errors, never truncated). */
export class Writer {
  private buf = new Uint8Array(256);
  private len = 0;

  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }

  /** Octets written so far. */
  get length(): number {
    return this.len;
  }

  /** Writes one octet; `field` names it in errors. */
  u8(v: number, field: string): this {
    checkUint(v, 0xff, field);
    this.grow(1);
    this.buf[this.len++] = v;
    return this;
  }

  /** Writes a 16-bit big-endian integer. */
  u16(v: number, field: string): this {
    checkUint(v, 0xffff, field);
    this.grow(2);
    this.buf[this.len++] = v >>> 8;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  /** Writes a 32-bit big-endian integer. */
  u32(v: number, field: string): this {
    checkUint(v, 0xffffffff, field);
    this.grow(4);
    this.buf[this.len++] = v >>> 24;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  /** Writes an `n`-octet big-endian unsigned bigint. */
  uint(v: bigint, n: number, field: string): this {
    if (typeof v !== 'bigint' || v < 0n || v >> BigInt(8 * n) !== 0n) throw new MikeyEncodeError(field, `${String(v)} does not fit in ${n} octets`);
    this.grow(n);
    for (let i = n - 1; i >= 0; i--) {
      this.buf[this.len + i] = Number(v & 0xffn);
      v >>= 8n;
    }
    this.len += n;
    return this;
  }

  /** Appends raw octets. */
  bytes(b: Uint8Array): this {
    this.grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** Overwrites a 16-bit value at `at` (for lengths known only afterwards). */
  patchU16(at: number, v: number, field: string): void {
    checkUint(v, 0xffff, field);
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v & 0xff;
  }

  /** The written octets (a copy). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function checkUint(v: number, max: number, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new MikeyEncodeError(field, `${v} is not an integer in [0, ${max}]`);
}

/** Checks that `b` is a byte array of at most `max` octets (and at least `min`). */
export function checkBytes(b: unknown, field: string, max: number, min = 0): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new MikeyEncodeError(field, 'not a Uint8Array');
  if (b.length > max || b.length < min) throw new MikeyEncodeError(field, `length ${b.length} not in [${min}, ${max}]`);
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Big-endian octets of a 32-bit unsigned integer. */
export function u32be(v: number): Uint8Array {
  return new Uint8Array([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

/** Constant-time-ish equality for equal-length arrays (length leak only). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
