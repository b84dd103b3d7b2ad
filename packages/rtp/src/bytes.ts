/** Big-endian field access on byte arrays (network byte order, RFC 3550 sec. 5.1). */

/** Unsigned 32-bit big-endian read. */
export function readU32(p: Uint8Array, off: number): number {
  return ((p[off]! << 24) | (p[off + 1]! << 16) | (p[off + 2]! << 8) | p[off + 3]!) >>> 0;
}

/** Unsigned 16-bit big-endian read. */
export function readU16(p: Uint8Array, off: number): number {
  return (p[off]! << 8) | p[off + 1]!;
}

/** 32-bit big-endian write (the value is taken modulo 2^32). */
export function writeU32(p: Uint8Array, off: number, v: number): void {
  p[off] = v >>> 24;
  p[off + 1] = v >>> 16;
  p[off + 2] = v >>> 8;
  p[off + 3] = v;
}

/** 16-bit big-endian write (the value is taken modulo 2^16). */
export function writeU16(p: Uint8Array, off: number, v: number): void {
  p[off] = v >>> 8;
  p[off + 1] = v;
}
