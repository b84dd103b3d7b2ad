/** Argument checks shared by the context, the verifier and SDES helpers; they throw named errors. */
import { KeyLengthError, SrtpConfigError } from './errors.ts';
import { isSrtpProfileName, SRTP_PROFILES, type SrtpProfile } from './profiles.ts';

/** The profile named `name`, or an error listing the implemented names. */
export function resolveProfile(name: string): SrtpProfile {
  if (!isSrtpProfileName(name)) {
    throw new SrtpConfigError(`unknown SRTP profile "${name}"; expected one of ${Object.keys(SRTP_PROFILES).join(', ')}`);
  }
  return SRTP_PROFILES[name];
}

/** Checks master key and salt lengths against the profile (RFC 3711 sec. 8.2, RFC 7714 sec. 12). */
export function checkMasterKey(profile: SrtpProfile, masterKey: Uint8Array, masterSalt: Uint8Array): void {
  if (!(masterKey instanceof Uint8Array) || masterKey.length !== profile.keyLength) {
    throw new KeyLengthError(`${profile.name} needs a ${profile.keyLength}-octet master key, got ${describeLength(masterKey)}`);
  }
  if (!(masterSalt instanceof Uint8Array) || masterSalt.length !== profile.saltLength) {
    throw new KeyLengthError(`${profile.name} needs a ${profile.saltLength}-octet master salt, got ${describeLength(masterSalt)}`);
  }
}

function describeLength(v: unknown): string {
  return v instanceof Uint8Array ? `${v.length} octets` : typeof v;
}

/** Checks an optional MKI: 1..128 octets (RFC 4568 sec. 6.1 limits its length to 128). */
export function checkMki(mki: Uint8Array | undefined): void {
  if (mki !== undefined && (!(mki instanceof Uint8Array) || mki.length < 1 || mki.length > 128)) {
    throw new SrtpConfigError(`mki must be 1 to 128 octets, got ${describeLength(mki)}`);
  }
}
