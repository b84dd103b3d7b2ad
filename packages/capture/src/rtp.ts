/**
 * The RTP names @imslab/capture has always exported, served by @imslab/rtp
 * (the one RTP implementation of the repository). Only `parseRtpHeader`
 * adds anything: this package's sniffers answer "not RTP" with null.
 */
import { readRtpHeader, type RtpHeader } from '@imslab/rtp';

export { looksLikeRtcp, rtcpSenderSsrc, RtpSequenceState, buildRtp as buildRtpPacket, type RtpHeader, type RtpHeaderFields as RtpBuildFields } from '@imslab/rtp';

/**
 * RFC 3550 sec. 5.1 header of a plaintext RTP packet; null when it is not
 * plausibly RTP (version, CSRCs, extension or padding do not fit; @imslab/rtp's
 * `readRtpHeader` says which). Never throws.
 */
export function parseRtpHeader(buf: Uint8Array): RtpHeader | null {
  const h = readRtpHeader(buf);
  return typeof h === 'string' ? null : h;
}
