/**
 * KEMAC payload body (RFC 3830 sec. 6.2), the Key Data sub-payloads carried
 * in its (decrypted) Encr data (sec. 6.13, RFC 6043 sec. 6.13), Key validity
 * data (sec. 6.14) and the DH payload body (sec. 6.4), which reuses KV.
 */
import { Reader, Writer, checkBytes } from '../bytes.ts';
import { DH_VALUE_LENGTH, KEY_TYPES_WITH_SALT, PayloadType } from '../codes.ts';
import { MikeyEncodeError, MikeyPayloadOrderError, MikeySizeError, MikeyUnsupportedError } from '../errors.ts';
import { macLength } from './verification.ts';
import type { DhPayload, KemacPayload, KeyData, KeyValidity } from './types.ts';

/** At most this many Key Data sub-payloads are accepted in one KEMAC. */
export const MAX_KEY_DATA = 32;

/** KEMAC body: Encr alg(8) | Encr data len(16) | Encr data | MAC alg(8) | MAC. */
export function decodeKemac(r: Reader): KemacPayload {
  const encrAlg = r.u8('Encr alg');
  const len = r.u16('Encr data len');
  const encrData = r.bytes(len, 'Encr data');
  const at = r.offset;
  const macAlg = r.u8('MAC alg');
  return { kind: 'KEMAC', encrAlg, encrData, macAlg, mac: r.bytes(macLength(r, macAlg, at), 'MAC') };
}

/** Writes a KEMAC body. */
export function encodeKemac(w: Writer, p: KemacPayload): void {
  checkBytes(p.encrData, 'KEMAC.encrData', 0xffff);
  const n = macLength(null, p.macAlg, 0);
  checkBytes(p.mac, 'KEMAC.mac', n, n);
  w.u8(p.encrAlg, 'KEMAC.encrAlg').u16(p.encrData.length, 'Encr data len').bytes(p.encrData).u8(p.macAlg, 'KEMAC.macAlg').bytes(p.mac);
}

/** Reads KV data for a KV type (RFC 3830 sec. 6.14). */
export function decodeKv(r: Reader, kvType: number, at: number): KeyValidity {
  switch (kvType) {
    case 0:
      return { kvType: 0 };
    case 1: {
      const n = r.u8('SPI Length');
      return { kvType: 1, spi: r.bytes(n, 'SPI/MKI') };
    }
    case 2: {
      const vf = r.u8('VF Length');
      const validFrom = r.bytes(vf, 'Valid From');
      const vt = r.u8('VT Length');
      return { kvType: 2, validFrom, validTo: r.bytes(vt, 'Valid To') };
    }
    default:
      throw new MikeyUnsupportedError({ offset: at, expected: 'KV type 0 (Null), 1 (SPI/MKI) or 2 (Interval)', payloadType: r.payloadType, found: String(kvType) });
  }
}

/** Writes KV data (not the 4-bit KV type, which the caller packs). */
export function encodeKv(w: Writer, kv: KeyValidity, field: string): void {
  switch (kv.kvType) {
    case 0:
      return;
    case 1:
      checkBytes(kv.spi, `${field}.spi`, 0xff);
      w.u8(kv.spi.length, 'SPI Length').bytes(kv.spi);
      return;
    case 2:
      checkBytes(kv.validFrom, `${field}.validFrom`, 0xff);
      checkBytes(kv.validTo, `${field}.validTo`, 0xff);
      w.u8(kv.validFrom.length, 'VF Length').bytes(kv.validFrom).u8(kv.validTo.length, 'VT Length').bytes(kv.validTo);
      return;
    default:
      throw new MikeyEncodeError(`${field}.kvType`, `unknown KV type ${String((kv as { kvType: unknown }).kvType)}`);
  }
}

/**
 * Decodes the plaintext of a KEMAC Encr data field: one or more Key Data
 * sub-payloads, chained with next payload 20 and ended with 0.
 *
 * @param base absolute offset of `plain[0]` (for error offsets)
 */
export function decodeKeyDataList(plain: Uint8Array, base = 0): KeyData[] {
  const r = new Reader(plain, base, PayloadType.KEY_DATA);
  const out: KeyData[] = [];
  for (;;) {
    if (out.length >= MAX_KEY_DATA) throw new MikeySizeError({ offset: r.offset, expected: `at most ${MAX_KEY_DATA} Key Data sub-payloads`, payloadType: PayloadType.KEY_DATA, limit: MAX_KEY_DATA, actual: out.length + 1 });
    const nextAt = r.offset;
    const next = r.u8('Key Data next payload');
    if (next !== PayloadType.KEY_DATA && next !== PayloadType.LAST) {
      throw new MikeyPayloadOrderError({ offset: nextAt, expected: 'next payload 20 (Key data) or 0 (last) inside KEMAC', payloadType: PayloadType.KEY_DATA, found: String(next) });
    }
    const at = r.offset;
    const tk = r.u8('Type / KV');
    const keyType = tk >>> 4;
    const kvType = tk & 0x0f;
    if (keyType > 6) throw new MikeyUnsupportedError({ offset: at, expected: 'Key Data type 0..6 (TGK, TGK+SALT, TEK, TEK+SALT, GTGK, GTGK+SALT, MPK)', payloadType: PayloadType.KEY_DATA, found: String(keyType) });
    const klen = r.u16('Key data len');
    const key = r.bytes(klen, 'Key data');
    let salt: Uint8Array | undefined;
    if (KEY_TYPES_WITH_SALT.has(keyType)) {
      const slen = r.u16('Salt len');
      salt = r.bytes(slen, 'Salt data');
    }
    const kv = decodeKv(r, kvType, at);
    out.push(salt === undefined ? { keyType, key, kv } : { keyType, key, salt, kv });
    if (next === PayloadType.LAST) break;
  }
  if (r.remaining > 0) throw new MikeyPayloadOrderError({ offset: r.offset, expected: 'end of KEMAC key data after the last sub-payload', payloadType: PayloadType.KEY_DATA, found: `${r.remaining} trailing octets` });
  return out;
}

/** Encodes Key Data sub-payloads (the plaintext of KEMAC Encr data). */
export function encodeKeyDataList(keys: readonly KeyData[]): Uint8Array {
  if (keys.length === 0 || keys.length > MAX_KEY_DATA) throw new MikeyEncodeError('KEMAC key data', `need 1..${MAX_KEY_DATA} Key Data sub-payloads, got ${keys.length}`);
  const w = new Writer();
  keys.forEach((k, i) => {
    const f = `keyData[${i}]`;
    if (!Number.isInteger(k.keyType) || k.keyType < 0 || k.keyType > 6) throw new MikeyEncodeError(`${f}.keyType`, `unknown key type ${k.keyType}`);
    const wantsSalt = KEY_TYPES_WITH_SALT.has(k.keyType);
    if (wantsSalt !== (k.salt !== undefined)) throw new MikeyEncodeError(`${f}.salt`, wantsSalt ? `key type ${k.keyType} requires a salt` : `key type ${k.keyType} carries no salt`);
    checkBytes(k.key, `${f}.key`, 0xffff);
    w.u8(i === keys.length - 1 ? PayloadType.LAST : PayloadType.KEY_DATA, 'next payload');
    w.u8((k.keyType << 4) | k.kv.kvType, `${f} Type/KV`);
    w.u16(k.key.length, 'Key data len').bytes(k.key);
    if (k.salt !== undefined) {
      checkBytes(k.salt, `${f}.salt`, 0xffff);
      w.u16(k.salt.length, 'Salt len').bytes(k.salt);
    }
    encodeKv(w, k.kv, f);
  });
  return w.finish();
}

/** DH body: DH-Group(8) | DH-value | Reserv(4) | KV(4) | KV data. */
export function decodeDh(r: Reader): DhPayload {
  const at = r.offset;
  const group = r.u8('DH-Group');
  const n = DH_VALUE_LENGTH[group];
  if (n === undefined) throw new MikeyUnsupportedError({ offset: at, expected: 'DH-Group 0 (OAKLEY 5), 1 (OAKLEY 1) or 2 (OAKLEY 2)', payloadType: r.payloadType, found: String(group) }, 6);
  const value = r.bytes(n, 'DH-value');
  const kvAt = r.offset;
  const rk = r.u8('Reserv / KV');
  const kv = decodeKv(r, rk & 0x0f, kvAt);
  return rk >>> 4 === 0 ? { kind: 'DH', group, value, kv } : { kind: 'DH', group, value, kv, reserved: rk >>> 4 };
}

/** Writes a DH body. */
export function encodeDh(w: Writer, p: DhPayload): void {
  const n = DH_VALUE_LENGTH[p.group];
  if (n === undefined) throw new MikeyEncodeError('DH.group', `unknown DH group ${p.group}`);
  checkBytes(p.value, 'DH.value', n, n);
  const res = p.reserved ?? 0;
  if (!Number.isInteger(res) || res < 0 || res > 15) throw new MikeyEncodeError('DH.reserved', 'must fit in 4 bits');
  w.u8(p.group, 'DH.group').bytes(p.value).u8((res << 4) | p.kv.kvType, 'DH Reserv/KV');
  encodeKv(w, p.kv, 'DH.kv');
}
