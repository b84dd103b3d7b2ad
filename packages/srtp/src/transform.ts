/**
 * The per-packet cryptographic transform shared by {@link SrtpContext} and
 * {@link SrtpVerifier}: no replay or ROC state here, only keys. One instance
 * holds the session keys of either SRTP or SRTCP.
 */
import type { SessionKeys } from './kdf.ts';
import type { PacketTransform } from './packet-transform.ts';
import type { SrtpProfile } from './profiles.ts';
import { CmTransform } from './transform-cm.ts';
import { GcmTransform } from './transform-gcm.ts';

export type { PacketTransform } from './packet-transform.ts';

/** Transform for `profile` keyed with `keys`; `rtcp` selects the SRTCP tag length. */
export function createTransform(profile: SrtpProfile, keys: SessionKeys, rtcp: boolean): PacketTransform {
  if (profile.aead) return new GcmTransform(keys, profile.authTagLength);
  return new CmTransform(keys, rtcp ? profile.srtcpAuthTagLength : profile.authTagLength);
}
