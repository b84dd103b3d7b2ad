import { demuxRtpRtcp } from '@imslab/rtp';

/** What the server does with one datagram a member sent to its RTP port. */
export type ForwardDecision =
  | { forward: true; to: number[] }
  | { forward: false; reason: 'not-rtp' | 'no-floor' };

/** The floor control server as forwarding sees it (FloorControlServer.onMedia). */
export interface FloorGate {
  /** Media from member `key` arrived at `now`: true only for the floor holder (and it restarts T1). */
  onMedia(key: number, now: number): boolean;
}

/**
 * The forwarding decision of the e2e PoC server: only the floor holder's
 * RTP goes on, to every other joined member, as it arrived (the server has no
 * group key: it can neither read nor change the burst). RTCP multiplexed on
 * the RTP port (RFC 5761 sec. 4) and junk are not media; everything from a
 * member without the floor is dropped, so a member ignoring floor control
 * reaches nobody.
 */
export function decideForward(packet: Uint8Array, from: number, members: Iterable<number>, floor: FloorGate, now: number): ForwardDecision {
  if (demuxRtpRtcp(packet) !== 'rtp') return { forward: false, reason: 'not-rtp' };
  if (!floor.onMedia(from, now)) return { forward: false, reason: 'no-floor' };
  const to: number[] = [];
  for (const m of members) if (m !== from) to.push(m);
  return { forward: true, to };
}

/** The floor as the forwarding of a member's further streams sees it: who may send, with no timer touched (FloorControlServer.mayForward). */
export interface FloorHolderGate {
  mayForward(key: number): boolean;
}

/**
 * The forwarding decision for a packet on one of a member's further streams
 * (video, text): the same rule as the audio (only the floor holder's RTP, to
 * every other joined member), but asked with mayForward rather than onMedia,
 * so that it does not restart T1. T1 (end of RTP media, TS 24.380) ends a
 * burst whose talker went silent; the floor is asked for to talk, and a
 * camera left running or a trickle of text must not keep it past the voice.
 */
export function decideStreamForward(packet: Uint8Array, from: number, members: Iterable<number>, floor: FloorHolderGate): ForwardDecision {
  if (demuxRtpRtcp(packet) !== 'rtp') return { forward: false, reason: 'not-rtp' };
  if (!floor.mayForward(from)) return { forward: false, reason: 'no-floor' };
  const to: number[] = [];
  for (const m of members) if (m !== from) to.push(m);
  return { forward: true, to };
}
