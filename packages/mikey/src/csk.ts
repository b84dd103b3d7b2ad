/**
 * Client-server keys (CSK) as TS 33.180 clause 7.3 uses them: an MCPTT
 * client generates a CSK and sends it to the MCPTT server in a MIKEY-SAKKE
 * I_MESSAGE (RFC 6509), SAKKE-encrypted to the server's identity and
 * ECCSI-signed with the client's own key (exchanges/sakke.ts builds and
 * opens it). The CSK is the SAKKE SSV (16 octets, n = 128); its 32-bit
 * CSK-ID travels in the clear as the HDR CSB ID (point to point, so there
 * is nothing to hide, unlike a GMK-ID behind a per-member GUK-ID), and the
 * SRTP master key and salt derive from the CSK with the RFC 3830 sec. 4.1.3
 * key derivation: CSK as TGK, CSK-ID as CSB ID, the I_MESSAGE's RAND,
 * PRF-HMAC-SHA-256 (RFC 6043 sec. 6.1), as gmk.ts does for a GMK.
 *
 * Taken from TS 33.180 as far as could be checked here, not against the
 * spec text, and marked so:
 * - Purpose tag 2 = CSK in the 4 most significant bits of the key ID (the
 *   purpose-tag table of TS 33.180 clause 5.2 / annex G). An independent
 *   implementation (Streamwide libmikey-sakke, whose enum cites TS 33.180
 *   annex G: 0 GMK, 1 PCK, 2 CSK, 3 SPK, 4 MKFC, 5 MSCCK, 6 MuSiK) and its
 *   CSK test vector (CSK-ID 0x2ddd5bf0) agree on 2 for the CSK; which key
 *   the other tags name was not checked.
 * - The CS ID of the TEK derivation ({@link CSK_CS_ID} = 0, as gmk.ts's
 *   GMK_CS_ID, matching this project's #CS 0 HDR). The same
 *   implementation sends a GENERIC-ID CS ID map with CS ID 6 ("CSK SRTCP
 *   protection for MCPTT", citing TS 33.180 E.1.3) and SPI = CSK-ID
 *   instead; interoperating with it would need both changed together.
 */
import { randomBytes } from 'node:crypto';
import { purposeTag } from './gmk.ts';
import { deriveSrtpFromTgk, type SrtpMasterKeys } from './key-derivation.ts';

/** Purpose tag of a CSK-ID (its 4 most significant bits): 2 = client-server key (see the file comment). */
export const CSK_PURPOSE_TAG = 2;
/** CS ID used in the TEK derivation from a CSK (assumed, see the file comment). */
export const CSK_CS_ID = 0;
/** Octets of a CSK: the SAKKE SSV of parameter set 1 (RFC 6508 sec. 2.1, n = 128; RFC 6509 Appendix A). */
export const CSK_LENGTH = 16;

/** Whether `keyId` is a 32-bit unsigned integer with the CSK purpose tag. */
export function isCskId(keyId: number): boolean {
  return Number.isInteger(keyId) && keyId >= 0 && keyId <= 0xffffffff && purposeTag(keyId) === CSK_PURPOSE_TAG;
}

/** A fresh CSK-ID: 28 random bits under purpose tag 2, as an unsigned 32-bit number. */
export function newCskId(): number {
  return ((randomBytes(4).readUInt32BE(0) & 0x0fffffff) | (CSK_PURPOSE_TAG << 28)) >>> 0;
}

/**
 * The SRTP master key and salt of a CSK (TS 33.180 clause 7.3; RFC 3830
 * sec. 4.1.3 with PRF-HMAC-SHA-256): CSK as TGK, CS ID {@link CSK_CS_ID},
 * CSB ID = CSK-ID, the RAND of the I_MESSAGE that carried the CSK. Sender
 * and server both call this, so the keys match only if both saw the same
 * RAND. No MKI: the CSK-ID names the key point to point.
 */
export function cskSrtpKeys(o: { csk: Uint8Array; cskId: number; rand: Uint8Array; keyLength?: number; saltLength?: number }): SrtpMasterKeys {
  return deriveSrtpFromTgk(o.csk, { csId: CSK_CS_ID, csbId: o.cskId, rand: o.rand, tekLength: o.keyLength, saltLength: o.saltLength, hash: 'sha256' });
}
