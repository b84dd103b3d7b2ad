/**
 * The text probe: real-time text as T.140 over RTP (RFC 4103, text/t140,
 * 1000 Hz clock), optionally with RFC 2198 redundancy (text/red) as RFC 4103
 * recommends: each packet repeats the T140blocks of the packets before it,
 * so text survives the loss of as many packets in a row.
 *
 * Every T140block the probe sends starts with the probe marker: it is ASCII
 * (`IMSLAB` and ten hex digits), so valid UTF-8 and plain T.140 text, and
 * needs no encoding. Where it lies in the RTP payload:
 * - text/t140: at octet 0;
 * - text/red with R redundant generations: at octet 1 + 4R, right after the
 *   RED headers (R four-octet headers and the one-octet primary header,
 *   RFC 2198 sec. 3). The first block after the headers is the oldest
 *   generation; a generation that does not exist yet (the stream's first R
 *   packets) is an empty block, and the primary is never empty, so the first
 *   octet of block data is always the start of a marker.
 * A receiver strips the marker from each block and reassembles the text by
 * RTP sequence number (redundant generation k of packet n is the primary of
 * packet n - k), marking text lost for good with U+FFFD (RFC 4103, T.140
 * Amendment 1).
 */
import { buildRtp } from '@imslab/rtp';
import { findMarker, MARKER_LENGTH } from './marker.ts';
import { checkDynamicPayloadType, ProbeMediaConfigError, ProbeMediaDecodeError, type ProbeMediaFormat, type ProbeMediaResult } from './media-errors.ts';
import { encodeRedPayload, RED_MAX_BLOCK_LENGTH, RED_MAX_TIMESTAMP_OFFSET, type RedBlock } from './red.ts';

/** RTP clock of text/t140 and text/red (RFC 4103, its media types). */
export const T140_CLOCK_RATE = 1000;
/** RFC 4103 recommends one primary and two redundant generations, and a 300 ms buffering time. */
export const T140_DEFAULTS = { payloadType: 98, redPayloadType: 100, redundantGenerations: 2, intervalMs: 300 } as const;
/** The character a receiver inserts where text was lost (T.140 Amendment 1, RFC 4103). */
export const T140_LOST_TEXT = '\ufffd';
/** T.140's line separator (U+2028). */
export const T140_LINE_SEPARATOR = '\u2028';
/** The default character rate a receiver accepts (RFC 4103 `cps` parameter). */
export const T140_DEFAULT_CPS = 30;

/** Where the marker starts in a text probe payload: 0 for text/t140, 1 + 4R for text/red with R redundant generations. */
export function t140MarkerOffset(redundantGenerations: number | null): number {
  return redundantGenerations === null ? 0 : 1 + 4 * redundantGenerations;
}

/** The probe's text after the marker in packet `n`: a counter, a line separator every tenth packet. */
export function probeText(n: number): string {
  return `#${n}${n % 10 === 9 ? T140_LINE_SEPARATOR : ' '}`;
}

/** How the text probe is sent. */
export interface T140ProbeOptions {
  marker: string;
  ssrc: number;
  /** text/t140 payload type, dynamic. Default 98. */
  payloadType?: number;
  /** RFC 2198 redundancy: text/red payload type and redundant generations (0..8). Omitted or false: plain text/t140. */
  red?: { payloadType?: number; generations?: number } | false;
  /** Milliseconds between packets (RFC 4103: 300 ms buffering). Default 300. */
  intervalMs?: number;
  /** Text after the marker in packet n (UTF-8, no more than the 10-bit RED block length allows). Default {@link probeText}. */
  text?: (n: number) => string;
  firstSequence?: number;
  firstTimestamp?: number;
}

/** One packet as sent. */
export interface T140ProbePacket {
  index: number;
  timestamp: number;
  /** The text it adds (without the marker). */
  text: string;
  packet: Buffer;
}

/** A T140block taken apart: the probe marker at its start, if any, and the text after it. */
export interface T140Block {
  marker: string | null;
  text: string;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const badUtf8 = (format: ProbeMediaFormat, offset: number, detail: string): { ok: false; error: ProbeMediaDecodeError } => ({
  ok: false,
  error: new ProbeMediaDecodeError(format, 'bad-utf8', offset, detail),
});

/**
 * Reads a T140block (RFC 4103: T.140 text in UTF-8); a block that is
 * not valid UTF-8 is an error value. `offset` is where the block lies in the
 * payload, for the error.
 */
export function parseT140Block(block: Uint8Array, offset = 0, format: ProbeMediaFormat = 't140'): ProbeMediaResult<T140Block> {
  let text: string;
  try {
    text = UTF8.decode(block);
  } catch {
    return badUtf8(format, offset, `a T140block of ${block.length} octets is not valid UTF-8 (RFC 4103: T.140 text is UTF-8)`);
  }
  const m = block.length >= MARKER_LENGTH ? findMarker(block.subarray(0, MARKER_LENGTH)) : null;
  return { ok: true, value: m ? { marker: m, text: text.slice(MARKER_LENGTH) } : { marker: null, text } };
}

/** Generates the text probe packet by packet. Pure: packet n is the same for the same options. */
export class T140ProbeSender {
  readonly payloadType: number;
  readonly redPayloadType: number | null;
  readonly generations: number;
  readonly intervalMs: number;
  private n = 0;
  private readonly history: Array<{ timestamp: number; data: Uint8Array }> = [];

  constructor(readonly opts: T140ProbeOptions) {
    if (typeof opts.marker !== 'string' || findMarker(Buffer.from(opts.marker, 'latin1')) !== opts.marker) {
      throw new ProbeMediaConfigError('marker', opts.marker, `not a probe marker (${MARKER_LENGTH} octets: IMSLAB and ten hex digits, marker.ts)`);
    }
    this.payloadType = opts.payloadType ?? T140_DEFAULTS.payloadType;
    checkDynamicPayloadType('payloadType', this.payloadType);
    this.redPayloadType = opts.red ? (opts.red.payloadType ?? T140_DEFAULTS.redPayloadType) : null;
    this.generations = opts.red ? (opts.red.generations ?? T140_DEFAULTS.redundantGenerations) : 0;
    if (this.redPayloadType !== null) {
      checkDynamicPayloadType('red.payloadType', this.redPayloadType);
      if (this.redPayloadType === this.payloadType) throw new ProbeMediaConfigError('red.payloadType', this.redPayloadType, 'text/red needs a payload type of its own, not text/t140\'s');
      if (!Number.isInteger(this.generations) || this.generations < 0 || this.generations > 8) throw new ProbeMediaConfigError('red.generations', this.generations, 'must be 0..8 (RFC 4103 recommends 2)');
    }
    this.intervalMs = opts.intervalMs ?? T140_DEFAULTS.intervalMs;
    if (!Number.isInteger(this.intervalMs) || this.intervalMs < 1 || this.intervalMs * this.generations > RED_MAX_TIMESTAMP_OFFSET) {
      throw new ProbeMediaConfigError('intervalMs', this.intervalMs, `must be a positive integer, and the oldest redundant generation's offset (interval x generations) at most ${RED_MAX_TIMESTAMP_OFFSET} ms (RFC 2198 sec. 3)`);
    }
  }

  /** The RTP timestamp of packet `index` (1000 Hz, modulo 2^32). */
  timestampOf(index: number): number {
    return ((this.opts.firstTimestamp ?? 0) + index * this.intervalMs) >>> 0;
  }

  /** Octet offset of the marker in this stream's payloads. */
  get markerOffset(): number {
    return t140MarkerOffset(this.redPayloadType === null ? null : this.generations);
  }

  /** The next packet. The first has the RTP marker bit (RFC 4103: first packet after an idle period). */
  nextPacket(): T140ProbePacket {
    const index = this.n++;
    const text = (this.opts.text ?? probeText)(index);
    const block = Buffer.from(this.opts.marker + text, 'utf8');
    if (block.length > RED_MAX_BLOCK_LENGTH) throw new ProbeMediaConfigError('text', text, `a T140block of ${block.length} octets: at most ${RED_MAX_BLOCK_LENGTH} with the marker (RFC 2198 block length)`);
    const timestamp = this.timestampOf(index);
    let payload: Uint8Array = block;
    if (this.redPayloadType !== null) {
      const redundant: RedBlock[] = [];
      for (let k = this.generations; k >= 1; k--) {
        const h = this.history[this.history.length - k];
        redundant.push(h ? { payloadType: this.payloadType, timestampOffset: (timestamp - h.timestamp) >>> 0, data: h.data } : { payloadType: this.payloadType, timestampOffset: 0, data: new Uint8Array(0) });
      }
      payload = encodeRedPayload({ redundant, primary: { payloadType: this.payloadType, data: block } });
      this.history.push({ timestamp, data: block });
      if (this.history.length > this.generations) this.history.shift();
    }
    const packet = buildRtp({ payloadType: this.redPayloadType ?? this.payloadType, sequence: ((this.opts.firstSequence ?? 0) + index) & 0xffff, timestamp, ssrc: this.opts.ssrc, marker: index === 0 }, payload);
    return { index, timestamp, text, packet };
  }

  /**
   * Characters per second this stream sends at most, marker included (for
   * `cps`): the longest block among the first hundred packets and around
   * each power of ten up to 10^7 (a month at 300 ms), where counters grow.
   */
  charactersPerSecond(): number {
    const text = this.opts.text ?? probeText;
    let most = 0;
    const sample = (i: number) => (most = Math.max(most, [...this.opts.marker + text(i)].length));
    for (let i = 0; i < 100; i++) sample(i);
    for (let p = 1000; p <= 1e7; p *= 10) for (let i = p - 10; i < p + 10; i++) sample(i);
    return Math.ceil((most * 1000) / this.intervalMs);
  }

  /**
   * The SDP a UE offers for this stream (as in RFC 4103's SDP examples):
   * `m=text`, text/red first when redundancy is on (its fmtp lists the
   * primary and each redundant generation's payload type), text/t140 with
   * `cps` when the marker pushes the rate above the default 30.
   */
  sdpLines(port: number, profile = 'RTP/AVP'): string[] {
    const t = this.payloadType;
    const cps = this.charactersPerSecond();
    const t140 = [`a=rtpmap:${t} t140/${T140_CLOCK_RATE}`, ...(cps > T140_DEFAULT_CPS ? [`a=fmtp:${t} cps=${cps}`] : [])];
    if (this.redPayloadType === null) return [`m=text ${port} ${profile} ${t}`, ...t140];
    const r = this.redPayloadType;
    return [`m=text ${port} ${profile} ${r} ${t}`, `a=rtpmap:${r} red/${T140_CLOCK_RATE}`, `a=fmtp:${r} ${Array(this.generations + 1).fill(t).join('/')}`, ...t140];
  }
}
