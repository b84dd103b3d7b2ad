/**
 * RtpHeaderView: an RTP packet's header fields read in place from the bytes
 * it lies in, checked once when the view is pointed at them. One view can be
 * re-pointed at packet after packet (`wrap`), so reading RTP per packet costs
 * no allocation.
 */
import { readU16 } from './bytes.ts';
import { RtpFormatError, type RtpProblem } from './errors.ts';
import {
  RTP_FIXED_HEADER_LENGTH, RTP_VERSION, rtpCsrc, rtpHeaderLength, rtpMarker, rtpPaddingLength, rtpPayloadType, rtpSequence, rtpSsrc, rtpTimestamp,
  type RtpHeader,
} from './header.ts';

const EMPTY = new Uint8Array(0);

/**
 * A checked, non-copying view of one plaintext RTP packet (RFC 3550 sec. 5.1):
 * fixed header, CSRC list, header extension (sec. 5.3.1) and padding all fit
 * the bytes. Offsets (`payloadOffset`, `payloadEnd`) are into the underlying
 * bytes, so a view over a captured frame points into the frame.
 *
 * The view reads the bytes when a field is asked for: changing them changes
 * what it reports.
 */
export class RtpHeaderView {
  private p: Uint8Array = EMPTY;
  private start = 0;
  private end = 0;
  private hdrLen = 0;
  private padLen = 0;

  /**
   * The view of `bytes[start, end)`, or what is wrong with them.
   * Allocates the view; per packet, `wrap` one view instead.
   */
  static parse(bytes: Uint8Array, start = 0, end = bytes.length): RtpHeaderView | RtpProblem {
    const v = new RtpHeaderView();
    return v.wrap(bytes, start, end) ?? v;
  }

  /**
   * Like {@link parse} for bytes that must be RTP.
   * @throws RtpFormatError saying what is wrong
   */
  static from(bytes: Uint8Array, start = 0, end = bytes.length): RtpHeaderView {
    const v = new RtpHeaderView();
    const problem = v.wrap(bytes, start, end);
    if (problem !== null) throw new RtpFormatError(problem, end - start);
    return v;
  }

  /**
   * Points the view at the packet `bytes[start, end)` (`end` is clamped to
   * the array): null when it is a well-formed RTP packet, else the problem
   * (and the view is then empty, so a stale packet is never read by mistake).
   */
  wrap(bytes: Uint8Array, start = 0, end = bytes.length): RtpProblem | null {
    if (end > bytes.length) end = bytes.length;
    const h = rtpHeaderLength(bytes, start, end);
    const pad = typeof h === 'number' ? rtpPaddingLength(bytes, start, end, h) : h;
    if (typeof pad !== 'number') {
      this.p = EMPTY;
      this.start = this.end = this.hdrLen = this.padLen = 0;
      return pad;
    }
    this.p = bytes;
    this.start = start;
    this.end = end;
    this.hdrLen = h as number;
    this.padLen = pad;
    return null;
  }

  /** Whether the view holds a packet (the last `wrap` succeeded). */
  get valid(): boolean {
    return this.hdrLen !== 0;
  }

  /** The bytes the view reads from (the whole underlying array). */
  get bytes(): Uint8Array {
    return this.p;
  }

  /** Always 2 for a valid view (RFC 3550 sec. 5.1). */
  get version(): number {
    return this.hdrLen === 0 ? 0 : RTP_VERSION;
  }

  /** The P bit. */
  get padding(): boolean {
    return this.hdrLen !== 0 && (this.p[this.start]! & 0x20) !== 0;
  }

  /** The X bit: a header extension follows the CSRCs (RFC 3550 sec. 5.3.1). */
  get extension(): boolean {
    return this.hdrLen !== 0 && (this.p[this.start]! & 0x10) !== 0;
  }

  /** The CC field: number of CSRCs. */
  get csrcCount(): number {
    return this.hdrLen === 0 ? 0 : this.p[this.start]! & 0x0f;
  }

  /** The M bit. */
  get marker(): boolean {
    return this.hdrLen !== 0 && rtpMarker(this.p, this.start);
  }

  /** The 7-bit payload type PT. */
  get payloadType(): number {
    return this.hdrLen === 0 ? 0 : rtpPayloadType(this.p, this.start);
  }

  /** The 16-bit sequence number. */
  get sequence(): number {
    return this.hdrLen === 0 ? 0 : rtpSequence(this.p, this.start);
  }

  /** The 32-bit RTP timestamp, unsigned. */
  get timestamp(): number {
    return this.hdrLen === 0 ? 0 : rtpTimestamp(this.p, this.start);
  }

  /** The SSRC, unsigned. */
  get ssrc(): number {
    return this.hdrLen === 0 ? 0 : rtpSsrc(this.p, this.start);
  }

  /** CSRC number `i` (0-based), or undefined beyond the CC field. */
  csrc(i: number): number | undefined {
    return Number.isInteger(i) && i >= 0 && i < this.csrcCount ? rtpCsrc(this.p, i, this.start) : undefined;
  }

  /** The header extension's 16-bit "defined by profile" field (e.g. 0xBEDE, RFC 8285), or undefined without X. */
  get extensionProfile(): number | undefined {
    return this.extension ? readU16(this.p, this.start + RTP_FIXED_HEADER_LENGTH + 4 * this.csrcCount) : undefined;
  }

  /** Fixed header + CSRC list + header extension, in octets. */
  get headerLength(): number {
    return this.hdrLen;
  }

  /** Octets of padding at the end, the count octet included; 0 without the P bit. */
  get paddingLength(): number {
    return this.padLen;
  }

  /** Where the payload starts, as an offset into {@link bytes}. */
  get payloadOffset(): number {
    return this.start + this.hdrLen;
  }

  /** Where the payload ends (the padding starts), as an offset into {@link bytes}. */
  get payloadEnd(): number {
    return this.hdrLen === 0 ? this.start : this.end - this.padLen;
  }

  /** Payload octets, padding excluded. */
  get payloadLength(): number {
    return this.payloadEnd - this.payloadOffset;
  }

  /** The payload as a subarray of the same memory (no copy; allocates the subarray object). */
  payload(): Uint8Array {
    return this.p.subarray(this.payloadOffset, this.payloadEnd);
  }

  /** The header fields copied into a plain object. */
  toHeader(): RtpHeader {
    return {
      version: this.version, padding: this.padding, extension: this.extension, csrcCount: this.csrcCount, marker: this.marker,
      payloadType: this.payloadType, sequence: this.sequence, timestamp: this.timestamp, ssrc: this.ssrc, headerLength: this.hdrLen,
    };
  }

  /** Same as {@link toHeader}, so that logging or JSON.stringify shows the fields. */
  toJSON(): RtpHeader {
    return this.toHeader();
  }
}

/**
 * The header of the plaintext RTP packet `bytes`, copied into an object, or
 * what is wrong with it (padding included). Allocates; on a per-packet path
 * use the functions of header.ts or a reused {@link RtpHeaderView}.
 */
export function readRtpHeader(bytes: Uint8Array): RtpHeader | RtpProblem {
  const v = RtpHeaderView.parse(bytes);
  return typeof v === 'string' ? v : v.toHeader();
}
