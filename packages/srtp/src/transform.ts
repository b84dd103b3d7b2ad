/**
 * The per-packet cryptographic transform shared by {@link SrtpContext} and
 * {@link SrtpVerifier}: no replay or ROC state here, only keys. One instance
 * holds the session keys of either SRTP or SRTCP.
 */
import type { SessionKeys } from './kdf.ts';
import type { SrtpProfile } from './profiles.ts';
import { CmTransform } from './transform-cm.ts';
import { GcmTransform } from './transform-gcm.ts';

/** Packet layout positions computed by the caller, which has already checked them. */
export interface PacketTransform {
  /** Tag octets this transform adds (SRTP or SRTCP tag length). */
  readonly tagLength: number;
  /**
   * SRTP packet from an RTP packet: header kept, payload encrypted unless
   * `encrypt` is false (UNENCRYPTED_SRTP, RFC 4568 sec. 6.3.2), MKI and tag added.
   */
  sealRtp(rtp: Uint8Array, hdrLen: number, ssrc: number, roc: number, encrypt: boolean, mki: Uint8Array | undefined): Buffer;
  /** RTP packet from an SRTP packet, or null when the tag does not verify. */
  openRtp(srtp: Uint8Array, hdrLen: number, ssrc: number, roc: number, encrypted: boolean, mkiLen: number): Buffer | null;
  /** Like {@link openRtp} for several ROC guesses; the first that authenticates wins. */
  openRtpAnyRoc(srtp: Uint8Array, hdrLen: number, ssrc: number, rocs: readonly number[], encrypted: boolean, mkiLen: number): { roc: number; packet: Buffer } | null;
  /** SRTCP packet from an RTCP packet with the given 31-bit index and E flag (RFC 3711 sec. 3.4). */
  sealRtcp(rtcp: Uint8Array, ssrc: number, index: number, encrypt: boolean, mki: Uint8Array | undefined): Buffer;
  /** RTCP packet from an SRTCP packet (E flag read from the packet), or null when the tag does not verify. */
  openRtcp(srtcp: Uint8Array, ssrc: number, mkiLen: number): Buffer | null;
  /** Offset of the E||SRTCP-index word in an SRTCP packet of `len` octets. */
  rtcpIndexOffset(len: number, mkiLen: number): number;
}

/** Transform for `profile` keyed with `keys`; `rtcp` selects the SRTCP tag length. */
export function createTransform(profile: SrtpProfile, keys: SessionKeys, rtcp: boolean): PacketTransform {
  if (profile.aead) return new GcmTransform(keys, profile.authTagLength);
  return new CmTransform(keys, rtcp ? profile.srtcpAuthTagLength : profile.authTagLength);
}
