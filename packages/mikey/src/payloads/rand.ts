/** RAND (RFC 3830 sec. 6.11) and RANDR (RFC 6043 sec. 6.8) payload bodies. */
import { Reader, Writer, checkBytes } from '../bytes.ts';
import type { RandPayload, RandrPayload } from './types.ts';

/** RAND body: RAND len(8) | RAND. */
export function decodeRand(r: Reader): RandPayload {
  const len = r.u8('RAND len');
  return { kind: 'RAND', rand: r.bytes(len, 'RAND') };
}

/** Writes a RAND body. */
export function encodeRand(w: Writer, p: RandPayload): void {
  checkBytes(p.rand, 'RAND.rand', 0xff);
  w.u8(p.rand.length, 'RAND len').bytes(p.rand);
}

/** RANDR body: RAND Role(8) | RAND length(8) | RAND. */
export function decodeRandr(r: Reader): RandrPayload {
  const role = r.u8('RAND role');
  const len = r.u8('RAND length');
  return { kind: 'RANDR', role, rand: r.bytes(len, 'RAND') };
}

/** Writes a RANDR body. */
export function encodeRandr(w: Writer, p: RandrPayload): void {
  checkBytes(p.rand, 'RANDR.rand', 0xff);
  w.u8(p.role, 'RANDR.role').u8(p.rand.length, 'RAND length').bytes(p.rand);
}
