import { CaptureFileReader, decodeFrame, flowKeyString, looksLikeMsrp, looksLikeSip, looksLikeTls, type CapturedPacket } from '@imslab/capture';
import { demuxRtpRtcp, estimateRoc, looksLikeRtcp, packetIndex, rtpHeaderLength, rtpSequence, rtpSsrc } from '@imslab/rtp';
import { fastUdp, ipv4String, type UdpView } from './fast-udp.ts';
import { findMarker } from '@imslab/probe';
import type { LoggedKey } from './keys.ts';
import { readSipSdp, type SdesOffer, type SdpEndpoint } from './sip-sdp.ts';

/** Ports that carry signalling or control, never media. */
const SIGNALLING_PORTS = new Set([5060, 5061, 2223, 8000, 8080]);
/** Full key scans per flow before the rest of its undecodable packets are counted unknown. */
const MAX_KEY_SCANS_PER_FLOW = 20;
/**
 * Authentication tags verified in a row before a flow's key is trusted; then
 * one packet in SAMPLE_EVERY is verified (and decrypted to read its marker)
 * and the others are attributed to the same key. Any failed sample puts the
 * flow back to checking every packet, so a key change or an injected packet
 * is caught within SAMPLE_EVERY packets. This keeps the analysis of large
 * captures fast (HMAC per packet would dominate); `srtpVerified` says how
 * many tags were actually checked.
 */
const TRUST_AFTER = 64;
const SAMPLE_EVERY = 16;

/** How often one probe marker was seen on a flow, and when: in the clear and under each key. */
export interface MarkerCount {
  plaintext: number;
  srtp: Record<string, number>;
  /** First and last time (µs) it was seen in the clear / under SRTP; null when never. */
  plaintextSpan: [number, number] | null;
  srtpSpan: [number, number] | null;
}

export interface MediaFlowReport {
  flow: string;
  src: string;
  dst: string;
  ssrcs: number[];
  packets: number;
  /** Packets whose probe marker is readable as sent: plaintext RTP. */
  plaintext: number;
  /** Packets attributed to a logged key, by key id (verified, or sampled: see `srtpVerified`). */
  srtp: Record<string, number>;
  /** Of those, packets whose authentication tag was actually verified. */
  srtpVerified: number;
  /** RTP-shaped packets neither plaintext-with-marker nor verifying under any logged key. */
  unknown: number;
  /** Markers found, plaintext or after decryption with the verifying key: marker -> packets. */
  markers: Record<string, MarkerCount>;
  /**
   * Packets without a marker or a verifying key whose payload bytes, over the
   * whole flow, are far from uniform: audio sent in the clear (real speech, a
   * codec's silence) rather than ciphertext. See `isAudioLike`.
   */
  plaintextUnmarked: number;
  /** Shannon entropy (bits per octet) of the unknown packets' payloads; ciphertext is close to 8. */
  unknownEntropy: number | null;
  /**
   * How the flow was found: `sdp` when an SDP seen in the captures (plaintext
   * SIP, or SIP read inside TLS) announced its destination, with that Call-ID;
   * `heuristic` when only the RTP header shape identified it.
   */
  foundBy?: { how: 'sdp' | 'heuristic'; callId?: string };
  /** RTP packets missing from the sequence numbers, summed over the flow's SSRCs (RFC 3550 A.3). */
  lost: number;
  rtcp: number;
  /** RTCP packets authenticated as SRTCP under a logged key, by key id (RFC 3711 sec. 3.4). */
  srtcp: Record<string, number>;
  firstUs: number;
  lastUs: number;
}

export interface SignallingReport {
  /** SIP messages readable on this link (UDP/TCP without TLS). */
  plaintextSip: number;
  /** TLS records seen. */
  tlsRecords: number;
  /** SDES keys (a=crypto inline:...) readable in plaintext SIP on this link. */
  exposedSdesKeys: string[];
  /** The same keys with their crypto-suite, so the analyser can try them on the media. */
  sdesOffers: SdesOffer[];
  /** a=3ge2ae values readable in plaintext SIP on this link. */
  e2aeIndicators: string[];
  /** MIKEY messages (a=key-mgmt:mikey) readable in plaintext SIP: tickets are opaque, but who sent them is visible. */
  mikeyOffers: number;
  /** Media endpoints announced in plaintext SDP (c= address, m= port), with the Call-ID that set them up. */
  sdpEndpoints: SdpEndpoint[];
  /** MSRP messages readable in the clear (RFC 4975), and their flows. */
  plaintextMsrp: number;
  msrpFlows: string[];
  sipFlows: string[];
  tlsFlows: string[];
}

export interface LinkReport {
  link: string;
  file: string;
  packets: number;
  media: MediaFlowReport[];
  signalling: SignallingReport;
  /** A capture that could not be read to the end: what and where. */
  error?: string;
}

interface FlowState {
  report: MediaFlowReport;
  key: LoggedKey | null;
  scans: number;
  /** Sequence state per SSRC: rollover counter (RFC 3711 sec. 3.3.1) and loss counting. */
  roc: Map<number, SeqState>;
  /** Byte histogram of the payloads of packets that are neither marked nor verifiable. */
  histogram: Uint32Array | null;
  /** Packets classified the same way in a row (same key, or same plaintext marker). */
  run: number;
  /** The marker the flow's last checked packet carried. */
  marker: string | null;
  /** 'srtp' or 'plain' once `run` reached TRUST_AFTER: then only samples are checked. */
  mode: 'srtp' | 'plain' | null;
  tick: number;
  /** Trusted packets not yet added to the report, and the last one's time (added in bulk by `flush`). */
  pending: number;
  pendingUs: number;
  /** The SSRC of the flow's previous packet and its sequence state (skips a lookup per packet). */
  lastSsrc: number;
  lastSeq: SeqState | null;
}

/** Below this many octets the entropy estimate is too noisy to call a flow audio. */
const MIN_ENTROPY_SAMPLE = 4000;
/**
 * Ciphertext (AES-CM, GCM) is uniform: about 7.95+ bits per octet over a few
 * thousand octets. G.711 speech, tones and silence stay well below 7.5.
 */
const CIPHERTEXT_ENTROPY = 7.5;

export function entropyBits(h: Uint32Array): { bits: number; total: number } {
  let total = 0;
  for (const n of h) total += n;
  let bits = 0;
  for (const n of h) if (n > 0) bits -= (n / total) * Math.log2(n / total);
  return { bits, total };
}

interface SeqState {
  roc: number;
  /** Highest sequence number seen, and its extended form. */
  last: number;
  maxExt: number;
  /** Extended sequence number of the first packet, and packets seen. */
  base: number;
  received: number;
}

/**
 * The packet's rollover counter, estimated as RFC 3711 Appendix A does
 * (closest of ROC-1, ROC, ROC+1 to the highest index seen), so late packets
 * from before a wrap neither advance nor confuse it. Also counts packets for
 * the loss figure (RFC 3550 A.3: expected minus received).
 */
function rocFor(state: FlowState, ssrc: number, seq: number): number {
  let r = ssrc === state.lastSsrc ? state.lastSeq : state.roc.get(ssrc);
  if (!r) {
    r = { roc: 0, last: seq, maxExt: seq, base: seq, received: 0 };
    state.roc.set(ssrc, r);
  }
  state.lastSeq = r;
  const v = estimateRoc(seq, r.last, r.roc);
  const ext = packetIndex(v, seq);
  if (ext > r.maxExt) {
    r.maxExt = ext;
    r.roc = v;
    r.last = seq;
  }
  r.received++;
  return Math.max(v, 0);
}

function tryKey(key: LoggedKey, pkt: Buffer, roc: number): Buffer | null {
  const hit = key.verifier.verifyRtp(pkt, roc === 0 ? [0] : [roc, roc - 1]);
  return hit ? hit.packet : null;
}

/** Adds a trusted flow's pending packets to its report, under the class in effect while they came. */
function flush(st: FlowState): void {
  const n = st.pending;
  if (n === 0) return;
  const r = st.report;
  if (st.mode === 'plain') {
    r.plaintext += n;
    countMarker(r, st.marker!, null, st.pendingUs, n);
  } else if (st.key) {
    r.srtp[st.key.id] = (r.srtp[st.key.id] ?? 0) + n;
    if (st.marker) countMarker(r, st.marker, st.key.id, st.pendingUs, n);
  }
  st.pending = 0;
}

function countMarker(r: MediaFlowReport, marker: string, keyId: string | null, ts: number, n = 1): void {
  const m = (r.markers[marker] ??= { plaintext: 0, srtp: {}, plaintextSpan: null, srtpSpan: null });
  if (keyId === null) {
    m.plaintext += n;
    if (m.plaintextSpan) m.plaintextSpan[1] = ts;
    else m.plaintextSpan = [ts, ts];
  } else {
    m.srtp[keyId] = (m.srtp[keyId] ?? 0) + n;
    if (m.srtpSpan) m.srtpSpan[1] = ts;
    else m.srtpSpan = [ts, ts];
  }
}

/** Reads one link's capture and classifies every flow on it. */
export async function scanLink(link: string, file: string, keys: LoggedKey[]): Promise<LinkReport> {
  const sig: SignallingReport = {
    plaintextSip: 0, tlsRecords: 0, exposedSdesKeys: [], sdesOffers: [], e2aeIndicators: [], mikeyOffers: 0, sdpEndpoints: [],
    plaintextMsrp: 0, msrpFlows: [], sipFlows: [], tlsFlows: [],
  };
  const report: LinkReport = { link, file, packets: 0, media: [], signalling: sig };
  const scanner = new MediaScanner(keys, sig);
  let reader: CaptureFileReader | null = null;
  try {
    // Chunk by chunk: the packets of a chunk in a plain loop, one await per chunk.
    reader = await CaptureFileReader.open(file);
    while (await reader.refill()) {
      for (let p = reader.next(); p !== null; p = reader.next()) {
        report.packets++;
        scanner.packet(p);
      }
    }
  } catch (e) {
    report.error = (e as Error).message;
  } finally {
    await reader?.close();
  }
  report.media = scanner.finish();
  return report;
}

/** SIGNALLING_PORTS as a lookup table: this test runs for every packet. */
const SIGNALLING_TABLE = new Uint8Array(65536);
for (const port of SIGNALLING_PORTS) SIGNALLING_TABLE[port] = 1;
const isSignallingPort = (a: number, b: number) => SIGNALLING_TABLE[a] === 1 || SIGNALLING_TABLE[b] === 1;

/** Per-link state of the scan: flows by 5-tuple, with the fast path for IPv4/UDP. */
class MediaScanner {
  private readonly flows = new Map<string, FlowState>();
  /**
   * IPv4/UDP flows by a small-integer hash of the 5-tuple (a V8 small integer
   * hashes fastest), each bucket checked field by field: no strings and no
   * floating-point keys on the hot path.
   */
  private readonly buckets = new Map<number, Array<{ srcIp: number; dstIp: number; srcPort: number; dstPort: number; st: FlowState }>>();
  private readonly view: UdpView = { srcIp: 0, dstIp: 0, srcPort: 0, dstPort: 0, start: 0, end: 0 };

  constructor(private readonly keys: LoggedKey[], private readonly sig: SignallingReport) {}

  packet(p: CapturedPacket): void {
    const v = this.view;
    if (fastUdp(p.linkType, p.data, v) && !isSignallingPort(v.srcPort, v.dstPort)) {
      const h = ((v.srcPort * 31 + v.dstPort) ^ (v.srcIp & 0xffff) ^ ((v.dstIp & 0xffff) << 13)) & 0x3fffffff;
      let bucket = this.buckets.get(h);
      let st: FlowState | undefined;
      if (bucket) {
        for (const e of bucket) {
          if (e.srcPort === v.srcPort && e.dstPort === v.dstPort && e.srcIp === v.srcIp && e.dstIp === v.dstIp) {
            st = e.st;
            break;
          }
        }
      } else {
        this.buckets.set(h, (bucket = []));
      }
      if (!st) {
        st = this.flow('udp', ipv4String(v.srcIp), v.srcPort, ipv4String(v.dstIp), v.dstPort, p.timestampUs);
        bucket.push({ srcIp: v.srcIp, dstIp: v.dstIp, srcPort: v.srcPort, dstPort: v.dstPort, st });
      }
      this.media(st, p.data, v.start, v.end, p.timestampUs);
      return;
    }
    const d = decodeFrame(p.linkType, p.data);
    if (!d || d.protocol === 'other' || d.payload.length === 0) return;
    if (d.protocol === 'tcp' || isSignallingPort(d.srcPort, d.dstPort)) {
      this.signalling(flowKeyString({ protocol: d.protocol, src: d.src, srcPort: d.srcPort, dst: d.dst, dstPort: d.dstPort }), d.payload);
      return;
    }
    this.media(this.flow('udp', d.src, d.srcPort, d.dst, d.dstPort, p.timestampUs), d.payload, 0, d.payload.length, p.timestampUs);
  }

  private flow(protocol: 'udp', src: string, srcPort: number, dst: string, dstPort: number, ts: number): FlowState {
    const name = flowKeyString({ protocol, src, srcPort, dst, dstPort });
    let st = this.flows.get(name);
    if (!st) {
      st = {
        report: { flow: name, src: `${src}:${srcPort}`, dst: `${dst}:${dstPort}`, ssrcs: [], packets: 0, plaintext: 0, srtp: {}, srtpVerified: 0, unknown: 0, markers: {}, plaintextUnmarked: 0, unknownEntropy: null, lost: 0, rtcp: 0, srtcp: {}, firstUs: ts, lastUs: ts },
        key: null, scans: 0, roc: new Map(), histogram: null, run: 0, marker: null, mode: null, tick: 0, pending: 0, pendingUs: 0, lastSsrc: -1, lastSeq: null,
      };
      this.flows.set(name, st);
    }
    return st;
  }

  private signalling(flowName: string, payload: Buffer): void {
    const sig = this.sig;
    if (looksLikeTls(payload)) {
      sig.tlsRecords++;
      if (!sig.tlsFlows.includes(flowName)) sig.tlsFlows.push(flowName);
    } else if (looksLikeSip(payload)) {
      sig.plaintextSip++;
      if (!sig.sipFlows.includes(flowName)) sig.sipFlows.push(flowName);
      const sdp = readSipSdp(payload.toString('latin1'));
      for (const o of sdp.sdes) {
        if (sig.exposedSdesKeys.includes(o.keySalt)) continue;
        sig.exposedSdesKeys.push(o.keySalt);
        sig.sdesOffers.push(o);
      }
      for (const v of sdp.e2ae) if (!sig.e2aeIndicators.includes(v)) sig.e2aeIndicators.push(v);
      sig.mikeyOffers += sdp.mikeyOffers;
      for (const e of sdp.endpoints) if (!sig.sdpEndpoints.some((x) => x.endpoint === e.endpoint && x.callId === e.callId)) sig.sdpEndpoints.push(e);
    } else if (looksLikeMsrp(payload)) {
      sig.plaintextMsrp++;
      if (!sig.msrpFlows.includes(flowName)) sig.msrpFlows.push(flowName);
    }
  }

  /**
   * One UDP payload of a non-signalling flow (bytes `start`..`end` of `frame`):
   * RTP, RTCP or neither. Reads the header in place; a Buffer view is made
   * only for the packets that are actually checked.
   */
  private media(st: FlowState, frame: Buffer, start: number, end: number, ts: number): void {
    const r = st.report;
    r.lastUs = ts;
    // RFC 5761 sec. 4: RTCP multiplexed on the media port has an RTCP packet type in the second octet.
    const kind = demuxRtpRtcp(frame, start, end);
    if (kind === 'rtcp') {
      if (looksLikeRtcp(frame, start, end)) {
        r.rtcp++;
        this.rtcp(st, frame.subarray(start, end));
      }
      return;
    }
    if (kind !== 'rtp') return;
    // RFC 3550 sec. 5.1, 5.3.1: fixed header plus CSRCs and extension; the padding is SRTP ciphertext, not checked.
    const headerLength = rtpHeaderLength(frame, start, end);
    if (typeof headerLength !== 'number') return;
    r.packets++;
    const seq = rtpSequence(frame, start);
    const ssrc = rtpSsrc(frame, start);
    const roc = rocFor(st, ssrc, seq);
    if (ssrc !== st.lastSsrc) {
      st.lastSsrc = ssrc;
      if (!r.ssrcs.includes(ssrc)) r.ssrcs.push(ssrc);
      // Several streams in one flow (a conference bridge, a sender that changed SSRC): sampling one
      // packet in SAMPLE_EVERY could always land on the same stream (two interleaved streams and an
      // even period) and credit its marker and class with the other's packets. Check every packet.
      if (r.ssrcs.length > 1 && st.mode !== null) {
        flush(st);
        st.mode = null;
        st.run = 0;
      }
    }
    // Trusted flows: only one packet in SAMPLE_EVERY is checked; the others are
    // counted in bulk (this is the per-packet hot path).
    if (st.mode !== null && ++st.tick % SAMPLE_EVERY !== 0) {
      st.pending++;
      st.pendingUs = ts;
      return;
    }
    flush(st);
    const pkt = frame.subarray(start, end);
    const plainMarker = findMarker(pkt, headerLength);
    if (plainMarker) {
      r.plaintext++;
      countMarker(r, plainMarker, null, ts);
      this.settle(st, 'plain', plainMarker);
      return;
    }
    let clear = st.key ? tryKey(st.key, pkt, roc) : null;
    if (!clear && st.scans < MAX_KEY_SCANS_PER_FLOW) {
      st.scans++;
      for (const k of this.keys) {
        if (k === st.key) continue;
        clear = tryKey(k, pkt, roc);
        if (clear) {
          st.key = k;
          st.run = 0;
          break;
        }
      }
    }
    if (!clear || !st.key) {
      r.unknown++;
      st.mode = null;
      st.run = 0;
      const h = (st.histogram ??= new Uint32Array(256));
      for (let i = headerLength; i < pkt.length; i++) h[pkt[i]!]!++;
      return;
    }
    r.srtp[st.key.id] = (r.srtp[st.key.id] ?? 0) + 1;
    r.srtpVerified++;
    const m = findMarker(clear, headerLength);
    if (m) countMarker(r, m, st.key.id, ts);
    this.settle(st, 'srtp', m);
  }

  /**
   * RTCP on a media flow (or rtcp-mux): SRTCP under the flow's key or any
   * logged key, or plain RTCP. RTCP is rare (one report every few seconds),
   * so every packet is checked.
   */
  private rtcp(st: FlowState, pkt: Buffer): void {
    const candidates = st.key ? [st.key, ...this.keys.filter((k) => k !== st.key)] : this.keys;
    for (const k of candidates) {
      if (k.verifier.verifyRtcp(pkt)) {
        st.report.srtcp[k.id] = (st.report.srtcp[k.id] ?? 0) + 1;
        return;
      }
    }
  }

  /** Counts a checked packet towards trusting the flow; any change of class or marker resets. */
  private settle(st: FlowState, mode: 'srtp' | 'plain', marker: string | null): void {
    const same = st.marker === marker && (st.mode === mode || st.mode === null);
    st.run = same ? st.run + 1 : 1;
    st.marker = marker;
    st.mode = st.run >= TRUST_AFTER && (mode === 'srtp' || marker !== null) && st.report.ssrcs.length <= 1 ? mode : null;
  }

  finish(): MediaFlowReport[] {
    for (const f of this.flows.values()) {
      flush(f);
      for (const r of f.roc.values()) f.report.lost += Math.max(0, r.maxExt - r.base + 1 - r.received);
      if (!f.histogram) continue;
      const { bits, total } = entropyBits(f.histogram);
      f.report.unknownEntropy = Math.round(bits * 1000) / 1000;
      if (total >= MIN_ENTROPY_SAMPLE && bits < CIPHERTEXT_ENTROPY) {
        f.report.plaintextUnmarked = f.report.unknown;
        f.report.unknown = 0;
      }
    }
    return [...this.flows.values()].map((f) => f.report);
  }
}
