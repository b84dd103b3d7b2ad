/**
 * @imslab/srtp: SRTP and SRTCP (RFC 3711; AES-256 per RFC 6188; AES-GCM per
 * RFC 7714) and SDES `a=crypto` (RFC 4568), on node:crypto only.
 */
export { SRTP_PROFILES, SDES_KEY_SALT_LENGTHS, isSrtpProfileName, type SrtpProfile, type SrtpProfileName } from './profiles.ts';
export { SrtpContext, MAX_ROC_SEARCH, ROC_RESYNC_AFTER, type SrtpContextOptions, type SrtpStats, type UnprotectFailure, type UnprotectResult } from './context.ts';
export { SrtpVerifier, type SrtpVerifierOptions } from './verifier.ts';
export { parseCryptoAttribute, formatCryptoAttribute, type CryptoAttribute, type CryptoKeyParam } from './sdes.ts';
export { splitKeySalt, generateKeySalt, mkiBytes, sessionParamsToOptions, contextOptionsFromCrypto, type SessionParamOptions } from './sdes-keys.ts';
export { deriveSessionKeys, type SessionKeys } from './kdf.ts';
export { SrtpError, SrtpConfigError, KeyLengthError, RtpFormatError, SrtpIndexReuseError, SrtpKeyExpiredError, SdesParseError } from './errors.ts';
