import { decodeFrame, readCapture } from '@imslab/capture';
import { findClearFloorControl } from '@imslab/floor-control';
import { demuxRtpRtcp, RTCP_PACKET_TYPE } from '@imslab/rtp';

/**
 * What the core capture shows of the PoC server's replication: per member
 * leg (the server endpoint a member sends to), the RTP packets that reached
 * it and where the very same bytes left the server. In e2e mode every packet
 * the server sends must be one it received, byte for byte (it holds no key:
 * it cannot re-encrypt or alter a burst), and only the floor holder's
 * packets may reappear.
 */
export interface PocReplication {
  element: string;
  legs: Array<{
    /** The server's endpoint of the leg (address:port). */
    at: string;
    /** Where the member's packets came from (its IMS-AGW or the UE). */
    from: string;
    packets: number;
    /** Destination (address:port) -> packets of this leg sent there byte-identical. */
    forwardedTo: Record<string, number>;
  }>;
  /** RTP packets the server sent. */
  sent: number;
  /** Of those, byte-identical to a packet that reached it. */
  sentIdentical: number;
}

/** Reads the core link for `address`'s RTP in and out (SIP and RTCP are left out). */
export async function pocReplicationEvidence(corePcap: string, element: string, address: string): Promise<PocReplication> {
  const legs = new Map<string, PocReplication['legs'][number]>();
  const seen = new Map<string, string>();
  let sent = 0;
  let sentIdentical = 0;
  for await (const pkt of readCapture(corePcap)) {
    const d = decodeFrame(pkt.linkType, pkt.data);
    if (!d || d.protocol !== 'udp' || d.srcPort === 5060 || d.dstPort === 5060 || demuxRtpRtcp(d.payload) !== 'rtp') continue;
    if (d.dst === address) {
      const at = `${d.dst}:${d.dstPort}`;
      let leg = legs.get(at);
      if (!leg) legs.set(at, (leg = { at, from: `${d.src}:${d.srcPort}`, packets: 0, forwardedTo: {} }));
      leg.packets++;
      seen.set(d.payload.toString('base64'), at);
    } else if (d.src === address) {
      sent++;
      const at = seen.get(d.payload.toString('base64'));
      if (at === undefined) continue;
      sentIdentical++;
      const to = `${d.dst}:${d.dstPort}`;
      const f = legs.get(at)!.forwardedTo;
      f[to] = (f[to] ?? 0) + 1;
    }
  }
  return { element, legs: [...legs.values()], sent, sentIdentical };
}

/**
 * Floor control as an observer of each link sees it: RTCP APP packets
 * (SRTCP leaves the header clear, so the count and the subtype show), and
 * any floor control readable without a key (plain RTCP APP `MCPT`, or SRTCP
 * with encryption off): a finding, since the floor's holder, user IDs and
 * queue would then be readable by anyone on the link.
 */
export interface FloorControlOnLinks {
  /** Link -> RTCP datagrams starting with an APP packet (floor control, readable or not). */
  appPackets: Record<string, number>;
  /** Datagrams whose floor control anyone can read, at most 20 listed. */
  clear: Array<{ link: string; flow: string; messages: string[] }>;
  clearTotal: number;
}

const MAX_LISTED = 20;

/** Scans every link's capture for floor control (any UDP port: floor control travels on media RTCP ports). */
export async function floorControlOnLinks(captures: Record<string, string>): Promise<FloorControlOnLinks> {
  const out: FloorControlOnLinks = { appPackets: {}, clear: [], clearTotal: 0 };
  for (const [link, file] of Object.entries(captures)) {
    out.appPackets[link] = 0;
    for await (const pkt of readCapture(file)) {
      const d = decodeFrame(pkt.linkType, pkt.data);
      if (!d || d.protocol !== 'udp' || demuxRtpRtcp(d.payload) !== 'rtcp') continue;
      if (d.payload[1] === RTCP_PACKET_TYPE.APP) out.appPackets[link]!++;
      const c = findClearFloorControl(d.payload);
      if (!c) continue;
      out.clearTotal++;
      if (out.clear.length < MAX_LISTED) out.clear.push({ link, flow: `${d.src}:${d.srcPort} > ${d.dst}:${d.dstPort}`, messages: c.messages.map((m) => m.type) });
    }
  }
  return out;
}
