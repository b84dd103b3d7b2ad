import type { Socket } from 'node:dgram';
import { closeQuietly, type UasCall } from '@imslab/app-server';
import { initialSequenceNumber } from '@imslab/rtp';
import type { SrtpContext } from '@imslab/srtp';

/** Counters of one participant's leg, as the control API reports them. */
export interface LegStats {
  member: string;
  callId: string;
  joinedAt: string;
  leftAt: string | null;
  /** Packets received from this member. */
  rxPackets: number;
  /** e2m2e: packets that failed SRTP authentication (dropped). */
  rxAuthFailed: number;
  /** Packets sent to this member (forwarded or mixed). */
  txPackets: number;
}

/**
 * One participant of a conference: the SIP call, the RTP socket the bridge
 * gave it, where its media goes, and (e2m2e) the SRTP contexts of its leg.
 */
export class Leg {
  readonly stats: LegStats;
  /** e2m2e: decrypted payloads waiting for the next mixing tick (bounded: a late member cannot grow it). */
  readonly queue: Buffer[] = [];
  /** e2m2e: our RTP stream toward this member. */
  seq = initialSequenceNumber();
  timestamp = Math.floor(Math.random() * 0x100000000);
  readonly ssrc = Math.floor(Math.random() * 0x100000000);

  constructor(
    readonly id: string,
    readonly call: UasCall,
    readonly socket: Socket,
    readonly port: number,
    readonly remote: { address: string; port: number },
    readonly crypto: { rx: SrtpContext; tx: SrtpContext } | null,
  ) {
    this.stats = { member: call.caller, callId: call.callId, joinedAt: new Date().toISOString(), leftAt: null, rxPackets: 0, rxAuthFailed: 0, txPackets: 0 };
  }

  send(packet: Buffer): void {
    this.socket.send(packet, this.remote.port, this.remote.address);
    this.stats.txPackets++;
  }

  close(): void {
    this.stats.leftAt ??= new Date().toISOString();
    closeQuietly(this.socket);
  }
}
