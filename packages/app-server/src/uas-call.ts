import { createResponse, newTag, nameAddrsOf, type ServerTransaction, type SipRequest, type SipResponse } from '@imslab/sip';
import type { SipLogger } from './sip-log.ts';

/** Why an incoming call ended. */
export type EndReason = 'bye' | 'bye-sent' | 'cancel' | 'no-ack' | 'rejected' | 'shutdown';

/** Retransmission of our 2xx until the ACK (RFC 3261 sec. 13.3.1.4): T1 doubling to T2, 64*T1 in all. */
const T1 = 500;
const T2 = 4000;
const GIVE_UP = 64 * T1;

/** The identity of the caller: P-Asserted-Identity (trusted network) or From. */
function callerOf(req: SipRequest): string {
  const pai = nameAddrsOf(req, 'P-Asserted-Identity')[0] ?? nameAddrsOf(req, 'From')[0];
  return pai ? pai.uri.replace(/^<|>$/g, '') : 'unknown';
}

/** The user the call was diverted from (RFC 5806 Diversion, first entry = the original target), if any. */
function divertedFrom(req: SipRequest): string | null {
  const d = nameAddrsOf(req, 'Diversion')[0];
  return d ? d.uri : null;
}

/**
 * One incoming INVITE dialog at an application server (UAS only: the
 * server never sends requests; callers hang up). It answers once, resends
 * the 2xx until the ACK, and answers BYE and CANCEL.
 */
export class UasCall {
  readonly callId: string;
  readonly caller: string;
  readonly divertedFrom: string | null;
  readonly requestUri: string;
  readonly toTag = newTag();
  state: 'offered' | 'answered' | 'confirmed' | 'ended' = 'offered';
  /** Our answer SDP, re-sent for a session-refresh re-INVITE. */
  lastAnswer: string | undefined;
  endReason: EndReason | null = null;
  private ok: SipResponse | undefined;
  private retransmit: ReturnType<typeof setTimeout> | undefined;
  private readonly ended: Array<(r: EndReason) => void> = [];
  private readonly confirmed: Array<() => void> = [];

  constructor(
    readonly invite: SipRequest,
    private readonly txn: ServerTransaction,
    private readonly contact: string,
    private readonly resend: (res: SipResponse) => void,
    private readonly log: SipLogger,
  ) {
    this.callId = invite.headers.get('Call-ID') ?? '';
    this.caller = callerOf(invite);
    this.divertedFrom = divertedFrom(invite);
    this.requestUri = invite.uri;
  }

  /** The offer's SDP body (empty when the INVITE had none). */
  get offerSdp(): string {
    return this.invite.body.toString('utf8');
  }

  /** Registers what to do when the call ends (BYE, CANCEL, no ACK, shutdown). */
  onEnded(f: (r: EndReason) => void): void {
    this.ended.push(f);
  }

  /** Registers what to do when the ACK for our 2xx arrives (media may flow both ways from then on). */
  onConfirmed(f: () => void): void {
    this.confirmed.push(f);
  }

  /** 2xx with our SDP (and `extra` headers); resent until the ACK. */
  answer(sdp: string, contact = this.contact, extra: Array<[string, string]> = []): void {
    if (this.state !== 'offered') return;
    const headers: Array<[string, string]> = this.invite.headers.getAll('Record-Route').map((v) => ['Record-Route', v]);
    headers.push(['Contact', contact], ...extra);
    this.lastAnswer = sdp;
    this.ok = createResponse(this.invite, 200, { toTag: this.toTag, headers, body: sdp });
    this.txn.respond(this.ok);
    this.state = 'answered';
    const started = Date.now();
    let wait = T1;
    const again = () => {
      if (this.state !== 'answered' || !this.ok) return;
      if (Date.now() - started >= GIVE_UP) {
        this.log.warn(`no ACK for the 2xx of call ${this.callId}: ending it`);
        this.end('no-ack');
        return;
      }
      this.resend(this.ok);
      wait = Math.min(wait * 2, T2);
      this.retransmit = setTimeout(again, wait);
    };
    this.retransmit = setTimeout(again, wait);
  }

  /** A final error response (4xx-6xx) with a reason phrase that says why. */
  reject(status: number, reason: string, headers: Array<[string, string]> = [], why: EndReason = 'rejected'): void {
    if (this.state !== 'offered') return;
    this.txn.respond(createResponse(this.invite, status, { toTag: this.toTag, reason, headers }));
    this.end(why);
  }

  /** The ACK for our 2xx arrived. */
  acked(): void {
    if (this.state !== 'answered') return;
    this.state = 'confirmed';
    if (this.retransmit) clearTimeout(this.retransmit);
    for (const f of this.confirmed) {
      try {
        f();
      } catch (e) {
        this.log.warn(`ACK handler of call ${this.callId} failed: ${(e as Error).message}`);
      }
    }
  }

  /** Ends the call (idempotent) and tells the listeners. */
  end(reason: EndReason): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.endReason = reason;
    if (this.retransmit) clearTimeout(this.retransmit);
    for (const f of this.ended) {
      try {
        f(reason);
      } catch (e) {
        this.log.warn(`end handler of call ${this.callId} failed: ${(e as Error).message}`);
      }
    }
  }
}
