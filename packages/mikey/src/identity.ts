/**
 * Identities as carried in ID / IDR payloads (RFC 3830 sec. 6.7, RFC 6043
 * sec. 6.6), and the mapping from a device identity to its user used by
 * the 'any-device-of-user' resolution policy.
 */
import { bytesEqual } from './bytes.ts';
import { IdType } from './codes.ts';
import type { IdrPayload } from './payloads/types.ts';

/** An identity: ID type (NAI, URI, byte string) and its octets. */
export interface MikeyIdentity {
  idType: number;
  data: Uint8Array;
}

/** A URI identity (ID type 1), e.g. `sip:alice@ims.example;gr=urn:uuid:...`. */
export function uriIdentity(uri: string): MikeyIdentity {
  return { idType: IdType.URI, data: new TextEncoder().encode(uri) };
}

/** An NAI identity (ID type 0), e.g. `alice@ims.example`. */
export function naiIdentity(nai: string): MikeyIdentity {
  return { idType: IdType.NAI, data: new TextEncoder().encode(nai) };
}

/** A byte-string identity (ID type 2, RFC 6043), e.g. a key identifier. */
export function byteIdentity(b: Uint8Array): MikeyIdentity {
  return { idType: IdType.BYTE_STRING, data: Uint8Array.from(b) };
}

/** Readable form: the text of NAI/URI identities, hex of byte strings. */
export function identityToString(id: MikeyIdentity): string {
  return id.idType === IdType.BYTE_STRING ? `0x${Buffer.from(id.data).toString('hex')}` : new TextDecoder().decode(id.data);
}

/** Same type and same octets. */
export function identitiesEqual(a: MikeyIdentity, b: MikeyIdentity): boolean {
  return a.idType === b.idType && bytesEqual(a.data, b.data);
}

/** The IDR payload for an identity in a role ({@link IdRole}). */
export function idrPayload(role: number, id: MikeyIdentity): IdrPayload {
  return { kind: 'IDR', role, idType: id.idType, data: Uint8Array.from(id.data) };
}

/** The identity of an IDR payload. */
export function identityOf(p: { idType: number; data: Uint8Array }): MikeyIdentity {
  return { idType: p.idType, data: p.data };
}

/**
 * Default user of a device identity for 'any-device-of-user': for SIP/SIPS/TEL
 * URIs the scheme-less `user@host` (lower-cased host) without URI
 * parameters (`;gr=...`, `;+sip.instance=...`) or headers; for NAIs the text
 * lower-cased after the `@`; byte strings map to themselves.
 */
export function defaultUserOf(id: MikeyIdentity): string {
  const s = identityToString(id);
  if (id.idType === IdType.URI) {
    const m = /^(sips?|tel):([^;?>]*)/i.exec(s.replace(/^<|>$/g, ''));
    if (m) {
      const rest = m[2]!;
      const at = rest.lastIndexOf('@');
      return at < 0 ? rest : `${rest.slice(0, at)}@${rest.slice(at + 1).toLowerCase()}`;
    }
    return s;
  }
  if (id.idType === IdType.NAI) {
    const at = s.lastIndexOf('@');
    return at < 0 ? s : `${s.slice(0, at)}@${s.slice(at + 1).toLowerCase()}`;
  }
  return s;
}
