/**
 * Bit-level H.264 syntax (ITU-T H.264 sec. 7.2, 9.1): fixed-length fields,
 * Exp-Golomb codes ue(v)/se(v), RBSP trailing bits, and the emulation
 * prevention that turns an RBSP into NAL unit bytes and back (sec. 7.4.1.1).
 */
import { ProbeMediaDecodeError } from './media-errors.ts';

/** Writes an RBSP bit by bit, most significant bit first. */
export class BitWriter {
  private readonly out: number[] = [];
  private cur = 0;
  private n = 0;

  /** `bits` (0..32) low bits of `value`. */
  u(bits: number, value: number): this {
    for (let i = bits - 1; i >= 0; i--) this.bit(Math.floor(value / 2 ** i) & 1);
    return this;
  }

  /** ue(v) (sec. 9.1): leadingZeroBits zeros, a one, then value+1 minus its top bit. */
  ue(value: number): this {
    const v = value + 1;
    const len = Math.floor(Math.log2(v));
    this.u(len, 0);
    return this.u(len + 1, v);
  }

  /** se(v) (sec. 9.1.1): k > 0 as 2k-1, k <= 0 as -2k. */
  se(value: number): this {
    return this.ue(value > 0 ? 2 * value - 1 : -2 * value);
  }

  flag(on: boolean): this {
    return this.bit(on ? 1 : 0);
  }

  /** Whole octets; the writer must be byte-aligned (e.g. after pcm_alignment_zero_bit). */
  bytes(data: Uint8Array): this {
    if (this.n !== 0) throw new Error('BitWriter.bytes: not byte-aligned');
    for (const b of data) this.out.push(b);
    return this;
  }

  /** Zero bits up to the next octet boundary (pcm_alignment_zero_bit, sec. 7.3.5). */
  alignZero(): this {
    while (this.n !== 0) this.bit(0);
    return this;
  }

  /** rbsp_trailing_bits() (sec. 7.3.2.11): a one, then zeros to the octet boundary. */
  trailing(): this {
    this.bit(1);
    return this.alignZero();
  }

  get byteAligned(): boolean {
    return this.n === 0;
  }

  /** The octets written; the writer must be byte-aligned. */
  finish(): Uint8Array {
    if (this.n !== 0) throw new Error('BitWriter.finish: not byte-aligned');
    return Uint8Array.from(this.out);
  }

  private bit(b: number): this {
    this.cur = (this.cur << 1) | b;
    if (++this.n === 8) {
      this.out.push(this.cur);
      this.cur = 0;
      this.n = 0;
    }
    return this;
  }
}

/**
 * Reads an RBSP (emulation prevention already removed). Running past the end
 * or a malformed Exp-Golomb code throws a {@link ProbeMediaDecodeError}; the
 * parsers catch it and return it as a value.
 */
export class BitReader {
  private pos = 0;
  /** Bit position of rbsp_stop_one_bit (the last one bit), -1 when the RBSP has none. */
  private readonly stopBit: number;

  constructor(private readonly data: Uint8Array) {
    let i = data.length - 1;
    while (i >= 0 && data[i] === 0) i--;
    if (i < 0) this.stopBit = -1;
    else {
      const b = data[i]!;
      let k = 0;
      while (((b >> k) & 1) === 0) k++;
      this.stopBit = i * 8 + (7 - k);
    }
  }

  get bitPosition(): number {
    return this.pos;
  }

  get byteAligned(): boolean {
    return (this.pos & 7) === 0;
  }

  u(bits: number): number {
    if (this.pos + bits > this.data.length * 8) this.fail('truncated-syntax', `needs ${bits} more bits, the RBSP ends`);
    let v = 0;
    for (let i = 0; i < bits; i++, this.pos++) v = v * 2 + ((this.data[this.pos >> 3]! >> (7 - (this.pos & 7))) & 1);
    return v;
  }

  flag(): boolean {
    return this.u(1) === 1;
  }

  /** ue(v); codes longer than 32 bits (values above 2^32 - 2) are malformed here. */
  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) {
      if (++zeros > 31) this.fail('bad-exp-golomb', 'an Exp-Golomb code with more than 31 leading zero bits (H.264 sec. 9.1)');
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }

  /** pcm_alignment_zero_bit up to the octet boundary; each must be zero. */
  alignZero(): void {
    while (!this.byteAligned) if (this.u(1) !== 0) this.fail('bad-slice', 'pcm_alignment_zero_bit is not zero (H.264 sec. 7.4.5)');
  }

  /** `n` whole octets; the reader must be byte-aligned. */
  bytes(n: number): Uint8Array {
    if (!this.byteAligned) this.fail('bad-slice', 'octets read off the octet boundary');
    const at = this.pos >> 3;
    if (at + n > this.data.length) this.fail('truncated-syntax', `needs ${n} octets, the RBSP has ${this.data.length - at}`);
    this.pos += 8 * n;
    return this.data.subarray(at, at + n);
  }

  /** more_rbsp_data() (sec. 7.2): is there syntax before rbsp_stop_one_bit? */
  moreRbspData(): boolean {
    if (this.stopBit < 0) this.fail('truncated-syntax', 'the RBSP has no rbsp_stop_one_bit (H.264 sec. 7.3.2.11)');
    return this.pos < this.stopBit;
  }

  private fail(code: 'truncated-syntax' | 'bad-exp-golomb' | 'bad-slice', detail: string): never {
    throw new ProbeMediaDecodeError('h264', code, this.pos >> 3, `${detail} (RBSP bit ${this.pos})`);
  }
}

/** RBSP to NAL unit payload (sec. 7.4.1.1): 0x03 after two zeros when the next octet is 0..3, or at the end. */
export function addEmulationPrevention(rbsp: Uint8Array): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  if (zeros > 0) out.push(3);
  return Uint8Array.from(out);
}

/**
 * NAL unit payload to RBSP (sec. 7.3.1, 7.4.1): drops each
 * emulation_prevention_three_byte; a byte-aligned 0x000000, 0x000001 or
 * 0x000002, or 0x000003 followed by an octet above 3, is malformed.
 * `base` is the offset of `data` in what the caller was handed, for the error.
 */
export function removeEmulationPrevention(data: Uint8Array, base = 0): Uint8Array | ProbeMediaDecodeError {
  const out = new Uint8Array(data.length);
  let n = 0;
  let zeros = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (zeros >= 2) {
      if (b < 3) return new ProbeMediaDecodeError('h264', 'bad-emulation-prevention', base + i, `0x0000${b.toString(16).padStart(2, '0')} inside a NAL unit (H.264 sec. 7.4.1)`);
      if (b === 3) {
        const next = data[i + 1];
        if (next !== undefined && next > 3) return new ProbeMediaDecodeError('h264', 'bad-emulation-prevention', base + i, `0x000003 followed by 0x${next.toString(16)} (H.264 sec. 7.4.1)`);
        zeros = 0;
        continue;
      }
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}
