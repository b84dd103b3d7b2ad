/**
 * The little of RTCP (RFC 3550 sec. 6) the testbed needs: recognising an
 * RTCP packet's common header, its sender SSRC, and a sender report for the
 * UE to send.
 */
import { readU16, readU32, writeU16, writeU32 } from './bytes.ts';
import { RTP_VERSION } from './header.ts';

/** V/P/RC, PT, length and the sender SSRC: the first 8 octets of every RTCP packet (RFC 3550 sec. 6.4.1). */
export const RTCP_FIXED_HEADER_LENGTH = 8;

/** RTCP packet types (RFC 3550 sec. 12.1; RTPFB and PSFB RFC 4585; XR RFC 3611). */
export const RTCP_PACKET_TYPE = Object.freeze({ SR: 200, RR: 201, SDES: 202, BYE: 203, APP: 204, RTPFB: 205, PSFB: 206, XR: 207 });

/**
 * True for a second octet in 192..223: the RTCP packet types, which RTP
 * multiplexed on the same port must not look like (RFC 5761 sec. 4: RTP
 * payload types 64..95 are not used there, so M|PT never falls in this range).
 */
export function isRtcpPacketType(secondOctet: number): boolean {
  return secondOctet >= 192 && secondOctet <= 223;
}

/**
 * Whether `bytes[start, end)` starts with a plausible RTCP packet: at least
 * the 8-octet header, version 2, an RTCP packet type (RFC 5761 sec. 4), and a
 * length word (32-bit words minus one, RFC 3550 sec. 6.4.1) that fits, so
 * that arbitrary bytes are rarely taken for RTCP. Never throws.
 */
export function looksLikeRtcp(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  if (end - start < RTCP_FIXED_HEADER_LENGTH) return false;
  if (bytes[start]! >> 6 !== RTP_VERSION || !isRtcpPacketType(bytes[start + 1]!)) return false;
  return (readU16(bytes, start + 2) + 1) * 4 <= end - start;
}

/** SSRC of the sender of the (first) RTCP packet, octets 4..7, unsigned; assumes the 8-octet header is there. */
export function rtcpSenderSsrc(bytes: Uint8Array, start = 0): number {
  return readU32(bytes, start + 4);
}

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970), for the SR's NTP timestamp (RFC 3550 sec. 4). */
const NTP_UNIX_OFFSET = 2_208_988_800;

/**
 * A sender report without report blocks (RFC 3550 sec. 6.4.1): 28 octets,
 * NTP timestamp from `nowMs` (Unix milliseconds), the RTP timestamp and the
 * sender's packet and octet counts (the counters wrap modulo 2^32).
 */
export function buildSenderReport(ssrc: number, rtpTimestamp: number, packets: number, octets: number, nowMs = Date.now()): Buffer {
  const out = Buffer.alloc(28);
  out[0] = RTP_VERSION << 6;
  out[1] = RTCP_PACKET_TYPE.SR;
  writeU16(out, 2, out.length / 4 - 1);
  writeU32(out, 4, ssrc);
  writeU32(out, 8, Math.floor(nowMs / 1000) + NTP_UNIX_OFFSET);
  writeU32(out, 12, Math.floor(((nowMs % 1000) / 1000) * 2 ** 32));
  writeU32(out, 16, rtpTimestamp);
  writeU32(out, 20, packets);
  writeU32(out, 24, octets);
  return out;
}
