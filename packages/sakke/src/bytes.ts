/** Octet strings, hex and the integer <-> octet conversions of RFC 6508 sec. 4 / RFC 6507 sec. 3. */
import { createHash } from 'node:crypto';
import { SakkeError } from './errors.ts';

/** Hex (whitespace allowed, as the RFCs print it) to octets. */
export function fromHex(hex: string): Uint8Array {
  const h = hex.replace(/\s+/g, '');
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new SakkeError('bad-encoding', 'not an even-length hex string');
  return Uint8Array.from(Buffer.from(h, 'hex'));
}

/** Octets to upper-case hex (the RFCs' style). */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex').toUpperCase();
}

/** Big-endian unsigned integer of an octet string (OS2IP). */
export function os2ip(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  return BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`);
}

/** Fixed-length big-endian octets of `v` (I2OSP); a value that does not fit is an error, never truncated. */
export function i2osp(v: bigint, len: number): Uint8Array {
  if (v < 0n || v >> BigInt(8 * len) !== 0n) throw new SakkeError('scalar-out-of-range', `integer does not fit in ${len} octets`);
  const h = v.toString(16).padStart(len * 2, '0');
  return Uint8Array.from(Buffer.from(h, 'hex'));
}

/** Concatenation. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** SHA-256, the hash of RFC 6509's parameter set 1 and of ECCSI over P-256. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** Checks that `b` is a Uint8Array (inputs from the wire may be anything). */
export function requireBytes(b: unknown, what: string): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new SakkeError('bad-encoding', `${what} is not a byte array`);
}
