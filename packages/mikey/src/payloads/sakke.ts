/**
 * SAKKE payload body, RFC 6509 sec. 4.2 (payload type 26):
 *   SAKKE params(8) | ID scheme(8) | SAKKE data length(16) | SAKKE data
 * The SAKKE data is the Encapsulated Data of RFC 6508 sec. 4 (R_(b,S) || H);
 * its cryptographic checks live in @imslab/sakke, not here.
 */
import { Reader, Writer, checkBytes } from '../bytes.ts';
import type { SakkePayload } from './types.ts';

/** Decodes a SAKKE body. */
export function decodeSakke(r: Reader): SakkePayload {
  const params = r.u8('SAKKE params');
  const idScheme = r.u8('ID scheme');
  const len = r.u16('SAKKE data length');
  return { kind: 'SAKKE', params, idScheme, data: r.bytes(len, 'SAKKE data') };
}

/** Writes a SAKKE body. */
export function encodeSakke(w: Writer, p: SakkePayload): void {
  checkBytes(p.data, 'SAKKE.data', 0xffff);
  w.u8(p.params, 'SAKKE.params').u8(p.idScheme, 'SAKKE.idScheme').u16(p.data.length, 'SAKKE data length').bytes(p.data);
}
