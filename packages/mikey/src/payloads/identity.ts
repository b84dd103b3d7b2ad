/** ID and CERT (RFC 3830 sec. 6.7) and IDR (RFC 6043 sec. 6.6) payload bodies. */
import { Reader, Writer, checkBytes } from '../bytes.ts';
import type { CertPayload, IdPayload, IdrPayload } from './types.ts';

/** ID body: ID Type(8) | ID len(16) | ID data. */
export function decodeId(r: Reader): IdPayload {
  const idType = r.u8('ID type');
  const len = r.u16('ID len');
  return { kind: 'ID', idType, data: r.bytes(len, 'ID data') };
}

/** Writes an ID body. */
export function encodeId(w: Writer, p: IdPayload): void {
  checkBytes(p.data, 'ID.data', 0xffff);
  w.u8(p.idType, 'ID.idType').u16(p.data.length, 'ID len').bytes(p.data);
}

/** CERT body: Cert Type(8) | Cert len(16) | Certificate. */
export function decodeCert(r: Reader): CertPayload {
  const certType = r.u8('Cert type');
  const len = r.u16('Cert len');
  return { kind: 'CERT', certType, data: r.bytes(len, 'Certificate data') };
}

/** Writes a CERT body. */
export function encodeCert(w: Writer, p: CertPayload): void {
  checkBytes(p.data, 'CERT.data', 0xffff);
  w.u8(p.certType, 'CERT.certType').u16(p.data.length, 'Cert len').bytes(p.data);
}

/** IDR body: ID Role(8) | ID Type(8) | ID len(16) | ID Data. */
export function decodeIdr(r: Reader): IdrPayload {
  const role = r.u8('ID role');
  const idType = r.u8('ID type');
  const len = r.u16('ID len');
  return { kind: 'IDR', role, idType, data: r.bytes(len, 'ID data') };
}

/** Writes an IDR body. */
export function encodeIdr(w: Writer, p: IdrPayload): void {
  checkBytes(p.data, 'IDR.data', 0xffff);
  w.u8(p.role, 'IDR.role').u8(p.idType, 'IDR.idType').u16(p.data.length, 'ID len').bytes(p.data);
}
