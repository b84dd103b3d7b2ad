/**
 * RTP and RTCP on one port (RFC 5761 sec. 4): the second octet tells them
 * apart, because RTCP packet types are 192..223 and RTP sent on a shared
 * port avoids payload types 64..95, so M|PT never falls in that range.
 */
import { RTP_FIXED_HEADER_LENGTH, RTP_VERSION } from './header.ts';
import { isRtcpPacketType, RTCP_FIXED_HEADER_LENGTH } from './rtcp.ts';

/** What a datagram on a multiplexed port is. */
export type MuxedPacketKind = 'rtp' | 'rtcp' | 'neither';

/**
 * RFC 5761 sec. 4 demultiplexing of `bytes[start, end)`: `rtcp` for version 2
 * with an RTCP packet type and room for the 8-octet RTCP header, `rtp` for
 * version 2 with any other second octet and room for the 12-octet RTP fixed
 * header, else `neither` (not version 2, or too short for what it would be).
 * Looks at two octets only: the full checks are `rtpHeaderLength` and
 * `looksLikeRtcp`. Never throws.
 */
export function demuxRtpRtcp(bytes: Uint8Array, start = 0, end = bytes.length): MuxedPacketKind {
  const len = end - start;
  if (len < RTCP_FIXED_HEADER_LENGTH || bytes[start]! >> 6 !== RTP_VERSION) return 'neither';
  if (isRtcpPacketType(bytes[start + 1]!)) return 'rtcp';
  return len >= RTP_FIXED_HEADER_LENGTH ? 'rtp' : 'neither';
}
