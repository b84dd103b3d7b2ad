/**
 * Key derivation with the MIKEY PRF (see prf.ts):
 * - RFC 3830 sec. 4.1.3: TEK, salt and per-CS keys from a TGK,
 *   label = const || CS ID(8) || CSB ID(32) || RAND;
 * - RFC 3830 sec. 4.1.4: encr/auth/salt keys protecting messages from a
 *   pre-shared or envelope key, label = const || 0xFF || CSB ID || RAND;
 * - RFC 6043 sec. 5.1.2 (message keys from PSK / envelope key / MPK),
 *   5.1.3 (TEK from TGK/GTGK), 5.1.4 (key forking), App. A (MPK, keys from
 *   the ticket protection key), with the labels listed in the facts file.
 * The constants are {@link KdfConst}.
 */
import { concat, u32be } from './bytes.ts';
import { EncrAlg, KdfConst, MacAlg } from './codes.ts';
import { MikeyEncodeError, MikeyProtocolError } from './errors.ts';
import { mikeyPrf, type PrfHash } from './prf.ts';

/** Length of the KEMAC salt key (112 bits, RFC 3830 sec. 4.2.3). */
export const SALT_KEY_LENGTH = 14;

/** encr_key length in octets for a KEMAC Encr alg (RFC 3830 sec. 4.2.3, RFC 6043 sec. 6.2). */
export function encrKeyLength(encrAlg: number): number {
  switch (encrAlg) {
    case EncrAlg.NULL:
      return 0;
    case EncrAlg.AES_CM_128:
    case EncrAlg.AES_KW_128:
      return 16;
    case EncrAlg.AES_CM_256:
      return 32;
    default:
      throw new MikeyProtocolError('unsupported-parameter', `unknown Encr alg ${encrAlg}`, 4 /* Invalid EA */);
  }
}

/** auth_key length in octets for a MAC alg (RFC 3830 sec. 4.2.4: 160 bits; RFC 6043: 256 bits). */
export function authKeyLength(macAlg: number): number {
  switch (macAlg) {
    case MacAlg.NULL:
      return 0;
    case MacAlg.HMAC_SHA_1_160:
      return 20;
    case MacAlg.HMAC_SHA_256_256:
      return 32;
    default:
      throw new MikeyProtocolError('unsupported-parameter', `unknown MAC alg ${macAlg}`, 5 /* Invalid HA */);
  }
}

function lenPrefixed8(b: Uint8Array | undefined, field: string): Uint8Array {
  const v = b ?? new Uint8Array(0);
  if (v.length > 0xff) throw new MikeyEncodeError(field, 'longer than 255 octets');
  return concat(new Uint8Array([v.length]), v);
}

/** Keys protecting MIKEY messages (KEMAC encryption, KEMAC / V MAC); empty when the algorithm is NULL. */
export interface MessageKeys {
  encrKey: Uint8Array;
  authKey: Uint8Array;
  saltKey: Uint8Array;
}

/** Algorithms and PRF that decide the message key lengths. */
export interface MessageKeyAlgs {
  encrAlg: number;
  macAlg: number;
  hash: PrfHash;
}

function messageKeysFromLabel(inkey: Uint8Array, tail: Uint8Array, a: MessageKeyAlgs): MessageKeys {
  const label = (c: number): Uint8Array => concat(u32be(c), tail);
  const encrLen = encrKeyLength(a.encrAlg);
  const authLen = authKeyLength(a.macAlg);
  // With Encr alg NULL no encryption key and no salt are needed (nothing to encrypt).
  const none = new Uint8Array(0);
  return {
    encrKey: encrLen === 0 ? none : mikeyPrf(inkey, label(KdfConst.ENCR), encrLen, a.hash),
    authKey: authLen === 0 ? none : mikeyPrf(inkey, label(KdfConst.AUTH), authLen, a.hash),
    saltKey: encrLen === 0 ? none : mikeyPrf(inkey, label(KdfConst.SALT_KEY), SALT_KEY_LENGTH, a.hash),
  };
}

/** RFC 3830 sec. 4.1.4 label: const || 0xFF || CSB ID || RAND. */
export function rfc3830MessageLabel(constant: number, csbId: number, rand: Uint8Array): Uint8Array {
  return concat(u32be(constant), new Uint8Array([0xff]), u32be(csbId), rand);
}

/** RFC 3830 sec. 4.1.4: encr_key, auth_key and salt_key from a pre-shared or envelope key. */
export function deriveRfc3830MessageKeys(psk: Uint8Array, csbId: number, rand: Uint8Array, a: MessageKeyAlgs): MessageKeys {
  return messageKeysFromLabel(psk, concat(new Uint8Array([0xff]), u32be(csbId), rand), a);
}

/** RFC 3830 sec. 4.1.3 label: const || CS ID(8) || CSB ID(32) || RAND. */
export function rfc3830TgkLabel(constant: number, csId: number, csbId: number, rand: Uint8Array): Uint8Array {
  if (!Number.isInteger(csId) || csId < 0 || csId > 0xff) throw new MikeyEncodeError('CS ID', 'must fit in 8 bits');
  return concat(u32be(constant), new Uint8Array([csId]), u32be(csbId), rand);
}

/** SRTP master key and master salt (TEK and salting key) for one crypto session. */
export interface SrtpMasterKeys {
  masterKey: Uint8Array;
  masterSalt: Uint8Array;
}

/**
 * SRTP master key (TEK, const 0x2AD01C64) and master salt (const 0x39A2C14B)
 * for crypto session `csId` from a TGK, RFC 3830 sec. 4.1.3 (the TEK
 * derivation referenced by sec. 4.1.4 and 4.2.2).
 *
 * @param tekLength 16 for AES-128 profiles, 32 for AES-256
 * @param saltLength 14 for AES-CM (RFC 3711), 12 for AES-GCM (RFC 7714)
 */
export function deriveSrtpFromTgk(tgk: Uint8Array, o: { csId: number; csbId: number; rand: Uint8Array; tekLength?: number; saltLength?: number; hash?: PrfHash }): SrtpMasterKeys {
  const hash = o.hash ?? 'sha1';
  return {
    masterKey: mikeyPrf(tgk, rfc3830TgkLabel(KdfConst.TEK, o.csId, o.csbId, o.rand), o.tekLength ?? 16, hash),
    masterSalt: mikeyPrf(tgk, rfc3830TgkLabel(KdfConst.SALT, o.csId, o.csbId, o.rand), o.saltLength ?? 14, hash),
  };
}

/** Which message of an exchange a key protects (RFC 6043 sec. 5.1.2: 0x01 initial, 0x02 response). */
export type MessageDirection = 'initial' | 'response';

/** RANDRi / RANDRr inputs of the RFC 6043 labels (absent = length 0). */
export interface TicketRands {
  randRi?: Uint8Array;
  randRr?: Uint8Array;
}

/**
 * RFC 6043 sec. 5.1.2 label tail: 0xFF || CSB ID || 0x01/0x02 || len RANDRi(8) || RANDRi || len RANDRr(8) || RANDRr.
 */
export function rfc6043MessageLabelTail(csbId: number, direction: MessageDirection, r: TicketRands): Uint8Array {
  return concat(new Uint8Array([0xff]), u32be(csbId), new Uint8Array([direction === 'initial' ? 0x01 : 0x02]), lenPrefixed8(r.randRi, 'RANDRi'), lenPrefixed8(r.randRr, 'RANDRr'));
}

/**
 * RFC 6043 sec. 5.1.2: encr_key, auth_key and salt_key protecting a
 * MIKEY-TICKET message, from a pre-shared key (Ticket Request / Resolve) or
 * an MPK (Ticket Transfer), with the RFC 3830 sec. 4.1.4 constants.
 */
export function deriveTicketMessageKeys(inkey: Uint8Array, csbId: number, direction: MessageDirection, rands: TicketRands, a: MessageKeyAlgs): MessageKeys {
  return messageKeysFromLabel(inkey, rfc6043MessageLabelTail(csbId, direction, rands), a);
}

/** RFC 6043 sec. 5.1.3 label: const || CS ID(8) || 0xFFFFFFFF || 0x03 || len RANDRi || RANDRi || len RANDRr || RANDRr. */
export function rfc6043TgkLabel(constant: number, csId: number, r: TicketRands): Uint8Array {
  if (!Number.isInteger(csId) || csId < 0 || csId > 0xff) throw new MikeyEncodeError('CS ID', 'must fit in 8 bits');
  return concat(u32be(constant), new Uint8Array([csId]), u32be(0xffffffff), new Uint8Array([0x03]), lenPrefixed8(r.randRi, 'RANDRi'), lenPrefixed8(r.randRr, 'RANDRr'));
}

/**
 * SRTP master key and salt for crypto session `csId` from a TGK/GTGK in a
 * MIKEY-TICKET exchange, RFC 6043 sec. 5.1.3 (RANDRi only when the Ticket
 * Policy H flag is set, RANDRr when the Responder generated one).
 */
export function deriveSrtpFromTicketTgk(tgk: Uint8Array, o: TicketRands & { csId: number; tekLength?: number; saltLength?: number; hash?: PrfHash }): SrtpMasterKeys {
  const hash = o.hash ?? 'sha1';
  return {
    masterKey: mikeyPrf(tgk, rfc6043TgkLabel(KdfConst.TEK, o.csId, o), o.tekLength ?? 16, hash),
    masterSalt: mikeyPrf(tgk, rfc6043TgkLabel(KdfConst.SALT, o.csId, o), o.saltLength ?? 14, hash),
  };
}

/** RFC 6043 sec. 5.1.4 forking label: const || 0xFF || 0xFFFFFFFF || 0x00 || len IDData(16) || IDData || len RANDRkms(8) || RANDRkms. */
export function rfc6043ForkLabel(constant: number, idData: Uint8Array, randRkms: Uint8Array): Uint8Array {
  if (idData.length > 0xffff) throw new MikeyEncodeError('IDData', 'longer than 65535 octets');
  return concat(u32be(constant), new Uint8Array([0xff]), u32be(0xffffffff), new Uint8Array([0x00, idData.length >>> 8, idData.length & 0xff]), idData, lenPrefixed8(randRkms, 'RANDRkms'));
}

/** RFC 6043 sec. 5.1.4: MPKr' (from MPKr) and TGK' (from TGK) for a forked Responder identity. */
export function deriveForkedKeys(mpkr: Uint8Array, tgk: Uint8Array, idData: Uint8Array, randRkms: Uint8Array, hash: PrfHash = 'sha1'): { mpkr: Uint8Array; tgk: Uint8Array } {
  return {
    mpkr: mikeyPrf(mpkr, rfc6043ForkLabel(KdfConst.MPKR_FORK, idData, randRkms), mpkr.length, hash),
    tgk: mikeyPrf(tgk, rfc6043ForkLabel(KdfConst.TGK_FORK, idData, randRkms), tgk.length, hash),
  };
}

/** RFC 6043 App. A.2.1 label tail: 0xFF || 0xFFFFFFFF || 0x05 || len RAND(8) || RAND (keys from the ticket protection key). */
export function rfc6043TpkLabelTail(rand: Uint8Array): Uint8Array {
  return concat(new Uint8Array([0xff]), u32be(0xffffffff), new Uint8Array([0x05]), lenPrefixed8(rand, 'RAND'));
}

/** RFC 6043 App. A.2.1: encr/auth/salt keys protecting ticket data, from the ticket protection key (TPK). */
export function deriveTicketProtectionKeys(tpk: Uint8Array, rand: Uint8Array, a: MessageKeyAlgs): MessageKeys {
  return messageKeysFromLabel(tpk, rfc6043TpkLabelTail(rand), a);
}

/** RFC 6043 App. A MPK label: const (0x220E99A2 MPKi / 0x1F4D675B MPKr) || 0xFF || 0xFFFFFFFF || 0x06 || len RAND(8) || RAND. */
export function rfc6043MpkLabel(role: 'initiator' | 'responder', rand: Uint8Array): Uint8Array {
  return concat(u32be(role === 'initiator' ? KdfConst.MPKI : KdfConst.MPKR), new Uint8Array([0xff]), u32be(0xffffffff), new Uint8Array([0x06]), lenPrefixed8(rand, 'RAND'));
}

/**
 * An MPK with the RFC 6043 App. A label (MPKi or MPKr), from `inkey` and the
 * ticket RAND. (This package's KMS draws MPKs at random instead; this is for
 * MIKEY base tickets, ticket type 1.)
 */
export function deriveMpk(inkey: Uint8Array, role: 'initiator' | 'responder', rand: Uint8Array, length = 32, hash: PrfHash = 'sha256'): Uint8Array {
  return mikeyPrf(inkey, rfc6043MpkLabel(role, rand), length, hash);
}

/** RFC 6043 label tail for the Vr auth_key from MPKr: 0xFF || 0xFFFFFFFF || 0x04 (used with the 4.1.4 auth constant). */
export function rfc6043VrLabel(): Uint8Array {
  return concat(u32be(KdfConst.AUTH), new Uint8Array([0xff]), u32be(0xffffffff), new Uint8Array([0x04]));
}
