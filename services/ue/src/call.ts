import { randomInt } from 'node:crypto';
import {
  ackWaitTimeout, acceptRemoteCseq, createInDialogRequest, cseqOf, nameAddrsOf, next2xxRetransmitInterval,
  type Dialog, type ServerTransaction, type SipRequest, type SipResponse,
} from '@imslab/sip';
import { markerFor, type ProbeMediaType } from '@imslab/probe';
import { ALLOWED_METHODS, type CallContext, type TicketOptions } from './call-context.ts';
import type { CallState, CallStatus, MediaStatus, SecurityHistoryEntry, StreamStatus } from './call-status.ts';
import type { SecurityMode } from './config.ts';
import { CallStateError } from './errors.ts';
import { joinWarnings, type MediaSecurityLines, type SecurityOutcome, type SrtpKey } from './media-security.ts';
import type { MediaSession } from './media-session.ts';
import type { NegotiationEnv } from './negotiation.ts';
import { SessionUpdater, type UpdatableCall } from './reinvite.ts';
import { buildSdp, type RemoteSdp } from './sdp.ts';
import type { ExtraMediaType } from './probe-source.ts';
import type { Flow } from './sip-transport.ts';
import { FloorClient } from './floor-client.ts';

export type { CallState, CallStatus, SecurityHistoryEntry } from './call-status.ts';

/** A session's counters as the status reports them (zeros before media opened). */
function mediaStatus(m: MediaSession | undefined): MediaStatus {
  const c = m?.counters;
  return {
    local: m?.local ?? null, remote: m?.remote ?? null,
    txPackets: c?.txPackets ?? 0, rxPackets: c?.rxPackets ?? 0, rxMarkerPackets: c?.rxMarkerPackets ?? 0, rxMarkersSeen: c?.rxMarkersSeen ?? [],
    rxAuthFailed: c?.rxAuthFailed ?? 0, rxReplayed: c?.rxReplayed ?? 0, rxMalformed: c?.rxMalformed ?? 0, rxUnknownKey: c?.rxUnknownKey ?? 0, rxFrom: c?.rxFrom ?? null,
  };
}

function streamStatus(m: MediaSession, tx: string, expectedRx: string): StreamStatus {
  return { type: m.mediaType as StreamStatus['type'], markers: { tx, expectedRx }, ...mediaStatus(m) };
}

/** Allowed call state changes; anything else is a bug and throws CallStateError naming both states. */
const CALL_TRANSITIONS: Readonly<Record<CallState, readonly CallState[]>> = {
  calling: ['ringing', 'early', 'confirmed', 'terminated', 'failed'],
  ringing: ['early', 'confirmed', 'terminated', 'failed'],
  early: ['ringing', 'confirmed', 'terminated', 'failed'],
  confirmed: ['terminated', 'failed'],
  terminated: [],
  failed: [],
};

/**
 * State, media and in-dialog behaviour shared by outgoing and incoming calls:
 * BYE, re-INVITE in both directions (reinvite.ts: security may change
 * mid-call, TR 33.828 sec. 4.1.1), 2xx retransmission until ACK
 * (sec. 13.3.1.4), status reporting.
 */
export abstract class Call implements UpdatableCall {
  state: CallState = 'calling';
  remoteAsserted: string | null = null;
  failure: { status?: number; reason: string } | undefined;
  outcome: SecurityOutcome | undefined;
  media: MediaSession | undefined;
  /** The call's video and text streams, in the order offered; keyed with the audio (a PoC group key), gated by its floor. */
  extraMedia: MediaSession[] = [];
  dialog: Dialog | undefined;
  readonly startedAt = new Date();
  answeredAt: Date | undefined;
  endedAt: Date | undefined;
  /** Completed negotiations, oldest first. */
  readonly securityHistory: SecurityHistoryEntry[] = [];
  /** Why the last security upgrade failed (the call went on as it was). */
  updateWarning: string | undefined;
  /** Security lines we sent last (offer or answer); an offer-less re-INVITE is answered with them. */
  localLines: MediaSecurityLines | undefined;
  /** re-INVITEs in and out. */
  readonly updater: SessionUpdater;
  /** Floor control, on a PoC call (poc-e2e, poc-e2m2e) once its answer gave the client-server keys. */
  floor: FloorClient | undefined;
  /** Why the KMS refused our last group re-key (a removed member), if it did. */
  rekeyRefused: string | undefined;
  /** What the PoC server said it recorded for us while we were away (its a=x-poc-recordings). */
  pocRecordings: string | undefined;
  protected readonly sessionId = randomInt(1, 2 ** 31);
  private sdpVersion = 0;
  private ackWait: { cseq: number; timers: Array<ReturnType<typeof setTimeout>> } | undefined;
  /** Our new send key, switched on when the ACK for the 2xx with CSeq `cseq` arrives. */
  private deferredTx: { cseq: number; tx: SrtpKey | null } | undefined;
  private readonly endListeners: Array<() => void> = [];

  protected constructor(
    readonly ctx: CallContext,
    readonly callId: string,
    readonly direction: 'out' | 'in',
    public securityRequested: SecurityMode,
    readonly localIdentity: string,
    public remoteClaimed: string,
    /** Policy and device for our tickets (null policy for calls we receive until we upgrade one). */
    public ticket: TicketOptions | null,
  ) {
    this.updater = new SessionUpdater(this);
  }

  /** Marker of what we send: `orig` for the caller, `term` for the callee (same for the whole call, across re-keying); video and text have their own. */
  get txMarker(): string {
    return this.txMarkerOf('audio');
  }

  /** Marker we expect from the peer. */
  get expectedRxMarker(): string {
    return this.rxMarkerOf('audio');
  }

  txMarkerOf(type: ProbeMediaType): string {
    return markerFor(this.callId, this.direction === 'out' ? 'orig' : 'term', type);
  }

  rxMarkerOf(type: ProbeMediaType): string {
    return markerFor(this.callId, this.direction === 'out' ? 'term' : 'orig', type);
  }

  /** Every media session of the call, audio first. */
  get allMedia(): MediaSession[] {
    return this.media ? [this.media, ...this.extraMedia] : this.extraMedia;
  }

  /** Starts sending on every stream (caller: the ACK is sent; callee: the 2xx is). */
  startMedia(): void {
    for (const m of this.allMedia) m.start();
  }

  get ended(): boolean {
    return this.state === 'terminated' || this.state === 'failed';
  }

  /** The peer's URI for a new ticket: the asserted identity when known, else what it claimed. */
  get peerUri(): string {
    return this.remoteAsserted ?? this.remoteClaimed;
  }

  /** What negotiation needs now. */
  negotiationEnv(): NegotiationEnv {
    return { kms: this.ctx.kms, e2aeConfirmed: this.ctx.registration.e2aeConfirmed };
  }

  /** Resolves when the call reaches terminated or failed. */
  whenEnded(): Promise<void> {
    return this.ended ? Promise.resolve() : new Promise((r) => this.endListeners.push(r));
  }

  /** Moves to `next`; throws CallStateError for a change the table does not allow. */
  protected setState(next: CallState): void {
    if (next === this.state) return;
    if (!CALL_TRANSITIONS[this.state].includes(next)) throw new CallStateError(this.state, next, this.callId);
    this.ctx.log.info(`call ${this.callId}: ${this.state} -> ${next}`);
    this.state = next;
    if (this.ended) this.finish();
  }

  /** Ends the call as failed (no-op once ended). */
  fail(reason: string, status?: number): void {
    if (this.ended) return;
    this.failure = status === undefined ? { reason } : { status, reason };
    this.ctx.log.warn(`call ${this.callId} failed: ${reason}`);
    this.setState('failed');
  }

  /** Ends the call normally (no-op once ended). */
  terminate(failure?: { status?: number; reason: string }): void {
    if (this.ended) return;
    if (failure) this.failure = failure;
    this.setState('terminated');
  }

  private finish(): void {
    this.endedAt = new Date();
    this.floor?.stop();
    for (const m of this.allMedia) m.stop();
    for (const t of this.ackWait?.timers ?? []) clearTimeout(t);
    this.ackWait = undefined;
    for (const l of this.endListeners.splice(0)) l();
  }

  /** Hangs up as appropriate for the state (CANCEL, BYE, or a final response). */
  abstract hangup(): Promise<void>;

  /**
   * The streams the peer offered after ours that we do not take: every later
   * SDP of ours lists them with port 0, in the offer's order (RFC 3264 sec. 6
   * for the answer, sec. 8 for later offers).
   */
  private rejectedSections: readonly string[] = [];

  /**
   * Our SDP with the given security lines (version incremented each time,
   * RFC 4566 o= line). `answering`: the offer this SDP answers, whose
   * streams beyond ours it lists as rejected from now on (an offer we
   * refused changes nothing).
   */
  localSdp(lines: MediaSecurityLines, answering?: RemoteSdp): string {
    if (answering) this.rejectedSections = answering.afterAudio.slice(this.extraMedia.length);
    this.localLines = lines;
    const extra = this.extraMedia.map((m) => ({ type: m.mediaType as ExtraMediaType, port: m.localPort }));
    return buildSdp({ address: this.ctx.cfg.address, port: this.media!.localPort, sessionId: this.sessionId, sessionVersion: this.sdpVersion++, security: lines, extra, rejected: this.rejectedSections });
  }

  /**
   * Applies a negotiation result to the media session and the key log.
   * `deferTxUntilAck` (we answered a re-INVITE): receive with the new key at
   * once (the old one stays acceptable for a grace period), send with it only
   * once the ACK for our 2xx arrives, when the offerer has the keys too.
   */
  applyOutcome(outcome: SecurityOutcome, remote: RemoteSdp, deferTxUntilAck?: number): void {
    const previousTx = this.media?.txKey ?? null;
    const previousRx = this.outcome?.rx ?? null;
    this.outcome = outcome;
    const media = this.media!;
    const tx = deferTxUntilAck !== undefined ? previousTx : outcome.tx;
    this.deferredTx = deferTxUntilAck !== undefined ? { cseq: deferTxUntilAck, tx: outcome.tx } : undefined;
    media.configure({ remote: { address: remote.address, port: remote.port }, txMarker: this.txMarker, expectedRxMarker: this.expectedRxMarker, tx, rx: outcome.rx, send: !outcome.receiveOnly, ...(outcome.rxByMki ? { rxByMki: outcome.rxByMki } : {}), ...(outcome.lateJoin ? { lateJoin: true } : {}) });
    if (outcome.warning) this.ctx.log.warn(`call ${this.callId}: ${outcome.warning}`);
    if (outcome.floor && !this.floor) {
      this.floor = new FloorClient(media, outcome.floor, this.ctx.log, this.callId);
      // Logged for the analyser, which must tell floor control under a key from unknown SRTCP: a CSK
      // (MIKEY-SAKKE) appears nowhere in the signalling, unlike an SDES key pair.
      for (const [dir, k] of [['tx', outcome.floor.tx], ['rx', outcome.floor.rx]] as const) {
        this.ctx.keylog.srtp({ callId: this.callId, dir, suite: k.suite, keySalt: k.keySaltBase64, keyMgmt: k.keyMgmt, purpose: 'floor-control' });
      }
    }
    if (tx && tx.keySaltBase64 !== previousTx?.keySaltBase64) this.logTxKey(tx);
    // A PoC server tells a member what its box holds for it (recorded bursts played first).
    const told = remote.security.attributes.find((a) => a.toLowerCase().startsWith('x-poc-recordings:'));
    if (told) this.pocRecordings = told.slice(told.indexOf(':') + 1).trim();
    const rx = outcome.rx;
    const log = this.ctx.keylog;
    this.configureExtraMedia(outcome, remote, tx);
    // Group keys named by MKI: each talker's key is logged when its first authentic packet arrives (on each stream: its own SSRC).
    if (outcome.rxByMki) for (const m of this.allMedia) m.onNewRxKey = (key, ssrc) => log.srtp({ callId: this.callId, dir: 'rx', suite: key.suite, keySalt: key.keySaltBase64, ssrc, keyMgmt: key.keyMgmt, mki: key.mki });
    if (rx && rx.keySaltBase64 !== previousRx?.keySaltBase64) {
      log.srtp({ callId: this.callId, dir: 'rx', suite: rx.suite, keySalt: rx.keySaltBase64, keyMgmt: rx.keyMgmt });
      media.onFirstRxSsrc = (ssrc) => log.srtp({ callId: this.callId, dir: 'rx', suite: rx.suite, keySalt: rx.keySaltBase64, ssrc, keyMgmt: rx.keyMgmt });
    }
  }

  /**
   * Video and text streams go where the answer put the same kind of stream,
   * under the audio's keys (a PoC group key: one GMK for all of a group's
   * media, each stream with an SSRC of its own), sending only while the
   * audio may (the floor). A stream the answer refused (port 0, or absent)
   * sends nothing.
   */
  private configureExtraMedia(outcome: SecurityOutcome, remote: RemoteSdp, tx: SrtpKey | null): void {
    const audio = this.media!;
    for (const m of this.extraMedia) {
      const type = m.mediaType as ExtraMediaType;
      const peer = remote.extra.find((x) => x.type === type);
      if (!peer || peer.port === 0) continue;
      m.configure({ remote: { address: peer.address, port: peer.port }, txMarker: this.txMarkerOf(type), expectedRxMarker: this.rxMarkerOf(type), tx, rx: outcome.rx, send: !outcome.receiveOnly, ...(outcome.rxByMki ? { rxByMki: outcome.rxByMki } : {}), ...(outcome.lateJoin ? { lateJoin: true } : {}) });
      m.talkGate = () => audio.talkGate?.() ?? true;
    }
  }

  /** Sends under a new key from now on (group re-keying), logged like any send key. */
  switchTxKey(tx: SrtpKey): void {
    for (const m of this.allMedia) m.setTxKey(tx);
    this.logTxKey(tx);
  }

  /** A conference's new group key, received before we send under it (first phase of a re-key). */
  pendingGroupKey: SrtpKey | undefined;

  /** Accepts a conference's new group key on receive, besides the current one. */
  acceptGroupKey(key: SrtpKey): void {
    if (this.pendingGroupKey?.keySaltBase64 === key.keySaltBase64) return;
    this.pendingGroupKey = key;
    for (const m of this.allMedia) m.addRxKey(key);
    this.ctx.keylog.srtp({ callId: this.callId, dir: 'rx', suite: key.suite, keySalt: key.keySaltBase64, keyMgmt: key.keyMgmt });
  }

  /** A conference's new group key: send and receive under it; the old one stays accepted (members switch one by one). */
  switchGroupKey(key: SrtpKey): void {
    for (const m of this.allMedia) m.setKeys(key, key);
    this.pendingGroupKey = undefined;
    this.logTxKey(key);
  }

  private logTxKey(tx: SrtpKey): void {
    for (const m of this.allMedia) this.ctx.keylog.srtp({ callId: this.callId, dir: 'tx', suite: tx.suite, keySalt: tx.keySaltBase64, ssrc: m.ssrc, keyMgmt: tx.keyMgmt, mki: tx.mki });
  }

  /** Records a completed negotiation in securityHistory. */
  recordSecurity(security: SecurityMode): void {
    const o = this.outcome;
    this.securityHistory.push({ at: new Date().toISOString(), security, keyManagement: o?.keyManagement ?? null, achieved: o?.achieved ?? 'none' });
  }

  /** The first P-Asserted-Identity URI of a message, or null. */
  protected static assertedIdentity(m: SipRequest | SipResponse): string | null {
    return nameAddrsOf(m, 'P-Asserted-Identity')[0]?.uri ?? null;
  }

  /**
   * Sends a 2xx to an INVITE and keeps re-sending it until the ACK
   * (sec. 13.3.1.4): "The 2xx response is passed to the transport with an
   * interval that starts at T1 seconds and doubles for each retransmission
   * until it reaches T2 seconds ... If the server retransmits the 2xx response
   * for 64*T1 seconds without receiving an ACK, the dialog is confirmed, but
   * the session SHOULD be terminated. This is accomplished with a BYE".
   */
  send2xx(txn: ServerTransaction, res: SipResponse, flow: Flow): void {
    txn.respond(res);
    const timers = this.ctx.stack.layer.timers;
    const wait = { cseq: cseqOf(res).seq, timers: [] as Array<ReturnType<typeof setTimeout>> };
    this.ackWait = wait;
    let interval = timers.T1;
    const again = () => {
      const t = setTimeout(() => {
        if (this.ackWait !== wait) return;
        this.ctx.stack.resend(res, flow);
        interval = next2xxRetransmitInterval(interval, timers);
        again();
      }, interval);
      wait.timers[0] = t;
    };
    again();
    wait.timers[1] = setTimeout(() => {
      if (this.ackWait !== wait) return;
      clearTimeout(wait.timers[0]);
      this.ackWait = undefined;
      this.ctx.log.warn(`call ${this.callId}: no ACK for our 2xx within 64*T1, sending BYE`);
      void this.sendBye().then(() => this.terminate({ reason: 'no ACK received for our 2xx (sec. 13.3.1.4)' }));
    }, ackWaitTimeout(timers));
  }

  /** An ACK for a 2xx arrived (no transaction): stop retransmitting; switch to a new send key waiting for it. */
  onAck(req: SipRequest): void {
    const seq = cseqOf(req).seq;
    const w = this.ackWait;
    if (w && seq === w.cseq) {
      for (const t of w.timers) clearTimeout(t);
      this.ackWait = undefined;
    }
    const d = this.deferredTx;
    if (d && d.cseq === seq && this.media && !this.ended) {
      this.deferredTx = undefined;
      const changed = d.tx?.keySaltBase64 !== this.media.txKey?.keySaltBase64;
      for (const m of this.allMedia) m.setTxKey(d.tx);
      if (d.tx && changed) this.logTxKey(d.tx);
    }
  }

  /** A 2xx retransmission that matched no transaction (RFC 6026 Timer M expired). */
  onStray2xx(res: SipResponse): void {
    this.updater.onStray2xx(res);
  }

  /**
   * Hangs up a confirmed call: RFC 3261 sec. 15.1.1, the session is over
   * (media stops) as soon as the BYE is handed to its client transaction.
   * The BYE's fate is only logged: a dead or frozen P-CSCF must not keep a
   * hangup waiting for Timer F (64*T1).
   */
  /** Our BYE's final status once it is answered (null: timeout or transport error); undefined when we sent none. */
  byeAnswer: Promise<number | null> | undefined;

  protected byeAndTerminate(): void {
    this.byeAnswer = this.sendBye();
    void this.byeAnswer.then((status) => this.ctx.log.info(`call ${this.callId}: BYE ${status === null ? 'got no final response (timeout or transport error)' : `answered ${status}`}`));
    this.terminate();
  }

  /** Sends BYE in the dialog; resolves with the final status, or null on timeout/transport error. */
  sendBye(): Promise<number | null> {
    const dialog = this.dialog;
    if (!dialog) return Promise.resolve(null);
    const bye = createInDialogRequest(dialog, 'BYE', { via: this.ctx.stack.via() });
    return new Promise((resolve) => {
      this.ctx.stack.sendRequest(bye, {
        onResponse: (r) => r.status >= 200 && resolve(r.status),
        onTimeout: () => resolve(null),
        onTransportError: () => resolve(null),
      });
    });
  }

  /** A request inside our dialog (matched by the call manager). */
  onInDialogRequest(req: SipRequest, txn: ServerTransaction, flow: Flow): void {
    const stack = this.ctx.stack;
    if (this.dialog && !acceptRemoteCseq(this.dialog, req)) {
      // sec. 12.2.2: "the request is out of order and MUST be rejected with a 500".
      stack.respond(txn, 500, { reason: 'Server Internal Error (CSeq out of order)' });
      return;
    }
    switch (req.method) {
      case 'BYE':
        // sec. 15.1.2: "the UAS core ... SHOULD terminate the session ... and generate a 2xx".
        stack.respond(txn, 200);
        this.terminate();
        return;
      case 'INVITE':
        void this.updater.onReInvite(req, txn, flow).catch((e: Error) => {
          this.ctx.log.warn(`call ${this.callId}: re-INVITE handling failed: ${e.stack ?? e}`);
          if (!txn.answered) stack.respond(txn, 500, { reason: 'Server Internal Error' });
        });
        return;
      case 'OPTIONS':
        stack.respond(txn, 200, { headers: [['Allow', ALLOWED_METHODS], ['Accept', 'application/sdp']] });
        return;
      default:
        stack.respond(txn, 405, { headers: [['Allow', ALLOWED_METHODS]] });
    }
  }

  /** The status document. */
  toStatus(): CallStatus {
    const o = this.outcome;
    const m = this.media;
    const profile = o?.sdpProfile ?? (this.localLines?.profile === 'RTP/SAVP' ? 'RTP/SAVP' : this.securityRequested === 'none' ? 'RTP/AVP' : 'RTP/SAVP');
    const status: CallStatus = {
      callId: this.callId,
      direction: this.direction,
      state: this.state,
      localIdentity: this.localIdentity,
      remoteIdentity: this.remoteAsserted ?? this.remoteClaimed,
      remoteAssertedIdentity: this.remoteAsserted,
      remoteClaimedIdentity: this.remoteClaimed,
      kmsAuthenticatedPeer: o?.kmsAuthenticatedPeer ?? null,
      securityRequested: this.securityRequested,
      policy: this.securityRequested === 'e2e' || this.securityRequested === 'e2e-or-e2m2e' ? (this.ticket?.policy ?? null) : null,
      sdpProfile: profile,
      suite: o ? o.suite : (this.localLines?.crypto[0]?.split(' ')[1] ?? null),
      keyManagement: o ? o.keyManagement : null,
      securityAchieved: o ? o.achieved : null,
      securityHistory: [...this.securityHistory],
      e2ae: o ? o.e2ae : this.direction === 'out' && this.securityRequested === 'e2ae' ? 'requested' : null,
      peerE2ae: o?.peerE2ae ?? null,
      markers: { tx: this.txMarker, expectedRx: this.expectedRxMarker },
      media: mediaStatus(m),
      startedAt: this.startedAt.toISOString(),
    };
    if (this.failure) status.failure = this.failure;
    if (this.floor) status.floor = this.floor.status();
    if (this.extraMedia.length) status.streams = this.extraMedia.map((x) => streamStatus(x, this.txMarkerOf(x.mediaType), this.rxMarkerOf(x.mediaType)));
    if (this.pocRecordings) status.pocRecordings = this.pocRecordings;
    const gmk = this.outcome?.gmk;
    if (gmk || this.rekeyRefused) {
      status.groupKey = {
        ...(gmk ? { gmkId: `0x${(gmk.currentGmkId ?? 0).toString(16).padStart(8, '0')}`, held: gmk.heldIds() } : {}),
        ...(this.rekeyRefused ? { rekeyRefused: this.rekeyRefused } : {}),
      };
    }
    const warning = joinWarnings(o?.warning, this.updateWarning);
    if (warning) status.securityWarning = warning;
    if (this.answeredAt) status.answeredAt = this.answeredAt.toISOString();
    if (this.endedAt) status.endedAt = this.endedAt.toISOString();
    return status;
  }
}
