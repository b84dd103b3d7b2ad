/**
 * Floor control server for one group (TS 24.380 clause 6.3, on-network,
 * simplified): the general state machine 'G: Floor Idle' -> 'G: Floor Taken'
 * -> 'G: pending Floor Revoke', a priority queue of requests (or denial,
 * by configuration), Floor Taken to everyone but the holder, Floor Idle to
 * everyone when the floor frees, and revocation when a burst outlasts T2.
 *
 * Pure: no sockets, no clock. Each input returns the messages to send, each
 * addressed to a participant SSRC; the caller encodes and protects them
 * (SRTCP under the member's client-server key). The sender of an input is the
 * SSRC the transport authenticated (`from`), never the SSRC written inside
 * the message, so one member cannot act for another.
 *
 * Simplifications: one floor (no dual floor, no multi-talker), no
 * pre-emption, no participating-function relay (Track Info is not added).
 */
import { DENY_CAUSE, FLOOR_INDICATOR, QUEUE_POSITION, REVOKE_CAUSE, SUBTYPE } from './codes.ts';
import { FloorConfigError } from './errors.ts';
import type { FloorFields } from './fields.ts';
import type { FloorMessage } from './message.ts';
import { FloorQueue } from './queue.ts';
import { DEFAULT_SERVER_TIMERS, Deadlines, resolveTimers, type ServerTimers } from './timers.ts';

/** General server states (clause 6.3.4): 'G: Floor Idle', 'G: Floor Taken', 'G: pending Floor Revoke'. */
export type ServerState = 'idle' | 'taken' | 'pending-revoke';

/** What to do with a request while the floor is taken. */
export type ContentionPolicy = 'deny' | 'queue';

/** A member of the group. */
export interface FloorMember {
  ssrc: number;
  /** MCPTT ID, sent as Granted Party's Identity and User ID. */
  userId: string;
  /** Highest floor priority this member may use (default 255); a request asking more gets this. */
  maxPriority?: number;
}

/** Options of a {@link FloorControlServer}. */
export interface FloorServerOptions {
  /** SSRC the server sends floor control with. */
  ssrc: number;
  /** Deny (cause 1) or queue a request while the floor is taken. */
  contention: ContentionPolicy;
  /** Longest queue when queueing (default 8); beyond it requests are denied with cause 7 "queue full". */
  maxQueue?: number;
  /** Ask the granted participant to acknowledge Floor Granted (repeated by T20 until it does). Default false. */
  grantAckRequired?: boolean;
  timers?: Partial<ServerTimers>;
}

/** One message to send. */
export interface FloorOutput {
  /** SSRC of the participant to send to. */
  to: number;
  message: FloorMessage;
}

type ServerTimer = 'T1' | 'T2' | 'T3' | 'T7' | 'T20';

/** See the module comment. */
export class FloorControlServer {
  readonly timers: ServerTimers;
  private current: ServerState = 'idle';
  private holderSsrc: number | undefined;
  private holderPriority = 0;
  private readonly members = new Map<number, FloorMember>();
  private readonly queue = new FloorQueue();
  private readonly deadlines = new Deadlines<ServerTimer>();
  private seq = 0;
  private idleSent = 0;
  private grantSent = 0;
  private readonly maxQueue: number;

  constructor(readonly options: FloorServerOptions) {
    this.timers = resolveTimers(DEFAULT_SERVER_TIMERS, options.timers);
    this.maxQueue = options.maxQueue ?? 8;
    if (!Number.isInteger(this.maxQueue) || this.maxQueue < 1) throw new FloorConfigError(`maxQueue must be a positive integer, got ${options.maxQueue}`);
  }

  get state(): ServerState {
    return this.current;
  }

  /** SSRC of the floor holder, if any. */
  get holder(): number | undefined {
    return this.holderSsrc;
  }

  /** Queued SSRCs in grant order. */
  get queued(): number[] {
    return this.queue.order();
  }

  /** Earliest timer deadline; call {@link tick} then. */
  nextDeadline(): number | undefined {
    return this.deadlines.next();
  }

  /**
   * Whether media from `ssrc` may be forwarded to the group: only the floor
   * holder's, while it holds the floor (including the T3 grace after a
   * revoke, so the tail of its burst is not cut mid-word).
   */
  mayForward(ssrc: number): boolean {
    return this.current !== 'idle' && this.holderSsrc === ssrc;
  }

  /** RTP media arrived from `ssrc`: restarts T1 for the holder; returns {@link mayForward}. */
  onMedia(ssrc: number, now: number): boolean {
    if (!this.mayForward(ssrc)) return false;
    if (this.current === 'taken') this.deadlines.start('T1', now, this.timers.t1EndOfMediaMs);
    return true;
  }

  /** A member joins the group session; it is told the floor's state (Floor Idle or Floor Taken). */
  join(member: FloorMember): FloorOutput[] {
    if (this.members.has(member.ssrc)) throw new FloorConfigError(`SSRC ${member.ssrc} is already a member`);
    this.members.set(member.ssrc, member);
    if (this.current === 'idle') return [{ to: member.ssrc, message: this.msg('floor-idle', { messageSequenceNumber: this.seq }) }];
    return [{ to: member.ssrc, message: this.takenMessage(this.holderSsrc!) }];
  }

  /** A member leaves: a holder leaving frees the floor; a queued one leaves the queue. */
  leave(ssrc: number, now: number): FloorOutput[] {
    if (!this.members.delete(ssrc)) return [];
    this.queue.remove(ssrc);
    if (this.holderSsrc === ssrc) return this.holderGone(now);
    return [];
  }

  /**
   * A floor control message from member `from` (as authenticated by the
   * transport). Messages from non-members and messages a server does not
   * act on are ignored (no output).
   */
  receive(from: number, m: FloorMessage, now: number): FloorOutput[] {
    if (!this.members.has(from)) return [];
    switch (m.type) {
      case 'floor-request':
        return this.onRequest(from, m.fields.floorPriority ?? 0, now);
      case 'floor-release':
        return this.onRelease(from, now);
      case 'floor-queue-position-request':
        return [this.queuePositionInfo(from)];
      case 'floor-ack':
        // Clause 6.3.5: Floor Ack of our Floor Granted stops its repetition.
        if (from === this.holderSsrc && m.fields.messageType === this.grantSubtype()) this.deadlines.stop('T20');
        return [];
      default:
        return [];
    }
  }

  /** Fires every timer due at `now`, in deadline order. */
  tick(now: number): FloorOutput[] {
    const out: FloorOutput[] = [];
    for (let d = this.deadlines.due(now); d; d = this.deadlines.due(now)) out.push(...this.onTimer(d.name, d.at));
    return out;
  }

  private onRequest(from: number, requested: number, now: number): FloorOutput[] {
    const priority = Math.min(requested, this.members.get(from)!.maxPriority ?? 255);
    if (this.current === 'idle') return this.grant(from, priority, now);
    if (from === this.holderSsrc) {
      // Clause 6.3.5: a request from the holder (its Floor Granted was lost) is answered with Floor Granted again.
      return [{ to: from, message: this.grantedMessage() }];
    }
    if (this.options.contention === 'deny') {
      return [{ to: from, message: this.msg('floor-deny', { rejectCause: { cause: DENY_CAUSE.anotherClientHasPermission, phrase: 'floor taken' }, userId: this.members.get(from)!.userId }) }];
    }
    if (!this.queue.has(from) && this.queue.size >= this.maxQueue) {
      return [{ to: from, message: this.msg('floor-deny', { rejectCause: { cause: DENY_CAUSE.queueFull, phrase: 'queue full' }, userId: this.members.get(from)!.userId }) }];
    }
    this.queue.add(from, priority);
    return [this.queuePositionInfo(from)];
  }

  private onRelease(from: number, now: number): FloorOutput[] {
    if (from === this.holderSsrc) return this.holderGone(now);
    // A queued member releasing withdraws its request (clause 6.2.4: PTT released while queued).
    this.queue.remove(from);
    return [];
  }

  private onTimer(name: ServerTimer, at: number): FloorOutput[] {
    switch (name) {
      case 'T1': // the holder went silent: its burst is over
      case 'T3': // revoked holder did not release within the grace
        return this.holderGone(at);
      case 'T2': {
        // The burst outlasted Duration: Floor Revoke, cause 2 "media burst too long" (clause 8.2.10.2).
        this.current = 'pending-revoke';
        this.deadlines.stop('T1', 'T20');
        this.deadlines.start('T3', at, this.timers.t3StopTalkingGraceMs);
        return [{ to: this.holderSsrc!, message: this.msg('floor-revoke', { rejectCause: { cause: REVOKE_CAUSE.mediaBurstTooLong } }) }];
      }
      case 'T7':
        if (this.current !== 'idle' || this.idleSent >= this.timers.c7FloorIdleMax) return [];
        return this.sendIdle(at);
      case 'T20':
        if (this.current !== 'taken' || this.grantSent >= this.timers.c20FloorGrantedMax) return [];
        this.grantSent++;
        this.deadlines.start('T20', at, this.timers.t20FloorGrantedMs);
        return [{ to: this.holderSsrc!, message: this.grantedMessage() }];
    }
  }

  /** Grant to `ssrc`: Floor Granted to it, Floor Taken to everyone else ('G: Floor Taken'). */
  private grant(ssrc: number, priority: number, now: number): FloorOutput[] {
    this.current = 'taken';
    this.holderSsrc = ssrc;
    this.holderPriority = priority;
    this.seq = (this.seq + 1) & 0xffff;
    this.deadlines.stop('T7', 'T3');
    this.deadlines.start('T1', now, this.timers.t1EndOfMediaMs);
    this.deadlines.start('T2', now, this.timers.t2StopTalkingMs);
    this.grantSent = 1;
    if (this.options.grantAckRequired) this.deadlines.start('T20', now, this.timers.t20FloorGrantedMs);
    const out: FloorOutput[] = [{ to: ssrc, message: this.grantedMessage() }];
    for (const other of this.members.keys()) if (other !== ssrc) out.push({ to: other, message: this.takenMessage(ssrc) });
    return out;
  }

  /** The holder released, went silent, left or was revoked: next in queue, or 'G: Floor Idle'. */
  private holderGone(now: number): FloorOutput[] {
    this.holderSsrc = undefined;
    this.deadlines.stop('T1', 'T2', 'T3', 'T20');
    const next = this.queue.shift();
    if (next) return this.grant(next.ssrc, next.priority, now);
    this.current = 'idle';
    this.seq = (this.seq + 1) & 0xffff;
    this.idleSent = 0;
    return this.sendIdle(now);
  }

  private sendIdle(now: number): FloorOutput[] {
    this.idleSent++;
    this.deadlines.start('T7', now, this.timers.t7FloorIdleMs);
    return [...this.members.keys()].map((to) => ({ to, message: this.msg('floor-idle', { messageSequenceNumber: this.seq }) }));
  }

  private grantSubtype(): number {
    return SUBTYPE['floor-granted'] | (this.options.grantAckRequired ? 0x10 : 0);
  }

  private grantedMessage(): FloorMessage {
    const fields: FloorFields = { duration: Math.ceil(this.timers.t2StopTalkingMs / 1000), floorPriority: this.holderPriority };
    if (this.options.contention === 'queue') fields.queueSize = this.queue.size;
    return { ...this.msg('floor-granted', fields), ackRequired: this.options.grantAckRequired ?? false };
  }

  private takenMessage(holder: number): FloorMessage {
    return this.msg('floor-taken', {
      grantedPartyId: this.members.get(holder)?.userId ?? '',
      // Clause 8.2.3.7: receivers may request (and be queued or denied) while the floor is taken.
      permissionToRequest: true,
      messageSequenceNumber: this.seq,
      grantedSsrc: holder,
    });
  }

  private queuePositionInfo(ssrc: number): FloorOutput {
    const position = this.queue.position(ssrc);
    return {
      to: ssrc,
      message: this.msg('floor-queue-position-info', {
        userId: this.members.get(ssrc)!.userId,
        queueInfo: { position: position ?? QUEUE_POSITION.notQueued, priorityLevel: this.queue.priorityOf(ssrc) ?? 0 },
      }),
    };
  }

  private msg(type: FloorMessage['type'], fields: FloorFields): FloorMessage {
    const ind = FLOOR_INDICATOR.normalCall | (this.options.contention === 'queue' ? FLOOR_INDICATOR.queueingSupported : 0);
    const withInd = type === 'floor-request' || type === 'floor-ack' || type === 'floor-queue-position-request' ? fields : { ...fields, floorIndicator: ind };
    return { type, ackRequired: false, ssrc: this.options.ssrc, fields: withInd };
  }
}
