/**
 * @imslab/rtp: the one place RTP is taken apart and put together in imslab.
 * RTP fixed header (RFC 3550 sec. 5.1, 5.3.1) read in place, header building,
 * RTCP recognition and sender reports (RFC 3550 sec. 6), RTP/RTCP
 * demultiplexing on one port (RFC 5761 sec. 4), sequence-number distance,
 * SRTP packet index and rollover-counter guessing (RFC 3711 sec. 3.3.1,
 * App. A), per-SSRC loss (RFC 3550 A.1, A.3), and the big-endian word
 * access all of it is written with (SRTP uses it for its ROC and SRTCP index
 * words). Pure, no dependencies.
 */
export { RtpError, RtpFormatError, RtpBuildError, describeRtpProblem, type RtpProblem } from './errors.ts';
export {
  RTP_VERSION, RTP_FIXED_HEADER_LENGTH, MAX_CSRC_COUNT, rtpHeaderLength, rtpPaddingLength, checkRtpPacket,
  rtpMarker, rtpPayloadType, rtpSequence, rtpTimestamp, rtpSsrc, rtpCsrc, type RtpHeader,
} from './header.ts';
export { RtpHeaderView, readRtpHeader } from './header-view.ts';
export { buildRtp, writeRtpHeader, rtpHeaderSize, type RtpHeaderFields } from './build.ts';
export { RTCP_FIXED_HEADER_LENGTH, RTCP_PACKET_TYPE, isRtcpPacketType, looksLikeRtcp, rtcpSenderSsrc, buildSenderReport } from './rtcp.ts';
export { demuxRtpRtcp, type MuxedPacketKind } from './demux.ts';
export { RTP_SEQ_MOD, seqDistance, packetIndex, estimateRoc, initialSequenceNumber } from './sequence.ts';
export { RtpSequenceState } from './sequence-state.ts';
export { readU16, readU32, writeU16, writeU32 } from './bytes.ts';
