/**
 * The transport key (TrK) that protects a user's SAKKE and ECCSI secret keys
 * on their way from the KMS to the device. TS 33.180 clause 5.3 wraps key
 * material in the KMS's KeyProvision message under a TrK provisioned to the
 * client out of band; here the device's pre-shared key with the KMS is that
 * out-of-band secret, and the TrK derives from it. The wrap is AES key wrap
 * with padding (RFC 5649), so a TLS key log of the KMS link (which imslab
 * records for the evidence) does not expose the secret keys.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';

/** RFC 5649 sec. 3 alternative initial value. */
const AIV = Buffer.from('a65959a6', 'hex');

/** The 128-bit TrK of a device: HMAC-SHA-256(PSK, label), first 16 octets. */
export function transportKey(psk: Uint8Array): Buffer {
  return createHmac('sha256', psk).update('imslab SAKKE/ECCSI transport key').digest().subarray(0, 16);
}

/** Wraps `secret` under the device's TrK (RFC 5649). */
export function wrapForDevice(psk: Uint8Array, secret: Uint8Array): Buffer {
  const c = createCipheriv('id-aes128-wrap-pad', transportKey(psk), AIV);
  return Buffer.concat([c.update(secret), c.final()]);
}

/** Unwraps what {@link wrapForDevice} made; throws when the integrity check fails (wrong PSK or altered bytes). */
export function unwrapForDevice(psk: Uint8Array, wrapped: Uint8Array): Buffer {
  const d = createDecipheriv('id-aes128-wrap-pad', transportKey(psk), AIV);
  try {
    return Buffer.concat([d.update(wrapped), d.final()]);
  } catch {
    throw new Error('the wrapped key does not unwrap under this device\'s transport key (RFC 5649 integrity check failed: another device\'s key, or altered in transit)');
  }
}

/** What the KMS answers to a key provisioning request (JSON; secret keys wrapped under the TrK, hex elsewhere). */
export interface SakkeKeyProvision {
  /** The KMS URI the keys belong to (IDRkms in MIKEY-SAKKE). */
  kmsUri: string;
  /** The user the keys are for. */
  user: string;
  /** The RFC 6509 sec. 3.2 identifier, hex ("YYYY-MM\0URI\0"). */
  identifier: string;
  /** SAKKE KMS public key Z (0x04 || x || y), hex. */
  sakkePublicKey: string;
  /** ECCSI KMS public authentication key KPAK, hex. */
  kpak: string;
  /** SAKKE receiver secret key, wrapped, base64. */
  rsk: string;
  /** ECCSI secret signing key, wrapped, base64. */
  ssk: string;
  /** ECCSI public validation token, hex. */
  pvt: string;
}
