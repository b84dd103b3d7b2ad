import { randomInt } from 'node:crypto';
import {
  ackWaitTimeout, acceptRemoteCseq, createInDialogRequest, createResponse, cseqOf, nameAddrsOf, next2xxRetransmitInterval,
  refreshRemoteTarget, type Dialog, type ServerTransaction, type SipRequest, type SipResponse,
} from '@imslab/sip';
import { markerFor } from '@imslab/probe';
import type { SecurityMode, UeConfig } from './config.ts';
import { CallStateError } from './errors.ts';
import type { KeyLog } from './key-log.ts';
import type { Logger } from './log.ts';
import { answerOffer, type E2aeMark, type E2aeStatus, type MediaSecurityLines, type SecurityOutcome } from './media-security.ts';
import type { MediaSession } from './media-session.ts';
import type { PortAllocator } from './port-allocator.ts';
import type { Registration } from './registration.ts';
import { buildSdp, parseRemoteSdp, type RemoteSdp } from './sdp.ts';
import type { SipStack } from './sip-stack.ts';
import type { Flow } from './sip-transport.ts';

export type CallState = 'calling' | 'ringing' | 'early' | 'confirmed' | 'terminated' | 'failed';

/** Allowed call state changes; anything else is a bug and throws CallStateError naming both states. */
const CALL_TRANSITIONS: Readonly<Record<CallState, readonly CallState[]>> = {
  calling: ['ringing', 'early', 'confirmed', 'terminated', 'failed'],
  ringing: ['early', 'confirmed', 'terminated', 'failed'],
  early: ['ringing', 'confirmed', 'terminated', 'failed'],
  confirmed: ['terminated', 'failed'],
  terminated: [],
  failed: [],
};

/** The status document of GET /calls/<id>. */
export interface CallStatus {
  callId: string;
  direction: 'out' | 'in';
  state: CallState;
  localIdentity: string;
  remoteIdentity: string;
  remoteAssertedIdentity: string | null;
  remoteClaimedIdentity: string;
  failure?: { status?: number; reason: string };
  securityRequested: SecurityMode;
  sdpProfile: 'RTP/AVP' | 'RTP/SAVP';
  suite: string | null;
  e2ae: E2aeStatus;
  /** The a=3ge2ae value in the peer's SDP. */
  peerE2ae: E2aeMark | null;
  securityWarning?: string;
  markers: { tx: string; expectedRx: string };
  media: {
    local: string | null;
    remote: string | null;
    txPackets: number;
    rxPackets: number;
    rxMarkerPackets: number;
    rxMarkersSeen: string[];
    rxAuthFailed: number;
    rxReplayed: number;
    rxMalformed: number;
    rxFrom: string | null;
  };
  startedAt: string;
  answeredAt?: string;
  endedAt?: string;
}

/** Everything a call needs from the UE. */
export interface CallContext {
  cfg: UeConfig;
  stack: SipStack;
  log: Logger;
  keylog: KeyLog;
  ports: PortAllocator;
  registration: Registration;
}

/** Methods we implement (Allow header, sec. 20.5). */
export const ALLOWED_METHODS = 'INVITE, ACK, CANCEL, BYE, OPTIONS';

/**
 * State, media and in-dialog behaviour shared by outgoing and incoming calls:
 * BYE, re-INVITE (a new answer, security may change), 2xx retransmission
 * until ACK (sec. 13.3.1.4), status reporting.
 */
export abstract class Call {
  state: CallState = 'calling';
  remoteAsserted: string | null = null;
  failure: { status?: number; reason: string } | undefined;
  outcome: SecurityOutcome | undefined;
  media: MediaSession | undefined;
  dialog: Dialog | undefined;
  readonly startedAt = new Date();
  answeredAt: Date | undefined;
  endedAt: Date | undefined;
  /** Security lines we sent (offer or answer), for status before the negotiation completes. */
  protected localLines: MediaSecurityLines | undefined;
  protected readonly sessionId = randomInt(1, 2 ** 31);
  private sdpVersion = 0;
  private ackWait: { cseq: number; timers: Array<ReturnType<typeof setTimeout>> } | undefined;
  private readonly endListeners: Array<() => void> = [];

  protected constructor(
    protected readonly ctx: CallContext,
    readonly callId: string,
    readonly direction: 'out' | 'in',
    readonly securityRequested: SecurityMode,
    readonly localIdentity: string,
    public remoteClaimed: string,
  ) {}

  /** Marker of what we send: `orig` for the caller, `term` for the callee. */
  get txMarker(): string {
    return markerFor(this.callId, this.direction === 'out' ? 'orig' : 'term');
  }

  /** Marker we expect from the peer. */
  get expectedRxMarker(): string {
    return markerFor(this.callId, this.direction === 'out' ? 'term' : 'orig');
  }

  get ended(): boolean {
    return this.state === 'terminated' || this.state === 'failed';
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
    this.media?.stop();
    for (const t of this.ackWait?.timers ?? []) clearTimeout(t);
    this.ackWait = undefined;
    for (const l of this.endListeners.splice(0)) l();
  }

  /** Hangs up as appropriate for the state (CANCEL, BYE, or a final response). */
  abstract hangup(): Promise<void>;

  /** Our SDP with the given security lines (version incremented each time, RFC 4566 o= line). */
  protected localSdp(lines: MediaSecurityLines): string {
    this.localLines = lines;
    return buildSdp({ address: this.ctx.cfg.address, port: this.media!.localPort, sessionId: this.sessionId, sessionVersion: this.sdpVersion++, security: lines });
  }

  /** Applies a negotiation result to the media session and the key log. */
  protected applyOutcome(outcome: SecurityOutcome, remote: RemoteSdp): void {
    const previous = this.outcome;
    this.outcome = outcome;
    const media = this.media!;
    media.configure({ remote: { address: remote.address, port: remote.port }, txMarker: this.txMarker, expectedRxMarker: this.expectedRxMarker, tx: outcome.tx, rx: outcome.rx });
    if (outcome.warning) this.ctx.log.warn(`call ${this.callId}: ${outcome.warning}`);
    const log = this.ctx.keylog;
    if (outcome.tx && outcome.tx.keySaltBase64 !== previous?.tx?.keySaltBase64) {
      log.srtp({ callId: this.callId, dir: 'tx', suite: outcome.tx.suite, keySalt: outcome.tx.keySaltBase64, ssrc: media.ssrc });
    }
    const rx = outcome.rx;
    if (rx && rx.keySaltBase64 !== previous?.rx?.keySaltBase64) {
      log.srtp({ callId: this.callId, dir: 'rx', suite: rx.suite, keySalt: rx.keySaltBase64 });
      media.onFirstRxSsrc = (ssrc) => log.srtp({ callId: this.callId, dir: 'rx', suite: rx.suite, keySalt: rx.keySaltBase64, ssrc });
    }
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
  protected send2xx(txn: ServerTransaction, res: SipResponse, flow: Flow): void {
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

  /** An ACK for a 2xx arrived (no transaction): stop retransmitting. */
  onAck(req: SipRequest): void {
    const w = this.ackWait;
    if (w && cseqOf(req).seq === w.cseq) {
      for (const t of w.timers) clearTimeout(t);
      this.ackWait = undefined;
    }
  }

  /** Sends BYE in the dialog; resolves with the final status, or null on timeout/transport error. */
  protected sendBye(): Promise<number | null> {
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
        this.onReInvite(req, txn, flow);
        return;
      case 'OPTIONS':
        stack.respond(txn, 200, { headers: [['Allow', ALLOWED_METHODS], ['Accept', 'application/sdp']] });
        return;
      default:
        stack.respond(txn, 405, { headers: [['Allow', ALLOWED_METHODS]] });
    }
  }

  /**
   * A re-INVITE (sec. 14.2): answer the new offer with our policy; the new
   * answer may change media security (e.g. RTP -> SRTP) and the media target.
   */
  private onReInvite(req: SipRequest, txn: ServerTransaction, flow: Flow): void {
    const stack = this.ctx.stack;
    if (this.state !== 'confirmed' || !this.dialog || !this.media) {
      stack.respond(txn, 491, { reason: 'Request Pending' });
      return;
    }
    refreshRemoteTarget(this.dialog, req);
    const headers: Array<[string, string]> = [['Contact', stack.contact()], ['Allow', ALLOWED_METHODS]];
    if (req.body.length === 0) {
      // Offer-less re-INVITE: our current description is the offer; the ACK would carry the answer.
      this.send2xx(txn, createResponse(req, 200, { headers, body: this.localSdp(this.localLines ?? { profile: 'RTP/AVP', crypto: [], attributes: [] }) }), flow);
      return;
    }
    const parsed = parseRemoteSdp(req.body.toString('utf8'));
    if (!parsed.ok) {
      stack.respond(txn, 488, { headers: [['Warning', `399 ${this.ctx.cfg.address} "${parsed.reason.replace(/"/g, "'")}"`]] });
      return;
    }
    const answer = answerOffer(parsed.sdp.security, this.securityRequested);
    if (!answer.ok) {
      stack.respond(txn, answer.status, { headers: [['Warning', `399 ${this.ctx.cfg.address} "${answer.reason}"`]] });
      return;
    }
    this.send2xx(txn, createResponse(req, 200, { headers, body: this.localSdp(answer.lines) }), flow);
    this.applyOutcome(answer.outcome, parsed.sdp);
  }

  /** The status document. */
  toStatus(): CallStatus {
    const o = this.outcome;
    const m = this.media;
    const c = m?.counters;
    const profile = o?.sdpProfile ?? (this.localLines?.profile === 'RTP/SAVP' ? 'RTP/SAVP' : this.securityRequested === 'none' ? 'RTP/AVP' : 'RTP/SAVP');
    const status: CallStatus = {
      callId: this.callId,
      direction: this.direction,
      state: this.state,
      localIdentity: this.localIdentity,
      remoteIdentity: this.remoteAsserted ?? this.remoteClaimed,
      remoteAssertedIdentity: this.remoteAsserted,
      remoteClaimedIdentity: this.remoteClaimed,
      securityRequested: this.securityRequested,
      sdpProfile: profile,
      suite: o ? o.suite : (this.localLines?.crypto[0]?.split(' ')[1] ?? null),
      e2ae: o ? o.e2ae : this.direction === 'out' && this.securityRequested === 'e2ae' ? 'requested' : null,
      peerE2ae: o?.peerE2ae ?? null,
      markers: { tx: this.txMarker, expectedRx: this.expectedRxMarker },
      media: {
        local: m?.local ?? null,
        remote: m?.remote ?? null,
        txPackets: c?.txPackets ?? 0,
        rxPackets: c?.rxPackets ?? 0,
        rxMarkerPackets: c?.rxMarkerPackets ?? 0,
        rxMarkersSeen: c?.rxMarkersSeen ?? [],
        rxAuthFailed: c?.rxAuthFailed ?? 0,
        rxReplayed: c?.rxReplayed ?? 0,
        rxMalformed: c?.rxMalformed ?? 0,
        rxFrom: c?.rxFrom ?? null,
      },
      startedAt: this.startedAt.toISOString(),
    };
    if (this.failure) status.failure = this.failure;
    if (o?.warning) status.securityWarning = o.warning;
    if (this.answeredAt) status.answeredAt = this.answeredAt.toISOString();
    if (this.endedAt) status.endedAt = this.endedAt.toISOString();
    return status;
  }
}
