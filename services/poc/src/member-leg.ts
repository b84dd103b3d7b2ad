import type { Socket } from 'node:dgram';
import { closeQuietly, type UasCall } from '@imslab/app-server';
import type { FloorMessage } from '@imslab/floor-control';
import type { SrtpContext } from '@imslab/srtp';
import type { ClientServerKeying, PocMemberStatus, PocStreamStatus } from './contract.ts';
import { writeFloorControl } from './floor-transport.ts';
import type { Replay } from './replay.ts';
import type { StreamLeg } from './stream-leg.ts';

/** The SRTCP contexts of a member's client-server key pair (SDES with the server): its key (rx) and ours (tx). */
export interface FloorKeys {
  rx: SrtpContext;
  tx: SrtpContext;
}

/** e2m2e: the SRTP contexts of the leg's media under the same key pair (RFC 3711: SRTP and SRTCP of one master key keep separate indices). */
export type MediaKeys = FloorKeys;

/** A member's further streams (video, text): the accepted ones with their sockets, and every offered one's status entry. */
export interface MemberStreams {
  legs: StreamLeg[];
  status: PocStreamStatus[];
}

/**
 * One member in a group session: the SIP call, the RTP/RTCP socket pair the
 * server gave it (and one per further stream it took), where its media and
 * RTCP go, its floor control keys, and the counters the control API reports.
 * `key` names it in the floor control server (a per-session number: the
 * server authenticates a member by the key its SRTCP verifies under, never by
 * an SSRC it claims).
 */
export class MemberLeg {
  readonly stats: PocMemberStatus;
  /** Its box playing to it since it joined; live packets wait behind it until it is done. */
  replay: Replay | null = null;

  constructor(
    readonly key: number,
    readonly call: UasCall,
    readonly rtp: Socket,
    readonly rtcp: Socket,
    readonly port: number,
    /** The member's RTP address; its RTCP is the next port (RFC 3550 sec. 11). */
    readonly remote: { address: string; port: number },
    readonly floorKeys: FloorKeys,
    /** e2m2e only: the leg's media keys; e2e legs have none (the media is under the group key). */
    readonly mediaKeys: MediaKeys | null = null,
    keying: ClientServerKeying = 'sdes',
    /** Its accepted further streams (closed with the leg). */
    readonly streams: MemberStreams = { legs: [], status: [] },
  ) {
    this.stats = {
      member: call.caller, clientServerKey: keying, callId: call.callId, joinedAt: new Date().toISOString(), leftAt: null,
      rxPackets: 0, forwarded: 0, droppedNoFloor: 0, rxAuthFailed: 0, txPackets: 0, floorRx: {}, floorTx: {}, floorRejected: 0,
      replay: { bursts: 0, delivered: 0, packets: 0, replaying: false, queuedLive: 0, droppedLive: 0 },
      streams: streams.status,
    };
  }

  get member(): string {
    return this.stats.member;
  }

  /** Its accepted stream of this media type, if it has one (one of each type is taken). */
  streamOf(type: string): StreamLeg | undefined {
    return this.streams.legs.find((s) => s.type === type);
  }

  /**
   * A live packet of the floor holder for this member, as the server keeps
   * bursts (e2e: the SRTP as it arrived; e2m2e: the RTP it decrypted): it
   * waits behind a replay that is still playing, or goes now. Returns the
   * error when it could not be sent.
   */
  forward(packet: Buffer): Error | undefined {
    if (this.replay?.pushLive(packet)) return undefined;
    return this.transmit(packet);
  }

  /**
   * Sends a packet as the server keeps bursts: e2e unchanged; e2m2e
   * re-encrypted under this leg's key (the holder's RTP header stays).
   * Returns the error when it could not be protected: an SSRC and sequence
   * this leg's key already protected (two talkers on one SSRC) must never
   * reuse keystream, and must not crash the server.
   */
  transmit(packet: Buffer): Error | undefined {
    if (!this.mediaKeys) {
      this.sendMedia(packet);
      return undefined;
    }
    try {
      this.sendMedia(this.mediaKeys.tx.protectRtp(packet));
      return undefined;
    } catch (e) {
      return e as Error;
    }
  }

  /** A packet on the wire to the member (e2e: unchanged; e2m2e: already re-encrypted for this leg). */
  sendMedia(packet: Buffer): void {
    if (this.stats.leftAt) return;
    this.rtp.send(packet, this.remote.port, this.remote.address, () => undefined);
    this.stats.txPackets++;
  }

  /**
   * A floor control message to the member, as SRTCP under our client-server
   * key. Returns the error when it could not be sent (a message the codec
   * refuses, a key past its lifetime): the caller logs it, nothing crashes.
   */
  sendFloor(m: FloorMessage): Error | undefined {
    if (this.stats.leftAt) return undefined;
    let wire: Buffer;
    try {
      wire = writeFloorControl(this.floorKeys.tx, m);
    } catch (e) {
      return e as Error;
    }
    this.rtcp.send(wire, this.remote.port + 1, this.remote.address, () => undefined);
    this.stats.floorTx[m.type] = (this.stats.floorTx[m.type] ?? 0) + 1;
    return undefined;
  }

  close(): void {
    this.replay?.stop();
    this.stats.leftAt ??= new Date().toISOString();
    closeQuietly(this.rtp);
    closeQuietly(this.rtcp);
    for (const s of this.streams.legs) s.close();
  }
}
