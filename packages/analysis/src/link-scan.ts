import { decodeFrame, flowKeyString, looksLikeRtcp, looksLikeSip, looksLikeTls, parseRtpHeader, readCapture } from '@imslab/capture';
import { findMarker } from '@imslab/probe';
import type { LoggedKey } from './keys.ts';

/** Ports that carry signalling or control, never media. */
const SIGNALLING_PORTS = new Set([5060, 5061, 2223, 8000, 8080]);
/** Full key scans per flow before the rest of its undecodable packets are counted unknown. */
const MAX_KEY_SCANS_PER_FLOW = 20;

export interface MediaFlowReport {
  flow: string;
  src: string;
  dst: string;
  ssrcs: number[];
  packets: number;
  /** Packets whose probe marker is readable as sent: plaintext RTP. */
  plaintext: number;
  /** Packets whose authentication tag verifies under a logged key, by key id. */
  srtp: Record<string, number>;
  /** RTP-shaped packets neither plaintext-with-marker nor verifying under any logged key. */
  unknown: number;
  /** Markers found, plaintext or after decryption with the verifying key: marker -> packets. */
  markers: Record<string, { plaintext: number; srtp: Record<string, number> }>;
  /**
   * Packets without a marker or a verifying key whose payload bytes, over the
   * whole flow, are far from uniform: audio sent in the clear (real speech, a
   * codec's silence) rather than ciphertext. See `isAudioLike`.
   */
  plaintextUnmarked: number;
  /** Shannon entropy (bits per octet) of the unknown packets' payloads; ciphertext is close to 8. */
  unknownEntropy: number | null;
  rtcp: number;
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
  /** a=3ge2ae values readable in plaintext SIP on this link. */
  e2aeIndicators: string[];
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
  /** Rollover counter estimate per SSRC (RFC 3711 sec. 3.3.1): [roc, lastSeq]. */
  roc: Map<number, [number, number]>;
  /** Byte histogram of the payloads of packets that are neither marked nor verifiable. */
  histogram: Uint32Array | null;
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

function rocFor(state: FlowState, ssrc: number, seq: number): number {
  const r = state.roc.get(ssrc);
  if (!r) {
    state.roc.set(ssrc, [0, seq]);
    return 0;
  }
  if (seq < r[1] && r[1] - seq > 0x8000) r[0]++;
  if (seq > r[1] || r[1] - seq > 0x8000) r[1] = seq;
  return r[0];
}

function tryKey(key: LoggedKey, pkt: Buffer, roc: number): Buffer | null {
  const hit = key.verifier.verifyRtp(pkt, roc === 0 ? [0] : [roc, roc - 1]);
  return hit ? hit.packet : null;
}

function countMarker(r: MediaFlowReport, marker: string, keyId: string | null): void {
  const m = (r.markers[marker] ??= { plaintext: 0, srtp: {} });
  if (keyId === null) m.plaintext++;
  else m.srtp[keyId] = (m.srtp[keyId] ?? 0) + 1;
}

const CRYPTO_INLINE = /a=crypto:\d+ [A-Z0-9_]+ inline:([A-Za-z0-9+/=]+)/g;
const E2AE = /a=3ge2ae:([a-z]+)/g;

/** Reads one link's capture and classifies every flow on it. */
export async function scanLink(link: string, file: string, keys: LoggedKey[]): Promise<LinkReport> {
  const flows = new Map<string, FlowState>();
  const sig: SignallingReport = { plaintextSip: 0, tlsRecords: 0, exposedSdesKeys: [], e2aeIndicators: [], sipFlows: [], tlsFlows: [] };
  const report: LinkReport = { link, file, packets: 0, media: [], signalling: sig };
  try {
    for await (const p of readCapture(file)) {
      report.packets++;
      const d = decodeFrame(p.linkType, p.data);
      if (!d || d.protocol === 'other' || d.payload.length === 0) continue;
      const flowName = flowKeyString({ protocol: d.protocol, src: d.src, srcPort: d.srcPort, dst: d.dst, dstPort: d.dstPort });
      if (d.protocol === 'tcp' || SIGNALLING_PORTS.has(d.srcPort) || SIGNALLING_PORTS.has(d.dstPort)) {
        if (looksLikeTls(d.payload)) {
          sig.tlsRecords++;
          if (!sig.tlsFlows.includes(flowName)) sig.tlsFlows.push(flowName);
        } else if (looksLikeSip(d.payload)) {
          sig.plaintextSip++;
          if (!sig.sipFlows.includes(flowName)) sig.sipFlows.push(flowName);
          const text = d.payload.toString('latin1');
          for (const m of text.matchAll(CRYPTO_INLINE)) if (!sig.exposedSdesKeys.includes(m[1]!)) sig.exposedSdesKeys.push(m[1]!);
          for (const m of text.matchAll(E2AE)) if (!sig.e2aeIndicators.includes(m[1]!)) sig.e2aeIndicators.push(m[1]!);
        }
        continue;
      }
      if (d.protocol !== 'udp') continue;
      const rtp = parseRtpHeader(d.payload);
      if (!rtp) continue;
      let st = flows.get(flowName);
      if (!st) {
        st = {
          report: { flow: flowName, src: `${d.src}:${d.srcPort}`, dst: `${d.dst}:${d.dstPort}`, ssrcs: [], packets: 0, plaintext: 0, srtp: {}, unknown: 0, markers: {}, plaintextUnmarked: 0, unknownEntropy: null, rtcp: 0, firstUs: p.timestampUs, lastUs: p.timestampUs },
          key: null, scans: 0, roc: new Map(), histogram: null,
        };
        flows.set(flowName, st);
      }
      const r = st.report;
      r.lastUs = p.timestampUs;
      if (looksLikeRtcp(d.payload)) {
        r.rtcp++;
        continue;
      }
      r.packets++;
      if (!r.ssrcs.includes(rtp.ssrc)) r.ssrcs.push(rtp.ssrc);
      const plainMarker = findMarker(d.payload, rtp.headerLength);
      if (plainMarker) {
        r.plaintext++;
        countMarker(r, plainMarker, null);
        continue;
      }
      const roc = rocFor(st, rtp.ssrc, rtp.sequence);
      let clear = st.key ? tryKey(st.key, d.payload, roc) : null;
      if (!clear && st.scans < MAX_KEY_SCANS_PER_FLOW) {
        st.scans++;
        for (const k of keys) {
          if (k === st.key) continue;
          clear = tryKey(k, d.payload, roc);
          if (clear) {
            st.key = k;
            break;
          }
        }
      }
      if (!clear || !st.key) {
        r.unknown++;
        const h = (st.histogram ??= new Uint32Array(256));
        for (let i = rtp.headerLength; i < d.payload.length; i++) h[d.payload[i]!]!++;
        continue;
      }
      r.srtp[st.key.id] = (r.srtp[st.key.id] ?? 0) + 1;
      const m = findMarker(clear, rtp.headerLength);
      if (m) countMarker(r, m, st.key.id);
    }
  } catch (e) {
    report.error = (e as Error).message;
  }
  for (const f of flows.values()) {
    if (!f.histogram) continue;
    const { bits, total } = entropyBits(f.histogram);
    f.report.unknownEntropy = Math.round(bits * 1000) / 1000;
    if (total >= MIN_ENTROPY_SAMPLE && bits < CIPHERTEXT_ENTROPY) {
      f.report.plaintextUnmarked = f.report.unknown;
      f.report.unknown = 0;
    }
  }
  report.media = [...flows.values()].map((f) => f.report);
  return report;
}
