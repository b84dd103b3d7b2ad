/**
 * The little RTP/RTCP header parsing SRTP needs: header length (CSRCs and
 * extension included, RFC 3550 sec. 5.1 and 5.3.1), SSRC and sequence number.
 */
import { RTCP_FIXED_HEADER, RTP_FIXED_HEADER } from './profiles.ts';

/** Why a packet could not be parsed as RTP/RTCP. */
export type HeaderFailure = 'too-short' | 'not-rtp';

/** True for a second octet in 192..223: an RTCP packet type, which RTP must not look like (RFC 5761 sec. 4). */
function isRtcpTypeOctet(b1: number): boolean {
  return b1 >= 192 && b1 <= 223;
}

/**
 * Length of the RTP header including CSRC list and header extension, or why
 * there is none: 'too-short' when the packet ends before the header it
 * declares, 'not-rtp' when the version is not 2 or it is an RTCP packet type.
 */
export function rtpHeaderLength(p: Uint8Array): number | HeaderFailure {
  if (p.length < RTP_FIXED_HEADER) return 'too-short';
  const b0 = p[0]!;
  // RFC 3550 sec. 5.1: V=2.
  if (b0 >> 6 !== 2) return 'not-rtp';
  if (isRtcpTypeOctet(p[1]!)) return 'not-rtp';
  let len = RTP_FIXED_HEADER + 4 * (b0 & 0x0f);
  if (b0 & 0x10) {
    // RFC 3550 sec. 5.3.1: 16-bit profile field, 16-bit length in 32-bit words.
    if (len + 4 > p.length) return 'too-short';
    len += 4 + 4 * ((p[len + 2]! << 8) | p[len + 3]!);
  }
  return len > p.length ? 'too-short' : len;
}

/** Checks an RTCP packet's first header (RFC 3550 sec. 6.4): length, V=2, packet type 192..223 (RFC 5761 sec. 4). */
export function checkRtcpHeader(p: Uint8Array): HeaderFailure | null {
  if (p.length < RTCP_FIXED_HEADER) return 'too-short';
  if (p[0]! >> 6 !== 2 || !isRtcpTypeOctet(p[1]!)) return 'not-rtp';
  return null;
}

/** Big-endian 32-bit read as an unsigned number. */
export function readU32(p: Uint8Array, off: number): number {
  return ((p[off]! << 24) | (p[off + 1]! << 16) | (p[off + 2]! << 8) | p[off + 3]!) >>> 0;
}

/** Big-endian 32-bit write. */
export function writeU32(p: Uint8Array, off: number, v: number): void {
  p[off] = v >>> 24;
  p[off + 1] = v >>> 16;
  p[off + 2] = v >>> 8;
  p[off + 3] = v;
}

/** SSRC of an RTP packet (octets 8..11). */
export function rtpSsrc(p: Uint8Array): number {
  return readU32(p, 8);
}

/** Sequence number of an RTP packet (octets 2..3). */
export function rtpSeq(p: Uint8Array): number {
  return (p[2]! << 8) | p[3]!;
}

/** Sender SSRC of an RTCP packet (octets 4..7). */
export function rtcpSsrc(p: Uint8Array): number {
  return readU32(p, 4);
}
