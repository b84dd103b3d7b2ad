/**
 * One link's capture, read once, every packet accounted for.
 *
 * Each UDP payload is routed by what it is, never by its port: an RTP or
 * RTCP header (first octet 0x80..0xBF, RFC 7983) goes to the media flows;
 * anything else is tried as SIP, MSRP, DTLS, TLS and STUN. TCP is put back
 * in order per direction and read as SIP, MSRP or TLS records
 * (tcp-streams.ts). IPv4 and IPv6; IP fragments are reassembled first
 * (ip-fragments.ts).
 *
 * Each RTP packet of each flow is exactly one of:
 * - `plaintext`: a probe marker is readable as sent, anywhere in the payload
 *   (this wins over a tag that verifies: SRTP without encryption is read);
 * - `srtp[key]`: its authentication tag verifies under that key (every tag
 *   is checked; HMAC-SHA1 tags four at a time in WebAssembly SIMD);
 * - `replayed`: readable or authentic, but its (SSRC, index) was already
 *   accepted in the same context (in the clear, or under that key) or is
 *   older than the replay window (replay-window.ts): what a receiver drops;
 * - `unknown`: none of these (encrypted under no logged key, forged,
 *   corrupted); at the end of the scan, a flow whose unknown packets are
 *   audio-like rather than ciphertext has them counted `plaintextUnmarked`.
 * So `plaintext + sum(srtp) + replayed + unknown + plaintextUnmarked ==
 * packets` on every flow, and `rtcpPlain + sum(srtcp) + srtcpUnknown ==
 * rtcp`.
 */
import { CaptureFileReader, decodeFrame, flowKeyString, LINKTYPE, looksLikeDtls, looksLikeMsrp, looksLikeSip, looksLikeTls, type CapturedPacket } from '@imslab/capture';
import { findClearFloorControl } from '@imslab/floor-control';
import { estimateRoc, looksLikeRtcp, packetIndex, rtpHeaderLength, rtpSequence, rtpSsrc } from '@imslab/rtp';
import { findMarker, MARKER_LENGTH, MARKER_PREFIX } from '@imslab/probe';
import { SrtpVerifier } from '@imslab/srtp';
import { fastUdp, ipv4String, type UdpView } from './fast-udp.ts';
import { IpReassembler } from './ip-fragments.ts';
import type { LoggedKey } from './keys.ts';
import { ReplayWindow } from './replay-window.ts';
import { readSipSdp, type SdesOffer, type SdpEndpoint } from './sip-sdp.ts';
import { TcpSignalling } from './tcp-streams.ts';

/**
 * Reading the probe marker of SRTP packets. Every packet's tag is verified,
 * and every verified packet's marker is read where its stream carries it: at
 * the start of the payload for audio (the conference bridge stamps its mixes
 * at the same place), further in for video and text/red (probe-media.ts). At
 * the start, the first payload block XOR a predicted keystream head (one AES
 * call per KEYSTREAM_READS packets of a stream in order), so a packet is never
 * decrypted whole for it (AES-GCM, and AES-CM with an MKI, decrypt that block
 * one packet at a time). Elsewhere the payload is decrypted on its own up to
 * the marker's end. Where a stream's marker lies is learned from its packets,
 * not from its SDP: when the marker is not where it was last read, the first
 * MARKER_SEARCH payload octets are decrypted and searched (paced like the key
 * scan on a stream without a marker, so unmarked media costs one such search
 * in MAX_SCAN_GAP packets).
 *
 * Why not one packet in N: a conference bridge stamps each mixed packet with
 * one contributor's marker in turn (round-robin by sequence number), and any
 * fixed stride aliases with such a pattern: a contributor whose turns never
 * fall on a sampled packet would never be seen leaving the bridge.
 */
/**
 * A packet that does not verify under its stream's key is tried against every
 * logged key ("key scan"). On a stream under no logged key that would be
 * every key for every packet, so scans are paced per SSRC: at its first
 * packets, then at doubling intervals up to one in MAX_SCAN_GAP packets. A
 * packet verifying under the stream's key resets the pacing, so a stream that
 * changes keys is rescanned at once. Packets between scans that would verify
 * under another logged key are counted `unknown` (never a protection claim).
 */
export const MAX_SCAN_GAP = 64;
/**
 * ROCs above the flow's own a key scan also tries while the stream has no
 * key: a relay (e2e conference, PoC) sends a member's SRTP on to someone who
 * joined after the sender's sequence numbers wrapped, and the new flow's
 * first packet then carries ROC 1 or more (RFC 3711 sec. 3.3.1).
 */
export const LATE_JOIN_ROCS = 4;
/** Tag checks queued before they are computed together. */
const BATCH = 64;
const NO_MARKER = Buffer.alloc(0);
/** Packets whose keystream heads are computed in one AES call. */
const KEYSTREAM_READS = 64;
/**
 * Payload octets searched for a marker that is not where its stream had it:
 * as far as any probe puts it (text/red with the sender's most, 8, redundant
 * generations: offset 1 + 4 * 8, t140.ts) and the marker, in whole AES blocks.
 */
const MARKER_SEARCH = 64;

/** How often one probe marker was seen on a flow, and when: in the clear and under each key. */
export interface MarkerCount {
  /**
   * Packets in which the marker was readable as sent: the `plaintext` packets
   * carrying it and the replayed ones (`replayedPlaintext`): plaintext never
   * hides behind the replay class.
   */
  plaintext: number;
  /** SRTP packets (class `srtp`, replays not included) carrying it, by key (every verified packet's marker is read). */
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
  /** RTP packets (RTCP is counted apart, in `rtcp`). */
  packets: number;
  /** Packets whose probe marker is readable as sent, whose (SSRC, index) was new: plaintext RTP. */
  plaintext: number;
  /** Packets whose authentication tag verified under a logged key, with an (SSRC, index) new under that key, by key id. */
  srtp: Record<string, number>;
  /** Packets whose tag was verified: every packet of `srtp` (no sampling), so the sum of `srtp`. */
  srtpVerified: number;
  /**
   * Of `srtp`, packets whose marker was read: every one (at the offset where
   * the same SSRC under the same key carried it last: the first payload block
   * with a predicted keystream at offset 0, else a prefix of the payload
   * decrypted on its own; a search of the first MARKER_SEARCH octets when it
   * is not there).
   */
  srtpDecrypted: number;
  /**
   * Packets a receiver would drop as replays: readable plaintext or
   * authentic under a key (the tag verifies), whose (SSRC, index) (RFC 3711
   * sec. 3.3.1: index = 2^16 * ROC + SEQ) was already accepted in the same
   * context, i.e. in the clear or under that key, or is older than the
   * replay window (REPLAY_WINDOW indices below the highest). A packet that
   * does not authenticate is never a replay: it is `unknown`.
   */
  replayed: number;
  /** Of `replayed`, repeats of readable plaintext (their markers still count in `markers[m].plaintext`). */
  replayedPlaintext: number;
  /** RTP packets neither readable plaintext nor authenticating under any logged key, nor audio-like (see `plaintextUnmarked`). */
  unknown: number;
  /**
   * Of `unknown`, packets on a flow on which other packets authenticated
   * under a logged key: they did not authenticate under it or any other
   * logged key (forged, corrupted, or protected by someone else). Zero on a
   * flow where nothing authenticated.
   */
  unauthenticated: number;
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
  /** RTCP-shaped packets (RFC 3550 sec. 6.4, RFC 5761 sec. 4): `rtcpPlain + sum(srtcp) + srtcpUnknown`. */
  rtcp: number;
  /** RTCP packets authenticated as SRTCP under a logged key, by key id (RFC 3711 sec. 3.4). */
  srtcp: Record<string, number>;
  /**
   * Plain RTCP: a compound packet whose length fields add up exactly to the
   * datagram (RFC 3550 sec. 6.1, 6.4), V=2 and an RTCP type in every part.
   * SRTCP adds the E flag and index, an optional MKI and the tag after the
   * compound packet (and encrypts all but the first 8 octets), so it does not
   * add up.
   */
  rtcpPlain: number;
  /** RTCP-shaped packets that are neither plain RTCP nor SRTCP under a logged key: SRTCP under a key nobody logged, or junk. */
  srtcpUnknown: number;
  /**
   * RTCP datagrams whose PoC floor control (RTCP APP `MCPT`, TS 24.380) anyone
   * can read: plain RTCP, or SRTCP sent with encryption off (E=0). Encrypted
   * SRTCP shows only the header (RFC 3711 sec. 3.4) and is not counted.
   */
  floorControlClear: number;
  firstUs: number;
  lastUs: number;
}

/** SIP messages with SDES keys kept per link (sdesMessages): a bound on memory for long runs; a scenario sends a few dozen. */
export const MAX_SDES_MESSAGES = 10_000;

export interface SignallingReport {
  /** SIP messages readable on this link: UDP datagrams and TCP streams on any port, recognised by content. */
  plaintextSip: number;
  /** TLS records seen on TCP (record headers walked in each reassembled stream), any port. */
  tlsRecords: number;
  /** DTLS records on UDP (RFC 9147; DTLS-SRTP keying, RFC 5764), any port. */
  dtlsRecords: number;
  /** STUN messages on UDP (RFC 8489 magic cookie), any port. */
  stunMessages: number;
  /** SDES keys (a=crypto inline:...) readable in plaintext SIP on this link (any SDP seen, any port and transport). */
  exposedSdesKeys: string[];
  /** The same keys with their crypto-suite, so the analyser can try them on the media. */
  sdesOffers: SdesOffer[];
  /**
   * Every SIP message read in the clear that carried SDES keys: its Call-ID,
   * flow (`udp a:p > b:p`) and keys, so who handed which key to whom can be
   * told (a hop that swaps the keys, issue 13). At most MAX_SDES_MESSAGES.
   */
  sdesMessages?: Array<{ callId: string; flow: string; keys: string[] }>;
  /** a=3ge2ae values readable in plaintext SIP on this link. */
  e2aeIndicators: string[];
  /** MIKEY messages (a=key-mgmt:mikey) readable in plaintext SIP: tickets are opaque, but who sent them is visible. */
  mikeyOffers: number;
  /** Media endpoints announced in plaintext SDP (c= address, m= port), with the Call-ID that set them up. */
  sdpEndpoints: SdpEndpoint[];
  /** MSRP messages readable in the clear (RFC 4975; framed by their end-line on TCP), and their flows. */
  plaintextMsrp: number;
  msrpFlows: string[];
  sipFlows: string[];
  tlsFlows: string[];
  dtlsFlows: string[];
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

/** One SSRC under one key: what a receiver's SRTP context holds (replay list), and the marker read under it. */
interface KeyCtx {
  key: LoggedKey;
  /** The key's handle in the tag-check batch; -1 when its packets are checked one by one (AES-GCM, MKI). */
  handle: number;
  window: ReplayWindow;
  /** Packets verified under it with a new index. */
  count: number;
  /** Marker read last (null: none in the decrypted packet) and its octets. */
  marker: string | null;
  markerBytes: Buffer;
  /** Payload offset where the marker was found last (0 until found elsewhere: audio's place, the fast path). */
  markerOffset: number;
  /** Pacing of the searches for a marker not at `markerOffset` (MAX_SCAN_GAP): next at `count` = searchAt. */
  searchAt: number;
  searchGap: number;
  /**
   * Keystream heads of the next packets, predicted (indices ksFirst,
   * ksFirst + 1, ...: a stream in order): one AES call per KEYSTREAM_READS
   * packets. Null until the first, or for AES-GCM.
   */
  ks: Buffer | null;
  ksFirst: number;
  /** Packets credited to `marker` and not yet in the report, and the first and last time. */
  credit: number;
  creditFirstUs: number;
  creditLastUs: number;
  /**
   * This key's rollover counter minus the stream's. A sender that switches
   * keys (a re-key without MKI) may start the new key's context afresh (ROC
   * 0) while the sequence numbers run on: after a wrap the stream's ROC is 1
   * and every packet under the new key is sent with 0 (seen: a conference
   * member whose first sequence number was 65535).
   */
  rocDelta: number;
}

/** One SSRC in the clear: its replay list and the marker it carried last. */
interface PlainCtx {
  window: ReplayWindow;
  marker: string | null;
  /** The marker's octets, compared with the payload's first octets (the probe writes it there). */
  bytes: Buffer;
  credit: number;
  creditFirstUs: number;
  creditLastUs: number;
}

/** One RTP stream (SSRC) of a flow. */
interface Stream {
  ssrc: number;
  /** RFC 3711 sec. 3.3.1 / App. A index estimation and RFC 3550 A.3 loss: highest sequence number, its ROC and extended form. */
  roc: number;
  last: number;
  maxExt: number;
  base: number;
  received: number;
  /** The key context this stream verified under last, and every one it did. */
  ctx: KeyCtx | null;
  ctxs: KeyCtx[];
  plain: PlainCtx | null;
  /** Packets of the stream so far, and the key-scan pacing (MAX_SCAN_GAP). */
  n: number;
  scanAt: number;
  scanGap: number;
  /** Its packets waiting in the tag-check queue (they are classified before any later packet of the stream). */
  queued: number;
}

interface FlowState {
  report: MediaFlowReport;
  streams: Map<number, Stream>;
  /** The stream of the flow's previous packet (skips a lookup per packet). */
  last: Stream | null;
  /** Byte histogram of the payloads of `unknown` packets (sampled: HISTOGRAM_FULL), and unknown packets so far. */
  histogram: Uint32Array | null;
  unknownSeen: number;
  /** Some packet authenticated under a logged key. */
  keyed: boolean;
}

/** Below this many octets the entropy estimate is too noisy to call a flow audio. */
const MIN_ENTROPY_SAMPLE = 4000;
/**
 * The entropy estimate reads the payload octets of a flow's first
 * HISTOGRAM_FULL unknown packets, then of one in HISTOGRAM_EVERY (a
 * packet-uniform sample: over thousands of octets the estimate is as good,
 * and a byte histogram costs about 2 ns an octet). It decides only whether
 * the flow's unknown packets are audio (`plaintextUnmarked`) or ciphertext;
 * every packet is still counted in one class.
 */
const HISTOGRAM_FULL = 256;
const HISTOGRAM_EVERY = 8;
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

/** Adds `n` packets of `marker` seen between `first` and `last` to the report, in the clear (keyId null) or under a key. */
function countMarker(r: MediaFlowReport, marker: string, keyId: string | null, first: number, last: number, n: number): void {
  const m = (r.markers[marker] ??= { plaintext: 0, srtp: {}, plaintextSpan: null, srtpSpan: null });
  let span: [number, number] | null;
  if (keyId === null) {
    m.plaintext += n;
    span = m.plaintextSpan ??= [first, last];
  } else {
    m.srtp[keyId] = (m.srtp[keyId] ?? 0) + n;
    span = m.srtpSpan ??= [first, last];
  }
  if (first < span[0]) span[0] = first;
  if (last > span[1]) span[1] = last;
}

function flushKey(r: MediaFlowReport, c: KeyCtx): void {
  if (c.credit > 0 && c.marker !== null) countMarker(r, c.marker, c.key.id, c.creditFirstUs, c.creditLastUs, c.credit);
  c.credit = 0;
}

function flushPlain(r: MediaFlowReport, c: PlainCtx): void {
  if (c.credit > 0 && c.marker !== null) countMarker(r, c.marker, null, c.creditFirstUs, c.creditLastUs, c.credit);
  c.credit = 0;
}

/** True when `f[at, end)` starts with `bytes`. */
function startsWith(f: Uint8Array, at: number, end: number, bytes: Uint8Array): boolean {
  if (end - at < MARKER_LENGTH) return false;
  for (let i = 0; i < MARKER_LENGTH; i++) if (f[at + i] !== bytes[i]) return false;
  return true;
}

/**
 * A plain RTCP compound packet filling `f[start, end)` exactly (RFC 3550
 * sec. 6.1): every part V=2 with an RTCP packet type (RFC 5761 sec. 4:
 * 192..223), lengths (32-bit words minus one, sec. 6.4.1) adding up to the
 * datagram, padding only in the last part.
 */
export function isPlainRtcp(f: Uint8Array, start: number, end: number): boolean {
  let at = start;
  while (at < end) {
    if (end - at < 4) return false;
    const b0 = f[at]!;
    const pt = f[at + 1]!;
    if (b0 >> 6 !== 2 || pt < 192 || pt > 223) return false;
    const len = (((f[at + 2]! << 8) | f[at + 3]!) + 1) * 4;
    if ((b0 & 0x20) !== 0 && at + len !== end) return false;
    at += len;
  }
  return at === end && end > start;
}

const PREFIX = Buffer.from(MARKER_PREFIX, 'latin1');
const PREFIX_LAST = PREFIX[PREFIX.length - 1]!;
/** Horspool shifts for the marker prefix: how far the window may move when its last octet is c. */
const SHIFT = new Uint8Array(256).fill(PREFIX.length);
for (let i = 0; i < PREFIX.length - 1; i++) SHIFT[PREFIX[i]!] = PREFIX.length - 1 - i;
const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);

/**
 * Offset of the first well-formed probe marker (`IMSLAB` and ten lower-case
 * hex digits, as @imslab/probe's findMarker reads it) in `f[from, end)`, or
 * -1. In place, without a Buffer view: it runs on every packet that is not
 * otherwise accounted for. Horspool's search: most windows are passed over
 * six octets at a time.
 */
export function markerAt(f: Uint8Array, from: number, end: number): number {
  const n = PREFIX.length;
  for (let i = from + n - 1; i < end; ) {
    const c = f[i]!;
    if (c === PREFIX_LAST) {
      const at = i - n + 1;
      let k = 0;
      while (k < n - 1 && f[at + k] === PREFIX[k]) k++;
      if (k === n - 1 && at + MARKER_LENGTH <= end) {
        let h = n;
        while (h < MARKER_LENGTH && isHex(f[at + h]!)) h++;
        if (h === MARKER_LENGTH) return at;
      }
    }
    i += SHIFT[c]!;
  }
  return -1;
}

/** STUN message header (RFC 8489 sec. 5): two zero bits, a length multiple of 4, the magic cookie. */
function looksLikeStun(b: Buffer): boolean {
  return b.length >= 20 && (b[0]! & 0xc0) === 0 && (b[3]! & 3) === 0 && b[4] === 0x21 && b[5] === 0x12 && b[6] === 0xa4 && b[7] === 0x42;
}

/** DTLS records in one datagram (RFC 9147 sec. 4: 13-octet headers, length in octets 11..12; several may share a datagram). */
function dtlsRecords(b: Buffer): number {
  let n = 0;
  for (let at = 0; at + 13 <= b.length && looksLikeDtls(b.subarray(at)); n++) at += 13 + ((b[at + 11]! << 8) | b[at + 12]!);
  return n;
}

/** `address:port`, IPv6 in brackets (RFC 5952 sec. 6), as flow names and SDP endpoints write it. */
export function flowEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Reads one link's capture and classifies every flow on it. */
export async function scanLink(link: string, file: string, keys: LoggedKey[]): Promise<LinkReport> {
  const scanner = new MediaScanner(keys);
  const report: LinkReport = { link, file, packets: 0, media: [], signalling: scanner.signalling };
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

/** Per-link state of the scan: flows by 5-tuple, with the fast path for IPv4/UDP. */
export class MediaScanner {
  readonly signalling: SignallingReport = {
    plaintextSip: 0, tlsRecords: 0, dtlsRecords: 0, stunMessages: 0, exposedSdesKeys: [], sdesOffers: [], sdesMessages: [], e2aeIndicators: [], mikeyOffers: 0,
    sdpEndpoints: [], plaintextMsrp: 0, msrpFlows: [], sipFlows: [], tlsFlows: [], dtlsFlows: [],
  };
  private readonly flows = new Map<string, FlowState>();
  /** The first payload block of the packet whose marker is being read. */
  private readonly markerBlock = Buffer.alloc(MARKER_LENGTH);
  /**
   * IPv4/UDP flows by a small-integer hash of the 5-tuple (a V8 small integer
   * hashes fastest), each bucket checked field by field: no strings and no
   * floating-point keys on the hot path.
   */
  private readonly buckets = new Map<number, Array<{ srcIp: number; dstIp: number; srcPort: number; dstPort: number; st: FlowState }>>();
  private readonly view: UdpView = { srcIp: 0, dstIp: 0, srcPort: 0, dstPort: 0, start: 0, end: 0 };
  private readonly tcp: TcpSignalling;
  private readonly fragments = new IpReassembler();
  private readonly sipFlows = new Set<string>();
  private readonly tlsFlows = new Set<string>();
  private readonly dtlsFlows = new Set<string>();
  private readonly msrpFlows = new Set<string>();
  private readonly sdpSeen = new Set<string>();
  private readonly sdesSeen = new Set<string>();
  private readonly e2ae = new Set<string>();
  /** Tag checks waiting to be computed together, and what each belongs to. */
  private readonly batch = new SrtpVerifier.TagBatch(BATCH);
  /** Key scans: one packet under every key, in a batch of its own. */
  private readonly scanBatch = new SrtpVerifier.TagBatch(BATCH);
  private readonly scanJobs: Array<[LoggedKey, number, number]> = [];
  private readonly jobFlow: Array<FlowState | null> = new Array<FlowState | null>(BATCH).fill(null);
  private readonly jobStream: Array<Stream | null> = new Array<Stream | null>(BATCH).fill(null);
  private readonly jobCtx: Array<KeyCtx | null> = new Array<KeyCtx | null>(BATCH).fill(null);
  private readonly jobFrame: Array<Buffer | null> = new Array<Buffer | null>(BATCH).fill(null);
  private readonly jobPos = new Int32Array(BATCH * 3);
  private readonly jobRoc = new Float64Array(BATCH);
  /** The stream's ROC for each queued packet (jobRoc holds the key's: see KeyCtx.rocDelta). */
  private readonly jobStreamRoc = new Float64Array(BATCH);
  private readonly jobTs = new Float64Array(BATCH);

  /** Capture time of the packet being read (what `onSip` reports). */
  private nowUs = 0;

  /**
   * @param onSip called with every SIP message read in the clear (its flow,
   *   `udp|tcp src > dst`, the message and its capture time), for callers that
   *   need per-message facts (`imslab analyse` follows calls by them)
   */
  constructor(private readonly keys: LoggedKey[], private readonly onSip?: (flow: string, message: Buffer, timestampUs: number) => void) {
    this.tcp = new TcpSignalling({
      sip: (flow, m) => this.sip(flow, m),
      msrp: (flow) => this.msrp(flow),
      tls: (flow, n) => {
        this.signalling.tlsRecords += n;
        this.tlsFlows.add(flow);
      },
    });
  }

  packet(p: CapturedPacket): void {
    this.nowUs = p.timestampUs;
    const v = this.view;
    const data = p.data;
    if (fastUdp(p.linkType, data, v)) {
      if (v.end <= v.start) return;
      // RFC 7983: 128..191 is RTP/RTCP; everything else is read for what it is.
      if ((data[v.start]! & 0xc0) !== 0x80) {
        this.udpOther(data.subarray(v.start, v.end), ipv4String(v.srcIp), v.srcPort, ipv4String(v.dstIp), v.dstPort);
        return;
      }
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
        st = this.flow(ipv4String(v.srcIp), v.srcPort, ipv4String(v.dstIp), v.dstPort, p.timestampUs);
        bucket.push({ srcIp: v.srcIp, dstIp: v.dstIp, srcPort: v.srcPort, dstPort: v.dstPort, st });
      }
      this.media(st, data, v.start, v.end, p.timestampUs);
      return;
    }
    // IPv4 and IPv6 fragments are put back together first (a large SIP message over UDP).
    const whole = this.fragments.push(p.linkType, data, p.timestampUs);
    if (whole === null) return;
    if (whole !== data) {
      this.packet({ ...p, linkType: LINKTYPE.RAW, data: whole });
      return;
    }
    const d = decodeFrame(p.linkType, data);
    if (!d) return;
    if (d.protocol === 'tcp') {
      const flags = d.tcp!.flags;
      if (d.payload.length === 0 && (flags & 0x07) === 0) return; // a bare ACK
      this.tcp.segment(flowKeyString({ protocol: 'tcp', src: d.src, srcPort: d.srcPort, dst: d.dst, dstPort: d.dstPort }), d.tcp!.seq, flags, d.payload);
      return;
    }
    if (d.protocol !== 'udp' || d.payload.length === 0) return;
    if ((d.payload[0]! & 0xc0) !== 0x80) {
      this.udpOther(d.payload, d.src, d.srcPort, d.dst, d.dstPort);
      return;
    }
    const name = flowKeyString({ protocol: 'udp', src: d.src, srcPort: d.srcPort, dst: d.dst, dstPort: d.dstPort });
    const st = this.flows.get(name) ?? this.flow(d.src, d.srcPort, d.dst, d.dstPort, p.timestampUs);
    this.media(st, d.payload, 0, d.payload.length, p.timestampUs);
  }

  private flow(src: string, srcPort: number, dst: string, dstPort: number, ts: number): FlowState {
    const name = flowKeyString({ protocol: 'udp', src, srcPort, dst, dstPort });
    let st = this.flows.get(name);
    if (!st) {
      st = {
        report: {
          flow: name, src: flowEndpoint(src, srcPort), dst: flowEndpoint(dst, dstPort), ssrcs: [], packets: 0, plaintext: 0, srtp: {}, srtpVerified: 0, srtpDecrypted: 0,
          replayed: 0, replayedPlaintext: 0, unknown: 0, unauthenticated: 0, markers: {}, plaintextUnmarked: 0, unknownEntropy: null, lost: 0,
          rtcp: 0, srtcp: {}, rtcpPlain: 0, srtcpUnknown: 0, floorControlClear: 0, firstUs: ts, lastUs: ts,
        },
        streams: new Map(), last: null, histogram: null, unknownSeen: 0, keyed: false,
      };
      this.flows.set(name, st);
    }
    return st;
  }

  /** A UDP payload that is not RTP or RTCP: SIP, MSRP, DTLS, TLS or STUN by its content, on any port. */
  private udpOther(payload: Buffer, src: string, srcPort: number, dst: string, dstPort: number): void {
    const c = payload[0]!;
    const name = () => flowKeyString({ protocol: 'udp', src, srcPort, dst, dstPort });
    if (c >= 0x41 && c <= 0x5a) {
      // A datagram holds a whole message (RFC 3261 sec. 18.1.1): its start line ends with a line break.
      if (looksLikeSip(payload) && payload.indexOf(0x0a) > 0) this.sip(name(), payload);
      else if (looksLikeMsrp(payload)) this.msrp(name());
    } else if (c >= 20 && c <= 63) {
      if (looksLikeDtls(payload)) {
        this.signalling.dtlsRecords += dtlsRecords(payload);
        this.dtlsFlows.add(name());
      } else if (looksLikeTls(payload)) {
        this.signalling.tlsRecords++;
        this.tlsFlows.add(name());
      }
    } else if (c <= 3 && looksLikeStun(payload)) {
      this.signalling.stunMessages++;
    }
  }

  /** One SIP message seen in the clear (a UDP datagram or a message framed on TCP): its SDP gives away keys and endpoints. */
  private sip(flow: string, message: Buffer): void {
    const sig = this.signalling;
    sig.plaintextSip++;
    this.sipFlows.add(flow);
    this.onSip?.(flow, message, this.nowUs);
    const sdp = readSipSdp(message.toString('latin1'));
    if (sdp.sdes.length > 0 && sig.sdesMessages!.length < MAX_SDES_MESSAGES) sig.sdesMessages!.push({ callId: sdp.callId, flow, keys: sdp.sdes.map((o) => o.keySalt) });
    for (const o of sdp.sdes) {
      if (this.sdesSeen.has(o.keySalt)) continue;
      this.sdesSeen.add(o.keySalt);
      sig.exposedSdesKeys.push(o.keySalt);
      sig.sdesOffers.push(o);
    }
    for (const v of sdp.e2ae) if (!this.e2ae.has(v)) {
      this.e2ae.add(v);
      sig.e2aeIndicators.push(v);
    }
    sig.mikeyOffers += sdp.mikeyOffers;
    for (const e of sdp.endpoints) {
      const id = `${e.endpoint}\u0000${e.callId}`;
      if (this.sdpSeen.has(id)) continue;
      this.sdpSeen.add(id);
      sig.sdpEndpoints.push(e);
    }
  }

  private msrp(flow: string): void {
    this.signalling.plaintextMsrp++;
    this.msrpFlows.add(flow);
  }

  /**
   * One UDP payload starting like RTP or RTCP (bytes `start`..`end` of
   * `frame`). Reads the header in place; a Buffer view is made only for the
   * packets that take the slow path.
   */
  private media(st: FlowState, frame: Buffer, start: number, end: number, ts: number): void {
    const r = st.report;
    r.lastUs = ts;
    if (end - start < 8) return;
    // RFC 5761 sec. 4: RTCP multiplexed on the media port has an RTCP packet type in the second octet.
    const b1 = frame[start + 1]!;
    if (b1 >= 192 && b1 <= 223) {
      if (looksLikeRtcp(frame, start, end)) this.rtcp(st, frame, start, end);
      return;
    }
    // RFC 3550 sec. 5.1, 5.3.1: fixed header plus CSRCs and extension; the padding is SRTP ciphertext, not checked.
    const hl = rtpHeaderLength(frame, start, end);
    if (typeof hl !== 'number') return;
    r.packets++;
    const seq = rtpSequence(frame, start);
    const ssrc = rtpSsrc(frame, start);
    let s = st.last;
    if (s === null || s.ssrc !== ssrc) {
      s = st.streams.get(ssrc) ?? this.stream(st, ssrc, seq);
      st.last = s;
    }
    s.n++;
    // The packet's rollover counter, estimated as RFC 3711 Appendix A does (closest of ROC-1, ROC, ROC+1 to
    // the highest index seen), so late packets from before a wrap neither advance nor confuse it; and the loss
    // figure (RFC 3550 A.3: expected minus received).
    const v = estimateRoc(seq, s.last, s.roc);
    const ext = packetIndex(v, seq);
    if (ext > s.maxExt) {
      s.maxExt = ext;
      s.roc = v;
      s.last = seq;
    }
    s.received++;
    const roc = v < 0 ? 0 : v;
    // 1. In the clear, fast: the payload starts with the marker this stream carried in the clear.
    const pc = s.plain;
    if (pc !== null && pc.marker !== null && startsWith(frame, start + hl, end, pc.bytes)) {
      this.plain(r, pc, packetIndex(roc, seq), ts);
      return;
    }
    // 2. The tag under the key this stream verified under last: queued and checked with others.
    const kc = s.ctx;
    const kroc = kc === null ? roc : Math.max(0, roc + kc.rocDelta);
    if (kc !== null && kc.handle >= 0) {
      const j = this.batch.add(kc.handle, frame, start, end, kroc);
      if (j >= 0) {
        this.jobFlow[j] = st;
        this.jobStream[j] = s;
        this.jobCtx[j] = kc;
        this.jobFrame[j] = frame;
        this.jobPos[3 * j] = start;
        this.jobPos[3 * j + 1] = end;
        this.jobPos[3 * j + 2] = hl;
        this.jobRoc[j] = kroc;
        this.jobStreamRoc[j] = roc;
        this.jobTs[j] = ts;
        s.queued++;
        if (this.batch.full) this.drain();
        return;
      }
    }
    // 3. Everything else, after what this stream has queued (each stream's packets in arrival order).
    if (s.queued > 0) this.drain();
    if (kc !== null && kc.key.verifier.authenticatesRtp(frame.subarray(start, end), [kroc]) >= 0) {
      this.verified(st, s, kc, frame, start, end, hl, kroc, seq, ts);
      return;
    }
    this.slow(st, s, frame, start, end, hl, roc, seq, ts, kc);
  }

  private stream(st: FlowState, ssrc: number, seq: number): Stream {
    const s: Stream = {
      ssrc, roc: 0, last: seq, maxExt: seq, base: seq, received: 0,
      ctx: null, ctxs: [], plain: null, n: 0, scanAt: 0, scanGap: 1, queued: 0,
    };
    st.streams.set(ssrc, s);
    st.report.ssrcs.push(ssrc);
    return s;
  }

  /** Computes the queued tag checks and classifies their packets, in the order they came. */
  private drain(): void {
    const b = this.batch;
    const n = b.length;
    if (n === 0) return;
    b.run();
    for (let j = 0; j < n; j++) {
      const st = this.jobFlow[j]!;
      const s = this.jobStream[j]!;
      const kc = this.jobCtx[j]!;
      const frame = this.jobFrame[j]!;
      const start = this.jobPos[3 * j]!;
      const end = this.jobPos[3 * j + 1]!;
      const hl = this.jobPos[3 * j + 2]!;
      const roc = this.jobRoc[j]!;
      const seq = rtpSequence(frame, start);
      s.queued--;
      if (b.ok(j)) this.verified(st, s, kc, frame, start, end, hl, roc, seq, this.jobTs[j]!);
      else this.slow(st, s, frame, start, end, hl, this.jobStreamRoc[j]!, seq, this.jobTs[j]!, kc);
      this.jobFlow[j] = this.jobStream[j] = this.jobCtx[j] = this.jobFrame[j] = null;
    }
    b.clear();
  }

  /** Readable as sent: `plaintext`, or `replayed` when its index was accepted in the clear before. */
  private plain(r: MediaFlowReport, pc: PlainCtx, index: number, ts: number): void {
    if (pc.window.accept(index)) {
      r.plaintext++;
    } else {
      r.replayed++;
      r.replayedPlaintext++;
    }
    if (pc.credit === 0) pc.creditFirstUs = ts;
    pc.credit++;
    pc.creditLastUs = ts;
  }

  /** A packet whose tag verified under `kc`'s key with rollover counter `roc`. */
  private verified(st: FlowState, s: Stream, kc: KeyCtx, frame: Buffer, start: number, end: number, hl: number, roc: number, seq: number, ts: number): void {
    // Readable as sent wins over a verifying tag (SRTP without encryption, RFC 4568 UNENCRYPTED_SRTP): never hidden as SRTP.
    if (markerAt(frame, start + hl, end) >= 0) {
      this.readable(st, s, frame, start, end, hl, roc, seq, ts);
      return;
    }
    const r = st.report;
    // Verified under its key: a later failure is worth a key scan at once.
    s.scanGap = 1;
    s.scanAt = 0;
    if (!kc.window.accept(packetIndex(roc, seq))) {
      r.replayed++;
      return;
    }
    kc.count++;
    st.keyed = true;
    r.srtpDecrypted++;
    const m = this.readMarker(kc, frame, start, end, hl, roc, seq, s.ssrc);
    if (m !== kc.marker) {
      flushKey(r, kc);
      kc.marker = m;
      kc.markerBytes = m === null ? NO_MARKER : Buffer.from(m, 'latin1');
    }
    if (kc.marker !== null) {
      if (kc.credit === 0) kc.creditFirstUs = ts;
      kc.credit++;
      kc.creditLastUs = ts;
    }
  }

  /**
   * The marker a verified packet carries (null: none), read at the offset
   * where its stream had it last: at offset 0 its first payload block
   * decrypted with a predicted keystream head; elsewhere, or where the
   * keystream cannot be predicted, the payload decrypted on its own as far as
   * the marker's end. Not there: searchMarker.
   */
  private readMarker(kc: KeyCtx, frame: Buffer, start: number, end: number, hl: number, roc: number, seq: number, ssrc: number): string | null {
    const at = start + hl;
    // Octets before the tag, an MKI's among them (decryptRtp leaves those out).
    const room = end - kc.key.verifier.profile.authTagLength - at;
    if (room < MARKER_LENGTH) return null;
    const off = kc.markerOffset;
    if (room < off + MARKER_LENGTH) return this.searchMarker(kc, frame, start, end, hl, roc, null);
    if (off === 0) {
      const head = this.keystreamHead(kc, packetIndex(roc, seq), ssrc);
      if (head >= 0) {
        const block = this.markerBlock;
        const ks = kc.ks!;
        for (let i = 0; i < MARKER_LENGTH; i++) block[i] = frame[at + i]! ^ ks[head + i]!;
        // The marker read last again (the usual case): no string made.
        if (kc.marker !== null && block.equals(kc.markerBytes)) return kc.marker;
        if (markerAt(block, 0, MARKER_LENGTH) === 0) return block.toString('latin1');
        return this.searchMarker(kc, frame, start, end, hl, roc, null);
      }
    }
    // Heads are of the first keystream block only, so a marker past it (or a keystream not predictable) takes a decryption of its own.
    const clear = kc.key.verifier.decryptRtp(frame.subarray(start, end), roc, off + MARKER_LENGTH);
    if (clear === null) return null;
    const m = this.markerIn(kc, clear, hl + off);
    return m !== null ? m : this.searchMarker(kc, frame, start, end, hl, roc, clear);
  }

  /**
   * A marker that is not where its stream had it: the first MARKER_SEARCH
   * payload octets decrypted (`clear`, the packet as far as decrypted already,
   * when it reaches that far: AES-GCM decrypts it whole) and searched; where
   * it is found is where the stream's next packets are read. Paced while none
   * is found, so that a stream without a marker is not decrypted packet by
   * packet.
   */
  private searchMarker(kc: KeyCtx, frame: Buffer, start: number, end: number, hl: number, roc: number, clear: Buffer | null): string | null {
    if (kc.count < kc.searchAt) return null;
    const room = end - kc.key.verifier.profile.authTagLength - start - hl;
    if (clear === null || clear.length - hl < Math.min(MARKER_SEARCH, room)) clear = kc.key.verifier.decryptRtp(frame.subarray(start, end), roc, MARKER_SEARCH);
    const at = clear === null ? -1 : markerAt(clear, hl, Math.min(clear.length, hl + MARKER_SEARCH));
    if (at < 0) {
      kc.searchAt = kc.count + kc.searchGap;
      kc.searchGap = Math.min(kc.searchGap * 2, MAX_SCAN_GAP);
      return null;
    }
    kc.markerOffset = at - hl;
    kc.searchAt = 0;
    kc.searchGap = 1;
    return this.markerIn(kc, clear!, at);
  }

  /** The marker at `clear[at]` (null: none there, or too short); the one read last again makes no string. */
  private markerIn(kc: KeyCtx, clear: Buffer, at: number): string | null {
    if (kc.marker !== null && startsWith(clear, at, clear.length, kc.markerBytes)) return kc.marker;
    return markerAt(clear, at, Math.min(clear.length, at + MARKER_LENGTH)) === at ? clear.toString('latin1', at, at + MARKER_LENGTH) : null;
  }

  /**
   * Offset in `kc.ks` of the keystream head for the packet with index
   * `index`, computing the next KEYSTREAM_READS heads when it is not there;
   * -1 when the suite has no predictable keystream (AES-GCM, MKI).
   */
  private keystreamHead(kc: KeyCtx, index: number, ssrc: number): number {
    let k = index - kc.ksFirst;
    if (kc.ks === null || k < 0 || k >= KEYSTREAM_READS) {
      kc.ks = kc.key.verifier.rtpKeystreamHeads(ssrc, index, 1, KEYSTREAM_READS);
      kc.ksFirst = index;
      k = 0;
      if (kc.ks === null) return -1;
    }
    return 16 * k;
  }

  /** Counts the packet as plaintext when a marker is readable anywhere in its payload; false when none is. */
  private readable(st: FlowState, s: Stream, frame: Buffer, start: number, end: number, hl: number, roc: number, seq: number, ts: number): boolean {
    const at = markerAt(frame, start + hl, end);
    if (at < 0) return false;
    const pc = (s.plain ??= { window: new ReplayWindow(), marker: null, bytes: Buffer.alloc(MARKER_LENGTH), credit: 0, creditFirstUs: 0, creditLastUs: 0 });
    // The marker read last again (the usual case): no string made.
    const m = pc.marker !== null && startsWith(frame, at, at + MARKER_LENGTH, pc.bytes) ? pc.marker : frame.toString('latin1', at, at + MARKER_LENGTH);
    if (pc.marker !== m) {
      flushPlain(st.report, pc);
      pc.marker = m;
      pc.bytes = Buffer.from(m, 'latin1');
    }
    this.plain(st.report, pc, packetIndex(roc, seq), ts);
    return true;
  }

  /**
   * A packet that is not the stream's plaintext and did not verify under its
   * key (`tried`, null when it has none): readable anywhere in the clear, the
   * previous ROC under that key, the stream's key, a key scan, else unknown.
   */
  private slow(st: FlowState, s: Stream, frame: Buffer, start: number, end: number, hl: number, roc: number, seq: number, ts: number, tried: KeyCtx | null): void {
    if (this.readable(st, s, frame, start, end, hl, roc, seq, ts)) return;
    // A late packet from before a rollover (its sequence number in the upper half) under the key that just failed.
    const triedRoc = tried === null ? roc : roc + tried.rocDelta;
    if (tried !== null && triedRoc > 0 && seq >= 0x8000 && tried.key.verifier.authenticatesRtp(frame.subarray(start, end), [triedRoc - 1]) >= 0) {
      this.verified(st, s, tried, frame, start, end, hl, triedRoc - 1, seq, ts);
      return;
    }
    const cur = s.ctx;
    if (cur !== null && cur !== tried) {
      const curRoc = Math.max(0, roc + cur.rocDelta);
      const hit = cur.key.verifier.authenticatesRtp(frame.subarray(start, end), curRoc > 0 ? [curRoc, curRoc - 1] : [0]);
      if (hit >= 0) {
        this.verified(st, s, cur, frame, start, end, hl, hit, seq, ts);
        return;
      }
    }
    if (s.n > s.scanAt && this.keys.length > 0) {
      const found = this.scan(frame, start, end, roc, tried, cur);
      if (found !== null) {
        let kc = s.ctxs.find((c) => c.key === found.key);
        if (!kc) {
          kc = {
            key: found.key, handle: this.batch.handle(found.key.verifier), window: new ReplayWindow(), count: 0, marker: null, markerBytes: NO_MARKER,
            markerOffset: 0, searchAt: 0, searchGap: 1, ks: null, ksFirst: 0, credit: 0, creditFirstUs: 0, creditLastUs: 0, rocDelta: 0,
          };
          s.ctxs.push(kc);
        }
        // Where the key's context stands against the stream's (0 but for a sender that restarted its ROC with a new key).
        kc.rocDelta = found.roc - roc;
        s.ctx = kc;
        this.verified(st, s, kc, frame, start, end, hl, found.roc, seq, ts);
        return;
      }
      s.scanAt = s.n + s.scanGap - 1;
      s.scanGap = Math.min(s.scanGap * 2, MAX_SCAN_GAP);
    }
    const r = st.report;
    r.unknown++;
    const n = st.unknownSeen++;
    if (n < HISTOGRAM_FULL || n % HISTOGRAM_EVERY === 0) {
      const h = (st.histogram ??= new Uint32Array(256));
      for (let i = start + hl; i < end; i++) h[frame[i]!]!++;
    }
  }

  /**
   * A key scan: the first logged key (other than `skip1`, `skip2`) under
   * which the packet authenticates, and the ROC; the HMAC-SHA1 keys four at
   * a time in the SIMD batch, the others one by one.
   */
  private scan(frame: Buffer, start: number, end: number, roc: number, skip1: KeyCtx | null, skip2: KeyCtx | null): { key: LoggedKey; roc: number } | null {
    const b = this.scanBatch;
    const rocs = roc > 0 ? [roc, roc - 1] : [0];
    // A flow without a key yet may be a late join of a relayed stream whose ROC moved on before the capture saw it.
    if (skip2 === null) for (let r = 1; r <= LATE_JOIN_ROCS; r++) rocs.push(roc + r);
    const jobs = this.scanJobs;
    jobs.length = 0;
    let found: { key: LoggedKey; roc: number } | null = null;
    const check = (): boolean => {
      for (const [k, j, rc] of jobs) {
        if (j >= 0 ? b.ok(j) : k.verifier.authenticatesRtp(frame.subarray(start, end), [rc]) >= 0) {
          found = { key: k, roc: rc };
          break;
        }
      }
      b.clear();
      jobs.length = 0;
      return found !== null;
    };
    for (const k of this.keys) {
      if ((skip1 !== null && k === skip1.key) || (skip2 !== null && k === skip2.key)) continue;
      const h = b.handle(k.verifier);
      for (const rc of rocs) {
        if (b.full && check()) return found;
        jobs.push([k, h >= 0 ? b.add(h, frame, start, end, rc) : -1, rc]);
      }
    }
    check();
    return found;
  }

  /**
   * RTCP on a media flow (or rtcp-mux): plain RTCP when its parts add up to
   * the datagram; else SRTCP under the flow's keys or any logged key; else
   * unknown. RTCP is rare (one report every few seconds), so every packet is
   * checked against every key.
   */
  private rtcp(st: FlowState, frame: Buffer, start: number, end: number): void {
    const r = st.report;
    r.rtcp++;
    // Floor control readable without a key (plain, or SRTCP with E=0) is a finding whatever key, if any, authenticates it.
    if (findClearFloorControl(frame.subarray(start, end))) r.floorControlClear++;
    if (isPlainRtcp(frame, start, end)) {
      r.rtcpPlain++;
      return;
    }
    const pkt = frame.subarray(start, end);
    const tried = new Set<LoggedKey>();
    const candidates: LoggedKey[] = [];
    for (const s of st.streams.values()) for (const c of s.ctxs) candidates.push(c.key);
    candidates.push(...this.keys);
    for (const k of candidates) {
      if (tried.has(k)) continue;
      tried.add(k);
      if (k.verifier.verifyRtcp(pkt)) {
        r.srtcp[k.id] = (r.srtcp[k.id] ?? 0) + 1;
        return;
      }
    }
    r.srtcpUnknown++;
  }

  finish(): MediaFlowReport[] {
    this.drain();
    const sig = this.signalling;
    sig.sipFlows = [...this.sipFlows];
    sig.tlsFlows = [...this.tlsFlows];
    sig.dtlsFlows = [...this.dtlsFlows];
    sig.msrpFlows = [...this.msrpFlows];
    for (const f of this.flows.values()) {
      const r = f.report;
      for (const s of f.streams.values()) {
        r.lost += Math.max(0, s.maxExt - s.base + 1 - s.received);
        if (s.plain) flushPlain(r, s.plain);
        for (const c of s.ctxs) {
          flushKey(r, c);
          if (c.count > 0) r.srtp[c.key.id] = (r.srtp[c.key.id] ?? 0) + c.count;
          r.srtpVerified += c.count;
        }
      }
      if (f.histogram) {
        const { bits, total } = entropyBits(f.histogram);
        r.unknownEntropy = Math.round(bits * 1000) / 1000;
        if (total >= MIN_ENTROPY_SAMPLE && bits < CIPHERTEXT_ENTROPY) {
          r.plaintextUnmarked = r.unknown;
          r.unknown = 0;
        }
      }
      r.unauthenticated = f.keyed ? r.unknown : 0;
    }
    return [...this.flows.values()].map((f) => f.report);
  }
}
