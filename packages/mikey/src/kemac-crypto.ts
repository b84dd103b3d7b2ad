/**
 * KEMAC encryption (RFC 3830 sec. 4.2.3): AES in counter mode with
 *   IV = (S XOR (0x0000 || CSB ID || T)) || 0x0000,
 * S the 112-bit salt key, T the 64-bit timestamp of the message carrying
 * the KEMAC. AES-CM-128 and AES-CM-256 (RFC 6043 sec. 6.2) and NULL are
 * supported; AES-KW-128 is refused.
 */
import { createCipheriv } from 'node:crypto';
import { EncrAlg, MacAlg } from './codes.ts';
import { MikeyProtocolError } from './errors.ts';
import type { MessageKeys } from './key-derivation.ts';
import { decodeKeyDataList, encodeKeyDataList } from './payloads/kemac.ts';
import type { KemacPayload, KeyData } from './payloads/types.ts';

/** The 128-bit AES-CM IV of RFC 3830 sec. 4.2.3. */
export function kemacIv(saltKey: Uint8Array, csbId: number, t: bigint): Uint8Array {
  const iv = new Uint8Array(16);
  const x = new Uint8Array(14);
  x[2] = csbId >>> 24;
  x[3] = (csbId >>> 16) & 0xff;
  x[4] = (csbId >>> 8) & 0xff;
  x[5] = csbId & 0xff;
  let v = t;
  for (let i = 13; i >= 6; i--) {
    x[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  for (let i = 0; i < 14; i++) iv[i] = (saltKey[i] ?? 0) ^ x[i]!;
  return iv;
}

function aesCm(encrAlg: number, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const algo = encrAlg === EncrAlg.AES_CM_128 ? 'aes-128-ctr' : 'aes-256-ctr';
  const c = createCipheriv(algo, key, iv);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

function checkEncr(encrAlg: number): void {
  if (encrAlg !== EncrAlg.NULL && encrAlg !== EncrAlg.AES_CM_128 && encrAlg !== EncrAlg.AES_CM_256) {
    throw new MikeyProtocolError('unsupported-parameter', `KEMAC Encr alg ${encrAlg} is not supported (NULL, AES-CM-128, AES-CM-256)`, 4);
  }
}

/**
 * Builds a KEMAC with the key data encrypted; its MAC is left zero for
 * {@link signMessage} (or absent with `macAlg` NULL when a V payload follows,
 * as in MIKEY-TICKET, RFC 6043 sec. 4.1.2).
 */
export function sealKemac(keys: readonly KeyData[], k: MessageKeys, o: { encrAlg: number; macAlg: number; csbId: number; t: bigint }): KemacPayload {
  checkEncr(o.encrAlg);
  const plain = encodeKeyDataList(keys);
  const encrData = o.encrAlg === EncrAlg.NULL ? plain : aesCm(o.encrAlg, k.encrKey, kemacIv(k.saltKey, o.csbId, o.t), plain);
  const macLen = o.macAlg === MacAlg.NULL ? 0 : o.macAlg === MacAlg.HMAC_SHA_1_160 ? 20 : 32;
  return { kind: 'KEMAC', encrAlg: o.encrAlg, encrData, macAlg: o.macAlg, mac: new Uint8Array(macLen) };
}

/**
 * Decrypts a KEMAC and decodes its Key Data sub-payloads. Call only after
 * the MAC covering it verified.
 *
 * @param base absolute offset of the Encr data, for error offsets
 */
export function openKemac(p: KemacPayload, k: MessageKeys, o: { csbId: number; t: bigint; base?: number }): KeyData[] {
  checkEncr(p.encrAlg);
  const plain = p.encrAlg === EncrAlg.NULL ? p.encrData : aesCm(p.encrAlg, k.encrKey, kemacIv(k.saltKey, o.csbId, o.t), p.encrData);
  return decodeKeyDataList(plain, o.base ?? 0);
}
