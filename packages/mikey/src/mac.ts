/**
 * MACs over MIKEY messages: the V payload (RFC 3830 sec. 6.9) or the KEMAC
 * MAC (sec. 6.2) of the last payload covers the whole message up to the MAC
 * field, followed by the identities of the parties (RFC 3830 sec. 5.2,
 * RFC 6043 sec. 5.5; the ID data only, not whole payloads) and, for response
 * messages, the timestamp of the request (RFC 3830 sec. 5.2).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Writer, concat } from './bytes.ts';
import { MAC_LENGTH, MacAlg } from './codes.ts';
import { MikeyAuthError, MikeyEncodeError } from './errors.ts';
import { encodeMessage, type MikeyMessage } from './message.ts';
import type { KemacPayload, TPayload, VPayload } from './payloads/types.ts';

/** HMAC of `data` for a MAC alg (HMAC-SHA-1-160 or HMAC-SHA-256-256). */
export function computeMac(macAlg: number, authKey: Uint8Array, data: Uint8Array): Uint8Array {
  switch (macAlg) {
    case MacAlg.NULL:
      return new Uint8Array(0);
    case MacAlg.HMAC_SHA_1_160:
      return new Uint8Array(createHmac('sha1', authKey).update(data).digest());
    case MacAlg.HMAC_SHA_256_256:
      return new Uint8Array(createHmac('sha256', authKey).update(data).digest());
    default:
      throw new MikeyAuthError('unsupported-algorithm', `MAC alg ${macAlg}`);
  }
}

/** What follows the message in the MAC input (RFC 3830 sec. 5.2, RFC 6043 sec. 5.5). */
export interface MacBinding {
  /** ID data of the involved parties, in the order the exchange defines. */
  identities: readonly Uint8Array[];
  /** T payload of the request this message answers (responses only). */
  requestTimestamp?: TPayload;
}

/** The octets appended to the message in the MAC input. */
export function macBindingBytes(b: MacBinding): Uint8Array {
  const parts = [...b.identities];
  if (b.requestTimestamp) {
    const w = new Writer().u8(b.requestTimestamp.tsType, 'T.tsType');
    const n = b.requestTimestamp.tsType === 2 || b.requestTimestamp.tsType === 3 ? 4 : 8;
    w.uint(b.requestTimestamp.value, n, 'T.value');
    parts.push(w.finish());
  }
  return concat(...parts);
}

function lastMacPayload(m: MikeyMessage): VPayload | KemacPayload {
  const last = m.payloads[m.payloads.length - 1];
  if (!last || (last.kind !== 'V' && last.kind !== 'KEMAC')) throw new MikeyEncodeError('message', 'the last payload must be V or KEMAC to carry the MAC');
  return last;
}

/**
 * Fills in the MAC of the last payload (V or KEMAC) and returns the encoded
 * message. The MAC field is set to the right length first, so its value
 * in `m` does not matter.
 */
export function signMessage(m: MikeyMessage, authKey: Uint8Array, binding: MacBinding): Uint8Array {
  const p = lastMacPayload(m);
  const n = MAC_LENGTH[p.macAlg];
  if (n === undefined) throw new MikeyEncodeError('MAC alg', `unknown MAC alg ${p.macAlg}`);
  p.mac = new Uint8Array(n);
  const bytes = encodeMessage(m);
  const mac = computeMac(p.macAlg, authKey, concat(bytes.subarray(0, bytes.length - n), macBindingBytes(binding)));
  bytes.set(mac, bytes.length - n);
  p.mac = mac;
  return bytes;
}

/**
 * Verifies the MAC of the last payload of the received `bytes` (decoded as
 * `m`). Throws {@link MikeyAuthError} when it does not match.
 */
export function verifyMessageMac(bytes: Uint8Array, m: MikeyMessage, authKey: Uint8Array, binding: MacBinding): void {
  const last = m.payloads[m.payloads.length - 1];
  if (!last || (last.kind !== 'V' && last.kind !== 'KEMAC')) throw new MikeyAuthError('missing-verification', 'message does not end with a V or KEMAC payload');
  if (last.macAlg === MacAlg.NULL) throw new MikeyAuthError('unsupported-algorithm', 'NULL MAC is not accepted', last.kind === 'V' ? 9 : 1);
  const n = last.mac.length;
  const expected = computeMac(last.macAlg, authKey, concat(bytes.subarray(0, bytes.length - n), macBindingBytes(binding)));
  if (expected.length !== n || !timingSafeEqual(expected, bytes.subarray(bytes.length - n))) {
    throw new MikeyAuthError('mac-mismatch', `${last.kind} MAC does not verify`, last.kind === 'V' ? 9 : 1);
  }
}
