/**
 * Each direction's media followed across links and through relays.
 *
 * A call's flows are those whose source or destination an SDP of the call
 * announced (on any hop), plus the flows elsewhere carrying the same SSRCs
 * (a relay's hops that no SDP names). Flows sharing an SSRC are one
 * direction's media (rtpengine keeps SSRCs, also when it re-encrypts); their
 * legs are ordered from the sender's end to the receiver's, by the media
 * endpoints the two ends announced and then by time (a relayed copy comes
 * after the packet it copies). Consecutive legs are compared on their first
 * packets: byte-identical, or identical once decrypted.
 *
 * Flows no SIP explains (SIP absent or unreadable) are still followed the
 * same way and paired into calls by their end points (symmetric RTP), so a
 * capture with keys and no signalling is judged on what its media shows.
 */
import { rtpHeaderLength } from '@imslab/rtp';
import type { SrtpVerifier } from '@imslab/srtp';
import type { MediaFlowReport } from '../link-scan.ts';
import type { SipCall } from './calls.ts';
import type { StreamSample } from './payload-samples.ts';
import type { MediaLeg } from './types.ts';

/** A flow with its link, as the following sees it. */
export interface LinkFlow {
  link: string;
  flow: MediaFlowReport;
}

/** One direction's legs (sender first), and which way it goes when SIP says so. */
export interface Chain {
  legs: MediaLeg[];
  direction: 'caller->callee' | 'callee->caller' | null;
}

/** A group of flows taken for one call. */
export interface FollowedCall {
  sip: SipCall | null;
  chains: Chain[];
}

/** Fewer RTP packets than this on a flow no SIP explains is noise, not a call. */
export const MIN_UNSIGNALLED_PACKETS = 10;
/** A flow belongs to a call when it overlaps the call's signalling, give or take this much (captures on two hosts). */
const SLACK_US = 5_000_000;

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
export const ipOf = (endpoint: string) => (endpoint.startsWith('[') ? endpoint.slice(1, endpoint.indexOf(']')) : endpoint.slice(0, endpoint.lastIndexOf(':')));

/** A flow as a leg: what protects it, from the scan's counts (key ids are the keys' final ids). */
export function legOf(x: LinkFlow, samples: Map<string, StreamSample>): MediaLeg {
  const f = x.flow;
  const counts = { plaintext: f.plaintext, plaintextSpeech: f.plaintextUnmarked, srtp: sum(f.srtp), unknown: f.unknown, replayed: f.replayed };
  const byUse = Object.entries(f.srtp).sort((a, b) => b[1] - a[1]);
  const protection = counts.plaintext + counts.plaintextSpeech > 0 ? 'rtp' : counts.srtp > 0 ? 'srtp' : 'unknown';
  const pts = new Set<number>();
  for (const s of f.ssrcs) for (const pt of samples.get(sampleKey(x.link, f.src, f.dst, s))?.payloadTypes ?? []) pts.add(pt);
  return {
    link: x.link, src: f.src, dst: f.dst, ssrcs: [...f.ssrcs], payloadTypes: [...pts], packets: f.packets, firstUs: f.firstUs, lastUs: f.lastUs,
    protection, ...(protection === 'srtp' ? { key: byUse[0]![0] } : {}), counts,
  };
}

export const sampleKey = (link: string, src: string, dst: string, ssrc: number) => `${link}|${src}|${dst}|${ssrc}`;

/** Flows sharing an SSRC, in groups (union-find over the flows). */
function bySsrc(flows: LinkFlow[]): LinkFlow[][] {
  const parent = flows.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const owner = new Map<number, number>();
  flows.forEach((x, i) => {
    for (const s of x.flow.ssrcs) {
      const j = owner.get(s);
      if (j === undefined) owner.set(s, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, LinkFlow[]>();
  flows.forEach((x, i) => (groups.get(find(i)) ?? groups.set(find(i), []).get(find(i))!).push(x));
  return [...groups.values()];
}

/** Which way a group goes, from the media endpoints the two ends announced (exactly, else by address). */
function orientation(legs: MediaLeg[], call: SipCall): Chain['direction'] {
  const tests: Array<[string | undefined, 'src' | 'dst', Chain['direction']]> = [
    [call.callerMedia, 'src', 'caller->callee'], [call.callerMedia, 'dst', 'callee->caller'],
    [call.calleeMedia, 'dst', 'caller->callee'], [call.calleeMedia, 'src', 'callee->caller'],
  ];
  for (const exact of [true, false]) {
    for (const [ep, side, dir] of tests) {
      if (!ep) continue;
      if (legs.some((l) => (exact ? l[side] === ep : ipOf(l[side]) === ipOf(ep)))) return dir;
    }
  }
  return null;
}

/** Legs from the sender's end to the receiver's: the leg leaving the sender first, the one reaching the receiver last, time in between. */
function ordered(legs: MediaLeg[], from: string | undefined, to: string | undefined): MediaLeg[] {
  const rank = (l: MediaLeg) => (from && l.src === from ? 0 : to && l.dst === to ? 2 : 1);
  return [...legs].sort((a, b) => rank(a) - rank(b) || a.firstUs - b.firstUs);
}

/**
 * Compares each leg with the previous one on their sampled packets (same
 * SSRC and sequence number): the bytes, and the payloads once decrypted
 * with the leg's key (the first packets: rollover counter 0, then counted
 * across a wrap).
 */
export function compareLegs(legs: MediaLeg[], samples: Map<string, StreamSample>, verifiers: Map<string, SrtpVerifier>): void {
  for (let i = 1; i < legs.length; i++) {
    const a = legs[i - 1]!;
    const b = legs[i]!;
    const ssrc = a.ssrcs.find((s) => b.ssrcs.includes(s));
    if (ssrc === undefined) continue;
    const sa = samples.get(sampleKey(a.link, a.src, a.dst, ssrc));
    const sb = samples.get(sampleKey(b.link, b.src, b.dst, ssrc));
    if (!sa || !sb) continue;
    const pa = payloads(sa, a, verifiers);
    const pb = payloads(sb, b, verifiers);
    let n = 0;
    let bytes = true;
    let payload = true;
    for (const [seq, x] of pa) {
      const y = pb.get(seq);
      if (!y) continue;
      n++;
      if (!x.data.equals(y.data)) bytes = false;
      if (x.payload === null || y.payload === null || !x.payload.equals(y.payload)) payload = false;
    }
    if (n > 0) b.comparedWithPrevious = { packets: n, bytesIdentical: bytes, payloadIdentical: payload };
  }
}

function payloads(s: StreamSample, leg: MediaLeg, verifiers: Map<string, SrtpVerifier>): Map<number, { data: Buffer; payload: Buffer | null }> {
  const out = new Map<number, { data: Buffer; payload: Buffer | null }>();
  const v = leg.protection === 'srtp' && leg.key ? verifiers.get(leg.key) : undefined;
  let roc = 0;
  let last = -1;
  for (const p of s.packets) {
    if (last >= 0 && p.seq < last && last - p.seq > 0x8000) roc++;
    last = p.seq;
    let clear: Buffer | null = p.data;
    if (leg.protection === 'srtp') clear = v ? v.decryptRtp(p.data, roc) : null;
    else if (leg.protection === 'unknown') clear = null;
    const hl = clear ? rtpHeaderLength(clear, 0, clear.length) : null;
    out.set(p.seq, { data: p.data, payload: clear && typeof hl === 'number' ? clear.subarray(hl) : null });
  }
  return out;
}

/**
 * Takes each SIP call's flows, then pairs what is left into calls found
 * from the media alone. `flows` must hold RTP-carrying flows only.
 */
export function followCalls(calls: SipCall[], flows: LinkFlow[], samples: Map<string, StreamSample>): FollowedCall[] {
  const claimed = new Set<LinkFlow>();
  const out: FollowedCall[] = [];
  for (const call of calls) {
    const overlaps = (x: LinkFlow) => x.flow.lastUs >= call.startUs - SLACK_US;
    const mine = flows.filter((x) => !claimed.has(x) && overlaps(x) && (call.endpoints.has(x.flow.src) || call.endpoints.has(x.flow.dst)));
    const ssrcs = new Set(mine.flatMap((x) => x.flow.ssrcs));
    for (const x of flows) if (!claimed.has(x) && !mine.includes(x) && overlaps(x) && x.flow.ssrcs.some((s) => ssrcs.has(s))) mine.push(x);
    for (const x of mine) claimed.add(x);
    const chains = bySsrc(mine).map((g): Chain => {
      const legs = g.map((x) => legOf(x, samples));
      const direction = orientation(legs, call);
      const [from, to] = direction === 'callee->caller' ? [call.calleeMedia, call.callerMedia] : [call.callerMedia, call.calleeMedia];
      return { legs: ordered(legs, from, to), direction };
    });
    out.push({ sip: call, chains });
  }
  // What no SIP explains: directions by SSRC, paired by their end points.
  const rest = bySsrc(flows.filter((x) => !claimed.has(x) && x.flow.packets >= MIN_UNSIGNALLED_PACKETS))
    .map((g): Chain => ({ legs: ordered(g.map((x) => legOf(x, samples)), undefined, undefined), direction: null }))
    .sort((a, b) => a.legs[0]!.firstUs - b.legs[0]!.firstUs);
  const paired = new Set<Chain>();
  for (const a of rest) {
    if (paired.has(a)) continue;
    paired.add(a);
    const aFrom = ipOf(a.legs[0]!.src);
    const aTo = ipOf(a.legs[a.legs.length - 1]!.dst);
    const b = rest.find((c) => !paired.has(c) && ipOf(c.legs[0]!.src) === aTo && ipOf(c.legs[c.legs.length - 1]!.dst) === aFrom);
    if (b) paired.add(b);
    // The direction seen first is taken as the caller's: a guess, and said so where the call is reported.
    a.direction = 'caller->callee';
    if (b) b.direction = 'callee->caller';
    out.push({ sip: null, chains: b ? [a, b] : [a] });
  }
  return out;
}
