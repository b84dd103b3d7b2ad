/**
 * From SDES to SRTP: splitting and generating inline key||salt, MKI octets,
 * and turning a parsed `a=crypto` attribute into {@link SrtpContextOptions}.
 */
import { randomBytes } from 'node:crypto';
import type { SrtpContextOptions } from './context.ts';
import { KeyLengthError, SdesParseError } from './errors.ts';
import { MIN_REPLAY_WINDOW, type SrtpProfileName } from './profiles.ts';
import type { CryptoAttribute } from './sdes.ts';
import { resolveProfile } from './validate.ts';

/**
 * Splits decoded inline key||salt into master key and master salt (RFC 4568 sec. 6.1).
 * @throws KeyLengthError naming the expected key and salt lengths
 */
export function splitKeySalt(profile: SrtpProfileName, keySalt: Buffer): { masterKey: Buffer; masterSalt: Buffer } {
  const p = resolveProfile(profile);
  if (keySalt.length !== p.keyLength + p.saltLength) {
    throw new KeyLengthError(
      `${p.name} key||salt must be ${p.keyLength + p.saltLength} octets (${p.keyLength}-octet master key + ${p.saltLength}-octet master salt), got ${keySalt.length}`,
    );
  }
  return { masterKey: Buffer.from(keySalt.subarray(0, p.keyLength)), masterSalt: Buffer.from(keySalt.subarray(p.keyLength)) };
}

/** Fresh random master key || master salt for `profile`, ready for `inline:` (RFC 4568 sec. 6.1). */
export function generateKeySalt(profile: SrtpProfileName): Buffer {
  const p = resolveProfile(profile);
  return randomBytes(p.keyLength + p.saltLength);
}

/** The MKI field as carried in packets: `value` big-endian in `length` octets (RFC 4568 sec. 6.1). */
export function mkiBytes(mki: { value: number; length: number }): Buffer {
  const out = Buffer.alloc(mki.length);
  let v = mki.value;
  for (let i = mki.length - 1; i >= 0 && v > 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** Context options carried by SDES session parameters (RFC 4568 sec. 6.3). */
export type SessionParamOptions = Pick<SrtpContextOptions, 'kdr' | 'replayWindow' | 'unencryptedSrtp' | 'unencryptedSrtcp'>;

/**
 * Interprets SRTP session parameters. FEC_ORDER/FEC_KEY are accepted and
 * ignored (no FEC here); unknown parameters starting with "-" are ignored
 * as RFC 4568 sec. 6.3.7 allows.
 * @throws SdesParseError for UNAUTHENTICATED_SRTP (not supported), bad values, or unknown parameters
 */
export function sessionParamsToOptions(params: readonly string[]): SessionParamOptions {
  const o: SessionParamOptions = {};
  for (const p of params) {
    const eq = p.indexOf('=');
    const name = eq < 0 ? p : p.slice(0, eq);
    const value = eq < 0 ? '' : p.slice(eq + 1);
    switch (name) {
      case 'KDR': {
        // RFC 4568 sec. 6.3.1: KDR=n means a key derivation rate of 2^n, n in 0..24.
        if (!/^[0-9]{1,2}$/.test(value) || Number(value) > 24) throw new SdesParseError(`session parameter "${p}": KDR must be 0..24 (RFC 4568 sec. 6.3.1)`);
        o.kdr = 2 ** Number(value);
        break;
      }
      case 'WSH': {
        // RFC 4568 sec. 6.3.6: window size hint, at least 64.
        if (!/^[0-9]+$/.test(value) || Number(value) < MIN_REPLAY_WINDOW) throw new SdesParseError(`session parameter "${p}": WSH must be a number >= 64 (RFC 4568 sec. 6.3.6)`);
        o.replayWindow = Math.min(Number(value), 32768);
        break;
      }
      case 'UNENCRYPTED_SRTP':
        o.unencryptedSrtp = true;
        break;
      case 'UNENCRYPTED_SRTCP':
        o.unencryptedSrtcp = true;
        break;
      case 'FEC_ORDER':
      case 'FEC_KEY':
        break;
      case 'UNAUTHENTICATED_SRTP':
        throw new SdesParseError('session parameter UNAUTHENTICATED_SRTP is not supported: this implementation always authenticates (RFC 3711 sec. 9.5)');
      default:
        if (!p.startsWith('-')) throw new SdesParseError(`unknown SRTP session parameter "${p}"; only parameters prefixed with "-" may be ignored (RFC 4568 sec. 6.3.7)`);
    }
  }
  return o;
}

/**
 * Context options for receiving or sending with key `keyIndex` of a parsed
 * attribute: suite → profile, key||salt split, MKI, lifetime, session parameters.
 * @throws SrtpConfigError when the suite is not implemented, KeyLengthError on a wrong key length, SdesParseError on bad session parameters
 */
export function contextOptionsFromCrypto(a: CryptoAttribute, keyIndex = 0): SrtpContextOptions {
  const kp = a.keyParams[keyIndex];
  if (!kp) throw new SdesParseError(`a=crypto:${a.tag} has no key number ${keyIndex + 1}`);
  const profile = resolveProfile(a.suite).name;
  const { masterKey, masterSalt } = splitKeySalt(profile, kp.keySalt);
  const o: SrtpContextOptions = { profile, masterKey, masterSalt, ...sessionParamsToOptions(a.sessionParams) };
  if (kp.mki) o.mki = mkiBytes(kp.mki);
  if (kp.lifetime !== undefined) o.keyLifetime = kp.lifetime;
  return o;
}
