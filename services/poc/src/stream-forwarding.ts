import { decideStreamForward, type FloorHolderGate } from './forwarding.ts';
import type { MemberLeg } from './member-leg.ts';
import type { StreamLeg } from './stream-leg.ts';

/**
 * A datagram on one of `from`'s further streams (e2e: SRTP under the group
 * key, unreadable here): the floor holder's RTP goes, byte for byte, to the
 * stream of the same type of every other joined member; a member without
 * one (it offered audio only, or its stream was refused, or it does not
 * receive on it) is skipped and counted. Live only: these packets never
 * wait behind a member's box replay and are never recorded (the box keeps
 * the audio). Returns true for the first packet dropped for want of the
 * floor, so that the caller logs it once.
 */
export function forwardStream(from: MemberLeg, stream: StreamLeg, data: Buffer, legs: ReadonlyMap<number, MemberLeg>, floor: FloorHolderGate): boolean {
  const st = stream.stats;
  const d = decideStreamForward(data, from.key, legs.keys(), floor);
  if (!d.forward) {
    if (d.reason === 'not-rtp') {
      st.notRtp++;
      return false;
    }
    st.rxPackets++;
    return st.droppedNoFloor++ === 0;
  }
  st.rxPackets++;
  st.forwarded++;
  for (const key of d.to) {
    const to = legs.get(key)?.streamOf(stream.type);
    if (to?.receives) to.send(data);
    else st.skippedNoStream++;
  }
  return false;
}
