/**
 * HMAC-SHA1 (RFC 2104) of four messages at once: SHA-1 (FIPS 180-4) in
 * WebAssembly SIMD, one message per 32-bit lane of an i32x4 vector
 * ("multi-buffer" hashing). For the packet analyser, which checks the
 * authentication tag of every SRTP packet of a capture (RFC 3711 sec. 4.2.1):
 * a tag over a 172-octet G.711 packet costs four compressions, about 1.2 µs
 * in plain JS (hmac-sha1.ts) and about 0.17 µs per packet here.
 *
 * The module is assembled at load time from the instructions below (no
 * binary blob, no build tool): the round function is unrolled by the
 * generator. Every message of a call to `hmac4` must span the same number of
 * blocks; the caller groups them. Where WebAssembly SIMD is missing,
 * {@link Sha1x4.create} returns null and the caller uses the JS HMAC.
 *
 * Memory layout (one instance per batch): [0, 80) the four HMACs (five
 * vectors, word i of lane l at 16 i + 4 l); scratch; then `capacity` message slots of
 * {@link SLOT_BYTES}; then the key table, 40 octets per key (the SHA-1 states
 * after the ipad and the opad block, RFC 2104 sec. 2), grown on demand.
 */

/** Octets per message slot: messages up to SLOT_BYTES - 13 octets (ROC trailer and SHA-1 padding must fit). */
export const SLOT_BYTES = 2048;
/** The longest message `pad` accepts (the ROC trailer is 4 octets, the SHA-1 padding at least 9). */
export const MAX_MESSAGE = SLOT_BYTES - 13;
const OUT = 0;
/** Scratch for deriving key states: a five-vector state and two blocks. */
const SCRATCH = 128;
const SLOTS = 512;
const KEY_BYTES = 40;
const PAGE = 65536;

const I32 = 0x7f;
const V128 = 0x7b;
const IV = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0] as const;
const K = [0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6] as const;
/** i8x16.swizzle indices that turn four big-endian words into native (little-endian) i32 lanes. */
const BSWAP32 = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12];

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'latin1')];

/** One function body under construction: locals and a stack-machine instruction stream. */
class Fn {
  readonly code: number[] = [];
  private readonly locals: number[] = [];

  constructor(readonly params: number[], readonly results: number[] = []) {}

  local(type: number): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  get(i: number): this { return this.op(0x20, ...uleb(i)); }
  set(i: number): this { return this.op(0x21, ...uleb(i)); }
  i32(n: number): this { return this.op(0x41, ...sleb(n | 0)); }
  add(): this { return this.op(0x6a); }
  and(): this { return this.op(0x71); }
  or(): this { return this.op(0x72); }
  shl(): this { return this.op(0x74); }
  shrU(): this { return this.op(0x76); }
  rotl(): this { return this.op(0x77); }
  load(offset = 0): this { return this.op(0x28, 0, ...uleb(offset)); }
  store(offset = 0): this { return this.op(0x36, 0, ...uleb(offset)); }
  store8(offset = 0): this { return this.op(0x3a, 0, ...uleb(offset)); }
  /** memory.fill (bulk memory): [dest, value, length] on the stack. */
  fill(): this { return this.op(0xfc, 11, 0); }
  simd(code: number, ...imm: number[]): this { return this.op(0xfd, ...uleb(code), ...imm); }
  vload(offset = 0): this { return this.simd(0x00, 4, ...uleb(offset)); }
  vstore(offset = 0): this { return this.simd(0x0b, 4, ...uleb(offset)); }
  vconst(bytes: number[]): this { return this.simd(0x0c, ...bytes); }
  swizzle(): this { return this.simd(0x0e); }
  splat(): this { return this.simd(0x11); }
  load32Zero(offset: number): this { return this.simd(0x5c, 2, ...uleb(offset)); }
  load32Lane(offset: number, lane: number): this { return this.simd(0x56, 0, ...uleb(offset), lane); }
  vand(): this { return this.simd(0x4e); }
  vor(): this { return this.simd(0x50); }
  vxor(): this { return this.simd(0x51); }
  bitselect(): this { return this.simd(0x52); }
  vshl(): this { return this.simd(0xab, 0x01); }
  vshrU(): this { return this.simd(0xad, 0x01); }
  vadd(): this { return this.simd(0xae, 0x01); }

  body(): number[] {
    const groups: Array<[number, number]> = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const b = [...uleb(groups.length), ...groups.flatMap(([n, t]) => [...uleb(n), t]), ...this.code, 0x0b];
    return [...uleb(b.length), ...b];
  }

  type(): number[] {
    return [0x60, ...uleb(this.params.length), ...this.params, ...uleb(this.results.length), ...this.results];
  }
}

/** Vector x on the stack <- rotl(local x, n), lane-wise. */
function rotl(f: Fn, x: number, n: number): void {
  f.get(x).i32(n).vshl().get(x).i32(32 - n).vshrU().vor();
}

/** Lane-wise vector of the big-endian words at `ptr[l] + offset` (l = 0..3) into local `dst`. */
function gather(f: Fn, ptr: number[], offset: number, dst: number, bswap: boolean): void {
  f.get(ptr[0]!).load32Zero(offset).set(dst);
  for (let l = 1; l < 4; l++) f.get(ptr[l]!).get(dst).load32Lane(offset, l).set(dst);
  if (bswap) f.get(dst).vconst(BSWAP32).swizzle().set(dst);
}

/**
 * The 80 rounds of SHA-1 on state locals `s` (a..e), unrolled; message words
 * from `w16(t)` for t < 16 (it leaves the word in local W[t]); then adds the
 * input state back (the Davies-Meyer feed-forward) from `init`.
 */
function rounds(f: Fn, s: number[], W: number[], tmp: number, w16: (t: number) => void, init: number[]): void {
  const work = s.map(() => f.local(V128));
  for (let i = 0; i < 5; i++) f.get(s[i]!).set(work[i]!);
  let [a, b, c, d, e] = work as [number, number, number, number, number];
  for (let t = 0; t < 80; t++) {
    const w = W[t % 16]!;
    if (t < 16) {
      w16(t);
    } else {
      f.get(W[(t - 3) % 16]!).get(W[(t - 8) % 16]!).vxor().get(W[(t - 14) % 16]!).vxor().get(w).vxor().set(tmp);
      rotl(f, tmp, 1);
      f.set(w);
    }
    rotl(f, a, 5);
    // Ch(b,c,d) = bitselect(c, d, b); Parity = b^c^d; Maj(b,c,d) = bitselect(c, b, b^d).
    if (t < 20) f.get(c).get(d).get(b).bitselect();
    else if (t < 40 || t >= 60) f.get(b).get(c).vxor().get(d).vxor();
    else f.get(c).get(b).get(b).get(d).vxor().bitselect();
    f.vadd().get(e).vadd().i32(K[Math.floor(t / 20)]!).splat().vadd().get(w).vadd().set(e);
    rotl(f, b, 30);
    f.set(b);
    [a, b, c, d, e] = [e, a, b, c, d];
  }
  const out = [a, b, c, d, e];
  for (let i = 0; i < 5; i++) f.get(out[i]!).get(init[i]!).vadd().set(s[i]!);
}

/**
 * hmac4(s0..s3, k0..k3, nb): HMAC-SHA1 of the padded messages in slots s0..s3
 * (nb blocks each) under the keys at table offsets k0..k3; the four digests
 * go to OUT as five vectors.
 */
function hmac4Fn(): Fn {
  const f = new Fn(Array(9).fill(I32));
  const slot = [0, 1, 2, 3];
  const key = [4, 5, 6, 7];
  const nb = 8;
  const st = [0, 1, 2, 3, 4].map(() => f.local(V128));
  const init = [0, 1, 2, 3, 4].map(() => f.local(V128));
  const W = Array.from({ length: 16 }, () => f.local(V128));
  const tmp = f.local(V128);
  // Inner hash: state after the ipad block, then the message blocks.
  for (let i = 0; i < 5; i++) gather(f, key, 4 * i, st[i]!, false);
  f.op(0x03, 0x40); // loop
  for (let i = 0; i < 5; i++) f.get(st[i]!).set(init[i]!);
  rounds(f, st, W, tmp, (t) => gather(f, slot, 4 * t, W[t]!, true), init);
  for (const p of slot) f.get(p).i32(64).add().set(p);
  f.get(nb).i32(-1).add().set(nb).get(nb).op(0x0d, 0); // br_if 0 while blocks remain
  f.op(0x0b); // end loop
  // Outer hash: state after the opad block, one block = inner digest || 0x80 || 0 .. || (64 + 20) * 8 bits.
  for (let i = 0; i < 5; i++) f.get(st[i]!).set(W[i]!);
  for (let i = 0; i < 5; i++) {
    gather(f, key, 20 + 4 * i, st[i]!, false);
    f.get(st[i]!).set(init[i]!);
  }
  rounds(f, st, W, tmp, (t) => {
    if (t < 5) return;
    f.i32(t === 5 ? 0x80000000 : t === 15 ? (64 + 20) * 8 : 0).splat().set(W[t]!);
  }, init);
  for (let i = 0; i < 5; i++) f.i32(OUT).get(st[i]!).vstore(16 * i);
  return f;
}

/** compress4(state, p0..p3): one SHA-1 compression per lane of the state (five vectors at `state`) with the block at p_l. */
function compress4Fn(): Fn {
  const f = new Fn(Array(5).fill(I32));
  const ptr = [1, 2, 3, 4];
  const st = [0, 1, 2, 3, 4].map(() => f.local(V128));
  const init = [0, 1, 2, 3, 4].map(() => f.local(V128));
  const W = Array.from({ length: 16 }, () => f.local(V128));
  const tmp = f.local(V128);
  for (let i = 0; i < 5; i++) f.get(0).vload(16 * i).set(st[i]!).get(st[i]!).set(init[i]!);
  rounds(f, st, W, tmp, (t) => gather(f, ptr, 4 * t, W[t]!, true), init);
  for (let i = 0; i < 5; i++) f.get(0).get(st[i]!).vstore(16 * i);
  return f;
}

/**
 * pad(slot, len, roc) -> blocks: appends the SRTP ROC (RFC 3711 sec. 4.2:
 * M = authenticated portion || ROC) and the SHA-1 padding to the message of
 * `len` octets in `slot`; the length counts the 64-octet ipad block in front.
 */
function padFn(): Fn {
  const f = new Fn([I32, I32, I32], [I32]);
  const [slot, len, roc] = [0, 1, 2];
  const end = f.local(I32);
  const at = f.local(I32);
  // at = slot + len: ROC big-endian (byte-swapped native store), then 0x80.
  f.get(slot).get(len).add().set(at);
  const bswap = (x: () => void) => {
    x(); f.i32(8).rotl().i32(0x00ff00ff).and();
    x(); f.i32(24).rotl().i32(0xff00ff00).and();
    f.or();
  };
  f.get(at);
  bswap(() => f.get(roc));
  f.store();
  f.get(at).i32(0x80).store8(4);
  // end = slot + ((len + 4 + 9 + 63) & ~63): the padded message's end.
  f.get(slot).get(len).i32(4 + 9 + 63).add().i32(~63).and().add().set(end);
  f.get(at).i32(5).add().i32(0).get(end).i32(4).op(0x6b /* i32.sub */).get(at).i32(5).add().op(0x6b).fill();
  // Bit length of ipad block || message || ROC, big-endian in the last four octets.
  f.get(end).i32(4).op(0x6b);
  bswap(() => f.i32(64 + 4).get(len).add().i32(3).shl());
  f.store();
  // blocks = (end - slot) >> 6
  f.get(end).get(slot).op(0x6b).i32(6).shrU();
  return f;
}

function buildModule(): Uint8Array<ArrayBuffer> {
  const fns = [hmac4Fn(), compress4Fn(), padFn()];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(fns.map((f) => f.type()))),
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(7, vec([
      [...name('hmac4'), 0x00, 0],
      [...name('compress4'), 0x00, 1],
      [...name('pad'), 0x00, 2],
    ])),
    ...section(10, vec(fns.map((f) => f.body()))),
  ];
  return new Uint8Array(bytes);
}

let compiled: WebAssembly.Module | null | undefined;

function module(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(buildModule());
    } catch {
      compiled = null; // no WebAssembly SIMD or bulk memory here
    }
  }
  return compiled;
}

interface Exports {
  hmac4(s0: number, s1: number, s2: number, s3: number, k0: number, k1: number, k2: number, k3: number, nb: number): void;
  compress4(state: number, p0: number, p1: number, p2: number, p3: number): void;
  pad(slot: number, len: number, roc: number): number;
}

/** One instance: `capacity` message slots and a table of HMAC keys. */
export class Sha1x4 {
  u8: Buffer;
  i32: Int32Array;
  private readonly fn: Exports;
  private readonly keys = new Map<string, number>();
  private readonly keyBase: number;
  private keyCount = 0;

  private constructor(private readonly memory: WebAssembly.Memory, instance: WebAssembly.Instance, readonly capacity: number) {
    this.fn = instance.exports as unknown as Exports;
    this.keyBase = SLOTS + capacity * SLOT_BYTES;
    this.u8 = Buffer.from(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
  }

  /** An engine with `capacity` message slots, or null where WebAssembly SIMD is not available. */
  static create(capacity: number): Sha1x4 | null {
    const m = module();
    if (!m) return null;
    const pages = Math.ceil((SLOTS + capacity * SLOT_BYTES + 64 * KEY_BYTES) / PAGE);
    const memory = new WebAssembly.Memory({ initial: pages });
    return new Sha1x4(memory, new WebAssembly.Instance(m, { env: { mem: memory } }), capacity);
  }

  /** Byte offset of message slot `j`. */
  slot(j: number): number {
    return SLOTS + j * SLOT_BYTES;
  }

  /** Table offset of the HMAC key `authKey` (at most 64 octets), added on first use. */
  key(authKey: Uint8Array): number {
    const id = Buffer.from(authKey.buffer, authKey.byteOffset, authKey.byteLength).toString('latin1');
    const known = this.keys.get(id);
    if (known !== undefined) return known;
    if (authKey.length > 64) throw new RangeError('HMAC keys longer than a block are not supported here');
    const off = this.keyBase + this.keyCount * KEY_BYTES;
    if (off + KEY_BYTES > this.u8.length) {
      this.memory.grow(1);
      this.u8 = Buffer.from(this.memory.buffer);
      this.i32 = new Int32Array(this.memory.buffer);
    }
    // Two lanes of one compression from the SHA-1 IV: key ^ ipad and key ^ opad (RFC 2104 sec. 2).
    const state = SCRATCH;
    const ipad = state + 80;
    const opad = ipad + 64;
    for (let i = 0; i < 5; i++) for (let l = 0; l < 4; l++) this.i32[(state >> 2) + 4 * i + l] = IV[i]! | 0;
    for (let i = 0; i < 64; i++) {
      const k = i < authKey.length ? authKey[i]! : 0;
      this.u8[ipad + i] = k ^ 0x36;
      this.u8[opad + i] = k ^ 0x5c;
    }
    this.fn.compress4(state, ipad, opad, ipad, opad);
    for (let i = 0; i < 5; i++) {
      this.i32[(off >> 2) + i] = this.i32[(state >> 2) + 4 * i]!;
      this.i32[(off >> 2) + 5 + i] = this.i32[(state >> 2) + 4 * i + 1]!;
    }
    this.keys.set(id, off);
    this.keyCount++;
    return off;
  }

  /** Copies `bytes[start, start + len)` into slot `j` with the ROC trailer and padding; returns the message's block count. */
  load(j: number, bytes: Uint8Array, start: number, len: number, roc: number): number {
    const at = this.slot(j);
    // A native copy: a JS byte loop costs several times more for a 172-octet packet.
    this.u8.set(new Uint8Array(bytes.buffer, bytes.byteOffset + start, len), at);
    return this.fn.pad(at, len, roc);
  }

  /** HMACs of the messages in slots j0..j3 (nb blocks each) under keys k0..k3; then read with {@link word}. */
  hmac4(j0: number, j1: number, j2: number, j3: number, k0: number, k1: number, k2: number, k3: number, nb: number): void {
    this.fn.hmac4(this.slot(j0), this.slot(j1), this.slot(j2), this.slot(j3), k0, k1, k2, k3, nb);
  }

  /** Word `i` (0..4, big-endian value) of lane `lane`'s HMAC from the last {@link hmac4}. */
  word(lane: number, i: number): number {
    return this.i32[(OUT >> 2) + 4 * i + lane]!;
  }
}
