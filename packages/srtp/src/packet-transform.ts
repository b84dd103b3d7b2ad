/**
 * The per-packet cryptographic transform: one instance holds the session
 * keys of either SRTP or SRTCP. Implemented by CmTransform (transform-cm.ts)
 * and GcmTransform (transform-gcm.ts); createTransform (transform.ts) picks
 * one per profile. Packet layout positions are computed by the caller, which
 * has already checked them.
 */
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
