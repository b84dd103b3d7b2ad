import { markerFor, type ProbeDirection, type ProbeMediaType } from '@imslab/probe';
import type { LinkReport } from './link-scan.ts';

/** How one direction of a call's media appeared on one link. */
export const LINK_PROTECTIONS = ['plaintext', 'srtp', 'encrypted-unknown', 'absent'] as const;
export type LinkProtection = (typeof LINK_PROTECTIONS)[number];

/**
 * A call's verdict: `e2e`, `e2m2e(<middle element>)`, `e2ae`, `none`;
 * `unknown` is media encrypted under keys no element logged or signalled
 * (never a protection claim); `no-media` is a call that carried none.
 */
export type Verdict = 'e2e' | 'e2ae' | 'none' | 'unknown' | 'no-media' | `e2m2e(${string})`;
/** The verdicts as a pattern, for files that name one. */
export const VERDICT_PATTERN = /^(e2e|e2ae|none|unknown|no-media|e2m2e\([a-z0-9+-]+\))$/;
/**
 * What a scenario may expect of a call: a verdict, or `fault(<element>)`
 * when the scenario killed, froze or cut off an element while the call was
 * up (the runner's judgement; the packets alone never say fault).
 */
export type CallVerdict = Verdict | `fault(${string})`;
export const CALL_VERDICT_PATTERN = /^(e2e|e2ae|none|unknown|no-media|e2m2e\([a-z0-9+-]+\)|fault\([a-z0-9+-]+\))$/;

export interface PathLink {
  protection: LinkProtection;
  packets: number;
  /**
   * Packets of the call's own flows on this link (those carrying this
   * direction's marker, or announced for the call by its SDP) that are
   * neither the marker in the clear nor SRTP under a logged key: under no
   * known key (`unknown`) or audio in the clear without the marker
   * (`unmarked`). Any of them weakens the link's protection.
   */
  unknown: number;
  unmarked: number;
  /** Keys whose tag verified on this link for this path. */
  keys: string[];
  flows: string[];
  /** Per flow of this path on this link: its endpoints and the keys that protected it. */
  hops: Array<{ src: string; dst: string; keys: string[] }>;
  /** Capture time (µs since the epoch) of the first and last packet of the path's flows on this link; absent without packets. */
  firstUs?: number;
  lastUs?: number;
}

/** One direction of one call, followed across every link. */
export interface PathReport {
  direction: ProbeDirection;
  marker: string;
  links: Record<string, PathLink>;
  verdict: Verdict;
  reasons: string[];
  /**
   * When the protection changed during the call (security switched on by a
   * re-INVITE): the verdict of each phase in time order, e.g. ['none', 'e2e'],
   * with the time (µs) the later phase started. Absent for a single phase.
   */
  phases?: Array<{ verdict: Verdict; fromUs: number }>;
}

export interface CallReport {
  alias: string;
  callId: string;
  verdict: Verdict;
  paths: PathReport[];
  evidence: string[];
  /**
   * What the verdict depends on beyond the packets: for SDES-keyed media, the
   * links and SIP hops that could read the keys. An e2e verdict with
   * conditions is end-to-end only if those are trusted.
   */
  conditions: string[];
  /** The call's verdict per phase when protection changed mid-call (both directions switched). */
  phases?: Verdict[];
}

const RANK: Record<string, number> = { 'no-media': -2, unknown: -1, none: 0, e2ae: 1, e2e: 3 };
const rank = (v: string) => RANK[v] ?? (v.startsWith('e2m2e') ? 2 : -1);
const weaker = (a: Verdict, b: Verdict) => (rank(b) < rank(a) ? b : a);

/** Maps an address to the element that owns it, to name the middle of an e2m2e path. */
export type AddressOwner = (address: string) => { name: string; kind: string } | undefined;

type Phase = 'all' | 'plaintext' | 'srtp';

/**
 * The flows of one direction of a call on a link: those carrying its marker,
 * and those the call's SDP announced that carry no marker of another call or
 * direction (media the analyser could not read is still the call's).
 */
function ownFlows(l: LinkReport, marker: string, callId: string | undefined) {
  return l.media.filter((f) => f.markers[marker] || (callId !== undefined && f.foundBy?.callId === callId && Object.keys(f.markers).length === 0));
}

function followPath(links: LinkReport[], marker: string, phase: Phase = 'all', callId?: string): Record<string, PathLink> {
  const out: Record<string, PathLink> = {};
  for (const l of links) {
    const pl: PathLink = { protection: 'absent', packets: 0, unknown: 0, unmarked: 0, keys: [], flows: [], hops: [] };
    let plaintext = 0;
    let srtp = 0;
    if (phase === 'all') {
      for (const f of ownFlows(l, marker, callId)) {
        pl.unknown += f.unknown;
        pl.unmarked += f.plaintextUnmarked;
        if ((f.unknown > 0 || f.plaintextUnmarked > 0) && !f.markers[marker]) pl.flows.push(`${f.flow} (the call's, by its SDP)`);
      }
    }
    for (const f of l.media) {
      const full = f.markers[marker];
      if (!full) continue;
      const m = phase === 'all' ? full : phase === 'plaintext' ? { ...full, srtp: {} } : { ...full, plaintext: 0 };
      if (m.plaintext === 0 && Object.keys(m.srtp).length === 0) continue;
      pl.flows.push(f.flow);
      pl.hops.push({ src: f.src, dst: f.dst, keys: Object.keys(m.srtp) });
      pl.firstUs = Math.min(pl.firstUs ?? Infinity, f.firstUs);
      pl.lastUs = Math.max(pl.lastUs ?? -Infinity, f.lastUs);
      plaintext += m.plaintext;
      for (const [k, n] of Object.entries(m.srtp)) {
        srtp += n;
        if (!pl.keys.includes(k)) pl.keys.push(k);
      }
    }
    pl.packets = plaintext + srtp;
    // The call's own packets in the clear, even without the marker, are readable; under no known key, unknown.
    if (plaintext > 0 || pl.unmarked > 0) pl.protection = 'plaintext';
    else if (pl.unknown > 0) pl.protection = 'encrypted-unknown';
    else if (srtp > 0) pl.protection = 'srtp';
    else if (phase === 'all' && l.media.some((f) => f.plaintextUnmarked > 0)) {
      // Audio in the clear that carries no marker cannot be tied to a call; it
      // is counted against every call on the link: never a false "protected".
      pl.protection = 'plaintext';
      pl.flows.push(...l.media.filter((f) => f.plaintextUnmarked > 0).map((f) => `${f.flow} (unmarked audio)`));
    } else if (phase === 'all' && l.media.some((f) => f.unknown > 0)) pl.protection = 'encrypted-unknown';
    out[l.link] = pl;
  }
  return out;
}

const host = (ep: string) => ep.replace(/:\d+$/, '');

/**
 * The elements that decrypted and re-encrypted: an element sends the path's
 * media on under a key under which none of it reached the element. (Keys
 * are pooled per element: a media gateway relaying two legs of a conference
 * receives and sends both keys, and re-encrypts nothing.)
 */
function reencryptingElements(links: PathLink[], owner: AddressOwner): Set<string> {
  const hops = links.flatMap((l) => l.hops);
  const inbound = new Map<string, Set<string>>();
  for (const h of hops) {
    const who = owner(host(h.dst));
    if (!who || who.kind === 'ue') continue;
    const keys = inbound.get(who.name) ?? new Set<string>();
    for (const k of h.keys) keys.add(k);
    inbound.set(who.name, keys);
  }
  const out = new Set<string>();
  for (const h of hops) {
    const who = owner(host(h.src));
    const got = who ? inbound.get(who.name) : undefined;
    if (!who || !got) continue;
    if (h.keys.some((k) => !got.has(k))) out.add(who.name);
  }
  return out;
}

/**
 * Whether the path's probe was seen arriving at an end: a UE other than the
 * one that sent it, a store (a voicemail keeps it for a later retrieval), or
 * a PoC server (a burst sent without the floor ends there by design; it holds
 * no group key, and a burst it forwards is judged on the way to the members).
 */
function deliveredToAnEnd(links: PathLink[], owner: AddressOwner): boolean {
  const hops = links.flatMap((l) => l.hops);
  const senders = new Set(hops.map((h) => owner(host(h.src))).filter((o) => o?.kind === 'ue').map((o) => o!.name));
  return hops.some((h) => {
    const to = owner(host(h.dst));
    return to !== undefined && ((to.kind === 'ue' && !senders.has(to.name)) || to.kind === 'voicemail' || to.kind === 'poc');
  });
}

/**
 * The verdict for one path, from what the packets showed:
 * - the marker readable on an access link: `none`;
 * - SRTP on every access link it crossed, plaintext in the core: `e2ae`;
 * - SRTP everywhere under one key: `e2e` (one cryptographic context);
 * - SRTP everywhere under different keys: `e2m2e(<element where the key changes>)`.
 */
export function judgePath(direction: ProbeDirection, marker: string, links: Record<string, PathLink>, owner: AddressOwner): PathReport {
  const reasons: string[] = [];
  const seen = Object.entries(links).filter(([, l]) => l.protection !== 'absent');
  const describe = (name: string, l: PathLink) =>
    `${name}: ${l.protection}${l.keys.length ? ` under ${l.keys.join(', ')}` : ''} (${l.packets} packets${l.unknown ? `, ${l.unknown} of the call's under no known key` : ''}${l.unmarked ? `, ${l.unmarked} of the call's audio in the clear without the marker` : ''})`;
  for (const [name, l] of Object.entries(links)) reasons.push(describe(name, l));
  let verdict: Verdict;
  if (seen.length === 0 || seen.every(([, l]) => l.protection === 'encrypted-unknown')) {
    verdict = seen.length === 0 ? 'no-media' : 'unknown';
    reasons.push(seen.length === 0 ? 'the probe was seen on no link' : 'encrypted media under no logged key');
  } else if (seen.some(([, l]) => l.protection === 'encrypted-unknown')) {
    verdict = 'unknown';
    reasons.push('part of the path is encrypted under a key nobody logged');
  } else if (seen.every(([, l]) => l.protection === 'srtp') && !deliveredToAnEnd(seen.map(([, l]) => l), owner)) {
    // Protected on every link it was seen on, but never seen arriving: an element on the way
    // took it in and did not send it on, or sent it on changed (decrypted, re-encoded).
    verdict = 'unknown';
    reasons.push('the probe was not seen arriving at the far end (a UE or a store): whatever took it in last did not pass it on');
  } else {
    const access = seen.filter(([n]) => n.startsWith('access'));
    const plainAccess = access.filter(([, l]) => l.protection === 'plaintext').map(([n]) => n);
    const plainCore = seen.filter(([n, l]) => !n.startsWith('access') && l.protection === 'plaintext').map(([n]) => n);
    if (plainAccess.length > 0) {
      verdict = 'none';
      const protectedLinks = access.filter(([, l]) => l.protection === 'srtp').map(([n]) => n);
      reasons.push(`probe readable on ${plainAccess.join(', ')}`);
      if (protectedLinks.length) reasons.push(`partial: SRTP only on ${protectedLinks.join(', ')} (weaker than e2ae)`);
    } else if (plainCore.length > 0) {
      verdict = 'e2ae';
      reasons.push(`SRTP on ${access.map(([n]) => n).join(', ')}; plaintext in ${plainCore.join(', ')}`);
    } else {
      const allKeys = new Set(seen.flatMap(([, l]) => l.keys));
      // A re-key during the call (a group's new epoch) puts the same two keys on every link, one after
      // the other; a re-encrypting middle puts different keys on its two sides.
      const sameOnEvery = new Set(seen.map(([, l]) => [...new Set(l.keys)].sort().join(' '))).size === 1;
      // An element that sends the media on under a key it never received it under re-encrypted, also when
      // both of its sides are on one link (caller and callee behind one IMS-AGW): one link seen is no proof of one key.
      const middles = allKeys.size === 1 ? new Set<string>() : reencryptingElements(seen.map(([, l]) => l), owner);
      if (allKeys.size === 1) {
        verdict = 'e2e';
        reasons.push(`one key on every link: ${[...allKeys][0]}`);
      } else if (sameOnEvery && middles.size === 0) {
        verdict = 'e2e';
        reasons.push(`the same keys on every link (re-keyed during the call): ${[...allKeys].join(', ')}`);
      } else {
        const middle = [...middles].sort().join('+') || 'unknown';
        verdict = `e2m2e(${middle})`;
        reasons.push(`keys differ across the path: ${[...allKeys].join(', ')}`);
      }
    }
  }
  return { direction, marker, links, verdict, reasons };
}

function spans(links: LinkReport[], marker: string) {
  return links.flatMap((l) => l.media.map((f) => f.markers[marker]).filter((m) => m !== undefined));
}

function firstSeen(links: LinkReport[], marker: string): number {
  return Math.min(...spans(links, marker).flatMap((m) => [m.plaintextSpan?.[0], m.srtpSpan?.[0]]).filter((x): x is number => x !== undefined));
}

/**
 * The time SRTP took over from plaintext, when on every link the marker was
 * last seen in the clear before it was first seen under SRTP; otherwise null.
 */
function protectionSwitch(links: LinkReport[], marker: string): number | null {
  // Per link: the same packet crosses the links one after another, so the last plaintext packet
  // can reach a far link after the first SRTP one left the near link (two IMS-AGWs on a busy
  // machine took longer than one 20 ms packet interval). Comparing across links saw a mix there.
  let srtpStart = Infinity;
  let plainSeen = false;
  for (const l of links) {
    const ms = l.media.map((f) => f.markers[marker]).filter((m) => m !== undefined);
    const plainEnd = Math.max(...ms.map((m) => m.plaintextSpan?.[1] ?? -Infinity));
    const start = Math.min(...ms.map((m) => m.srtpSpan?.[0] ?? Infinity));
    if (Number.isFinite(plainEnd) && Number.isFinite(start) && plainEnd >= start) return null;
    if (Number.isFinite(plainEnd)) plainSeen = true;
    srtpStart = Math.min(srtpStart, start);
  }
  if (!plainSeen || !Number.isFinite(srtpStart)) return null;
  // Both classes, and cleanly ordered in time on each link: a switch, not a mix.
  const access = links.filter((l) => l.link.startsWith('access'));
  const plainOnAccess = access.some((l) => l.media.some((f) => (f.markers[marker]?.plaintext ?? 0) > 0));
  return plainOnAccess ? srtpStart : null;
}

/** Both directions of a call; the call's verdict is the weaker of the two. */
export function judgeCall(alias: string, callId: string, links: LinkReport[], owner: AddressOwner, directions: readonly ProbeDirection[] = ['orig', 'term'], media: ProbeMediaType = 'audio'): CallReport {
  // One direction only for calls whose answerer sends no probe of its own (a store, a conference bridge).
  const paths = directions.map((dir) => {
    // A call's video or text stream has markers of its own: each stream is judged on its own.
    const marker = markerFor(callId, dir, media);
    const path = judgePath(dir, marker, followPath(links, marker, 'all', callId), owner);
    const switchedAt = protectionSwitch(links, marker);
    if (switchedAt !== null) {
      const before = judgePath(dir, marker, followPath(links, marker, 'plaintext'), owner);
      const after = judgePath(dir, marker, followPath(links, marker, 'srtp'), owner);
      path.phases = [{ verdict: before.verdict, fromUs: firstSeen(links, marker) }, { verdict: after.verdict, fromUs: switchedAt }];
      path.reasons.push(`protection changed during the call: ${before.verdict} until ${new Date(switchedAt / 1000).toISOString()}, then ${after.verdict}`);
    }
    return path;
  });
  // The weakest direction, where a direction that carried nothing ranks lowest (a missing direction stays
  // visible: one-way e2e media is `no-media`), except that it never hides a direction that leaked:
  // plaintext (`none`) or unreadable (`unknown`) media one way and nothing the other is `none` / `unknown`.
  const byRank = (list: typeof paths) => list.reduce((a, b) => (rank(b.verdict) < rank(a.verdict) ? b : a));
  const carried = paths.filter((p) => p.verdict !== 'no-media');
  const leaked = carried.length ? byRank(carried) : null;
  const weakest = leaked && rank(leaked.verdict) <= rank('none') ? leaked : byRank(paths);
  const evidence = paths.map((p) => `${p.direction === 'orig' ? 'caller->callee' : 'callee->caller'}: ${p.verdict}; ${p.reasons.join('; ')}`);
  const phased = paths.every((p) => p.phases);
  const phases = phased ? [paths.map((p) => p.phases![0]!.verdict).reduce(weaker), paths.map((p) => p.phases![1]!.verdict).reduce(weaker)] : undefined;
  return { alias, callId, verdict: weakest.verdict, paths, evidence, conditions: [], ...(phases ? { phases } : {}) };
}
