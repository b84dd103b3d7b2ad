/**
 * AES in counter mode as SRTP uses it (RFC 3711 sec. 4.1.1): keystream block
 * j of a packet is AES(k_e, IV + j), with
 * IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16).
 *
 * Why ECB: node:crypto's 'aes-*-ctr' needs a new cipher (EVP context and key
 * schedule) for every IV, i.e. every packet. One long-lived 'aes-*-ecb'
 * cipher fed counter blocks gives the same keystream without per-packet key
 * setup, and stays constant-time (OpenSSL's AES, unlike a table AES in JS).
 *
 * Why batches: the native call, not the AES, dominates for a 160-octet
 * payload. Packet indices of a stream are predictable (i, i+1, ...), so one
 * call produces the keystream of the next several packets of that SSRC.
 */
import { createCipheriv, type Cipher } from 'node:crypto';

/** Keystream octets produced per native call when batching. */
const BATCH_BYTES = 4096;
/** At most this many packets per batch. */
const MAX_BATCH = 16;
/** SSRCs with a pending batch; beyond this all batches are dropped (bounded memory for captures with many SSRCs). */
const MAX_STREAMS = 8;

interface Batch {
  first: number;
  count: number;
  /** Keystream octets reserved per packet (whole blocks). */
  stride: number;
  ks: Buffer;
}

/** Writes the AES-CM IV for (SSRC, index) into `iv[off, off+16)`, RFC 3711 sec. 4.1.1; `index` is the 48-bit SRTP or 31-bit SRTCP index. */
export function aesCmIv(salt: Uint8Array, ssrc: number, index: number, iv: Uint8Array, off = 0): void {
  for (let j = 0; j < 14; j++) iv[off + j] = salt[j]!;
  iv[off + 14] = 0;
  iv[off + 15] = 0;
  const hi = Math.floor(index / 65536);
  iv[off + 4]! ^= ssrc >>> 24;
  iv[off + 5]! ^= ssrc >>> 16;
  iv[off + 6]! ^= ssrc >>> 8;
  iv[off + 7]! ^= ssrc;
  iv[off + 8]! ^= hi >>> 24;
  iv[off + 9]! ^= hi >>> 16;
  iv[off + 10]! ^= hi >>> 8;
  iv[off + 11]! ^= hi;
  iv[off + 12]! ^= index >>> 8;
  iv[off + 13]! ^= index;
}

/** AES-CM keystream generator bound to one session key and salt. */
export class AesCm {
  private readonly ecb: Cipher;
  /** Counter blocks, grown on demand. */
  private counters = new Uint8Array(BATCH_BYTES);
  private readonly batches = new Map<number, Batch>();

  constructor(key: Uint8Array, private readonly salt: Uint8Array = new Uint8Array(14)) {
    this.ecb = createCipheriv(key.length === 32 ? 'aes-256-ecb' : 'aes-128-ecb', key, null);
    // Input is always whole blocks, so the cipher never buffers and never needs final().
    this.ecb.setAutoPadding(false);
  }

  /**
   * XORs `src[srcStart, srcEnd)` with the keystream for an explicit 16-octet
   * `iv` into `dst` at `dstStart`. The IV's low 16 bits plus the block count
   * must stay below 2^16, as in SRTP where they start at zero.
   */
  xorIv(iv: Uint8Array, src: Uint8Array, srcStart: number, srcEnd: number, dst: Uint8Array, dstStart: number): void {
    const n = srcEnd - srcStart;
    if (n <= 0) return;
    const blocks = (n + 15) >> 4;
    this.reserve(blocks * 16);
    this.counters.set(iv.subarray(0, 16), 0);
    expandCounters(this.counters, 0, blocks);
    const ks = this.ecb.update(this.counters.subarray(0, blocks * 16));
    for (let i = 0; i < n; i++) dst[dstStart + i] = src[srcStart + i]! ^ ks[i]!;
  }

  /** XORs with the keystream of packet (`ssrc`, `index`) (RFC 3711 sec. 4.1.1), served from a batch when possible. */
  xorPacket(ssrc: number, index: number, src: Uint8Array, srcStart: number, srcEnd: number, dst: Uint8Array, dstStart: number): void {
    const n = srcEnd - srcStart;
    if (n <= 0) return;
    let b = this.batches.get(ssrc);
    if (!b || index < b.first || index >= b.first + b.count || n > b.stride) b = this.refill(ssrc, index, n, b);
    const ks = b.ks;
    const off = (index - b.first) * b.stride;
    for (let i = 0; i < n; i++) dst[dstStart + i] = src[srcStart + i]! ^ ks[off + i]!;
  }

  private refill(ssrc: number, index: number, n: number, prev: Batch | undefined): Batch {
    // Reserve room for the largest payload seen on this SSRC, so varying sizes do not force refills.
    const stride = Math.max((n + 15) & ~15, prev ? prev.stride : 0);
    const count = Math.max(1, Math.min(MAX_BATCH, Math.floor(BATCH_BYTES / stride)));
    const total = count * stride;
    this.reserve(total);
    for (let k = 0; k < count; k++) {
      aesCmIv(this.salt, ssrc, index + k, this.counters, k * stride);
      expandCounters(this.counters, k * stride, stride >> 4);
    }
    const batch: Batch = { first: index, count, stride, ks: this.ecb.update(this.counters.subarray(0, total)) };
    if (!prev && this.batches.size >= MAX_STREAMS) this.batches.clear();
    this.batches.set(ssrc, batch);
    return batch;
  }

  private reserve(bytes: number): void {
    if (this.counters.length < bytes) this.counters = new Uint8Array(bytes);
  }
}

/**
 * Turns the IV at `c[off, off+16)` into `blocks` consecutive counter blocks
 * in place: the first 14 octets repeat, the low 16 bits count up.
 */
function expandCounters(c: Uint8Array, off: number, blocks: number): void {
  const base = (c[off + 14]! << 8) | c[off + 15]!;
  if (base + blocks > 0x10000) throw new RangeError('AES-CM block counter would wrap (RFC 3711 sec. 4.1.1 allows 2^16 blocks per packet)');
  for (let b = 1, o = off + 16; b < blocks; b++, o += 16) {
    for (let j = 0; j < 14; j++) c[o + j] = c[off + j]!;
    const ctr = base + b;
    c[o + 14] = ctr >>> 8;
    c[o + 15] = ctr;
  }
}
