/**
 * Receiving the text probe: T.140 (RFC 4103) with or without RFC 2198
 * redundancy, reassembled by RTP sequence number. Redundant generation k of
 * packet n is the primary of packet n - k, so text from a lost packet is
 * recovered from any of the R packets after it; text lost for good is marked
 * with one U+FFFD per run of lost packets (T.140 Amendment 1) and reported.
 * Markers are stripped from each block and collected.
 */
import { seqDistance } from '@imslab/rtp';
import { ProbeMediaDecodeError, type ProbeMediaFormat } from './media-errors.ts';
import { parseRedPayload, type RedBlock } from './red.ts';
import { parseT140Block, T140_DEFAULTS, T140_LOST_TEXT, type T140Block } from './t140.ts';

/** An RTP packet of the text stream, as the receiver needs it. */
export interface T140RtpPacket {
  sequence: number;
  timestamp: number;
  payloadType: number;
  payload: Uint8Array;
}

/** What a receiver made of a text stream. */
export interface T140ReceiveResult {
  /** The text in order, markers stripped, U+FFFD once for each run of packets lost for good. */
  text: string;
  /** Distinct probe markers, in order of first appearance. */
  markers: string[];
  /** Packets taken (not counting rejected ones and duplicates). */
  packets: number;
  /** Sequence numbers whose block had no marker (text not from a probe). */
  blocksWithoutMarker: number;
  /** Sequence numbers whose text came only from redundancy: packets lost and recovered. */
  recovered: number;
  /** Runs of sequence numbers lost for good (neither the packet nor a redundant copy arrived). */
  lost: Array<{ firstSequence: number; lastSequence: number; packets: number }>;
}

/**
 * Reassembles a text stream: primaries and redundant generations by
 * sequence number (RFC 4103), text lost for good reported and marked.
 * Loss after the last packet received cannot be seen.
 */
export class T140ProbeReceiver {
  /** By extended sequence number; `empty`: an empty redundant generation (nothing was sent there). */
  private readonly blocks = new Map<number, { text: string; viaRedundancy: boolean; empty: boolean }>();
  private highest: number | null = null;
  private readonly markers: string[] = [];
  private packets = 0;
  private blocksWithoutMarker = 0;

  /** @param redPayloadType text/red's payload type when the stream may use redundancy. */
  constructor(readonly opts: { payloadType?: number; redPayloadType?: number } = {}) {}

  /** Takes one packet; a malformed payload or unknown payload type is returned and the packet ignored. */
  receive(p: T140RtpPacket): ProbeMediaDecodeError | null {
    const t140 = this.opts.payloadType ?? T140_DEFAULTS.payloadType;
    const red = this.opts.redPayloadType;
    let primary: Uint8Array;
    let primaryAt = 0;
    let redundant: RedBlock[] = [];
    let format: ProbeMediaFormat = 't140';
    if (p.payloadType === t140) primary = p.payload;
    else if (red !== undefined && p.payloadType === red) {
      format = 'red';
      const r = parseRedPayload(p.payload);
      if (!r.ok) return r.error;
      for (const b of [...r.value.redundant, r.value.primary]) {
        if (b.payloadType !== t140) return new ProbeMediaDecodeError('red', 'unexpected-payload-type', 0, `a RED block of payload type ${b.payloadType}; this text/red stream carries text/t140 (${t140}) only (RFC 4103)`);
      }
      primary = r.value.primary.data;
      redundant = r.value.redundant;
      primaryAt = p.payload.length - primary.length;
    } else return new ProbeMediaDecodeError('t140', 'unexpected-payload-type', 0, `payload type ${p.payloadType} is neither text/t140 (${t140}) nor text/red (${red ?? 'not negotiated'})`);
    // Parse every block before keeping any: a packet is taken whole or not at all.
    const parsed: Array<{ k: number; block: T140Block }> = [];
    let at = 4 * redundant.length + (format === 'red' ? 1 : 0);
    for (let j = 0; j < redundant.length; j++) {
      const b = parseT140Block(redundant[j]!.data, at, format);
      if (!b.ok) return b.error;
      parsed.push({ k: redundant.length - j, block: b.value });
      at += redundant[j]!.data.length;
    }
    const b = parseT140Block(primary, primaryAt, format);
    if (!b.ok) return b.error;
    parsed.push({ k: 0, block: b.value });
    const ext = this.highest === null ? 0x10000 + p.sequence : this.highest + seqDistance(this.highest & 0xffff, p.sequence);
    if (this.blocks.get(ext)?.viaRedundancy === false) return null; // a duplicate
    this.packets++;
    if (this.highest === null || ext > this.highest) this.highest = ext;
    for (const { k, block } of parsed) {
      const seq = ext - k;
      const had = this.blocks.get(seq);
      if (had && (k > 0 || !had.viaRedundancy)) continue;
      if (k > 0 && block.marker === null && block.text === '') {
        // An empty generation: nothing was sent there, or nothing existed yet.
        if (!had) this.blocks.set(seq, { text: '', viaRedundancy: true, empty: true });
        continue;
      }
      if (block.marker && !this.markers.includes(block.marker)) this.markers.push(block.marker);
      if (!block.marker && !had) this.blocksWithoutMarker++;
      this.blocks.set(seq, { text: block.text, viaRedundancy: k > 0, empty: false });
    }
    return null;
  }

  /** The text so far and the losses. */
  result(): T140ReceiveResult {
    let text = '';
    let recovered = 0;
    const lost: T140ReceiveResult['lost'] = [];
    let prev: number | null = null;
    // By the sequence numbers present, so a stream that jumps far costs nothing per missing number.
    for (const s of [...this.blocks.keys()].sort((a, b) => a - b)) {
      if (prev !== null && s > prev + 1) {
        lost.push({ firstSequence: (prev + 1) & 0xffff, lastSequence: (s - 1) & 0xffff, packets: s - prev - 1 });
        text += T140_LOST_TEXT;
      }
      const b = this.blocks.get(s)!;
      text += b.text;
      if (b.viaRedundancy && !b.empty) recovered++;
      prev = s;
    }
    return { text, markers: [...this.markers], packets: this.packets, blocksWithoutMarker: this.blocksWithoutMarker, recovered, lost };
  }
}
