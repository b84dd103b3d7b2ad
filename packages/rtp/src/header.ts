/**
 * The RTP fixed header (RFC 3550 sec. 5.1), read in place. These functions
 * take the packet as `bytes[start, end)` so that a caller holding a whole
 * captured frame reads the RTP header where it lies, without a subarray or
 * any other allocation: the analyser and the capture flow table run them on
 * millions of packets per second.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * |                           timestamp                           |
 * |           synchronization source (SSRC) identifier            |
 * |            contributing source (CSRC) identifiers             |  CC x
 * |  defined by profile (X)       |           length (X)          |  sec. 5.3.1
 * ```
 */
import { readU16, readU32 } from './bytes.ts';
import type { RtpProblem } from './errors.ts';

/** RFC 3550 sec. 5.1: the only RTP version. */
export const RTP_VERSION = 2;
/** Octets of the fixed header, before any CSRC (RFC 3550 sec. 5.1). */
export const RTP_FIXED_HEADER_LENGTH = 12;
/** The CC field is 4 bits: at most 15 CSRCs (RFC 3550 sec. 5.1). */
export const MAX_CSRC_COUNT = 15;

/** The fixed-header fields of one RTP packet, copied out (see {@link RtpHeaderView} for reading in place). */
export interface RtpHeader {
  version: number;
  padding: boolean;
  extension: boolean;
  csrcCount: number;
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  /** Fixed header + CSRC list + header extension, in octets: where the payload starts. */
  headerLength: number;
}

/**
 * Length in octets of the RTP header of `bytes[start, end)`: the fixed
 * header, the CSRC list and the header extension (RFC 3550 sec. 5.1, 5.3.1);
 * or what is wrong. The padding is not looked at, because in SRTP it lies in
 * the encrypted part and the packet ends with the authentication tag (RFC
 * 3711 sec. 3.1); see {@link rtpPaddingLength}. Never throws.
 */
export function rtpHeaderLength(bytes: Uint8Array, start = 0, end = bytes.length): number | RtpProblem {
  if (end - start < RTP_FIXED_HEADER_LENGTH) return 'too-short';
  const b0 = bytes[start]!;
  if (b0 >> 6 !== RTP_VERSION) return 'bad-version';
  let len = RTP_FIXED_HEADER_LENGTH + 4 * (b0 & 0x0f);
  if (start + len > end) return 'truncated-csrc';
  if (b0 & 0x10) {
    // RFC 3550 sec. 5.3.1: 16 bits defined by profile, 16-bit length in 32-bit words, not counting this word.
    if (start + len + 4 > end) return 'truncated-extension';
    len += 4 + 4 * readU16(bytes, start + len + 2);
    if (start + len > end) return 'truncated-extension';
  }
  return len;
}

/**
 * Padding octets at the end of the plaintext RTP packet `bytes[start, end)`
 * whose header is `headerLength` octets: 0 without the P bit, else the last
 * octet, which counts the padding including itself (RFC 3550 sec. 5.1); or
 * `bad-padding` when that count is 0 or reaches into the header.
 * Meaningless on SRTP before decryption.
 */
export function rtpPaddingLength(bytes: Uint8Array, start: number, end: number, headerLength: number): number | 'bad-padding' {
  if ((bytes[start]! & 0x20) === 0) return 0;
  const pad = bytes[end - 1]!;
  return pad === 0 || headerLength + pad > end - start ? 'bad-padding' : pad;
}

/**
 * What is wrong with the plaintext RTP packet `bytes[start, end)` (header,
 * CSRCs, extension, padding), or null when nothing is. No allocation.
 */
export function checkRtpPacket(bytes: Uint8Array, start = 0, end = bytes.length): RtpProblem | null {
  const h = rtpHeaderLength(bytes, start, end);
  if (typeof h !== 'number') return h;
  return rtpPaddingLength(bytes, start, end, h) === 'bad-padding' ? 'bad-padding' : null;
}

// Field readers. They assume a fixed header is there (check with rtpHeaderLength first).

/** The marker bit M (RFC 3550 sec. 5.1). */
export function rtpMarker(bytes: Uint8Array, start = 0): boolean {
  return (bytes[start + 1]! & 0x80) !== 0;
}

/** The 7-bit payload type PT (RFC 3550 sec. 5.1). */
export function rtpPayloadType(bytes: Uint8Array, start = 0): number {
  return bytes[start + 1]! & 0x7f;
}

/** The 16-bit sequence number (RFC 3550 sec. 5.1). */
export function rtpSequence(bytes: Uint8Array, start = 0): number {
  return readU16(bytes, start + 2);
}

/** The 32-bit timestamp, unsigned (RFC 3550 sec. 5.1). */
export function rtpTimestamp(bytes: Uint8Array, start = 0): number {
  return readU32(bytes, start + 4);
}

/**
 * The SSRC, unsigned (RFC 3550 sec. 5.1). Where it is only a Map key, `| 0`
 * of it is the same key as a small integer, which V8 hashes fastest.
 */
export function rtpSsrc(bytes: Uint8Array, start = 0): number {
  return readU32(bytes, start + 8);
}

/** CSRC number `i` (0-based, below the CC field), unsigned (RFC 3550 sec. 5.1). */
export function rtpCsrc(bytes: Uint8Array, i: number, start = 0): number {
  return readU32(bytes, start + RTP_FIXED_HEADER_LENGTH + 4 * i);
}
