import { decodeFloorControlPacket, encodeFloorMessage, FloorParticipant, FloorStateError, type FloorMessage } from '@imslab/floor-control';
import { SrtpContext } from '@imslab/srtp';
import type { FloorStatus } from './call-status.ts';
import type { Logger } from './log.ts';
import { contextOptions, type KeyManagement, type SrtpKey } from './media-security.ts';
import type { MediaSession } from './media-session.ts';

/** What the user asks of the floor through the control API. */
export type FloorAction = 'request' | 'release' | 'talk-without-floor';
export const FLOOR_ACTIONS: readonly FloorAction[] = ['request', 'release', 'talk-without-floor'];
/** How many request -> grant times the status keeps (the newest). */
export const GRANT_TIMES_KEPT = 1000;

/**
 * A PoC member's floor control (TS 24.380 clause 6.2.4, @imslab/floor-control's
 * participant machine) on its call's RTCP port: messages from the PoC server
 * arrive as SRTCP under the server's client-server key and are decrypted
 * with it; ours leave under our own (MediaSession.setRtcpKey). The probe is
 * sent only while the floor is ours, unless the user asked to talk without
 * it (a member ignoring floor control: the server must drop its media).
 */
export class FloorClient {
  readonly participant: FloorParticipant;
  private readonly rx: SrtpContext;
  private readonly received: Record<string, number> = {};
  private readonly sent: Record<string, number> = {};
  private rejected = 0;
  private ignoringFloor = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** performance.now() when PTT was pressed (the first Floor Request left), until that request is granted, denied or withdrawn. */
  private requestedAt: number | undefined;
  /** PTT pressed to Floor Granted received, ms, per grant (the newest GRANT_TIMES_KEPT). */
  private readonly grantTimes: number[] = [];
  private readonly keyManagement: KeyManagement;

  constructor(
    private readonly media: MediaSession,
    keys: { tx: SrtpKey; rx: SrtpKey },
    private readonly log: Logger,
    private readonly callId: string,
  ) {
    this.participant = new FloorParticipant({ ssrc: media.ssrc });
    this.keyManagement = keys.tx.keyMgmt;
    this.rx = new SrtpContext(contextOptions(keys.rx));
    media.setRtcpKey(keys.tx);
    media.onRtcp = (msg) => this.onDatagram(msg);
    media.talkGate = () => this.ignoringFloor || this.participant.maySendMedia;
  }

  /**
   * The user's PTT. `request` and `release` follow the participant machine
   * (an action its state has no edge for throws FloorStateError, which the
   * control API answers with 409); `talk-without-floor` sends the probe
   * whatever the server says.
   */
  act(action: FloorAction): void {
    const now = performance.now();
    if (action === 'talk-without-floor') {
      this.ignoringFloor = true;
      this.log.warn(`call ${this.callId}: sending media without the floor (ignoring floor control)`);
      return;
    }
    if (action === 'request') {
      const out = this.participant.pressPtt(now);
      this.requestedAt = now;
      this.send(out);
    } else {
      this.send(this.releaseAll(now));
    }
  }

  private releaseAll(now: number): FloorMessage[] {
    this.ignoringFloor = false;
    const out = this.participant.releasePtt(now);
    this.requestedAt = undefined;
    return out;
  }

  private onDatagram(msg: Buffer): void {
    const r = this.rx.unprotectRtcp(msg);
    const d = r.ok ? decodeFloorControlPacket(r.packet) : undefined;
    if (!r.ok || !d || !d.ok) {
      this.rejected++;
      this.log.warn(`call ${this.callId}: RTCP refused: ${!r.ok ? `SRTCP ${r.reason}` : d && !d.ok ? `floor control ${d.error.code}: ${d.error.message}` : 'unreadable'}`);
      return;
    }
    const now = performance.now();
    for (const m of d.messages) {
      this.received[m.type] = (this.received[m.type] ?? 0) + 1;
      const before = this.participant.state;
      this.send(this.participant.receive(m, now));
      if (this.participant.state !== before) {
        this.log.info(`call ${this.callId}: floor ${before} -> ${this.participant.state} (${m.type})`);
        this.timeGrant(before, now);
      }
    }
  }

  /** Records PTT -> Floor Granted when the pending (or queued) request was granted; forgets it when it ended any other way. */
  private timeGrant(before: string, now: number): void {
    const state = this.participant.state;
    if (state === 'pending-request' || state === 'queued') return;
    if (this.requestedAt !== undefined && state === 'has-permission' && (before === 'pending-request' || before === 'queued')) {
      this.grantTimes.push(Math.round((now - this.requestedAt) * 1000) / 1000);
      if (this.grantTimes.length > GRANT_TIMES_KEPT) this.grantTimes.splice(0, this.grantTimes.length - GRANT_TIMES_KEPT);
    }
    this.requestedAt = undefined;
  }

  private send(out: FloorMessage[]): void {
    for (const m of out) {
      if (this.media.sendRtcp(encodeFloorMessage(m))) this.sent[m.type] = (this.sent[m.type] ?? 0) + 1;
    }
    this.schedule();
  }

  /** T100/T101 (repeated Release/Request) run off one timer at the machine's next deadline. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const at = this.participant.nextDeadline();
    if (at === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const before = this.participant.state;
      const now = performance.now();
      this.send(this.participant.tick(now));
      // C101 requests unanswered: the participant gave up, so that request has no grant time.
      if (this.participant.state !== before) this.timeGrant(before, now);
    }, Math.max(0, at - performance.now()));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  status(): FloorStatus {
    const p = this.participant;
    return {
      state: p.state,
      talking: this.ignoringFloor || p.maySendMedia,
      ignoringFloor: this.ignoringFloor,
      holder: p.holderInfo?.userId ?? null,
      queuePosition: p.queueInfo?.position ?? null,
      lastRejectCause: p.lastRejectCause ?? null,
      received: { ...this.received },
      sent: { ...this.sent },
      rejected: this.rejected,
      keyManagement: this.keyManagement,
      requestToGrantMs: [...this.grantTimes],
    };
  }
}

export { FloorStateError };
