import type { CallReport } from '@imslab/analysis';
import type { ProbeDirection } from '@imslab/probe';
import type { CallStatus } from '@imslab/ue/contract';

/**
 * Faults a scenario can inflict on an element while a call is up (issue 13:
 * what happens when the KMS, a P-CSCF, an IMS-AGW or the voicemail dies,
 * freezes or is cut off):
 * - `kill`: SIGKILL (local: its process group; docker: `docker kill`);
 * - `freeze`: SIGSTOP (local) or `docker pause`: alive, answering nothing;
 * - `cut`: its traffic dropped (local: an iptables chain of the run drops
 *   every packet from or to its addresses, its control API excepted) or its
 *   Docker networks disconnected.
 * Every fault is undone or cleaned up by the target's down(), also after a
 * crash of the runner (the state file names what to remove).
 */
export const FAULT_ACTIONS = ['kill', 'freeze', 'cut'] as const;
export type FaultAction = (typeof FAULT_ACTIONS)[number];

/** `ports` (cut only): refuse just these ports of the element, an attacker blocking its TLS port; without it the element is cut off entirely. */
export interface FaultOptions {
  ports?: number[];
}

export interface FaultRecord {
  element: string;
  action: FaultAction;
  /** When the fault was in place (ms since the epoch; capture timestamps use the same clock). */
  at: number;
}

const PAST: Record<FaultAction, string> = { kill: 'killed', freeze: 'frozen', cut: 'cut off' };

/** The verdict of a call a fault hit: `fault(<element>[+<element>])`. */
export function faultVerdict(faults: readonly FaultRecord[]): string {
  return `fault(${[...new Set(faults.map((f) => f.element))].join('+')})`;
}

const secs = (us: number) => `${(us / 1e6).toFixed(1)} s`;
/** Packets already on their way through a relay when the fault struck: not "after" it. */
const IN_FLIGHT_US = 250_000;

/** Kinds that only relay a call's media: a direction's receiving end is the first element after them. */
const MEDIA_RELAYS = new Set(['ims-agw', 'transcoder']);

/** Maps an address to its element (addressOwner of the plan). */
export type Owner = (address: string) => { name: string; kind: string } | undefined;

export interface FaultOutcome {
  /** Per direction of the call: did its media still reach the receiving end after the fault (on the end's own link)? */
  delivered: Partial<Record<ProbeDirection, boolean>>;
  /** What was seen, one line each. */
  evidence: string[];
}

const hostOf = (ep: string) => ep.replace(/:\d+$/, '');

/**
 * What was seen of a call a fault hit, from the packets and the UEs: the
 * protection the packets showed, per direction whether its media still
 * reached the receiving end (the last hop: toward an element that is no
 * media relay, a UE, the voicemail, a conference or PoC server) after the
 * fault and on every other link how long it went on, and how each UE's side
 * of the call ended. A reader sees whether the call died, went on through a
 * path without the element, or went on with weaker protection.
 */
export function faultOutcome(faults: readonly FaultRecord[], report: CallReport, ueCalls: Record<string, CallStatus[]>, owner: Owner): FaultOutcome {
  const atUs = faults.reduce((a, f) => Math.min(a, f.at), Infinity) * 1000;
  const evidence = faults.map((f) => `${f.element} ${PAST[f.action]} at ${new Date(f.at).toISOString()}`);
  evidence.push(`the packets alone say: ${report.verdict}`);
  const delivered: FaultOutcome['delivered'] = {};
  for (const p of report.paths) {
    const lines: string[] = [];
    let reached: boolean | undefined;
    for (const [link, l] of Object.entries(p.links)) {
      if (l.packets === 0 || l.lastUs === undefined) continue;
      const toEnd = l.hops.map((h) => owner(hostOf(h.dst))).find((o) => o !== undefined && !MEDIA_RELAYS.has(o.kind));
      const went = l.lastUs > atUs + IN_FLIGHT_US;
      if (toEnd) reached = (reached ?? false) || went;
      lines.push(`${link}${toEnd ? ` (to ${toEnd.name})` : ''}: ${went ? `${l.protection} for ${secs(l.lastUs - atUs)} after the fault` : 'nothing after the fault'}`);
    }
    delivered[p.direction] = reached ?? false;
    evidence.push(`${p.direction}: ${reached ? 'still reached' : 'no longer reached'} the receiving end; ${lines.join('; ') || 'no media on any link'}`);
  }
  for (const [ue, calls] of Object.entries(ueCalls)) {
    const s = calls.find((c) => c.callId === report.callId);
    if (!s) continue;
    const why = s.failure ? ` (${[s.failure.status, s.failure.reason].filter(Boolean).join(' ')})` : '';
    evidence.push(`${ue}: call ${s.state}${why}, ${s.media.rxPackets} packets received, ${s.media.txPackets} sent`);
  }
  return { delivered, evidence };
}
