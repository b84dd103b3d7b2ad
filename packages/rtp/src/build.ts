/**
 * Writing RTP headers (RFC 3550 sec. 5.1): V=2 always; CSRCs, a header
 * extension (sec. 5.3.1) and padding on request. Sequence number, timestamp
 * and SSRC are modular quantities and are written modulo 2^16 / 2^32, so a
 * sender may count past the wrap; fields that cannot be carried at all
 * (a payload type above 127, 16 CSRCs) are an {@link RtpBuildError}.
 */
import { writeU16, writeU32 } from './bytes.ts';
import { RtpBuildError } from './errors.ts';
import { MAX_CSRC_COUNT, RTP_FIXED_HEADER_LENGTH, RTP_VERSION } from './header.ts';

/** What to put in an RTP header. */
export interface RtpHeaderFields {
  /** 0..127. */
  payloadType: number;
  /** Written modulo 2^16. */
  sequence: number;
  /** Written modulo 2^32. */
  timestamp: number;
  /** Written modulo 2^32. */
  ssrc: number;
  marker?: boolean;
  /** At most 15. */
  csrcs?: readonly number[];
  /** Header extension: the 16-bit profile field (e.g. 0xBEDE, RFC 8285) and a body of whole 32-bit words. */
  extension?: { profile: number; data: Uint8Array };
}

/** Octets the header of `h` takes: fixed header, CSRCs, extension. */
export function rtpHeaderSize(h: RtpHeaderFields): number {
  const csrcs = h.csrcs?.length ?? 0;
  return RTP_FIXED_HEADER_LENGTH + 4 * csrcs + (h.extension ? 4 + h.extension.data.length : 0);
}

function check(h: RtpHeaderFields): void {
  if (!Number.isInteger(h.payloadType) || h.payloadType < 0 || h.payloadType > 127) {
    throw new RtpBuildError('payloadType', h.payloadType, 'the PT field is 7 bits: 0..127 (RFC 3550 sec. 5.1)');
  }
  for (const [name, v] of [['sequence', h.sequence], ['timestamp', h.timestamp], ['ssrc', h.ssrc]] as const) {
    if (!Number.isInteger(v)) throw new RtpBuildError(name, v, 'must be an integer');
  }
  const csrcs = h.csrcs ?? [];
  if (csrcs.length > MAX_CSRC_COUNT) throw new RtpBuildError('csrcs', csrcs.length, `the CC field is 4 bits: at most ${MAX_CSRC_COUNT} CSRCs (RFC 3550 sec. 5.1)`);
  for (const c of csrcs) if (!Number.isInteger(c)) throw new RtpBuildError('csrcs', c, 'every CSRC must be an integer');
  const ext = h.extension;
  if (ext) {
    if (!Number.isInteger(ext.profile) || ext.profile < 0 || ext.profile > 0xffff) throw new RtpBuildError('extension.profile', ext.profile, 'the profile field is 16 bits (RFC 3550 sec. 5.3.1)');
    if (ext.data.length % 4 !== 0 || ext.data.length > 4 * 0xffff) {
      throw new RtpBuildError('extension.data', ext.data.length, 'the extension body is counted in 32-bit words, at most 65535 (RFC 3550 sec. 5.3.1)');
    }
  }
}

/**
 * Writes the header of `h` into `out` at `offset` and returns its length;
 * the P bit is left clear ({@link buildRtp} sets it when it adds padding).
 * For senders that keep one header buffer: no allocation.
 * @throws RtpBuildError for a field the header cannot carry, or when `out` is too small
 */
export function writeRtpHeader(out: Uint8Array, offset: number, h: RtpHeaderFields): number {
  check(h);
  const len = rtpHeaderSize(h);
  if (!Number.isInteger(offset) || offset < 0 || offset + len > out.length) {
    throw new RtpBuildError('offset', offset, `the ${len}-octet header does not fit a ${out.length}-octet buffer there`);
  }
  const csrcs = h.csrcs ?? [];
  out[offset] = (RTP_VERSION << 6) | (h.extension ? 0x10 : 0) | csrcs.length;
  out[offset + 1] = (h.marker ? 0x80 : 0) | h.payloadType;
  writeU16(out, offset + 2, h.sequence);
  writeU32(out, offset + 4, h.timestamp);
  writeU32(out, offset + 8, h.ssrc);
  let at = offset + RTP_FIXED_HEADER_LENGTH;
  for (const c of csrcs) {
    writeU32(out, at, c);
    at += 4;
  }
  if (h.extension) {
    writeU16(out, at, h.extension.profile);
    writeU16(out, at + 2, h.extension.data.length / 4);
    out.set(h.extension.data, at + 4);
  }
  return len;
}

/**
 * A whole RTP packet: header, payload and, when `padding` > 0, that many
 * padding octets (zeros, the last one holding the count, RFC 3550 sec. 5.1;
 * 1..255), with the P bit set.
 * @throws RtpBuildError for a field the header cannot carry or a bad padding count
 */
export function buildRtp(h: RtpHeaderFields, payload: Uint8Array, padding = 0): Buffer {
  if (!Number.isInteger(padding) || padding < 0 || padding > 255) throw new RtpBuildError('padding', padding, 'the padding count is one octet: 0..255 (RFC 3550 sec. 5.1)');
  const out = Buffer.alloc(rtpHeaderSize(h) + payload.length + padding);
  const len = writeRtpHeader(out, 0, h);
  out.set(payload, len);
  if (padding > 0) {
    out[0] = out[0]! | 0x20;
    out[out.length - 1] = padding;
  }
  return out;
}
