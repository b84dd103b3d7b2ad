import { randomBytes } from 'node:crypto';
import type { SipLogger } from '@imslab/app-server';
import { FloorControlServer, type FloorOutput } from '@imslab/floor-control';
import { demuxRtpRtcp } from '@imslab/rtp';
import type { PocGroupStatus, PocMemberStatus } from './contract.ts';
import type { PocGroupEntry, PocConfig } from './config.ts';
import { readFloorControl } from './floor-transport.ts';
import { decideForward } from './forwarding.ts';
import type { MemberLeg } from './member-leg.ts';
import type { SessionBox } from './session-box.ts';
import { forwardStream } from './stream-forwarding.ts';
import type { StreamLeg } from './stream-leg.ts';

/**
 * The session of one pre-arranged group: its joined members, its floor
 * control server (@imslab/floor-control, TS 24.380 clause 6.3) and the
 * forwarding of the floor holder's bursts (forwarding.ts): unchanged in e2e,
 * decrypted and re-encrypted per listener in e2m2e. Time is
 * performance.now(); the floor machine's timers run off one setTimeout at
 * its next deadline.
 */
export class GroupSession {
  readonly legs = new Map<number, MemberLeg>();
  readonly past: PocMemberStatus[] = [];
  readonly floor: FloorControlServer;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly group: PocGroupEntry,
    private readonly log: SipLogger,
    timers: PocConfig['floorTimers'] = {},
    /** Recordings for the members who are not joined; null: the server keeps no box. */
    readonly box: SessionBox | null = null,
  ) {
    this.floor = new FloorControlServer({ ssrc: randomBytes(4).readUInt32BE(0), contention: group.contention, timers });
  }

  get user(): string {
    return this.group.user;
  }

  admits(identity: string): boolean {
    return this.group.members.some((m) => m.toLowerCase() === identity.toLowerCase());
  }

  /**
   * A member joined (its ACK arrived): it gets Floor Idle or Floor Taken,
   * its sockets are read from now on, and what its box holds plays to it
   * before any live packet.
   */
  join(leg: MemberLeg): void {
    this.legs.set(leg.key, leg);
    leg.rtp.on('message', (data) => this.onMedia(leg, data));
    leg.rtcp.on('message', (data) => this.onRtcp(leg, data));
    for (const s of leg.streams.legs) {
      s.rtp.on('message', (data) => this.onStream(leg, s, data));
      // The member's reports on its video/text (SRTCP under the group key): counted; the server relays no member's RTCP.
      s.rtcp.on('message', () => s.stats.rtcpRx++);
    }
    this.log.info(`${leg.member} joined ${this.user} (${this.group.mode}); ${this.legs.size} member(s) now`);
    this.box?.joined(leg);
    this.deliver(this.floor.join({ ssrc: leg.key, userId: leg.member }));
  }

  leave(leg: MemberLeg): void {
    if (!this.legs.delete(leg.key)) return;
    const out = this.floor.leave(leg.key, performance.now());
    leg.close();
    this.past.push(leg.stats);
    this.log.info(`${leg.member} left ${this.user}; ${this.legs.size} member(s) left`);
    this.deliver(out);
  }

  private onMedia(from: MemberLeg, data: Buffer): void {
    // e2m2e: authenticate first, so that a forged packet on the holder's leg counts for nothing (it must not keep T1 running).
    let plain: Buffer | undefined;
    if (this.group.mode === 'e2m2e' && demuxRtpRtcp(data) === 'rtp') {
      const r = from.mediaKeys!.rx.unprotectRtp(data);
      if (!r.ok) {
        from.stats.rxPackets++;
        from.stats.rxAuthFailed++;
        return;
      }
      plain = r.packet;
    }
    const d = decideForward(data, from.key, this.legs.keys(), this.floor, performance.now());
    if (!d.forward) {
      if (d.reason === 'no-floor') {
        from.stats.rxPackets++;
        if (from.stats.droppedNoFloor++ === 0) this.log.info(`${from.member} sends media without the floor in ${this.user}: dropped, forwarded to nobody`);
      }
      return;
    }
    from.stats.rxPackets++;
    from.stats.forwarded++;
    // e2e: no key here, the burst goes on as it came, byte for byte; e2m2e: each listener's leg re-encrypts the RTP decrypted above.
    const burst = plain ?? data;
    for (const key of d.to) {
      const to = this.legs.get(key);
      const err = to?.forward(burst);
      if (err) this.log.warn(`${this.user}: not re-encrypted for ${to!.member}: ${err.message}`);
    }
    // Kept, as forwarded, for the members who are not here (after the live copies: the box never delays them).
    // The audio only: a member's video and text (onStream) are forwarded live and never recorded.
    this.box?.record(from, burst, this.legs.values());
    // T1 was restarted: keep the timer at the machine's next deadline.
    this.schedule();
  }

  /** A datagram on one of `from`'s video/text streams: forwarded like its audio, live only; no floor timer is touched (forwarding.ts decideStreamForward). */
  private onStream(from: MemberLeg, stream: StreamLeg, data: Buffer): void {
    if (forwardStream(from, stream, data, this.legs, this.floor)) this.log.info(`${from.member} sends ${stream.type} without the floor in ${this.user}: dropped, forwarded to nobody`);
  }

  private onRtcp(from: MemberLeg, data: Buffer): void {
    const r = readFloorControl(from.floorKeys.rx, data);
    if (!r.ok) {
      from.stats.floorRejected++;
      this.log.warn(`${this.user}: RTCP from ${from.member} refused: ${r.reason}`);
      return;
    }
    const now = performance.now();
    for (const m of r.messages) {
      from.stats.floorRx[m.type] = (from.stats.floorRx[m.type] ?? 0) + 1;
      const before = this.floor.holder;
      this.deliver(this.floor.receive(from.key, m, now));
      if (this.floor.holder !== before) this.log.info(`${this.user}: floor ${this.holderName() ? `granted to ${this.holderName()}` : 'idle'} (after ${m.type} from ${from.member})`);
    }
  }

  private holderName(): string | null {
    const h = this.floor.holder;
    return h === undefined ? null : (this.legs.get(h)?.member ?? null);
  }

  /** Sends the floor machine's messages, each to its member, and re-arms the timer; a burst being recorded ends with its holder's floor. */
  private deliver(out: FloorOutput[]): void {
    this.box?.holderIs(this.floor.holder);
    for (const o of out) {
      const leg = this.legs.get(o.to);
      const failed = leg?.sendFloor(o.message);
      if (failed) this.log.warn(`${this.user}: ${o.message.type} to ${leg!.member} not sent: ${failed.message}`);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const at = this.floor.nextDeadline();
    if (at === undefined || this.legs.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const before = this.floor.holder;
      const out = this.floor.tick(performance.now());
      if (this.floor.holder !== before) this.log.info(`${this.user}: floor ${this.holderName() ? `granted to ${this.holderName()}` : 'idle'} (timer)`);
      this.deliver(out);
    }, Math.max(0, at - performance.now()));
  }

  status(): PocGroupStatus {
    return {
      user: this.user, mode: this.group.mode, contention: this.group.contention, floor: this.floor.state, holder: this.holderName(),
      members: [...this.legs.values()].map((l) => l.stats), left: this.past, box: this.box?.status() ?? null,
    };
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.box?.close();
    for (const leg of [...this.legs.values()]) this.leave(leg);
    if (this.timer) clearTimeout(this.timer);
  }
}
