import { createResponse, createUasDialog, fromOf, newTag, type ServerTransaction } from '@imslab/sip';
import { ALLOWED_METHODS, type CallContext } from './call-context.ts';
import { Call } from './call.ts';
import type { SecurityMode } from './config.ts';
import type { SecurityOutcome } from './media-security.ts';
import { MediaSession } from './media-session.ts';
import { answerRemoteOffer, modeOfOffer } from './negotiation.ts';
import { parseRemoteSdp, type RemoteSdp } from './sdp.ts';
import type { Flow } from './sip-transport.ts';
import { warningValue } from './warning.ts';

/**
 * A call we receive (UAS, RFC 3261 sec. 13.3): 100 Trying, 180 Ringing, then
 * 200 with the SDP answer when auto-answered or told to; CANCEL -> 487;
 * hangup before answer -> 603; busy -> 486. A MIKEY-TICKET offer is resolved
 * with the KMS before ringing; a refusal is a 488 with the KMS's reason in
 * the Warning, never an answer with unprotected media.
 */
export class IncomingCall extends Call {
  private readonly localTag = newTag();
  private answerBody: string | undefined;
  private pendingOutcome: { outcome: SecurityOutcome; remote: RemoteSdp; offered: SecurityMode } | undefined;
  private answerTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    ctx: CallContext,
    private readonly txn: ServerTransaction,
    private readonly flow: Flow,
    callId: string,
  ) {
    super(ctx, callId, 'in', ctx.cfg.defaultSecurity, ctx.cfg.impu, fromOf(txn.request).uri, null);
    this.remoteAsserted = Call.assertedIdentity(txn.request);
  }

  private reject(status: number, reason: string): void {
    const { stack, cfg } = this.ctx;
    if (!this.txn.answered) stack.respond(this.txn, status, { toTag: this.localTag, headers: [['Warning', warningValue(cfg.address, reason)]] });
    this.fail(reason, status);
  }

  /** Negotiates, rings, and schedules the auto-answer. Never throws: failures answer 4xx/5xx. */
  async start(): Promise<void> {
    const { stack, cfg } = this.ctx;
    const req = this.txn.request;
    // sec. 17.2.1: the 100 stops the caller's INVITE retransmissions while we work.
    stack.respond(this.txn, 100);
    if (cfg.busy) {
      // TS 24.229 / RFC 3261 sec. 21.4.24: the S-CSCF may forward on busy (CFB).
      stack.respond(this.txn, 486, { toTag: this.localTag });
      return this.fail('busy (POST /busy)', 486);
    }
    if (req.body.length === 0) return this.reject(488, 'INVITE without SDP offer is not supported');
    const parsed = parseRemoteSdp(req.body.toString('utf8'));
    if (!parsed.ok) return this.reject(488, parsed.reason);
    const answer = await answerRemoteOffer(this.negotiationEnv(), parsed.sdp.security, this.securityRequested);
    if (this.ended) return;
    if (!answer.ok) return this.reject(answer.status, answer.reason);
    try {
      this.media = await MediaSession.open(cfg.address, this.ctx.ports);
    } catch (e) {
      return this.reject(503, (e as Error).message);
    }
    if (this.ended) {
      this.media.stop();
      return;
    }
    try {
      this.dialog = createUasDialog(req, this.localTag);
    } catch (e) {
      return this.reject(400, (e as Error).message);
    }
    try {
      this.answerBody = this.localSdp(answer.lines, parsed.sdp);
    } catch (e) {
      // Our own SDP could not be written: the caller still gets a final response.
      return this.reject(500, `cannot write the SDP answer: ${(e as Error).message}`);
    }
    if (answer.keyMgmtOffer) this.updater.rememberMikey(answer.keyMgmtOffer, answer.lines);
    this.pendingOutcome = { outcome: answer.outcome, remote: parsed.sdp, offered: modeOfOffer(parsed.sdp.security) };
    stack.respond(this.txn, 180, { toTag: this.localTag, headers: this.dialogHeaders() });
    this.setState('ringing');
    if (cfg.autoAnswer) {
      this.answerTimer = setTimeout(() => {
        if (this.state === 'ringing') this.answer();
      }, cfg.answerDelayMs);
    }
  }

  /** Record-Route copied (sec. 12.1.1) and our Contact, for dialog-creating responses. */
  private dialogHeaders(): Array<[string, string]> {
    const h: Array<[string, string]> = this.txn.request.headers.getAll('Record-Route').map((v) => ['Record-Route', v] as [string, string]);
    h.push(['Contact', this.ctx.stack.contact()], ['Allow', ALLOWED_METHODS]);
    return h;
  }

  /** True while the call waits for POST /answer. */
  get answerable(): boolean {
    return this.state === 'ringing' && !this.txn.answered;
  }

  /** Sends the 200 with our SDP answer and starts media (callee: after the 2xx is sent). */
  answer(): void {
    if (!this.answerable || !this.pendingOutcome) return;
    const res = createResponse(this.txn.request, 200, { toTag: this.localTag, headers: this.dialogHeaders(), body: this.answerBody });
    this.send2xx(this.txn, res, this.flow);
    this.applyOutcome(this.pendingOutcome.outcome, this.pendingOutcome.remote);
    this.recordSecurity(this.pendingOutcome.offered);
    this.answeredAt = new Date();
    this.setState('confirmed');
    this.startMedia();
  }

  /**
   * CANCEL matched our INVITE (sec. 9.2): "the UAS SHOULD send a 487 (Request
   * Terminated) to the INVITE" when it has not answered yet; the CANCEL
   * itself is answered 200 by the caller of this method.
   */
  onCancelled(): void {
    if (this.txn.answered) return;
    this.ctx.stack.respond(this.txn, 487, { toTag: this.localTag });
    this.terminate({ status: 487, reason: 'cancelled by the caller' });
  }

  /** Before the answer: 603 Decline; after: BYE. */
  async hangup(): Promise<void> {
    if (this.answerTimer) clearTimeout(this.answerTimer);
    if (this.ended) return;
    if (!this.txn.answered) {
      this.ctx.stack.respond(this.txn, 603, { toTag: this.localTag });
      this.terminate();
      return;
    }
    this.byeAndTerminate();
  }
}
