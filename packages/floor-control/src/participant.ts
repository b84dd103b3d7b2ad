/**
 * Floor participant (TS 24.380 clause 6.2.4, on-network, simplified): the
 * states 'U: has no permission', 'U: pending Request', 'U: queued',
 * 'U: has permission' and 'U: pending Release', driven by the user's PTT
 * button, the server's messages and timers T100/T101.
 *
 * Pure: each input returns the messages to send to the floor control
 * server. User actions the current state has no edge for throw a
 * {@link FloorStateError}; server messages a state does not expect are
 * ignored (a late or repeated message must not break the machine).
 */
import { ACK_REQUIRED_BIT, SOURCE, SUBTYPE } from './codes.ts';
import { FloorStateError } from './errors.ts';
import type { FloorFields, QueueInfo } from './fields.ts';
import type { FloorMessage } from './message.ts';
import { DEFAULT_PARTICIPANT_TIMERS, Deadlines, resolveTimers, type ParticipantTimers } from './timers.ts';

/** Participant states (clause 6.2.4). */
export type ParticipantState = 'has-no-permission' | 'pending-request' | 'queued' | 'has-permission' | 'pending-release';

/** Options of a {@link FloorParticipant}. */
export interface FloorParticipantOptions {
  /** SSRC the participant sends floor control and media with. */
  ssrc: number;
  /** Floor Priority asked for in Floor Request (default 0). */
  priority?: number;
  timers?: Partial<ParticipantTimers>;
}

/** Who holds the floor, as the last Floor Taken said. */
export interface FloorHolderInfo {
  userId?: string;
  ssrc?: number;
}

type ParticipantTimer = 'T100' | 'T101';

/** See the module comment. */
export class FloorParticipant {
  readonly timers: ParticipantTimers;
  private current: ParticipantState = 'has-no-permission';
  private readonly deadlines = new Deadlines<ParticipantTimer>();
  private sent = 0;
  /** The floor holder from the last Floor Taken; undefined after Floor Idle. */
  holderInfo: FloorHolderInfo | undefined;
  /** Queue Info from the last Floor Queue Position Info. */
  queueInfo: QueueInfo | undefined;
  /** Reject Cause of the last Floor Deny or Floor Revoke. */
  lastRejectCause: number | undefined;

  constructor(readonly options: FloorParticipantOptions) {
    this.timers = resolveTimers(DEFAULT_PARTICIPANT_TIMERS, options.timers);
  }

  get state(): ParticipantState {
    return this.current;
  }

  /** Whether this participant may send media now: only with the floor. */
  get maySendMedia(): boolean {
    return this.current === 'has-permission';
  }

  nextDeadline(): number | undefined {
    return this.deadlines.next();
  }

  /** PTT pressed: Floor Request, 'U: pending Request' (clause 6.2.4.3.2). */
  pressPtt(now: number): FloorMessage[] {
    if (this.current !== 'has-no-permission') throw new FloorStateError('participant', this.current, 'PTT pressed');
    this.lastRejectCause = undefined;
    this.current = 'pending-request';
    this.sent = 1;
    this.deadlines.start('T101', now, this.timers.t101FloorRequestMs);
    return [this.request()];
  }

  /**
   * PTT released. With the floor, or still waiting for the answer: Floor
   * Release, 'U: pending Release' (clause 6.2.4.5, 6.2.4.4). Queued: Floor
   * Release withdraws the request, 'U: has no permission'.
   */
  releasePtt(now: number): FloorMessage[] {
    switch (this.current) {
      case 'has-permission':
      case 'pending-request':
        return this.startRelease(now);
      case 'queued':
        this.current = 'has-no-permission';
        this.queueInfo = undefined;
        return [this.msg('floor-release', {})];
      default:
        throw new FloorStateError('participant', this.current, 'PTT released');
    }
  }

  /** Asks the server for the queue position (clause 6.2.4.7): only while queued. */
  requestQueuePosition(): FloorMessage[] {
    if (this.current !== 'queued') throw new FloorStateError('participant', this.current, 'queue position requested');
    return [this.msg('floor-queue-position-request', {})];
  }

  /** A message from the floor control server. Returns what to send back (Floor Ack when asked for, Floor Release on revoke). */
  receive(m: FloorMessage, now: number): FloorMessage[] {
    const out: FloorMessage[] = [];
    // Any message with the ack bit set is acknowledged, whatever the state (clause 6.2.4.1).
    if (m.ackRequired) out.push(this.msg('floor-ack', { source: SOURCE.participant, messageType: SUBTYPE[m.type] | ACK_REQUIRED_BIT }));
    if (m.type === 'floor-taken') this.holderInfo = { userId: m.fields.grantedPartyId, ssrc: m.fields.grantedSsrc };
    if (m.type === 'floor-idle') this.holderInfo = undefined;
    switch (this.current) {
      case 'pending-request':
      case 'queued':
        if (m.type === 'floor-granted') this.enter('has-permission');
        else if (m.type === 'floor-deny') {
          this.lastRejectCause = m.fields.rejectCause?.cause;
          this.enter('has-no-permission');
        } else if (m.type === 'floor-queue-position-info') {
          this.queueInfo = m.fields.queueInfo;
          this.enter('queued');
        } else if (m.type === 'floor-idle' && this.current === 'queued') {
          // The server grants from its queue before it goes idle; Floor Idle while queued means the request is gone.
          this.enter('has-no-permission');
        }
        break;
      case 'has-permission':
        if (m.type === 'floor-revoke') {
          // Clause 6.2.4.5: stop sending, Floor Release, 'U: pending Release'.
          this.lastRejectCause = m.fields.rejectCause?.cause;
          out.push(...this.startRelease(now));
        } else if (m.type === 'floor-idle' || m.type === 'floor-taken') {
          // The server no longer counts us as holder (our release or its T1): follow it.
          this.enter('has-no-permission');
        }
        break;
      case 'pending-release':
        if (m.type === 'floor-idle' || m.type === 'floor-taken') this.enter('has-no-permission');
        break;
      case 'has-no-permission':
        break;
    }
    return out;
  }

  /** Fires the timers due at `now`: T101 repeats Floor Request, T100 repeats Floor Release, each up to its counter. */
  tick(now: number): FloorMessage[] {
    const out: FloorMessage[] = [];
    for (let d = this.deadlines.due(now); d; d = this.deadlines.due(now)) {
      if (d.name === 'T101' && this.current === 'pending-request') {
        if (this.sent < this.timers.c101FloorRequestMax) {
          this.sent++;
          this.deadlines.start('T101', d.at, this.timers.t101FloorRequestMs);
          out.push(this.request());
        } else {
          // No answer after C101 requests: give up (this testbed's choice; the user may press again).
          this.enter('has-no-permission');
        }
      } else if (d.name === 'T100' && this.current === 'pending-release') {
        if (this.sent < this.timers.c100FloorReleaseMax) {
          this.sent++;
          this.deadlines.start('T100', d.at, this.timers.t100FloorReleaseMs);
          out.push(this.msg('floor-release', {}));
        } else {
          this.enter('has-no-permission');
        }
      }
    }
    return out;
  }

  private startRelease(now: number): FloorMessage[] {
    this.enter('pending-release');
    this.sent = 1;
    this.deadlines.start('T100', now, this.timers.t100FloorReleaseMs);
    return [this.msg('floor-release', {})];
  }

  private enter(s: ParticipantState): void {
    this.current = s;
    if (s !== 'pending-request') this.deadlines.stop('T101');
    if (s !== 'pending-release') this.deadlines.stop('T100');
    if (s === 'has-no-permission') this.queueInfo = undefined;
  }

  private request(): FloorMessage {
    return this.msg('floor-request', { floorPriority: this.options.priority ?? 0 });
  }

  private msg(type: FloorMessage['type'], fields: FloorFields): FloorMessage {
    return { type, ackRequired: false, ssrc: this.options.ssrc, fields };
  }
}
