import { createAckForNon2xx } from '../builders.ts';
import { TransactionMisuseError } from '../errors.ts';
import type { SipRequest, SipResponse } from '../message.ts';
import { DEFAULT_TIMER_BASE, type TimerBase, type TimerName } from '../timers.ts';
import { inviteClientInitial, inviteClientTransition } from './invite-client.ts';
import { clientTransactionKey } from './matching.ts';
import { nonInviteClientInitial, nonInviteClientTransition } from './non-invite-client.ts';
import { safeSend, TimerSet, type TxnSender } from './runtime.ts';
import type { ClientEvent, InviteClientState, NonInviteClientState, Transition, TxnContext, TxnSnapshot } from './types.ts';

/** What a client transaction reports to its TU. */
export interface ClientTransactionHandlers {
  /** Every response the machine passes up (provisional, final, and in Accepted the 2xx retransmissions). */
  onResponse(response: SipResponse, txn: ClientTransaction): void;
  /** Timer B or F fired: no final response (the TU treats it as 408, sec. 8.1.3.1). */
  onTimeout?(txn: ClientTransaction): void;
  /** The transport failed to send (the TU treats it as 503, sec. 8.1.3.1). */
  onTransportError?(error: Error, txn: ClientTransaction): void;
  /** The machine reached Terminated. */
  onTerminated?(txn: ClientTransaction): void;
}

type AnyClientState = InviteClientState | NonInviteClientState;

/**
 * Runtime of an INVITE or non-INVITE client transaction: holds the snapshot,
 * arms real timers, performs the actions the pure machine returns.
 */
export class ClientTransaction {
  readonly kind: 'invite' | 'non-invite';
  readonly key: string;
  private snap: TxnSnapshot<AnyClientState>;
  private readonly timers = new TimerSet();
  private readonly ctx: TxnContext;
  private ackRequest: SipRequest | undefined;
  /** The final response that completed the transaction, if any. */
  finalResponse: SipResponse | undefined;

  constructor(
    readonly request: SipRequest,
    private readonly sender: TxnSender,
    private readonly handlers: ClientTransactionHandlers,
    timers: TimerBase = DEFAULT_TIMER_BASE,
  ) {
    if (request.method === 'ACK') throw new TransactionMisuseError('ACK has no client transaction (sec. 17): send it directly');
    this.kind = request.method === 'INVITE' ? 'invite' : 'non-invite';
    this.key = clientTransactionKey(request);
    this.ctx = { reliable: sender.reliable, timers };
    this.snap = this.kind === 'invite' ? inviteClientInitial(this.ctx) : nonInviteClientInitial(this.ctx);
  }

  get state(): AnyClientState {
    return this.snap.state;
  }

  /** The ACK generated for a non-2xx final response, once sent. */
  get ack(): SipRequest | undefined {
    return this.ackRequest;
  }

  /** Armed timer names, for tests. */
  armedTimers(): TimerName[] {
    return this.timers.armed();
  }

  /** Sends the request and arms the initial timers. */
  start(): void {
    this.dispatch({ type: 'start' });
  }

  /** Feeds a response matched to this transaction (sec. 17.1.3). */
  receiveResponse(response: SipResponse): void {
    this.dispatch({ type: 'response', status: response.status }, response);
  }

  /** Stops every timer without notifying anyone (UA shutdown). */
  dispose(): void {
    this.timers.clear();
  }

  private dispatch(ev: ClientEvent, response?: SipResponse): void {
    const t: Transition<AnyClientState> =
      this.kind === 'invite'
        ? inviteClientTransition(this.snap as TxnSnapshot<InviteClientState>, ev, this.ctx)
        : nonInviteClientTransition(this.snap as TxnSnapshot<NonInviteClientState>, ev, this.ctx);
    const wasTerminated = this.snap.state === 'terminated';
    this.snap = t.snapshot;
    if (response && response.status >= 200 && !this.finalResponse) this.finalResponse = response;
    for (const a of t.actions) {
      switch (a.kind) {
        case 'transmit':
          safeSend(this.sender, this.request, (e) => this.deferError(e));
          break;
        case 'send-ack':
          if (response) this.ackRequest ??= createAckForNon2xx(this.request, response);
          if (this.ackRequest) safeSend(this.sender, this.ackRequest, () => undefined);
          break;
        case 'deliver':
          if (response) this.handlers.onResponse(response, this);
          break;
        case 'start-timer':
          if (this.snap.state !== 'terminated') this.timers.start(a.timer, a.ms, (timer) => this.dispatch({ type: 'timer', timer }));
          break;
        case 'stop-timer':
          this.timers.stop(a.timer);
          break;
        case 'timeout':
          this.handlers.onTimeout?.(this);
          break;
        case 'transport-error':
          this.handlers.onTransportError?.(this.lastError ?? new Error('transport error'), this);
          break;
        case 'send-response':
          break;
      }
    }
    if (!wasTerminated && this.snap.state === 'terminated') {
      this.timers.clear();
      this.handlers.onTerminated?.(this);
    }
  }

  private lastError: Error | undefined;

  /** A send failure is fed back as an event after the current dispatch finished (no re-entrancy). */
  private deferError(e: Error): void {
    queueMicrotask(() => {
      this.lastError = e;
      this.dispatch({ type: 'transport-error' });
    });
  }
}
