/**
 * The Tate-Lichtenbaum pairing of RFC 6508 sec. 3.2 on the supersingular
 * curve E: y^2 = x^3 - 3x over F_p (p = 3 mod 4), with the distortion map
 * psi(x, y) = (-x, i*y) of sec. 3.1 (F_p^2 = F_p[i], i^2 = -1).
 *
 * Values live in PF_p, the projectivisation F_p^2* / F_p*: every factor in
 * F_p* (vertical lines, denominators of slopes) vanishes in the final
 * exponentiation, so the Miller loop keeps Jacobian coordinates and never
 * inverts. An element a + i*b of PF_p is represented by the integer b/a mod p
 * (RFC 6508 sec. 2.1 and 4), which is how RFC 6509 prints g.
 */
import type { Curve, Jacobian } from './curve.ts';
import { jAddAffine, jDouble } from './curve.ts';
import { SakkeError } from './errors.ts';
import { mod, modInv } from './modmath.ts';

/** a + i*b in F_p^2. */
export type Fp2 = readonly [bigint, bigint];

function fp2Mul(p: bigint, [a, b]: Fp2, [c, d]: Fp2): Fp2 {
  return [mod(a * c - b * d, p), mod(a * d + b * c, p)];
}

function fp2Sqr(p: bigint, [a, b]: Fp2): Fp2 {
  return [mod((a + b) * (a - b), p), mod(2n * a * b, p)];
}

/** x^e in F_p^2 (square and multiply). */
export function fp2Pow(p: bigint, x: Fp2, e: bigint): Fp2 {
  let r: Fp2 = [1n, 0n];
  for (const bit of e.toString(2)) {
    r = fp2Sqr(p, r);
    if (bit === '1') r = fp2Mul(p, r, x);
  }
  return r;
}

/** The integer representing a + i*b in PF_p: b/a mod p (RFC 6508 sec. 2.1). */
export function pfpValue(p: bigint, [a, b]: Fp2): bigint {
  if (mod(a, p) === 0n) throw new SakkeError('invalid-point', 'pairing value has no PF_p representative (a = 0)');
  return mod(b * modInv(a, p), p);
}

/** The F_p^2 element 1 + i*v that an integer v of PF_p stands for. */
export function pfpElement(v: bigint): Fp2 {
  return [1n, v];
}

/**
 * <R, Q> = f_(q,R)(psi(Q))^c in PF_p with c = (p + 1)/q, RFC 6508 sec. 3.2, for R, Q of
 * order q in E(F_p). Miller's loop runs over the bits of q - 1 (the last
 * addition of a loop over q would be the vertical line through R and -R,
 * a value in F_p* that the exponentiation removes anyway).
 */
export function tatePairing(c: Curve, R: { x: bigint; y: bigint }, Q: { x: bigint; y: bigint }): Fp2 {
  const p = c.p;
  const Qx = Q.x;
  const Qy = Q.y;
  let v: Fp2 = [1n, 0n];
  let C: Jacobian = { X: R.x, Y: R.y, Z: 1n };
  const bits = (c.q - 1n).toString(2);
  for (let k = 1; k < bits.length; k++) {
    // Tangent at C evaluated at psi(Q), scaled by 2*y_C*Z^6 (an F_p* factor):
    // 3(X^2 - Z^4)(Qx Z^2 + X) - 2Y^2  +  i * 2 Y Z^3 Qy.
    {
      const { X, Y, Z } = C;
      const Z2 = (Z * Z) % p;
      const Z3 = (Z2 * Z) % p;
      const re = mod(3n * mod(X * X - Z2 * Z2, p) * ((Qx * Z2 + X) % p) - 2n * Y * Y, p);
      const im = (((2n * Y * Z3) % p) * Qy) % p;
      v = fp2Mul(p, fp2Sqr(p, v), [re, im]);
      C = jDouble(c, C);
    }
    if (bits[k] === '1') {
      // Chord through C and R at psi(Q), scaled by (x_R - x_C) Z^5:
      // (Ry Z^3 - Y)(Qx Z^2 + X) - Y (Rx Z^2 - X)  +  i * Qy (Rx Z^2 - X) Z^3.
      const { X, Y, Z } = C;
      const Z2 = (Z * Z) % p;
      const Z3 = (Z2 * Z) % p;
      const dx = mod(R.x * Z2 - X, p);
      const re = mod(mod(R.y * Z3 - Y, p) * ((Qx * Z2 + X) % p) - Y * dx, p);
      const im = (((Qy * dx) % p) * Z3) % p;
      v = fp2Mul(p, v, [re, im]);
      C = jAddAffine(c, C, R);
    }
  }
  // RFC 6508 sec. 3.2 step 4: v = v^c with c = (p + 1)/q, in PF_p. (The
  // remaining factor p - 1 of (p^2 - 1)/q is the passage from F_p^2* to the
  // projective line itself, which is why the pairing lands in PF_p; checked
  // against g = <P, P> of RFC 6509 Appendix A.)
  return fp2Pow(p, v, (p + 1n) / c.q);
}
