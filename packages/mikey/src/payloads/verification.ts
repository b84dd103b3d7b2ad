/**
 * V (RFC 3830 sec. 6.9), SIGN (sec. 6.5), CHASH (sec. 6.8) and PKE
 * (sec. 6.3) payload bodies. SIGN, CHASH and PKE are decoded for structure
 * only; this package does not implement the public-key modes.
 */
import { Reader, Writer, checkBytes } from '../bytes.ts';
import { HASH_LENGTH, MAC_LENGTH } from '../codes.ts';
import { MikeyEncodeError, MikeyUnsupportedError } from '../errors.ts';
import type { ChashPayload, PkePayload, SignPayload, VPayload } from './types.ts';

/** MAC length of a KEMAC/V MAC algorithm, or a typed error for an unknown one. */
export function macLength(r: Reader | null, macAlg: number, at: number): number {
  const n = MAC_LENGTH[macAlg];
  if (n === undefined) {
    if (r === null) throw new MikeyEncodeError('MAC alg', `unknown MAC algorithm ${macAlg}`);
    throw new MikeyUnsupportedError({ offset: at, expected: 'MAC alg 0 (NULL), 1 (HMAC-SHA-1-160) or 2 (HMAC-SHA-256-256)', payloadType: r.payloadType, found: String(macAlg) }, 5);
  }
  return n;
}

/** V body: Auth alg(8) | Ver data (length implied by the algorithm). */
export function decodeV(r: Reader): VPayload {
  const at = r.offset;
  const macAlg = r.u8('Auth alg');
  return { kind: 'V', macAlg, mac: r.bytes(macLength(r, macAlg, at), 'Ver data (MAC)') };
}

/** Writes a V body. */
export function encodeV(w: Writer, p: VPayload): void {
  const n = macLength(null, p.macAlg, 0);
  checkBytes(p.mac, 'V.mac', n, n);
  w.u8(p.macAlg, 'V.macAlg').bytes(p.mac);
}

/** SIGN (no next payload field): S type(4) | Signature len(12) | Signature. */
export function decodeSign(r: Reader): SignPayload {
  const w = r.u16('S type / Signature len');
  return { kind: 'SIGN', sType: w >>> 12, signature: r.bytes(w & 0x0fff, 'Signature') };
}

/** Writes a SIGN payload (it has no next-payload octet). */
export function encodeSign(w: Writer, p: SignPayload): void {
  if (!Number.isInteger(p.sType) || p.sType < 0 || p.sType > 15) throw new MikeyEncodeError('SIGN.sType', 'must fit in 4 bits');
  checkBytes(p.signature, 'SIGN.signature', 0x0fff);
  w.u16((p.sType << 12) | p.signature.length, 'SIGN header');
  w.bytes(p.signature);
}

/** CHASH body: Hash func(8) | CHASH (length implied by the hash function). */
export function decodeChash(r: Reader): ChashPayload {
  const at = r.offset;
  const hashFunc = r.u8('Hash func');
  const n = HASH_LENGTH[hashFunc];
  if (n === undefined) throw new MikeyUnsupportedError({ offset: at, expected: 'Hash func 0 (SHA-1), 1 (MD5) or 2 (SHA-256)', payloadType: r.payloadType, found: String(hashFunc) });
  return { kind: 'CHASH', hashFunc, hash: r.bytes(n, 'CHASH value') };
}

/** Writes a CHASH body. */
export function encodeChash(w: Writer, p: ChashPayload): void {
  const n = HASH_LENGTH[p.hashFunc];
  if (n === undefined) throw new MikeyEncodeError('CHASH.hashFunc', `unknown hash function ${p.hashFunc}`);
  checkBytes(p.hash, 'CHASH.hash', n, n);
  w.u8(p.hashFunc, 'CHASH.hashFunc').bytes(p.hash);
}

/** PKE body: C(2) | Data len(14) | Data. */
export function decodePke(r: Reader): PkePayload {
  const v = r.u16('C / Data len');
  return { kind: 'PKE', cache: v >>> 14, data: r.bytes(v & 0x3fff, 'PKE data') };
}

/** Writes a PKE body. */
export function encodePke(w: Writer, p: PkePayload): void {
  if (!Number.isInteger(p.cache) || p.cache < 0 || p.cache > 3) throw new MikeyEncodeError('PKE.cache', 'must fit in 2 bits');
  checkBytes(p.data, 'PKE.data', 0x3fff);
  w.u16((p.cache << 14) | p.data.length, 'PKE header').bytes(p.data);
}
