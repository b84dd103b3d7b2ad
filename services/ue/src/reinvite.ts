import { randomInt } from 'node:crypto';
import {
  createAckFor2xx, createInDialogRequest, createResponse, cseqOf, refreshRemoteTarget,
  type Dialog, type ServerTransaction, type SipRequest, type SipResponse,
} from '@imslab/sip';
import { ALLOWED_METHODS, type CallContext, type TicketOptions } from './call-context.ts';
import type { CallState } from './call-status.ts';
import type { SecurityMode } from './config.ts';
import type { KeyManagement, MediaSecurityLines, SecurityAchieved, SecurityOutcome } from './media-security.ts';
import type { MediaSession } from './media-session.ts';
import { mikeyValueOf } from './mikey-ticket.ts';
import { answerRemoteOffer, finishOffer, modeOfOffer, prepareOffer, type LocalOffer, type NegotiationEnv } from './negotiation.ts';
import { parseRemoteSdp, type RemoteSdp } from './sdp.ts';
import type { Flow } from './sip-transport.ts';
import { warningTextOf, warningValue } from './warning.ts';

/**
 * The call as its re-INVITEs see and change it (implemented by Call,
 * call.ts): dialog and media state, the security lines and outcome, and the
 * call's own steps (SDP, 2xx until ACK, BYE, ending).
 */
export interface UpdatableCall {
  readonly ctx: CallContext;
  readonly callId: string;
  readonly state: CallState;
  readonly ended: boolean;
  readonly dialog: Dialog | undefined;
  readonly media: MediaSession | undefined;
  readonly outcome: SecurityOutcome | undefined;
  /** The peer's URI for a new ticket. */
  readonly peerUri: string;
  securityRequested: SecurityMode;
  ticket: TicketOptions | null;
  localLines: MediaSecurityLines | undefined;
  updateWarning: string | undefined;
  negotiationEnv(): NegotiationEnv;
  localSdp(lines: MediaSecurityLines, answering?: RemoteSdp): string;
  applyOutcome(outcome: SecurityOutcome, remote: RemoteSdp, deferTxUntilAck?: number): void;
  recordSecurity(security: SecurityMode): void;
  send2xx(txn: ServerTransaction, res: SipResponse, flow: Flow): void;
  sendBye(): Promise<number | null>;
  terminate(failure?: { status?: number; reason: string }): void;
  fail(reason: string, status?: number): void;
}

/** Result of POST /calls/<id>/secure. */
export interface SecureResult {
  ok: boolean;
  security: SecurityMode;
  /** Why it failed (the call went on as it was, unless `state` says it ended). */
  reason?: string;
  securityAchieved: SecurityAchieved | null;
  keyManagement: KeyManagement | null;
}

/**
 * re-INVITEs of one call (RFC 3261 sec. 14): security switched on mid-call
 * (TR 33.828 sec. 4.1.1, "If the call is started in unprotected mode it is
 * possible to initiate security during the ongoing call") by our re-INVITE
 * with a new offer, and the peer's re-INVITEs answered with our policy.
 *
 * Key switch: the offerer switches both directions when the 2xx arrives;
 * the answerer receives with the new key once it sends the 2xx and sends
 * with it once the ACK arrives (Call.applyOutcome). The previous receive key
 * stays acceptable for a short grace (MediaSession), so no packet is lost
 * in the crossing. The probe markers stay the same (they come from the
 * Call-ID), so captures show plaintext then SRTP for the same marker.
 */
export class SessionUpdater {
  /** The mode of our security update in progress (preparing the offer or waiting for the answer). */
  private outgoing: SecurityMode | undefined;
  /** Our ACK for the last re-INVITE 2xx, re-sent for retransmissions of that 2xx (sec. 13.2.2.4). */
  private lastAck: { cseq: number; ack: SipRequest } | undefined;
  /** A peer's re-INVITE we are still answering (the KMS resolve is asynchronous). */
  private answering = false;
  /** The last MIKEY offer we answered and our answer: a repeated TRANSFER_INIT (session refresh) gets the same answer, not a replay error. */
  private lastMikey: { offer: string; lines: MediaSecurityLines } | undefined;

  constructor(private readonly call: UpdatableCall) {}

  /** Why a security update cannot start now, or undefined when it can. */
  cannotUpdate(): string | undefined {
    const c = this.call;
    if (c.state !== 'confirmed' || !c.dialog || !c.media) return `call ${c.callId} is ${c.state}, not confirmed: security can be switched on only during an established call`;
    if (this.outgoing || this.answering) return `call ${c.callId} has a re-INVITE in progress; try again when it completes`;
    return undefined;
  }

  /** Remembers the MIKEY offer answered in the initial INVITE. */
  rememberMikey(offer: string, lines: MediaSecurityLines): void {
    this.lastMikey = { offer, lines };
  }

  /**
   * Sends a re-INVITE with a new offer for `mode` (new keys: SDES or a new
   * ticket) and resolves when it completed. A refusal (e.g. 488) leaves the
   * call as it was and sets the call's updateWarning.
   */
  async secure(mode: SecurityMode, ticket?: TicketOptions): Promise<SecureResult> {
    const call = this.call;
    const busy = this.cannotUpdate();
    if (busy) return this.failed(mode, busy);
    const { cfg, stack, log } = call.ctx;
    const t = ticket ?? call.ticket ?? { policy: cfg.defaultPolicy };
    this.outgoing = mode;
    const prepared = await prepareOffer(call.negotiationEnv(), { mode, target: call.peerUri, policy: t.policy, designatedDevice: t.designatedDevice, ssrc: call.media!.ssrc });
    if (!prepared.ok || call.ended || !call.dialog) {
      this.outgoing = undefined;
      return this.failed(mode, prepared.ok ? `call ${call.callId} ended meanwhile` : prepared.reason);
    }
    const previousLines = call.localLines;
    const invite = createInDialogRequest(call.dialog, 'INVITE', {
      via: stack.via(), contact: stack.contact(), headers: [['Allow', ALLOWED_METHODS], ['User-Agent', 'imslab-ue']], body: call.localSdp(prepared.offer.lines),
    });
    const cseq = cseqOf(invite).seq;
    log.info(`call ${call.callId}: re-INVITE (CSeq ${cseq}) to switch security to ${mode}`);
    return new Promise<SecureResult>((resolve) => {
      let settled = false;
      const settle = (r: SecureResult) => {
        if (settled) return;
        settled = true;
        this.outgoing = undefined;
        resolve(r);
      };
      const refused = (reason: string, status?: number) => {
        call.localLines = previousLines;
        // sec. 12.2.1.2: "If the response for a request within a dialog is a 481 (Call/Transaction Does Not Exist) or a 408 (Request Timeout), the UAC SHOULD terminate the dialog."
        if (status === 481) call.terminate({ status, reason: `re-INVITE answered ${reason}: the dialog is gone` });
        else if (status === 408) void call.sendBye().then(() => call.terminate({ status, reason: `re-INVITE answered ${reason}` }));
        settle(this.failed(mode, reason));
      };
      stack.sendRequest(invite, {
        onResponse: (res) => {
          if (res.status < 200) return;
          if (res.status < 300) {
            const r = this.on2xx(res, prepared.offer, mode, t);
            if (r) settle(r);
            return;
          }
          const w = warningTextOf(res);
          refused(`${res.status} ${res.reason}${w ? ` (${w})` : ''}`, res.status);
        },
        onTimeout: () => refused('408 Request Timeout (no final response to the re-INVITE)', 408),
        onTransportError: (e) => refused(`transport error: ${e.message}`),
      });
    });
  }

  /** Every 2xx of our re-INVITE: ACK (again), and on the first one apply the answer. */
  private on2xx(res: SipResponse, offer: LocalOffer, mode: SecurityMode, ticket: TicketOptions): SecureResult | undefined {
    const call = this.call;
    const { stack } = call.ctx;
    const cseq = cseqOf(res).seq;
    if (this.lastAck?.cseq === cseq) {
      stack.sendStateless(this.lastAck.ack);
      return undefined;
    }
    const dialog = call.dialog!;
    // sec. 12.2.1.2: a 2xx to a re-INVITE refreshes the remote target.
    refreshRemoteTarget(dialog, res);
    const ack = createAckFor2xx(dialog, cseq, { via: stack.via() });
    this.lastAck = { cseq, ack };
    stack.sendStateless(ack);
    if (call.ended || !call.media) return this.failed(mode, `call ${call.callId} ended before the re-INVITE was answered`);
    const parsed = res.body.length ? parseRemoteSdp(res.body.toString('utf8')) : ({ ok: false, reason: 'the 2xx carries no SDP answer' } as const);
    const done = parsed.ok ? finishOffer(offer, parsed.sdp.security) : parsed;
    if (!parsed.ok || !done.ok) {
      // The peer switched to what it answered; we cannot follow it: end the call rather than claim protection we do not have.
      const reason = `security upgrade to ${mode}: unusable answer: ${!done.ok ? done.reason : 'bad SDP'}`;
      void call.sendBye().then(() => call.fail(reason));
      return this.failed(mode, reason);
    }
    call.applyOutcome(done.outcome, parsed.sdp);
    call.securityRequested = mode;
    if (offer.mikey) call.ticket = ticket;
    call.updateWarning = undefined;
    call.recordSecurity(mode);
    call.ctx.log.info(`call ${call.callId}: security now ${done.outcome.achieved} (${done.outcome.keyManagement ?? 'no keys'})`);
    return { ok: true, security: mode, securityAchieved: done.outcome.achieved, keyManagement: done.outcome.keyManagement };
  }

  private failed(mode: SecurityMode, reason: string): SecureResult {
    const call = this.call;
    call.updateWarning = `security upgrade to ${mode} failed: ${reason}`;
    call.ctx.log.warn(`call ${call.callId}: ${call.updateWarning}`);
    return { ok: false, security: mode, reason, securityAchieved: call.outcome?.achieved ?? null, keyManagement: call.outcome?.keyManagement ?? null };
  }

  /** A 2xx retransmission after our re-INVITE transaction ended: ACK it again. */
  onStray2xx(res: SipResponse): boolean {
    if (this.lastAck && cseqOf(res).seq === this.lastAck.cseq) {
      this.call.ctx.stack.sendStateless(this.lastAck.ack);
      return true;
    }
    return false;
  }

  /**
   * A re-INVITE from the peer (sec. 14.2): answer the new offer with our
   * policy; the answer may change media security (RTP -> SRTP, new keys)
   * and the media target. A MIKEY offer is resolved with the KMS first; a
   * refusal is a 488 and leaves the call as it was.
   */
  async onReInvite(req: SipRequest, txn: ServerTransaction, flow: Flow): Promise<void> {
    const call = this.call;
    const { stack, cfg } = call.ctx;
    const reject = (status: number, reason: string, extra: Array<[string, string]> = []) => stack.respond(txn, status, { headers: [['Warning', warningValue(cfg.address, reason)], ...extra] });
    if (call.state !== 'confirmed' || !call.dialog || !call.media) {
      stack.respond(txn, 491, { reason: 'Request Pending' });
      return;
    }
    // sec. 14.2: our own re-INVITE outstanding -> 491; still answering an earlier one -> 500 with Retry-After 0-10 s.
    if (this.outgoing) return void stack.respond(txn, 491, { reason: 'Request Pending' });
    if (this.answering) return void reject(500, 'an earlier re-INVITE is still being answered', [['Retry-After', String(randomInt(0, 11))]]);
    refreshRemoteTarget(call.dialog, req);
    const headers: Array<[string, string]> = [['Contact', stack.contact()], ['Allow', ALLOWED_METHODS]];
    if (req.body.length === 0) {
      // Offer-less re-INVITE: our current description is the offer; the ACK would carry the answer.
      call.send2xx(txn, createResponse(req, 200, { headers, body: call.localSdp(call.localLines ?? { profile: 'RTP/AVP', crypto: [], attributes: [] }) }), flow);
      return;
    }
    const parsed = parseRemoteSdp(req.body.toString('utf8'));
    if (!parsed.ok) return void reject(488, parsed.reason);
    const offer = parsed.sdp.security;
    const mikey = mikeyValueOf(offer.keyMgmt);
    if (mikey && this.lastMikey?.offer === mikey && call.outcome) {
      call.send2xx(txn, createResponse(req, 200, { headers, body: call.localSdp(this.lastMikey.lines, parsed.sdp) }), flow);
      call.applyOutcome(call.outcome, parsed.sdp);
      return;
    }
    if (mikey) stack.respond(txn, 100);
    this.answering = true;
    let answer;
    try {
      answer = await answerRemoteOffer(call.negotiationEnv(), offer, call.securityRequested);
    } finally {
      this.answering = false;
    }
    if (txn.answered) return;
    if (call.ended || !call.media) return void stack.respond(txn, 481);
    if (!answer.ok) {
      call.updateWarning = `the peer's security update was refused: ${answer.reason}`;
      return void reject(answer.status, answer.reason);
    }
    call.send2xx(txn, createResponse(req, 200, { headers, body: call.localSdp(answer.lines, parsed.sdp) }), flow);
    call.applyOutcome(answer.outcome, parsed.sdp, cseqOf(req).seq);
    if (answer.keyMgmtOffer) this.lastMikey = { offer: answer.keyMgmtOffer, lines: answer.lines };
    call.updateWarning = undefined;
    call.recordSecurity(modeOfOffer(offer));
  }
}
