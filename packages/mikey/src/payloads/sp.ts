/**
 * SP (security policy) payload body, RFC 3830 sec. 6.10, and helpers for the
 * SRTP policy parameters (sec. 6.10.1; AEAD per RFC 7714 sec. 14.3 / 15).
 */
import { Reader, Writer, checkBytes } from '../bytes.ts';
import { SrtpAuthAlg, SrtpEncrAlg, SrtpParam } from '../codes.ts';
import { MikeyEncodeError } from '../errors.ts';
import type { SpParam, SpPayload } from './types.ts';

/** SP body: Policy no(8) | Prot type(8) | Policy param length(16) | (Type 8 | Length 8 | Value)*. */
export function decodeSp(r: Reader): SpPayload {
  const policyNo = r.u8('Policy no');
  const protType = r.u8('Prot type');
  const len = r.u16('Policy param length');
  const pr = r.sub(len, 'Policy params');
  const params: SpParam[] = [];
  while (pr.remaining > 0) {
    const type = pr.u8('policy param Type');
    const plen = pr.u8('policy param Length');
    params.push({ type, value: pr.bytes(plen, 'policy param Value') });
  }
  return { kind: 'SP', policyNo, protType, params };
}

/** Writes an SP body. */
export function encodeSp(w: Writer, p: SpPayload): void {
  let len = 0;
  for (const [i, q] of p.params.entries()) {
    checkBytes(q.value, `SP.params[${i}].value`, 0xff);
    len += 2 + q.value.length;
  }
  w.u8(p.policyNo, 'SP.policyNo').u8(p.protType, 'SP.protType').u16(len, 'Policy param length');
  for (const [i, q] of p.params.entries()) w.u8(q.type, `SP.params[${i}].type`).u8(q.value.length, 'param Length').bytes(q.value);
}

/** SRTP crypto profiles that {@link srtpPolicyParams} can express. */
export type SrtpPolicyProfile =
  | 'AES_CM_128_HMAC_SHA1_80'
  | 'AES_CM_128_HMAC_SHA1_32'
  | 'AES_256_CM_HMAC_SHA1_80'
  | 'AES_256_CM_HMAC_SHA1_32'
  | 'AEAD_AES_128_GCM'
  | 'AEAD_AES_256_GCM';

/** SRTP master key and master salt lengths of a profile (RFC 3711, RFC 6188, RFC 7714). */
export function srtpKeyLengths(profile: SrtpPolicyProfile): { keyLength: number; saltLength: number } {
  const aead = profile.startsWith('AEAD');
  return { keyLength: profile.includes('256') ? 32 : 16, saltLength: aead ? 12 : 14 };
}

/**
 * SRTP policy parameters for a crypto profile (RFC 3830 sec. 6.10.1; AES-GCM
 * per RFC 7714 sec. 14.3 and 15: Encr alg 6, key length 16/32, salt 12,
 * AEAD tag length 16, SRTP PRF AES-CM).
 */
export function srtpPolicyParams(profile: SrtpPolicyProfile): SpParam[] {
  const p = (type: number, v: number): SpParam => ({ type, value: new Uint8Array([v]) });
  switch (profile) {
    case 'AES_CM_128_HMAC_SHA1_80':
    case 'AES_CM_128_HMAC_SHA1_32':
    case 'AES_256_CM_HMAC_SHA1_80':
    case 'AES_256_CM_HMAC_SHA1_32':
      return [
        p(SrtpParam.ENCR_ALG, SrtpEncrAlg.AES_CM),
        p(SrtpParam.SESSION_ENCR_KEY_LEN, profile.includes('256') ? 32 : 16),
        p(SrtpParam.AUTH_ALG, SrtpAuthAlg.HMAC_SHA_1),
        p(SrtpParam.SESSION_AUTH_KEY_LEN, 20),
        p(SrtpParam.SESSION_SALT_KEY_LEN, 14),
        p(SrtpParam.SRTP_PRF, 0),
        p(SrtpParam.KEY_DERIVATION_RATE, 0),
        p(SrtpParam.SRTP_ENCRYPTION, 1),
        p(SrtpParam.SRTCP_ENCRYPTION, 1),
        p(SrtpParam.SRTP_AUTHENTICATION, 1),
        p(SrtpParam.AUTH_TAG_LEN, profile.endsWith('_80') ? 10 : 4),
      ];
    case 'AEAD_AES_128_GCM':
    case 'AEAD_AES_256_GCM':
      return [
        p(SrtpParam.ENCR_ALG, SrtpEncrAlg.AES_GCM),
        p(SrtpParam.SESSION_ENCR_KEY_LEN, profile === 'AEAD_AES_128_GCM' ? 16 : 32),
        p(SrtpParam.SESSION_SALT_KEY_LEN, 12),
        p(SrtpParam.SRTP_PRF, 0),
        p(SrtpParam.KEY_DERIVATION_RATE, 0),
        p(SrtpParam.AEAD_AUTH_TAG_LEN, 16),
      ];
    default:
      throw new MikeyEncodeError('SRTP profile', `unknown profile ${String(profile)}`);
  }
}

/**
 * The SRTP profile an SRTP SP payload describes, or `undefined` when its
 * parameters match none of {@link SrtpPolicyProfile}. Parameters left out
 * take the RFC 3830 sec. 6.10.1 defaults (AES-CM, 16-octet key, HMAC-SHA-1,
 * 10-octet tag); a 32-octet AES-CM key is AES-256 (RFC 6188).
 */
export function srtpProfileOf(sp: SpPayload): SrtpPolicyProfile | undefined {
  if (sp.protType !== 0) return undefined;
  const get = (t: number): number | undefined => {
    const q = sp.params.find((x) => x.type === t);
    return q && q.value.length === 1 ? q.value[0] : undefined;
  };
  const encr = get(SrtpParam.ENCR_ALG) ?? SrtpEncrAlg.AES_CM;
  const keyLen = get(SrtpParam.SESSION_ENCR_KEY_LEN) ?? 16;
  if (encr === SrtpEncrAlg.AES_GCM) {
    if ((get(SrtpParam.AEAD_AUTH_TAG_LEN) ?? 16) !== 16) return undefined;
    return keyLen === 16 ? 'AEAD_AES_128_GCM' : keyLen === 32 ? 'AEAD_AES_256_GCM' : undefined;
  }
  if (encr !== SrtpEncrAlg.AES_CM || (keyLen !== 16 && keyLen !== 32) || (get(SrtpParam.AUTH_ALG) ?? SrtpAuthAlg.HMAC_SHA_1) !== SrtpAuthAlg.HMAC_SHA_1) return undefined;
  const tag = get(SrtpParam.AUTH_TAG_LEN) ?? 10;
  if (tag !== 10 && tag !== 4) return undefined;
  return `${keyLen === 16 ? 'AES_CM_128' : 'AES_256_CM'}_HMAC_SHA1_${tag === 10 ? '80' : '32'}`;
}
