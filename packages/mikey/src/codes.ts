/**
 * Numeric codes of MIKEY (RFC 3830 sec. 6), its extensions (RFC 4563, 4650,
 * 4738, 4771, 6509, 7714) and MIKEY-TICKET (RFC 6043 sec. 6), as listed in
 * shared/vectors/mikey_rfc3830_rfc6043_facts.json (cross-checked there
 * against Wireshark's packet-mikey.c).
 */

/** HDR version (RFC 3830 sec. 6.1). */
export const MIKEY_VERSION = 1;

/** HDR data type (RFC 3830 sec. 6.1, RFC 4650, RFC 4738, RFC 6043 sec. 6.1, RFC 6509). */
export const DataType = {
  PSK_INIT: 0,
  PSK_VERIFY: 1,
  PK_INIT: 2,
  PK_VERIFY: 3,
  DH_INIT: 4,
  DH_RESP: 5,
  ERROR: 6,
  DHHMAC_INIT: 7,
  DHHMAC_RESP: 8,
  RSA_R_INIT: 9,
  RSA_R_RESP: 10,
  REQUEST_INIT_PSK: 11,
  REQUEST_INIT_PK: 12,
  REQUEST_RESP: 13,
  TRANSFER_INIT: 14,
  TRANSFER_RESP: 15,
  RESOLVE_INIT_PSK: 16,
  RESOLVE_INIT_PK: 17,
  RESOLVE_RESP: 18,
  SAKKE: 26,
} as const;

/** Next payload codes (RFC 3830 sec. 6.1, RFC 6043 sec. 6, RFC 6509). */
export const PayloadType = {
  LAST: 0,
  KEMAC: 1,
  PKE: 2,
  DH: 3,
  SIGN: 4,
  T: 5,
  ID: 6,
  CERT: 7,
  CHASH: 8,
  V: 9,
  SP: 10,
  RAND: 11,
  ERR: 12,
  TR: 13,
  IDR: 14,
  RANDR: 15,
  TP: 16,
  TICKET: 17,
  KEY_DATA: 20,
  GENERAL_EXT: 21,
  SAKKE: 26,
} as const;

/** HDR PRF func (RFC 3830 sec. 6.1, RFC 6043 sec. 6.1). */
export const PrfFunc = {
  MIKEY_1: 0,
  HMAC_SHA_256: 1,
} as const;

/** HDR CS ID map type (RFC 3830 sec. 6.1, RFC 4563 sec. 4, RFC 6043 sec. 6.1). */
export const CsIdMapType = {
  SRTP_ID: 0,
  EMPTY: 1,
  GENERIC_ID: 2,
} as const;

/** KEMAC Encr alg (RFC 3830 sec. 6.2, RFC 6043 sec. 6.2). */
export const EncrAlg = {
  NULL: 0,
  AES_CM_128: 1,
  AES_KW_128: 2,
  AES_CM_256: 3,
} as const;

/** KEMAC MAC alg and V Auth alg (RFC 3830 sec. 6.2, RFC 6043 sec. 6.2). */
export const MacAlg = {
  NULL: 0,
  HMAC_SHA_1_160: 1,
  HMAC_SHA_256_256: 2,
} as const;

/** MAC length in octets for each {@link MacAlg}. */
export const MAC_LENGTH: Readonly<Record<number, number>> = { 0: 0, 1: 20, 2: 32 };

/** PKE C field (RFC 3830 sec. 6.4). */
export const PkeCache = { NO_CACHE: 0, CACHE: 1, CACHE_FOR_CSB: 2 } as const;

/** DH-Group (RFC 3830 sec. 6.4) and its DH-value length in octets. */
export const DhGroup = { OAKLEY_5: 0, OAKLEY_1: 1, OAKLEY_2: 2 } as const;
/** DH-value length in octets for each {@link DhGroup}. */
export const DH_VALUE_LENGTH: Readonly<Record<number, number>> = { 0: 192, 1: 96, 2: 128 };

/** SIGN S type (RFC 3830 sec. 6.5, RFC 6509). */
export const SignType = { RSA_PKCS1_V1_5: 0, RSA_PSS: 1, ECCSI: 2 } as const;

/** T / TR TS type (RFC 3830 sec. 6.6, RFC 6043 sec. 6.6) and its value length in octets. */
export const TsType = { NTP_UTC: 0, NTP: 1, COUNTER: 2, NTP_UTC_32: 3 } as const;
/** TS value length in octets for each {@link TsType}. */
export const TS_VALUE_LENGTH: Readonly<Record<number, number>> = { 0: 8, 1: 8, 2: 4, 3: 4 };

/** TR TS role (RFC 6043 sec. 6.4). */
export const TsRole = { TIME_OF_ISSUE: 1, VALID_FROM: 2, VALID_TO: 3, REKEYING_INTERVAL: 4 } as const;

/** ID type (RFC 3830 sec. 6.7, RFC 6043 sec. 6.6). */
export const IdType = { NAI: 0, URI: 1, BYTE_STRING: 2 } as const;

/** IDR ID role (RFC 6043 sec. 6.6; RFC 6509's 6 and 7 are {@link SakkeIdRole}). */
export const IdRole = { INITIATOR: 1, RESPONDER: 2, KMS: 3, PSK: 4, APPLICATION: 5 } as const;

/** IDR ID roles that RFC 6509 sec. 4.4 adds: the initiator's KMS (IDRkmsi) and the responder's (IDRkmsr). */
export const SakkeIdRole = { KMS_INITIATOR: 6, KMS_RESPONDER: 7 } as const;

/** SAKKE payload SAKKE params (RFC 6509 sec. 4.2): parameter set 1 of its Appendix A. */
export const SakkeParams = { PARAMETER_SET_1: 1 } as const;

/** SAKKE payload ID scheme (RFC 6509 sec. 4.2). */
export const SakkeIdScheme = { TEL_URI_MONTHLY_KEYS: 1 } as const;

/** CERT type (RFC 3830 sec. 6.7). */
export const CertType = { X509V3: 0, X509V3_URL: 1, X509V3_SIGN: 2, X509V3_ENCR: 3 } as const;

/** CHASH hash func (RFC 3830 sec. 6.8, RFC 6043) and its length in octets. */
export const HashFunc = { SHA_1: 0, MD5: 1, SHA_256: 2 } as const;
/** Hash length in octets for each {@link HashFunc}. */
export const HASH_LENGTH: Readonly<Record<number, number>> = { 0: 20, 1: 16, 2: 32 };

/** SP Prot type (RFC 3830 sec. 6.10). */
export const ProtType = { SRTP: 0 } as const;

/** SRTP policy parameter types (RFC 3830 sec. 6.10.1, RFC 4771, RFC 7714 sec. 14.3). */
export const SrtpParam = {
  ENCR_ALG: 0,
  SESSION_ENCR_KEY_LEN: 1,
  AUTH_ALG: 2,
  SESSION_AUTH_KEY_LEN: 3,
  SESSION_SALT_KEY_LEN: 4,
  SRTP_PRF: 5,
  KEY_DERIVATION_RATE: 6,
  SRTP_ENCRYPTION: 7,
  SRTCP_ENCRYPTION: 8,
  FEC_ORDER: 9,
  SRTP_AUTHENTICATION: 10,
  AUTH_TAG_LEN: 11,
  SRTP_PREFIX_LEN: 12,
  ROC_TRANSMISSION_RATE: 13,
  AEAD_AUTH_TAG_LEN: 20,
} as const;

/** Values of SRTP parameter 0, encryption algorithm (RFC 3830 sec. 6.10.1, RFC 7714 sec. 14.3). */
export const SrtpEncrAlg = { NULL: 0, AES_CM: 1, AES_F8: 2, AES_GCM: 6 } as const;
/** Values of SRTP parameter 2, authentication algorithm (RFC 3830, RFC 4771). */
export const SrtpAuthAlg = { NULL: 0, HMAC_SHA_1: 1, RCCM1: 2, RCCM2: 3, RCCM3: 4 } as const;

/** RANDR RAND role (RFC 6043 sec. 6.8). */
export const RandRole = { INITIATOR: 1, RESPONDER: 2, KMS: 3 } as const;

/** ERR Error no (RFC 3830 sec. 6.12, RFC 6043 sec. 6.12). */
export const ErrorNo = {
  AUTH_FAILURE: 0,
  INVALID_TS: 1,
  INVALID_PRF: 2,
  INVALID_MAC: 3,
  INVALID_EA: 4,
  INVALID_HA: 5,
  INVALID_DH: 6,
  INVALID_ID: 7,
  INVALID_CERT: 8,
  INVALID_SP: 9,
  INVALID_SPPAR: 10,
  INVALID_DT: 11,
  UNSPECIFIED: 12,
  INVALID_TICKET: 14,
  INVALID_TPPAR: 15,
} as const;

/** Key Data sub-payload Type (RFC 3830 sec. 6.13, RFC 6043 sec. 6.13). */
export const KeyDataType = { TGK: 0, TGK_SALT: 1, TEK: 2, TEK_SALT: 3, GTGK: 4, GTGK_SALT: 5, MPK: 6 } as const;
/** Key Data types that carry a salt field. */
export const KEY_TYPES_WITH_SALT: ReadonlySet<number> = new Set([1, 3, 5]);

/** Key Data KV (key validity) type (RFC 3830 sec. 6.13). */
export const KvType = { NULL: 0, SPI: 1, INTERVAL: 2 } as const;

/** GENERAL_EXT Type (RFC 3830 sec. 6.15, RFC 4563). */
export const GenExtType = { VENDOR_ID: 0, SDP_IDS: 1, KEY_ID: 3 } as const;

/** TP / TICKET Ticket Type (RFC 6043 sec. 6.10, Table 6.15). */
export const TicketType = { MIKEY_BASE: 1, THREEGPP_BASE: 2 } as const;

/** Key derivation constants (RFC 3830 sec. 4.1.3, 4.1.4; RFC 6043 sec. 5.1.4, App. A). */
export const KdfConst = {
  /** From TGK (RFC 3830 sec. 4.1.3). */
  TEK: 0x2ad01c64,
  TGK_AUTH: 0x1b5c7973,
  TGK_ENCR: 0x15798cef,
  SALT: 0x39a2c14b,
  /** From envelope / pre-shared key (RFC 3830 sec. 4.1.4). */
  ENCR: 0x150533e1,
  AUTH: 0x2d22ac75,
  SALT_KEY: 0x29b88916,
  /** Key forking (RFC 6043 sec. 5.1.4). */
  MPKR_FORK: 0x2b288856,
  TGK_FORK: 0x1512b54a,
  /** MPK generation for the MIKEY base ticket (RFC 6043 App. A). */
  MPKI: 0x220e99a2,
  MPKR: 0x1f4d675b,
} as const;

/** Human-readable names, for error messages and tooling. */
export function payloadTypeName(code: number): string {
  for (const [k, v] of Object.entries(PayloadType)) if (v === code) return k;
  return `unknown(${code})`;
}

/** Human-readable data type name. */
export function dataTypeName(code: number): string {
  for (const [k, v] of Object.entries(DataType)) if (v === code) return k;
  return `unknown(${code})`;
}
