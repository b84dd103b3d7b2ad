/**
 * Calls found from SIP, by Call-ID, in every message seen on any link (in
 * the clear or inside TLS): who called whom, the INVITE's hops, the media
 * endpoints each SDP announced, and the two ends' own media addresses (the
 * caller's in the first INVITE, the callee's in the first answer it sent).
 */
import type { SipSighting } from './types.ts';

export interface SipCall {
  callId: string;
  /** Its messages, one per hop (retransmissions dropped), in time order. */
  sightings: SipSighting[];
  caller?: string;
  callee?: string;
  /** The ends' media endpoints as they announced them. */
  callerMedia?: string;
  calleeMedia?: string;
  /** Every media endpoint any SDP of the call announced, on any hop. */
  endpoints: Set<string>;
  startUs: number;
  /** Time of the last message (a BYE and its answer end the call). */
  endUs: number;
  invites: SipSighting[];
}

const ANSWER = /^(1\d\d|2\d\d) \(INVITE\)$/;

/** Groups the messages into calls; only dialogs with an INVITE or an SDP are calls. */
export function callsFromSip(sightings: SipSighting[]): SipCall[] {
  const byId = new Map<string, SipSighting[]>();
  const seen = new Set<string>();
  for (const s of [...sightings].sort((a, b) => a.timeUs - b.timeUs)) {
    // A retransmission is the same message on the same hop: it adds nothing.
    const id = `${s.callId}|${s.link}|${s.from}|${s.to}|${s.message}|${s.keys.map((k) => k.inline).join(',')}|${s.endpoints.join(',')}`;
    if (seen.has(id)) continue;
    seen.add(id);
    (byId.get(s.callId) ?? byId.set(s.callId, []).get(s.callId)!).push(s);
  }
  const calls: SipCall[] = [];
  for (const [callId, list] of byId) {
    const invites = list.filter((s) => s.message === 'INVITE');
    if (invites.length === 0 && !list.some((s) => s.endpoints.length > 0)) continue;
    const offer = invites.find((s) => s.endpoints.length > 0);
    const answer = list.find((s) => ANSWER.test(s.message) && s.endpoints.length > 0);
    calls.push({
      callId, sightings: list, invites,
      caller: invites[0]?.from,
      callee: answer?.from ?? invites[invites.length - 1]?.to,
      callerMedia: offer?.endpoints[0],
      calleeMedia: answer?.endpoints[0],
      endpoints: new Set(list.flatMap((s) => s.endpoints)),
      startUs: list[0]!.timeUs,
      endUs: list[list.length - 1]!.timeUs,
    });
  }
  return calls.sort((a, b) => a.startUs - b.startUs);
}
