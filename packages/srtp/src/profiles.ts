/**
 * The protection profiles this package implements, named by their SDES
 * crypto-suite names (RFC 4568 sec. 6.2, RFC 6188 sec. 6, RFC 7714 sec. 14.1),
 * and every protocol constant that depends on the profile. All lengths are
 * in octets.
 */

/** SDES / IANA crypto-suite names of the implemented SRTP profiles. */
export type SrtpProfileName =
  | 'AES_CM_128_HMAC_SHA1_80'
  | 'AES_CM_128_HMAC_SHA1_32'
  | 'AES_256_CM_HMAC_SHA1_80'
  | 'AES_256_CM_HMAC_SHA1_32'
  | 'AEAD_AES_128_GCM'
  | 'AEAD_AES_256_GCM';

/** Constants of one SRTP protection profile. */
export interface SrtpProfile {
  name: SrtpProfileName;
  /** Master (and session) encryption key length. */
  keyLength: number;
  /** Master (and session) salt length: 14 for AES-CM, 12 for GCM (RFC 7714 sec. 12). */
  saltLength: number;
  /** SRTP authentication tag length (the AEAD tag for GCM). */
  authTagLength: number;
  /** SRTCP authentication tag length: always 80 bits for HMAC-SHA1 (RFC 4568 sec. 6.2.2). */
  srtcpAuthTagLength: number;
  /** True for the AEAD (AES-GCM, RFC 7714) profiles, which have no separate auth key. */
  aead: boolean;
  /** Session authentication key length (HMAC-SHA1: 160 bits, RFC 3711 sec. 4.2.1); 0 for AEAD. */
  authKeyLength: number;
}

/** The implemented profiles, keyed by SDES name. */
export const SRTP_PROFILES: Readonly<Record<SrtpProfileName, SrtpProfile>> = Object.freeze({
  // RFC 4568 sec. 6.2.1
  AES_CM_128_HMAC_SHA1_80: { name: 'AES_CM_128_HMAC_SHA1_80', keyLength: 16, saltLength: 14, authTagLength: 10, srtcpAuthTagLength: 10, aead: false, authKeyLength: 20 },
  // RFC 4568 sec. 6.2.2: the 32-bit tag applies to SRTP only; SRTCP keeps 80 bits.
  AES_CM_128_HMAC_SHA1_32: { name: 'AES_CM_128_HMAC_SHA1_32', keyLength: 16, saltLength: 14, authTagLength: 4, srtcpAuthTagLength: 10, aead: false, authKeyLength: 20 },
  // RFC 6188 sec. 6
  AES_256_CM_HMAC_SHA1_80: { name: 'AES_256_CM_HMAC_SHA1_80', keyLength: 32, saltLength: 14, authTagLength: 10, srtcpAuthTagLength: 10, aead: false, authKeyLength: 20 },
  AES_256_CM_HMAC_SHA1_32: { name: 'AES_256_CM_HMAC_SHA1_32', keyLength: 32, saltLength: 14, authTagLength: 4, srtcpAuthTagLength: 10, aead: false, authKeyLength: 20 },
  // RFC 7714 sec. 12 and 14.1: 16-octet tag, 96-bit salt.
  AEAD_AES_128_GCM: { name: 'AEAD_AES_128_GCM', keyLength: 16, saltLength: 12, authTagLength: 16, srtcpAuthTagLength: 16, aead: true, authKeyLength: 0 },
  AEAD_AES_256_GCM: { name: 'AEAD_AES_256_GCM', keyLength: 32, saltLength: 12, authTagLength: 16, srtcpAuthTagLength: 16, aead: true, authKeyLength: 0 },
} satisfies Record<SrtpProfileName, SrtpProfile>);

/** True when `s` names an implemented profile. */
export function isSrtpProfileName(s: string): s is SrtpProfileName {
  return Object.prototype.hasOwnProperty.call(SRTP_PROFILES, s);
}

/**
 * Decoded key||salt length of every SDES crypto-suite registered for SRTP,
 * including ones this package does not implement (F8, AES-192), so that
 * `a=crypto` lines naming them can still be length-checked (RFC 4568 sec. 6.1).
 */
export const SDES_KEY_SALT_LENGTHS: Readonly<Record<string, number>> = Object.freeze({
  AES_CM_128_HMAC_SHA1_80: 30,
  AES_CM_128_HMAC_SHA1_32: 30,
  F8_128_HMAC_SHA1_80: 30,
  AES_192_CM_HMAC_SHA1_80: 38,
  AES_192_CM_HMAC_SHA1_32: 38,
  AES_256_CM_HMAC_SHA1_80: 46,
  AES_256_CM_HMAC_SHA1_32: 46,
  AEAD_AES_128_GCM: 28,
  AEAD_AES_256_GCM: 44,
});

/** Default and maximum SRTP master key lifetime in packets (RFC 3711 sec. 9.2). */
export const SRTP_MAX_LIFETIME = 2 ** 48;
/** Maximum SRTCP packets per master key: the SRTCP index is 31 bits (RFC 3711 sec. 3.4). */
export const SRTCP_MAX_LIFETIME = 2 ** 31;
/** Default replay window; RFC 3711 sec. 3.3.2 requires at least 64. */
export const DEFAULT_REPLAY_WINDOW = 128;
/** Minimum replay window size (RFC 3711 sec. 3.3.2). */
export const MIN_REPLAY_WINDOW = 64;

/** KDF labels, RFC 3711 sec. 4.3.1 / 4.3.2. */
export const KDF_LABEL = Object.freeze({
  rtpEncryption: 0x00,
  rtpAuth: 0x01,
  rtpSalt: 0x02,
  rtcpEncryption: 0x03,
  rtcpAuth: 0x04,
  rtcpSalt: 0x05,
});

export const SRTCP_INDEX_LENGTH = 4; // E flag + 31-bit index, RFC 3711 sec. 3.4
/** SRTCP E flag (encrypted), top bit of the index word (RFC 3711 sec. 3.4). */
export const SRTCP_E_FLAG = 0x80000000;
