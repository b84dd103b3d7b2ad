/** ERR (RFC 3830 sec. 6.12) and GENERAL_EXT (sec. 6.15) payload bodies. */
import { Reader, Writer, checkBytes } from '../bytes.ts';
import type { ErrPayload, GeneralExtPayload } from './types.ts';

/** ERR body: Error no(8) | Reserved(16). */
export function decodeErr(r: Reader): ErrPayload {
  const errorNo = r.u8('Error no');
  const reserved = r.u16('Reserved');
  return reserved === 0 ? { kind: 'ERR', errorNo } : { kind: 'ERR', errorNo, reserved };
}

/** Writes an ERR body. */
export function encodeErr(w: Writer, p: ErrPayload): void {
  w.u8(p.errorNo, 'ERR.errorNo').u16(p.reserved ?? 0, 'ERR.reserved');
}

/** GENERAL_EXT body: Type(8) | Length(16) | Data. */
export function decodeGeneralExt(r: Reader): GeneralExtPayload {
  const extType = r.u8('General Ext type');
  const len = r.u16('General Ext length');
  return { kind: 'GENERAL_EXT', extType, data: r.bytes(len, 'General Ext data') };
}

/** Writes a GENERAL_EXT body. */
export function encodeGeneralExt(w: Writer, p: GeneralExtPayload): void {
  checkBytes(p.data, 'GENERAL_EXT.data', 0xffff);
  w.u8(p.extType, 'GENERAL_EXT.extType').u16(p.data.length, 'General Ext length').bytes(p.data);
}
