/**
 * The MIKEY PRF, RFC 3830 sec. 4.1.2, and PRF-HMAC-SHA-256 (RFC 6043
 * sec. 6.1: the same construction with HMAC-SHA-256 and 256 in place of 160).
 *
 *   P(s, label, m) = HMAC(s, A_1 || label) || ... || HMAC(s, A_m || label),
 *     A_0 = label, A_i = HMAC(s, A_(i-1))
 *   inkey = s_1 || ... || s_n   (256-bit blocks, the last may be shorter)
 *   PRF(inkey, label) = P(s_1, label, m) XOR ... XOR P(s_n, label, m),
 *     m = ceil(outkey_len / 160) (or / 256), truncated to outkey_len.
 */
import { createHmac } from 'node:crypto';
import { PrfFunc } from './codes.ts';
import { MikeyEncodeError, MikeyProtocolError } from './errors.ts';

/** Hash behind a PRF func. */
export type PrfHash = 'sha1' | 'sha256';

/** Upper bound on one PRF output, in octets (guards against absurd requests). */
export const MAX_PRF_OUTPUT = 4096;

/** The hash of a HDR / TP PRF func code (RFC 3830 sec. 6.1, RFC 6043 sec. 6.1). */
export function prfHash(prfFunc: number): PrfHash {
  if (prfFunc === PrfFunc.MIKEY_1) return 'sha1';
  if (prfFunc === PrfFunc.HMAC_SHA_256) return 'sha256';
  throw new MikeyProtocolError('unsupported-parameter', `PRF func ${prfFunc} is not MIKEY-1 (0) or PRF-HMAC-SHA-256 (1)`, 2 /* Invalid PRF */);
}

function pFunction(hash: PrfHash, s: Uint8Array, label: Uint8Array, m: number): Buffer {
  const blocks: Buffer[] = [];
  let a: Buffer = Buffer.from(label);
  for (let i = 0; i < m; i++) {
    a = createHmac(hash, s).update(a).digest();
    blocks.push(createHmac(hash, s).update(a).update(label).digest());
  }
  return Buffer.concat(blocks);
}

/**
 * PRF(inkey, label) truncated to `outLength` octets (RFC 3830 sec. 4.1.2).
 *
 * @param hash 'sha1' for MIKEY-1 (PRF func 0), 'sha256' for PRF-HMAC-SHA-256 (PRF func 1)
 */
export function mikeyPrf(inkey: Uint8Array, label: Uint8Array, outLength: number, hash: PrfHash = 'sha1'): Uint8Array {
  if (inkey.length === 0) throw new MikeyEncodeError('PRF inkey', 'must not be empty');
  if (!Number.isInteger(outLength) || outLength < 0 || outLength > MAX_PRF_OUTPUT) throw new MikeyEncodeError('PRF outkey_len', `must be an integer in [0, ${MAX_PRF_OUTPUT}] octets`);
  const blockBits = hash === 'sha1' ? 160 : 256;
  const m = Math.ceil((outLength * 8) / blockBits);
  const out = Buffer.alloc(m * (blockBits / 8));
  for (let off = 0; off < inkey.length; off += 32) {
    const p = pFunction(hash, inkey.subarray(off, Math.min(off + 32, inkey.length)), label, m);
    for (let i = 0; i < out.length; i++) out[i]! ^= p[i]!;
  }
  return new Uint8Array(out.subarray(0, outLength));
}
