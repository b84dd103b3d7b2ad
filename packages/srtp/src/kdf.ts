/**
 * SRTP key derivation, RFC 3711 sec. 4.3 (AES-CM PRF) and RFC 6188 sec. 7.2
 * (AES-256-CM PRF): session keys are AES-CM keystream under the master key,
 * with the IV built from the master salt, a label and `index DIV kdr`.
 */
import { createCipheriv } from 'node:crypto';
import { KDF_LABEL, type SrtpProfile } from './profiles.ts';

/** Session keys for one of SRTP or SRTCP. `authKey` is empty for AEAD profiles. */
export interface SessionKeys {
  encKey: Buffer;
  authKey: Buffer;
  salt: Buffer;
}

/** `aes-128-ctr` or `aes-256-ctr` for a key of this length. */
export function ctrAlgorithm(keyLength: number): 'aes-128-ctr' | 'aes-256-ctr' {
  return keyLength === 32 ? 'aes-256-ctr' : 'aes-128-ctr';
}

/**
 * One KDF output: the first `length` octets of AES-CM keystream with
 * IV = (key_id XOR master_salt) * 2^16, key_id = label || r (RFC 3711 sec. 4.3.1).
 *
 * @param r `index DIV kdr` (48 bits for SRTP, 31 for SRTCP); 0 when kdr = 0.
 */
export function kdfOutput(masterKey: Uint8Array, masterSalt: Uint8Array, label: number, r: number, length: number): Buffer {
  // The 112-bit salt fills octets 0..13; a 96-bit GCM salt is multiplied by
  // 2^16 first, i.e. left-aligned with two zero octets (RFC 7714 sec. 11,
  // erratum 4938). Octets 14..15 are the AES-CM block counter (sec. 4.1.1).
  const iv = Buffer.alloc(16);
  iv.set(masterSalt, 0);
  // key_id = label (8 bits) || r (48 bits), right-aligned against the 112-bit salt.
  iv[7]! ^= label;
  let rest = r;
  for (let i = 13; i >= 8; i--) {
    iv[i]! ^= rest % 256;
    rest = Math.floor(rest / 256);
  }
  const cipher = createCipheriv(ctrAlgorithm(masterKey.length), masterKey, iv);
  return cipher.update(Buffer.alloc(length));
}

/**
 * Derives the SRTP (labels 0..2) or SRTCP (labels 3..5) session keys
 * (RFC 3711 sec. 4.3.1, 4.3.2). Assumes lengths were validated by the caller.
 */
export function deriveSessionKeys(profile: SrtpProfile, masterKey: Uint8Array, masterSalt: Uint8Array, rtcp: boolean, r = 0): SessionKeys {
  const base = rtcp ? KDF_LABEL.rtcpEncryption : KDF_LABEL.rtpEncryption;
  return {
    encKey: kdfOutput(masterKey, masterSalt, base, r, profile.keyLength),
    authKey: profile.authKeyLength > 0 ? kdfOutput(masterKey, masterSalt, base + 1, r, profile.authKeyLength) : Buffer.alloc(0),
    salt: kdfOutput(masterKey, masterSalt, base + 2, r, profile.saltLength),
  };
}
