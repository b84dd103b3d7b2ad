import type { ExtraMediaType } from './probe-source.ts';
import { callIdOf, cseqOf, tagOf, toOf, type ServerTransaction, type SipRequest, type SipResponse } from '@imslab/sip';
import { ALLOWED_METHODS, KNOWN_UNSERVED_METHODS, type CallContext, type TicketOptions } from './call-context.ts';
import type { Call } from './call.ts';
import type { SecurityMode } from './config.ts';
import { IncomingCall } from './incoming-call.ts';
import { OutgoingCall } from './outgoing-call.ts';
import type { Flow } from './sip-transport.ts';

/** Methods of RFC 3261 and common extensions that we recognise but do not implement: 405, not 501. */
// MESSAGE outside a dialog is pager mode (messaging.ts); inside a call's dialog it is not supported.
/** Ended calls kept for GET /calls, oldest dropped first. */
const MAX_CALLS_KEPT = 500;

/**
 * Owns the calls and routes requests to them (sec. 8.2, 12.2.2): new INVITE
 * -> new incoming call; requests with a To tag -> the call's dialog or 481;
 * CANCEL -> the INVITE server transaction it matches or 481; OPTIONS -> 200;
 * others -> 405/501.
 */
export class CallManager {
  private readonly calls = new Map<string, Call>();

  constructor(private readonly ctx: CallContext) {}

  /** Places a call; returns at once, the call proceeds in the background. */
  placeCall(target: string, security: SecurityMode, ticket?: Partial<TicketOptions>, spoofedIdentity?: string, extraMedia: readonly ExtraMediaType[] = [], firstSequence?: number): OutgoingCall {
    const t: TicketOptions = { policy: ticket?.policy ?? this.ctx.cfg.defaultPolicy, designatedDevice: ticket?.designatedDevice };
    const call = new OutgoingCall(this.ctx, target, security, t, extraMedia);
    call.spoofedIdentity = spoofedIdentity;
    call.firstSequence = firstSequence;
    this.add(call);
    void call.start().catch((e: Error) => call.fail(`internal error: ${e.message}`));
    return call;
  }

  get(callId: string): Call | undefined {
    return this.calls.get(callId);
  }

  list(): Call[] {
    return [...this.calls.values()];
  }

  private add(call: Call): void {
    this.calls.set(call.callId, call);
    if (this.calls.size > MAX_CALLS_KEPT) {
      for (const [id, c] of this.calls) {
        if (c.ended) {
          this.calls.delete(id);
          break;
        }
      }
    }
  }

  /** A new request with its server transaction. */
  onRequest(req: SipRequest, txn: ServerTransaction, flow: Flow): void {
    const { stack } = this.ctx;
    const callId = callIdOf(req);
    const call = this.calls.get(callId);
    const hasToTag = tagOf(toOf(req)) !== undefined;
    if (req.method === 'OPTIONS' && !hasToTag) {
      stack.respond(txn, 200, { headers: [['Allow', ALLOWED_METHODS], ['Accept', 'application/sdp']] });
      return;
    }
    if (req.method === 'CANCEL') {
      // sec. 9.2: the CANCEL matches an INVITE server transaction or is answered 481.
      const inviteTxn = stack.layer.findInviteForCancel(req);
      if (!inviteTxn || !(call instanceof IncomingCall)) {
        stack.respond(txn, 481);
        return;
      }
      stack.respond(txn, 200);
      call.onCancelled();
      return;
    }
    if (hasToTag) {
      // sec. 12.2.2: "If the UAS ... does not match any existing dialogs ... it SHOULD return a 481".
      if (!call || !call.dialog || call.dialog.localTag !== tagOf(toOf(req))) {
        stack.respond(txn, 481);
        return;
      }
      call.onInDialogRequest(req, txn, flow);
      return;
    }
    if (req.method === 'INVITE') {
      if (call) {
        // Same Call-ID, no To tag, new transaction: a merged/looped request (sec. 8.2.2.2).
        stack.respond(txn, 482, { reason: 'Loop Detected' });
        return;
      }
      const incoming = new IncomingCall(this.ctx, txn, flow, callId);
      this.add(incoming);
      this.ctx.log.info(`incoming call ${callId} from ${incoming.remoteAsserted ?? incoming.remoteClaimed}`);
      void incoming.start().catch((e: Error) => incoming.fail(`internal error: ${e.message}`));
      return;
    }
    if (req.method === 'BYE') {
      stack.respond(txn, 481);
      return;
    }
    if (KNOWN_UNSERVED_METHODS.has(req.method) || req.method === 'MESSAGE') stack.respond(txn, 405, { headers: [['Allow', ALLOWED_METHODS]] });
    else stack.respond(txn, 501, { headers: [['Allow', ALLOWED_METHODS]] });
  }

  /** An ACK for a 2xx. */
  onAck(req: SipRequest): void {
    this.calls.get(callIdOf(req))?.onAck(req);
  }

  /** A 2xx retransmission after the INVITE or re-INVITE transaction ended (RFC 6026 Timer M expired). */
  onStrayResponse(res: SipResponse): void {
    const call = this.calls.get(callIdOf(res));
    if (!call || res.status < 200 || res.status >= 300 || !res.headers.get('CSeq')?.endsWith('INVITE')) return;
    if (call instanceof OutgoingCall && cseqOf(res).seq === 1) call.on2xx(res);
    else call.onStray2xx(res);
  }

  /** Hangs up every live call (shutdown), within `capMs`. */
  async hangupAll(capMs: number): Promise<void> {
    const live = this.list().filter((c) => !c.ended);
    await Promise.race([Promise.allSettled(live.map((c) => c.hangup())), new Promise((r) => setTimeout(r, capMs).unref())]);
  }
}
