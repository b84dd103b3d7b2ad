import {
  createAckFor2xx, createCancel, createInDialogRequest, createRequest, createUacDialog, dialogId, dialogIdOfResponse, newCallId, newTag,
  type ClientTransaction, type SipRequest, type SipResponse,
} from '@imslab/sip';
import { ALLOWED_METHODS, type CallContext, type TicketOptions } from './call-context.ts';
import { Call } from './call.ts';
import type { SecurityMode } from './config.ts';
import { MediaSession } from './media-session.ts';
import type { ExtraMediaType } from './probe-source.ts';
import { finishOffer, finishStoredOffer, prepareOffer, type LocalOffer } from './negotiation.ts';
import { parseRemoteSdp, type RemoteSdp } from './sdp.ts';
import { KMS_REFUSED_PREFIX, warningTextOf } from './warning.ts';

/**
 * A call we place (UAC, RFC 3261 sec. 13.2): INVITE with an SDP offer via the
 * P-CSCF, provisional responses, ACK for the 2xx through the dialog route
 * set, BYE for extra 2xx from other forks, CANCEL on hangup before answer.
 * With e2e modes the Ticket Request to the KMS comes first; no INVITE and no
 * media without a ticket, and no media before the answer's keys verified.
 */
export class OutgoingCall extends Call {
  private invite: SipRequest | undefined;
  private inviteTxn: ClientTransaction | undefined;
  private offer: LocalOffer | undefined;
  private gotProvisional = false;
  private hangupRequested = false;
  private cancelling: Promise<void> | undefined;
  private earlySdp: string | undefined;
  private ack: SipRequest | undefined;
  /** ACKs sent to other forks' 2xx, by dialog id (re-sent when their 2xx is retransmitted). */
  private readonly forks = new Map<string, SipRequest>();
  private readonly waitingHangups: Array<() => void> = [];

  /**
   * Negative tests only: the identity this UE claims in P-Asserted-Identity
   * (and P-Preferred-Identity), as a UE spoofing another user would. The
   * P-CSCF must drop it and assert the registered identity (TS 24.229
   * sec. 5.2.6.3.3); the callee's display shows which one won.
   */
  spoofedIdentity: string | undefined;
  /** The first RTP sequence number of each of our streams (a rollover test), else random. */
  firstSequence: number | undefined;

  constructor(ctx: CallContext, readonly target: string, security: SecurityMode, ticket: TicketOptions, readonly extraTypes: readonly ExtraMediaType[] = []) {
    super(ctx, newCallId(ctx.cfg.address), 'out', security, ctx.cfg.impu, target, ticket);
  }

  /** Opens media, builds the offer (Ticket Request for e2e), sends the INVITE. Never throws: failures end the call. */
  async start(): Promise<void> {
    const { cfg, stack, registration } = this.ctx;
    try {
      this.media = await MediaSession.open(cfg.address, this.ctx.ports, 'audio', this.firstSequence);
      for (const type of this.extraTypes) this.extraMedia.push(await MediaSession.open(cfg.address, this.ctx.ports, type, this.firstSequence));
    } catch (e) {
      for (const m of this.allMedia) m.stop();
      return this.fail((e as Error).message);
    }
    if (this.ended || this.hangupRequested) {
      for (const m of this.allMedia) m.stop();
      return this.terminate();
    }
    const t = this.ticket!;
    const o = await prepareOffer(this.negotiationEnv(), { mode: this.securityRequested, target: this.target, policy: t.policy, designatedDevice: t.designatedDevice, ssrc: this.media.ssrc });
    if (!o.ok) return this.fail(o.reason);
    if (this.ended || this.hangupRequested) return this.terminate();
    this.offer = o.offer;
    const identity = cfg.displayName ? `"${cfg.displayName.replace(/"/g, '')}" <${cfg.impu}>` : `<${cfg.impu}>`;
    this.invite = createRequest({
      method: 'INVITE',
      uri: this.target,
      via: stack.via(),
      from: `${identity};tag=${newTag()}`,
      to: `<${this.target}>`,
      callId: this.callId,
      cseq: 1,
      // TS 24.229 sec. 5.1.2A.1.1: the P-CSCF as preloaded route, then the Service-Route learned at registration.
      routes: [stack.outboundRoute(), ...registration.serviceRoute],
      contact: stack.contact(),
      headers: [
        ...(this.spoofedIdentity ? [['P-Asserted-Identity', `<${this.spoofedIdentity}>`] as [string, string]] : []),
        ['P-Preferred-Identity', `<${this.spoofedIdentity ?? cfg.impu}>`], ['Allow', ALLOWED_METHODS], ['User-Agent', 'imslab-ue'],
      ],
      body: this.localSdp(o.offer.lines),
    });
    this.inviteTxn = stack.sendRequest(this.invite, {
      onResponse: (r) => this.onResponse(r),
      onTimeout: () => this.fail('408 Request Timeout (no final response to INVITE)', 408),
      onTransportError: (e) => this.fail(`503 transport error: ${e.message}`, 503),
    });
  }

  private onResponse(res: SipResponse): void {
    if (res.status < 200) {
      this.gotProvisional = true;
      if (this.hangupRequested) {
        void this.cancel();
        return;
      }
      if (this.ended || this.state === 'confirmed') return;
      if (res.body.length) this.earlySdp = res.body.toString('utf8');
      if (res.status === 180) this.setState('ringing');
      else if (res.status === 183) this.setState('early');
      return;
    }
    if (res.status < 300) {
      this.on2xx(res);
      return;
    }
    if (this.hangupRequested) this.terminate();
    else this.fail(this.rejectionReason(res), res.status);
    this.releaseHangups();
  }

  /**
   * Why the INVITE was rejected: `<callee> could not resolve the ticket:
   * <reason>` when the callee's Warning says the KMS refused (we offered
   * MIKEY-TICKET), otherwise the status line plus any Warning text.
   */
  private rejectionReason(res: SipResponse): string {
    const w = warningTextOf(res);
    if (w?.startsWith(KMS_REFUSED_PREFIX) && this.offer?.mikey) {
      return `${Call.assertedIdentity(res) ?? this.target} could not resolve the ticket: ${w.slice(KMS_REFUSED_PREFIX.length)}`;
    }
    return `${res.status} ${res.reason}${w ? ` (${w})` : ''}`;
  }

  /**
   * A 2xx, first or retransmitted, from this or another fork (sec. 13.2.2.4):
   * "The UAC core MUST generate an ACK request for each 2xx received from the
   * transaction layer"; "If the dialog identifier in the 2xx response matches
   * the dialog identifier of an existing dialog, the dialog MUST be
   * transitioned to the 'confirmed' state" otherwise "a new dialog MUST be
   * constructed" and, as we want one session, terminated with BYE after the ACK.
   */
  on2xx(res: SipResponse): void {
    const { stack } = this.ctx;
    const invite = this.invite;
    if (!invite) return;
    const id = dialogIdOfResponse(res);
    if (this.dialog && id === dialogId(this.dialog)) {
      if (this.ack) stack.sendStateless(this.ack);
      return;
    }
    // A 2xx after we gave up (Timer B, CANCEL race) or from another fork: ACK it, then BYE it.
    if (this.dialog || this.ended) {
      const known = this.forks.get(id);
      if (known) return stack.sendStateless(known);
      try {
        const d = createUacDialog(invite, res);
        const ack = createAckFor2xx(d, 1, { via: stack.via() });
        this.forks.set(id, ack);
        stack.sendStateless(ack);
        this.ctx.log.info(`call ${this.callId}: unwanted 2xx (to-tag ${d.remoteTag}, another fork or after the call ended): ACK and BYE it`);
        stack.sendRequest(createInDialogRequest(d, 'BYE', { via: stack.via() }), { onResponse: () => undefined });
      } catch (e) {
        this.ctx.log.warn(`call ${this.callId}: cannot handle the extra 2xx: ${(e as Error).message}`);
      }
      return;
    }
    try {
      this.dialog = createUacDialog(invite, res);
    } catch (e) {
      return this.fail(`2xx unusable: ${(e as Error).message}`, res.status);
    }
    this.ack = createAckFor2xx(this.dialog, 1, { via: stack.via() });
    stack.sendStateless(this.ack);
    this.remoteAsserted = Call.assertedIdentity(res);
    this.answeredAt = new Date();
    if (this.hangupRequested) {
      // CANCEL lost the race against the 2xx (sec. 9.1): end the session with BYE.
      void this.sendBye().then(() => this.terminate());
      this.releaseHangups();
      return;
    }
    const body = res.body.length ? res.body.toString('utf8') : this.earlySdp;
    const parsed = body ? parseRemoteSdp(body) : ({ ok: false, reason: 'the 2xx carries no SDP answer' } as const);
    if (parsed.ok && this.offer!.mode === 'stored-e2e') {
      void this.finishStored(parsed.sdp);
      return;
    }
    const done = parsed.ok ? finishOffer(this.offer!, parsed.sdp.security) : parsed;
    if (!parsed.ok || !done.ok) {
      const reason = `${!done.ok ? done.reason : 'bad answer'}`;
      void this.sendBye();
      return this.fail(`unusable SDP answer: ${reason}`);
    }
    this.applyOutcome(done.outcome, parsed.sdp);
    this.recordSecurity(this.securityRequested);
    this.setState('confirmed');
    // Caller side: media starts once the ACK is sent.
    this.startMedia();
  }

  /** Retrieval of a stored message: open its keys at the KMS (async), then receive. */
  private async finishStored(remote: RemoteSdp): Promise<void> {
    const done = await finishStoredOffer(this.negotiationEnv(), remote.security);
    if (this.ended) return;
    if (!done.ok) {
      void this.sendBye();
      return this.fail(`stored message not opened: ${done.reason}`);
    }
    this.applyOutcome(done.outcome, remote);
    this.recordSecurity(this.securityRequested);
    this.setState('confirmed');
    this.startMedia();
  }

  /** CANCEL before the answer, BYE after; resolves when that transaction completes. */
  async hangup(): Promise<void> {
    if (this.ended) return;
    if (this.state === 'confirmed') {
      this.byeAndTerminate();
      return;
    }
    this.hangupRequested = true;
    if (!this.inviteTxn) return this.terminate();
    // sec. 9.1: "If no provisional response has been received, the CANCEL request MUST NOT be sent;
    // rather, the client MUST wait for the arrival of a provisional response before sending the request."
    if (this.gotProvisional) return this.cancel();
    return Promise.race([new Promise<void>((resolve) => this.waitingHangups.push(resolve)), this.whenEnded()]);
  }

  private cancel(): Promise<void> {
    if (this.cancelling) return this.cancelling;
    const { stack } = this.ctx;
    const cancel = createCancel(this.invite!);
    this.cancelling = new Promise<void>((resolve) => {
      stack.sendRequest(cancel, {
        onResponse: (r) => r.status >= 200 && resolve(),
        onTimeout: () => resolve(),
        onTransportError: () => resolve(),
      });
    }).then(() => {
      // sec. 9.1: if no final response to the INVITE arrives within 64*T1 of the CANCEL, give up on it.
      const t = setTimeout(() => this.terminate(), 64 * stack.layer.timers.T1);
      t.unref();
      void this.whenEnded().then(() => clearTimeout(t));
      this.releaseHangups();
    });
    return this.cancelling;
  }

  private releaseHangups(): void {
    for (const r of this.waitingHangups.splice(0)) r();
  }
}
