/** HashToIntegerRange, RFC 6508 sec. 5.1, with SHA-256 (the Hash of RFC 6509 parameter set 1). */
import { concat, os2ip, sha256 } from './bytes.ts';
import { bitLength, mod } from './modmath.ts';

const HASHLEN_BITS = 256;

/**
 * v = HashToIntegerRange(s, n): A = hash(s); h_0 = 0^hashlen;
 * for i = 1..l with l = ceil(lg(n) / hashlen): h_i = hash(h_(i-1)),
 * v_i = hash(h_i || A); v = (v_1 || ... || v_l) mod n.
 */
export function hashToIntegerRange(s: Uint8Array, n: bigint): bigint {
  const A = sha256(s);
  // lg(n) rounded up: for n = 2^128 this is 128, for q it is its bit length.
  const lg = (n & (n - 1n)) === 0n ? bitLength(n) - 1 : bitLength(n);
  const l = Math.ceil(lg / HASHLEN_BITS);
  let h: Uint8Array = new Uint8Array(32);
  const vs: Uint8Array[] = [];
  for (let i = 1; i <= l; i++) {
    h = sha256(h);
    vs.push(sha256(h, A));
  }
  return mod(os2ip(concat(...vs)), n);
}
