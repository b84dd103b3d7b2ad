import type { Analysis, MediaFlowReport } from '@imslab/analysis';
import type { AgwStream, AgwStreamReport } from './agw-evidence.ts';

/**
 * Compares what each IMS-AGW said about a call's media (its ng `query`,
 * agw-evidence.ts) with what the captures show of the same media: the
 * sockets it reported against the flows on the links, and how it said it
 * handles each side (plain RTP, SRTP it terminates, SRTP it relays
 * untouched) against whether the packets on that side were readable,
 * authenticated under which keys, or neither. Pure: the reports and the
 * analyser's view in, evidence lines out. The verdict stays the packets';
 * these lines say whether the media gateway's own account agrees.
 */

/** One captured media flow as the analyser saw it (a structural subset of its MediaFlowReport). */
export type CapturedFlow = Pick<MediaFlowReport, 'src' | 'dst' | 'packets' | 'plaintext' | 'srtp'> &
  Partial<Pick<MediaFlowReport, 'unknown' | 'plaintextUnmarked' | 'rtcp'>> & {
    /**
     * Whether the analyser tied the flow to this call: its probe marker was on
     * one of the call's paths, or the call's SDP announced its destination.
     * Only those count as "captured but not reported"; any flow can match a
     * reported socket.
     */
    ofCall: boolean;
  };

/** The analyser's view of the media, for one call. */
export interface CallMediaView {
  links: Array<{ link: string; flows: CapturedFlow[] }>;
  /** Key id -> SRTP suite (the analysis' key list), to compare with the suite an AGW reports. */
  keySuites?: Record<string, string>;
}

export interface AgwCheckLine {
  agw: string;
  /** `agrees`: the report matches the capture; `disagrees`: it does not; `note`: neither can be said. */
  kind: 'agrees' | 'disagrees' | 'note';
  text: string;
}

/** The analyser's view of one call's media, from the Analysis (flows of every link, the call's marked as its own). */
export function callMediaView(analysis: Pick<Analysis, 'links' | 'calls' | 'keys'>, alias: string): CallMediaView {
  const call = analysis.calls.find((c) => c.alias === alias);
  const onPath = new Set<string>();
  for (const p of call?.paths ?? []) {
    for (const [link, pl] of Object.entries(p.links)) for (const h of pl.hops) onPath.add(`${link}|${h.src}|${h.dst}`);
  }
  return {
    links: analysis.links.map((l) => ({
      link: l.link,
      flows: l.media.map((f) => ({
        src: f.src, dst: f.dst, packets: f.packets, plaintext: f.plaintext, plaintextUnmarked: f.plaintextUnmarked,
        srtp: f.srtp, unknown: f.unknown, rtcp: f.rtcp,
        ofCall: onPath.has(`${l.link}|${f.src}|${f.dst}`) || (call !== undefined && f.foundBy?.callId === call.callId),
      })),
    })),
    keySuites: Object.fromEntries(analysis.keys.map((k) => [k.id, k.suite])),
  };
}

interface Located {
  link: string;
  flow: CapturedFlow;
}

/** What a set of flows showed. */
interface Seen {
  flows: Located[];
  packets: number;
  plaintext: number;
  keys: string[];
  unknown: number;
}

function seen(flows: Located[]): Seen {
  const keys = new Set<string>();
  let packets = 0;
  let plaintext = 0;
  let unknown = 0;
  for (const { flow } of flows) {
    packets += flow.packets;
    plaintext += flow.plaintext + (flow.plaintextUnmarked ?? 0);
    unknown += flow.unknown ?? 0;
    for (const [k, n] of Object.entries(flow.srtp)) if (n > 0) keys.add(k);
  }
  return { flows, packets, plaintext, keys: [...keys].sort(), unknown };
}

const host = (ep: string) => ep.replace(/:\d+$/, '');
const describeFlows = (fs: Located[]) => fs.map((f) => `${f.link} flow ${f.flow.src}->${f.flow.dst} (${f.flow.packets} packets)`).join(', ');
const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function protectionOf(s: Seen): string {
  if (s.plaintext > 0) return `plaintext (${s.plaintext} packets readable)`;
  if (s.keys.length > 0) return `SRTP under ${s.keys.join(', ')}`;
  if (s.unknown > 0) return `encrypted under no logged key (${s.unknown} packets)`;
  return 'no RTP';
}

/** The session's suffix (`-mo`), and its label in lines: `ims-agw-a (-mo)`. */
function suffix(r: AgwStreamReport): string {
  const m = /-(mo|mt|tc1|tc2)$/.exec(r.ngCallId);
  return m ? `-${m[1]}` : r.ngCallId;
}
const label = (r: AgwStreamReport) => `${r.agw} (${suffix(r)})`;

const sideName = (s: AgwStream) => `${s.interface ?? 'unnamed'} side`;

function what(s: AgwStream): string {
  switch (s.handling) {
    case 'rtp':
      return `${s.protocol ?? 'RTP'} (plain RTP)`;
    case 'srtp-terminated':
      return s.reportedSuite!;
    case 'srtp-passthrough':
      return `${s.protocol} relayed untouched (passthrough)`;
    case 'srtp-unkeyed':
      return `${s.protocol} without keys`;
  }
}

/** The outcome of checking one side of a session against the capture. */
interface SideCheck {
  stream: AgwStream;
  inbound: Seen;
  outbound: Seen;
  problems: string[];
  /** Whether the side is on no captured link by design (the transcoder's inner interface). */
  inner: boolean;
}

class FlowIndex {
  private readonly all: Located[];
  constructor(view: CallMediaView) {
    this.all = view.links.flatMap((l) => l.flows.map((flow) => ({ link: l.link, flow })));
  }
  between(src: string, dst: string): Located[] {
    return this.all.filter((f) => f.flow.src === src && f.flow.dst === dst);
  }
  touching(ep: string): Located[] {
    return this.all.filter((f) => f.flow.src === ep || f.flow.dst === ep);
  }
  ofCall(): Located[] {
    return this.all.filter((f) => f.flow.ofCall);
  }
}

function checkSide(r: AgwStreamReport, s: AgwStream, peerPackets: number, flows: FlowIndex, keySuites: Record<string, string>): SideCheck {
  const who = label(r);
  const empty = seen([]);
  const out: SideCheck = { stream: s, inbound: empty, outbound: empty, problems: [], inner: s.interface === 'inner' };
  if (out.inner) {
    const leaked = s.local ? flows.touching(s.local) : [];
    if (leaked.length) out.problems.push(`${who} has its inner side at ${s.local}, which no link should carry, but the capture shows ${describeFlows(leaked)}`);
    return out;
  }
  if (!s.local) {
    out.problems.push(`${who} reports no local socket on its ${sideName(s)} (tag ${s.tag})`);
    return out;
  }
  out.inbound = seen(s.endpoint ? flows.between(s.endpoint, s.local) : []);
  out.outbound = seen(s.endpoint ? flows.between(s.local, s.endpoint) : []);
  const others = flows.touching(s.local).filter((f) => f.flow.src !== s.endpoint && f.flow.dst !== s.endpoint && f.flow.packets > 0);
  if (others.length) {
    out.problems.push(`${who} reports endpoint ${s.endpoint ?? 'none'} for its ${sideName(s)} (${s.local}) but the capture shows ${describeFlows(others)}`);
  }
  if (out.inbound.flows.length === 0 && s.packets > 0) {
    out.problems.push(`${who} reports ${s.packets} packets received from ${s.endpoint} on its ${sideName(s)} (${s.local}) but no flow ${s.endpoint}->${s.local} was captured`);
  }
  if (out.outbound.flows.length === 0 && peerPackets > 0 && s.endpoint) {
    out.problems.push(`${who} received ${peerPackets} packets to relay toward ${s.endpoint} on its ${sideName(s)} but no flow ${s.local}->${s.endpoint} was captured`);
  }
  if (out.inbound.flows.length > 0 && s.packets > out.inbound.packets) {
    out.problems.push(`${who} counted ${s.packets} packets from ${s.endpoint} on its ${sideName(s)} by the time it was asked, more than the ${out.inbound.packets} the capture holds for the whole call`);
  }
  const both = seen([...out.inbound.flows, ...out.outbound.flows]);
  if (both.flows.length === 0) return out;
  if (s.handling === 'rtp') {
    if (both.plaintext === 0 && (both.keys.length > 0 || both.unknown > 0)) {
      out.problems.push(`${who} reports ${what(s)} on its ${sideName(s)} but the capture shows ${protectionOf(both)} there (${describeFlows(both.flows)})`);
    }
  } else {
    if (both.plaintext > 0) {
      const claim = s.handling === 'srtp-terminated' ? s.reportedSuite! : what(s);
      out.problems.push(`${who} reports ${claim} on its ${sideName(s)} but the capture shows plaintext there (${describeFlows(both.flows.filter((f) => f.flow.plaintext + (f.flow.plaintextUnmarked ?? 0) > 0))})`);
    }
    if (s.handling === 'srtp-terminated') {
      const wrong = both.keys.filter((k) => keySuites[k] !== undefined && keySuites[k] !== s.reportedSuite);
      if (wrong.length) {
        out.problems.push(`${who} reports ${s.reportedSuite} on its ${sideName(s)} but the capture's SRTP there verifies under ${wrong.map((k) => `${k} (${keySuites[k]})`).join(', ')}`);
      }
    }
  }
  return out;
}

/** The agreement line for a pair of sides that showed no problem. */
function agreement(who: string, a: SideCheck, b: SideCheck | null): string {
  const sides = [a, ...(b ? [b] : [])];
  const where = sides
    .map((c) => (c.inner ? `inner side ${c.stream.local}: on no captured link, as designed` : `${sideName(c.stream)}: ${describeFlows([...c.inbound.flows, ...c.outbound.flows]) || 'no flow yet'}`))
    .join('; ');
  if (!b) return `${who}: ${what(a.stream)} on its ${sideName(a.stream)}, no peer side; ${where}`;
  const hs = [a.stream.handling, b.stream.handling];
  const all = seen(sides.flatMap((c) => [...c.inbound.flows, ...c.outbound.flows]));
  if (hs.every((h) => h === 'rtp')) return `${who}: relays plain RTP, as the capture shows (${protectionOf(all)}); endpoints match ${where}`;
  if (hs.every((h) => h === 'srtp-passthrough')) {
    const keys = [...new Set([...a.inbound.keys, ...b.inbound.keys])];
    const how = keys.length > 0 ? `the same keys on both sides (${keys.join(', ')})` : `the capture shows ${protectionOf(all)}, so whether it stayed untouched cannot be told`;
    return `${who}: relayed SRTP untouched (passthrough), ${how}; endpoints match ${where}`;
  }
  const term = sides.find((c) => c.stream.handling === 'srtp-terminated');
  const plain = sides.find((c) => c.stream.handling === 'rtp');
  if (term && plain) {
    const plainWhere = plain.inner ? 'hands plain RTP to its inner side (on no captured link)' : `relays plain RTP on its ${sideName(plain.stream)}`;
    return `${who}: terminates SRTP (${term.stream.reportedSuite}) on its ${sideName(term.stream)} and ${plainWhere}, as the capture shows (${protectionOf(seen([...term.inbound.flows, ...term.outbound.flows]))} there); endpoints match ${where}`;
  }
  if (hs.every((h) => h === 'srtp-terminated')) {
    const same = sameSet(a.inbound.keys, b.outbound.keys) && sameSet(b.inbound.keys, a.outbound.keys) && a.inbound.keys.length > 0;
    return same
      ? `${who}: holds the SRTP keys of both sides (${a.stream.reportedSuite}, not passthrough) and sends on under the keys it receives (${[...new Set([...a.inbound.keys, ...b.inbound.keys])].join(', ')}): it relays the endpoints' SRTP but could read it; endpoints match ${where}`
      : `${who}: terminates SRTP on both sides (${a.stream.reportedSuite} / ${b.stream.reportedSuite}) and re-encrypts: ${a.stream.interface} side ${a.inbound.keys.join(', ') || 'no logged key'} in, ${b.stream.interface} side ${b.outbound.keys.join(', ') || 'no logged key'} out; endpoints match ${where}`;
  }
  return `${who}: ${what(a.stream)} on its ${sideName(a.stream)}, ${what(b.stream)} on its ${sideName(b.stream)}; endpoints match ${where}`;
}

/** Problems only a pair of sides shows: passthrough that changed the key. */
function pairProblems(who: string, a: SideCheck, b: SideCheck): string[] {
  if (a.stream.handling !== 'srtp-passthrough' || b.stream.handling !== 'srtp-passthrough') return [];
  const out: string[] = [];
  for (const [from, to] of [[a, b], [b, a]] as const) {
    if (from.inbound.keys.length === 0 || to.outbound.keys.length === 0) continue;
    if (!sameSet(from.inbound.keys, to.outbound.keys)) {
      out.push(`${who} reports passthrough but the key changes across it: ${from.stream.interface} side in under ${from.inbound.keys.join(', ')}, ${to.stream.interface} side out under ${to.outbound.keys.join(', ')}`);
    }
  }
  return out;
}

/** The report to use per element and ng session: the call may have been asked about more than once; a found one wins, then the later. */
function latest(reports: AgwStreamReport[]): AgwStreamReport[] {
  const by = new Map<string, AgwStreamReport>();
  for (const r of reports) {
    const k = `${r.agw}|${r.ngCallId}`;
    const prev = by.get(k);
    if (!prev || (r.found && !prev.found) || (r.found === prev.found && r.at >= prev.at)) by.set(k, r);
  }
  return [...by.values()];
}

/** The sides a side exchanges media with: its `subscriptions`, or, when the reply named none, the one other side of the same m= line. */
function peersOf(r: AgwStreamReport, s: AgwStream): AgwStream[] {
  const same = r.streams.filter((p) => p !== s && p.index === s.index);
  const named = same.filter((p) => s.peers.includes(p.tag));
  return named.length > 0 || s.peers.length > 0 ? named : same.length === 1 ? same : [];
}

/**
 * Evidence lines for one call: per ng session of each IMS-AGW, whether its
 * report and the capture agree, and each way they do not; then the call's
 * captured flows at an IMS-AGW address that no reported stream accounts for.
 */
export function crossCheckAgw(reports: AgwStreamReport[], media: CallMediaView): AgwCheckLine[] {
  const flows = new FlowIndex(media);
  const keySuites = media.keySuites ?? {};
  const lines: AgwCheckLine[] = [];
  const sessions = latest(reports);
  for (const r of sessions) {
    const who = label(r);
    if (!r.found) {
      if (r.error && !/unknown call-id/i.test(r.error)) lines.push({ agw: r.agw, kind: 'note', text: `${who} could not be asked: ${r.error}` });
      continue;
    }
    const checks = new Map<AgwStream, SideCheck>();
    for (const s of r.streams) {
      const peerPackets = peersOf(r, s).reduce((n, p) => n + p.packets, 0);
      checks.set(s, checkSide(r, s, peerPackets, flows, keySuites));
    }
    const done = new Set<AgwStream>();
    for (const s of r.streams) {
      if (done.has(s)) continue;
      done.add(s);
      const a = checks.get(s)!;
      const peer = peersOf(r, s).find((p) => !done.has(p));
      const b = peer ? checks.get(peer)! : null;
      if (peer) done.add(peer);
      const problems = [...a.problems, ...(b?.problems ?? []), ...(b ? pairProblems(who, a, b) : [])];
      for (const p of problems) lines.push({ agw: r.agw, kind: 'disagrees', text: p });
      if (problems.length === 0) {
        const quiet = [a, ...(b ? [b] : [])].every((c) => c.inner || (c.inbound.flows.length === 0 && c.outbound.flows.length === 0));
        lines.push({ agw: r.agw, kind: quiet ? 'note' : 'agrees', text: quiet ? `${who}: no media reported or captured yet on tag ${s.tag}${peer ? `/${peer.tag}` : ''}` : agreement(who, a, b) });
      }
    }
  }
  // Flows of this call at an IMS-AGW's address that none of its reported streams accounts for.
  const agws = new Map<string, { addresses: Set<string>; sockets: Set<string>; found: boolean; asked: string[] }>();
  for (const r of sessions) {
    const a = agws.get(r.agw) ?? { addresses: new Set<string>(), sockets: new Set<string>(), found: false, asked: [] };
    for (const addr of Object.values(r.interfaces)) if (addr) a.addresses.add(addr);
    for (const s of r.streams) for (const ep of [s.local, s.localRtcp]) if (ep) a.sockets.add(ep);
    a.found ||= r.found;
    a.asked.push(suffix(r));
    agws.set(r.agw, a);
  }
  for (const f of flows.ofCall()) {
    for (const end of [f.flow.src, f.flow.dst]) {
      for (const [agw, a] of agws) {
        if (!a.addresses.has(host(end)) || a.sockets.has(end)) continue;
        lines.push({
          agw, kind: 'disagrees',
          text: a.found
            ? `${describeFlows([f])} was captured but ${agw} reports no stream on ${end}`
            : `${describeFlows([f])} was captured but ${agw} holds no session for this call (asked ${a.asked.join(', ')})`,
        });
      }
    }
  }
  return lines;
}
