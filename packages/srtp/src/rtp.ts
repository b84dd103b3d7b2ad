/**
 * SRTP's two header checks, on @imslab/rtp: an RTP or RTCP header reduced
 * to the two failure reasons SRTP reports ('too-short', 'not-rtp'). Field
 * reads and byte access come from @imslab/rtp directly.
 */
import { demuxRtpRtcp, RTCP_FIXED_HEADER_LENGTH, RTP_FIXED_HEADER_LENGTH, rtpHeaderLength } from '@imslab/rtp';

/** Why a packet could not be parsed as RTP/RTCP. */
export type HeaderFailure = 'too-short' | 'not-rtp';

/**
 * Length of the SRTP packet's RTP header including CSRC list and header
 * extension (RFC 3550 sec. 5.1, 5.3.1), or why there is none: 'not-rtp' when
 * the version is not 2 or the second octet is an RTCP packet type (RFC 5761
 * sec. 4), 'too-short' when the packet ends before the header it declares.
 * The padding is not checked: it is encrypted (RFC 3711 sec. 3.1).
 */
export function srtpHeaderLength(p: Uint8Array): number | HeaderFailure {
  if (p.length < RTP_FIXED_HEADER_LENGTH) return 'too-short';
  if (demuxRtpRtcp(p) !== 'rtp') return 'not-rtp';
  const len = rtpHeaderLength(p);
  return typeof len === 'number' ? len : 'too-short';
}

/**
 * Checks an (S)RTCP packet's first header (RFC 3550 sec. 6.4): 8 octets, V=2,
 * packet type 192..223 (RFC 5761 sec. 4). The length word is not checked:
 * SRTCP appends the index, MKI and tag after the compound packet.
 */
export function checkRtcpHeader(p: Uint8Array): HeaderFailure | null {
  if (p.length < RTCP_FIXED_HEADER_LENGTH) return 'too-short';
  return demuxRtpRtcp(p) === 'rtcp' ? null : 'not-rtp';
}
