import type { Socket } from 'node:dgram';
import { closeQuietly, type OfferedStream } from '@imslab/app-server';
import type { PocStreamStatus } from './contract.ts';

/** The stream types the server forwards besides the audio: H.264 video and real-time text (T.140, RFC 4103). */
export const FORWARDED_STREAM_TYPES: readonly string[] = ['video', 'text'];

/** A fresh status entry of a member's further stream: accepted on `port`, or refused (port 0) with its reason. */
export function streamStatus(s: OfferedStream, port: number, refused: string | null): PocStreamStatus {
  return { index: s.index, type: s.type, port, refused, rxPackets: 0, forwarded: 0, droppedNoFloor: 0, skippedNoStream: 0, notRtp: 0, rtcpRx: 0, txPackets: 0 };
}

/**
 * One accepted further stream of a member's leg (video or text): the RTP/RTCP
 * socket pair the server gave it, where the member receives it, and its
 * counters. In e2e its packets are SRTP under the group key: the server reads
 * nothing in them and sends them on as they came.
 */
export class StreamLeg {
  readonly stats: PocStreamStatus;
  private closed = false;

  constructor(
    readonly offered: OfferedStream,
    readonly rtp: Socket,
    readonly rtcp: Socket,
    readonly port: number,
    /** The member's RTP address for this stream (its RTCP is the next port, no rtcp-mux). */
    readonly remote: { address: string; port: number },
  ) {
    this.stats = streamStatus(offered, port, null);
  }

  get type(): string {
    return this.offered.type;
  }

  /** The member takes packets on it: it offered sendrecv or recvonly (a sendonly or inactive stream gets nothing, RFC 3264 sec. 6.1). */
  get receives(): boolean {
    return this.offered.direction === 'sendrecv' || this.offered.direction === 'recvonly';
  }

  /** Another member's packet of this type, unchanged, to the member. */
  send(packet: Buffer): void {
    if (this.closed) return;
    this.rtp.send(packet, this.remote.port, this.remote.address, () => undefined);
    this.stats.txPackets++;
  }

  close(): void {
    this.closed = true;
    closeQuietly(this.rtp);
    closeQuietly(this.rtcp);
  }
}
