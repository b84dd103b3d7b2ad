/**
 * Short Weierstrass curves y^2 = x^3 - 3x + b over F_p. Both curves of this
 * package have a = -3: NIST P-256 for ECCSI (RFC 6507 sec. 3 / RFC 6509
 * sec. 2.2 name it) and the supersingular y^2 = x^3 - 3x of SAKKE
 * (RFC 6508 sec. 3, b = 0). Scalar multiplication runs in Jacobian
 * coordinates (X, Y, Z) ~ (X/Z^2, Y/Z^3) so that only the final conversion
 * to affine needs an inversion.
 */
import { concat, i2osp, os2ip } from './bytes.ts';
import { SakkeError } from './errors.ts';
import { mod, modInv } from './modmath.ts';

/** An affine point; `null` is the point at infinity. */
export type Point = { readonly x: bigint; readonly y: bigint } | null;

/** A curve with a = -3 and a base point of prime order q. */
export interface Curve {
  readonly name: string;
  readonly p: bigint;
  readonly b: bigint;
  /** Order of the base point. */
  readonly q: bigint;
  readonly G: { readonly x: bigint; readonly y: bigint };
  /** Octets of one coordinate (ceil(lg p / 8)). */
  readonly coordLength: number;
}

/** Jacobian point; Z = 0 is infinity. */
export interface Jacobian {
  X: bigint;
  Y: bigint;
  Z: bigint;
}

const INF: Jacobian = { X: 1n, Y: 1n, Z: 0n };

/** Whether an affine point satisfies the curve equation (infinity is not "on" the curve here). */
export function isOnCurve(c: Curve, P: Point): boolean {
  if (P === null) return false;
  const { x, y } = P;
  if (x < 0n || x >= c.p || y < 0n || y >= c.p) return false;
  return mod(y * y - (x * x * x - 3n * x + c.b), c.p) === 0n;
}

/** Jacobian doubling for a = -3 (dbl-2001-b). */
export function jDouble(c: Curve, P: Jacobian): Jacobian {
  if (P.Z === 0n || P.Y === 0n) return INF;
  const p = c.p;
  const delta = (P.Z * P.Z) % p;
  const gamma = (P.Y * P.Y) % p;
  const beta = (P.X * gamma) % p;
  const alpha = (3n * mod(P.X - delta, p) * ((P.X + delta) % p)) % p;
  const X3 = mod(alpha * alpha - 8n * beta, p);
  const Z3 = mod((P.Y + P.Z) ** 2n - gamma - delta, p);
  const Y3 = mod(alpha * (4n * beta - X3) - 8n * gamma * gamma, p);
  return { X: X3, Y: Y3, Z: Z3 };
}

/** Jacobian + affine (madd-2007-bl), with the doubling and inverse cases. */
export function jAddAffine(c: Curve, P: Jacobian, Q: { x: bigint; y: bigint }): Jacobian {
  if (P.Z === 0n) return { X: Q.x, Y: Q.y, Z: 1n };
  const p = c.p;
  const Z1Z1 = (P.Z * P.Z) % p;
  const U2 = (Q.x * Z1Z1) % p;
  const S2 = (((Q.y * P.Z) % p) * Z1Z1) % p;
  const H = mod(U2 - P.X, p);
  const rr = mod(2n * (S2 - P.Y), p);
  if (H === 0n) return rr === 0n ? jDouble(c, P) : INF;
  const HH = (H * H) % p;
  const I = (4n * HH) % p;
  const J = (H * I) % p;
  const V = (P.X * I) % p;
  const X3 = mod(rr * rr - J - 2n * V, p);
  const Y3 = mod(rr * (V - X3) - 2n * P.Y * J, p);
  const Z3 = mod((P.Z + H) ** 2n - Z1Z1 - HH, p);
  return { X: X3, Y: Y3, Z: Z3 };
}

/** Jacobian to affine. */
export function toAffine(c: Curve, P: Jacobian): Point {
  if (P.Z === 0n) return null;
  const zi = modInv(P.Z, c.p);
  const zi2 = (zi * zi) % c.p;
  return { x: (P.X * zi2) % c.p, y: (((P.Y * zi2) % c.p) * zi) % c.p };
}

/** [k]P for k >= 0 (left-to-right double and add). */
export function mul(c: Curve, k: bigint, P: Point): Point {
  if (P === null || k === 0n) return null;
  if (k < 0n) return mul(c, -k, negate(c, P));
  let R: Jacobian = INF;
  for (const bit of k.toString(2)) {
    R = jDouble(c, R);
    if (bit === '1') R = jAddAffine(c, R, P);
  }
  return toAffine(c, R);
}

/** P + Q. */
export function add(c: Curve, P: Point, Q: Point): Point {
  if (P === null) return Q;
  if (Q === null) return P;
  return toAffine(c, jAddAffine(c, { X: P.x, Y: P.y, Z: 1n }, Q));
}

/** -P. */
export function negate(c: Curve, P: Point): Point {
  return P === null ? null : { x: P.x, y: mod(-P.y, c.p) };
}

/** Same point (infinity equals infinity). */
export function pointsEqual(P: Point, Q: Point): boolean {
  if (P === null || Q === null) return P === Q;
  return P.x === Q.x && P.y === Q.y;
}

/** Uncompressed encoding 0x04 || x || y (RFC 6507 sec. 3.2, RFC 6508 sec. 4). */
export function encodePoint(c: Curve, P: Point): Uint8Array {
  if (P === null) throw new SakkeError('invalid-point', 'the point at infinity has no encoding here');
  return concat(new Uint8Array([4]), i2osp(P.x, c.coordLength), i2osp(P.y, c.coordLength));
}

/**
 * Decodes 0x04 || x || y and checks the point lies on the curve (RFC 6507
 * sec. 5.1.2 step 1 and 5.2.2 step 1 ask it of the PVT; RFC 6508 sec. 6.2.2
 * of R_(b,S)). Only the uncompressed form is defined for these uses.
 */
export function decodePoint(c: Curve, b: Uint8Array, what: string): { x: bigint; y: bigint } {
  if (!(b instanceof Uint8Array)) throw new SakkeError('bad-encoding', `${what} is not a byte array`);
  const n = c.coordLength;
  if (b.length !== 1 + 2 * n) throw new SakkeError('bad-encoding', `${what} must be ${1 + 2 * n} octets (0x04 || x || y), got ${b.length}`);
  if (b[0] !== 4) throw new SakkeError('bad-encoding', `${what} must start with 0x04 (uncompressed), got 0x${b[0]!.toString(16).padStart(2, '0')}`);
  const P = { x: os2ip(b.subarray(1, 1 + n)), y: os2ip(b.subarray(1 + n)) };
  if (!isOnCurve(c, P)) throw new SakkeError('invalid-point', `${what} is not a point of ${c.name}`);
  return P;
}
