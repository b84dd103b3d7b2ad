/**
 * Directional flow tracking with payload classification and RTP loss.
 *
 * `add` is the per-packet hot path. Lookups go through one Map keyed by an
 * int32 of the two ports, then compare the (cached, shared) address strings,
 * so no key string is built per packet; RTP fields are read straight from
 * the payload bytes, and the last SSRC of a flow is cached.
 */
import type { DecodedPacket } from './decode-frame.ts';
import type { CapturedPacket } from './packet.ts';
import { checkRtpPacket, demuxRtpRtcp, looksLikeRtcp, rtcpSenderSsrc, RtpSequenceState, rtpSequence, rtpSsrc } from '@imslab/rtp';
import { looksLikeDtls, looksLikeMsrp, looksLikeSip, looksLikeTls } from './signatures.ts';

/** What a flow carries, judged from its first payloads (`tls` includes DTLS). */
export type FlowKind = 'sip' | 'tls' | 'rtp' | 'rtcp' | 'msrp' | 'other';

/** Directional flow key. */
export interface FlowKey {
  protocol: 'udp' | 'tcp';
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
}

/** Live statistics of one flow (the object returned by `add` is updated in place). */
export interface FlowStats {
  key: FlowKey;
  kind: FlowKind;
  packets: number;
  /** Sum of transport payload bytes (UDP/TCP payload, not frame length). */
  bytes: number;
  /** Earliest and latest packet timestamps (µs). */
  firstUs: number;
  lastUs: number;
  /** RTP: SSRCs in order of appearance; RTCP: sender SSRCs. */
  ssrcs: number[];
  /** RTP only: sequence number of the first and of the most recent RTP packet. */
  firstSeq?: number;
  lastSeq?: number;
  /** RTP only: packets lost, summed over SSRCs (RFC 3550 A.3 expected - received, per SSRC never negative). */
  lost?: number;
}

/** Per-SSRC view of an RTP flow (addition). */
export interface RtpStreamStats {
  ssrc: number;
  packets: number;
  received: number;
  firstSeq: number;
  lastSeq: number;
  /** Highest extended sequence number (RFC 3550 A.1). */
  extendedMaxSeq: number;
  expected: number;
  lost: number;
}

/** How many non-empty payloads an unclassified flow gets before it stays `other`. */
const CLASSIFY_ATTEMPTS = 8;
const STUN_MAGIC_COOKIE = 0x2112a442;

interface FlowEntry {
  stats: FlowStats;
  udp: boolean;
  classifyLeft: number;
  streams: Map<number, RtpSequenceState> | null;
  lastSsrc: number;
  lastStream: RtpSequenceState | null;
}

/** Flows by their two ports (int32 key); the array is almost always one flow long. */
type PortIndex = Map<number, FlowEntry[]>;

/** "udp 127.0.1.10:5060 > 127.0.2.10:5060"; IPv6 addresses in brackets (RFC 5952 sec 6). */
export function flowKeyString(k: FlowKey): string {
  const ep = (a: string, p: number): string => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
  return `${k.protocol} ${ep(k.src, k.srcPort)} > ${ep(k.dst, k.dstPort)}`;
}

/**
 * Tracks directional flows; classification by first payloads (SIP, TLS, MSRP,
 * RTP, RTCP; DTLS counts as `tls`), RTP loss from sequence gaps per SSRC
 * (extended sequence numbers, RFC 3550 A.1). A UDP flow first seen as
 * `tls` (DTLS) or `rtcp` becomes `rtp` when RTP follows on the same
 * 5-tuple (DTLS-SRTP and rtcp-mux demultiplexing, RFC 7983 / RFC 5761).
 */
export class FlowTable {
  /**
   * Packets that are neither UDP nor TCP are not flows: `add` counts them
   * here and returns this object, which `flows()` never lists (its key has
   * empty addresses).
   */
  readonly untracked: FlowStats = {
    key: { protocol: 'udp', src: '', srcPort: 0, dst: '', dstPort: 0 },
    kind: 'other', packets: 0, bytes: 0, firstUs: 0, lastUs: 0, ssrcs: [],
  };

  private readonly udp: PortIndex = new Map();
  private readonly tcp: PortIndex = new Map();
  private readonly entries: FlowEntry[] = [];
  private readonly byStats = new Map<FlowStats, FlowEntry>();

  /** Accounts one decoded packet; returns its flow's live stats. */
  add(p: CapturedPacket, d: DecodedPacket): FlowStats {
    if (d.protocol === 'other') {
      const u = this.untracked;
      if (u.packets++ === 0) u.firstUs = p.timestampUs;
      u.bytes += d.payload.length;
      u.lastUs = p.timestampUs;
      return u;
    }
    const e = this.entry(d);
    const s = e.stats;
    const ts = p.timestampUs;
    if (s.packets++ === 0) { s.firstUs = ts; s.lastUs = ts; }
    else if (ts > s.lastUs) s.lastUs = ts;
    else if (ts < s.firstUs) s.firstUs = ts;
    const payload = d.payload;
    s.bytes += payload.length;
    if (payload.length === 0) return s;
    if (e.classifyLeft > 0) this.classify(e, payload);
    const kind = s.kind;
    if (kind === 'rtp') this.rtp(e, payload);
    else if (e.udp && (kind === 'rtcp' || kind === 'tls')) this.promote(e, payload);
    return s;
  }

  /** All flows in order of first appearance (the live objects). */
  flows(): FlowStats[] {
    return this.entries.map((e) => e.stats);
  }

  /** Flow with this key, if seen (addition). */
  get(key: FlowKey): FlowStats | undefined {
    const list = (key.protocol === 'udp' ? this.udp : this.tcp).get((key.srcPort << 16) | key.dstPort);
    return list?.find((e) => e.stats.key.src === key.src && e.stats.key.dst === key.dst)?.stats;
  }

  /** Per-SSRC statistics of an RTP flow returned by this table (addition); empty for other flows. */
  rtpStreams(flow: FlowStats): RtpStreamStats[] {
    const streams = this.byStats.get(flow)?.streams;
    if (!streams) return [];
    return [...streams.values()].map((r) => ({
      ssrc: r.ssrc, packets: r.packets, received: r.received, firstSeq: r.firstSeq, lastSeq: r.lastSeq,
      extendedMaxSeq: r.extendedMax, expected: r.expected, lost: r.lost,
    }));
  }

  private entry(d: DecodedPacket): FlowEntry {
    const udp = d.protocol === 'udp';
    const index = udp ? this.udp : this.tcp;
    // One small-integer Map probe, then address comparison: the strings come
    // from decodeFrame's cache, so `===` is usually a pointer comparison.
    const portKey = (d.srcPort << 16) | d.dstPort;
    let list = index.get(portKey);
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) {
        const e = list[i]!;
        const k = e.stats.key;
        if (k.src === d.src && k.dst === d.dst) return e;
      }
    } else {
      index.set(portKey, (list = []));
    }
    const stats: FlowStats = {
      key: { protocol: udp ? 'udp' : 'tcp', src: d.src, srcPort: d.srcPort, dst: d.dst, dstPort: d.dstPort },
      kind: 'other', packets: 0, bytes: 0, firstUs: 0, lastUs: 0, ssrcs: [],
      firstSeq: undefined, lastSeq: undefined, lost: undefined,
    };
    const e: FlowEntry = { stats, udp, classifyLeft: CLASSIFY_ATTEMPTS, streams: null, lastSsrc: 0, lastStream: null };
    list.push(e);
    this.entries.push(e);
    this.byStats.set(stats, e);
    return e;
  }

  private classify(e: FlowEntry, payload: Buffer): void {
    let kind: FlowKind = 'other';
    if (looksLikeSip(payload)) kind = 'sip';
    else if (looksLikeMsrp(payload)) kind = 'msrp';
    else if (looksLikeTls(payload) || (e.udp && looksLikeDtls(payload))) kind = 'tls';
    else if (e.udp) {
      if (looksLikeRtcp(payload)) kind = 'rtcp';
      else if (isRtpPacket(payload)) kind = 'rtp';
      // ICE/STUN checks (RFC 8489 magic cookie) often precede media: do not spend an attempt on them.
      else if (payload.length >= 20 && payload[0]! < 4 && payload.readUInt32BE(4) === STUN_MAGIC_COOKIE) return;
    }
    if (kind === 'other') {
      e.classifyLeft--;
      return;
    }
    e.classifyLeft = 0;
    e.stats.kind = kind;
    if (kind === 'rtcp') this.rtcpSsrc(e, payload);
  }

  /** RFC 7983 / RFC 5761: in a UDP `tls` (DTLS) or `rtcp` flow, an RTP packet makes it an RTP flow. */
  private promote(e: FlowEntry, payload: Buffer): void {
    if (looksLikeRtcp(payload)) {
      if (e.stats.kind === 'rtcp') this.rtcpSsrc(e, payload);
      return;
    }
    if (!isRtpPacket(payload)) return;
    e.stats.kind = 'rtp';
    e.stats.ssrcs.length = 0;
    this.rtp(e, payload);
  }

  private rtcpSsrc(e: FlowEntry, payload: Buffer): void {
    const ssrc = rtcpSenderSsrc(payload);
    if (!e.stats.ssrcs.includes(ssrc)) e.stats.ssrcs.push(ssrc);
  }

  private rtp(e: FlowEntry, p: Buffer): void {
    if (demuxRtpRtcp(p) !== 'rtp') return; // not RTP, or multiplexed RTCP (RFC 5761 sec. 4)
    const seq = rtpSequence(p);
    const ssrc = rtpSsrc(p) | 0; // int32 on purpose (small-integer Map key)
    let st = e.lastStream;
    let before = 0; // a new stream has lost nothing yet
    if (st !== null && e.lastSsrc === ssrc) before = st.lost;
    else {
      let streams = e.streams;
      if (streams === null) e.streams = streams = new Map();
      st = streams.get(ssrc) ?? null;
      if (st === null) {
        st = new RtpSequenceState(ssrc, seq);
        streams.set(ssrc, st);
        e.stats.ssrcs.push(ssrc >>> 0);
      } else {
        before = st.lost;
      }
      e.lastSsrc = ssrc;
      e.lastStream = st;
    }
    st.update(seq);
    const s = e.stats;
    if (s.firstSeq === undefined) { s.firstSeq = seq; s.lost = 0; }
    s.lastSeq = seq;
    s.lost = (s.lost ?? 0) + st.lost - before;
  }
}

/**
 * A plaintext RTP packet as classification wants it: RTP by RFC 5761 sec. 4
 * (not an RTCP packet type) and well formed (RFC 3550 sec. 5.1, padding too).
 */
function isRtpPacket(p: Buffer): boolean {
  return demuxRtpRtcp(p) === 'rtp' && checkRtpPacket(p) === null;
}
