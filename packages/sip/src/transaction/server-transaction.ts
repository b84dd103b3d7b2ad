import { TransactionMisuseError } from '../errors.ts';
import type { SipRequest, SipResponse } from '../message.ts';
import { DEFAULT_TIMER_BASE, type TimerBase, type TimerName } from '../timers.ts';
import { inviteServerInitial, inviteServerTransition } from './invite-server.ts';
import { serverTransactionKey } from './matching.ts';
import { nonInviteServerInitial, nonInviteServerTransition } from './non-invite-server.ts';
import { safeSend, TimerSet, type TxnSender } from './runtime.ts';
import type { InviteServerState, NonInviteServerState, ServerEvent, Transition, TxnContext, TxnSnapshot } from './types.ts';

/** What a server transaction reports to its TU; all optional. */
export interface ServerTransactionHandlers {
  /** Timer H fired: the ACK for our non-2xx final response never came. */
  onTimeout?(txn: ServerTransaction): void;
  onTransportError?(error: Error, txn: ServerTransaction): void;
  onTerminated?(txn: ServerTransaction): void;
}

type AnyServerState = InviteServerState | NonInviteServerState;

/** Runtime of an INVITE or non-INVITE server transaction. */
export class ServerTransaction {
  readonly kind: 'invite' | 'non-invite';
  readonly key: string;
  /** Set by the TU after creation. */
  handlers: ServerTransactionHandlers = {};
  private snap: TxnSnapshot<AnyServerState>;
  private readonly timers = new TimerSet();
  private readonly ctx: TxnContext;
  private last: SipResponse | undefined;

  constructor(
    readonly request: SipRequest,
    private readonly sender: TxnSender,
    timers: TimerBase = DEFAULT_TIMER_BASE,
    /** Called on termination before the TU's handler; the layer uses it to forget the transaction. */
    private readonly onFinished?: (txn: ServerTransaction) => void,
  ) {
    if (request.method === 'ACK') throw new TransactionMisuseError('ACK does not create a server transaction (sec. 17.2.3)');
    this.kind = request.method === 'INVITE' ? 'invite' : 'non-invite';
    this.key = serverTransactionKey(request);
    this.ctx = { reliable: sender.reliable, timers };
    this.snap = this.kind === 'invite' ? inviteServerInitial(this.ctx) : nonInviteServerInitial(this.ctx);
  }

  get state(): AnyServerState {
    return this.snap.state;
  }

  /** The most recent response sent, if any. */
  get lastResponse(): SipResponse | undefined {
    return this.last;
  }

  /** True once a final response was sent. */
  get answered(): boolean {
    return this.last !== undefined && this.last.status >= 200;
  }

  armedTimers(): TimerName[] {
    return this.timers.armed();
  }

  /**
   * Hands a response to the transaction. Returns false when the machine
   * discarded it (a second final response: sec. 17.2.2 "Any other final
   * responses passed by the TU to the server transaction MUST be discarded").
   * Throws TransactionMisuseError when the response belongs to another request.
   */
  respond(response: SipResponse): boolean {
    if (response.headers.get('CSeq') !== this.request.headers.get('CSeq') || response.headers.get('Call-ID') !== this.request.headers.get('Call-ID')) {
      throw new TransactionMisuseError(`response ${response.status} does not belong to ${this.request.method} ${this.request.uri} (CSeq/Call-ID differ)`);
    }
    return this.dispatch({ type: 'tu-response', status: response.status }, response);
  }

  /** Feeds a retransmitted request or an ACK; returns true when the machine passes it to the TU. */
  receiveRequest(request: SipRequest): boolean {
    return this.dispatch({ type: 'request', method: request.method });
  }

  dispose(): void {
    this.timers.clear();
  }

  private dispatch(ev: ServerEvent, response?: SipResponse): boolean {
    const t: Transition<AnyServerState> =
      this.kind === 'invite'
        ? inviteServerTransition(this.snap as TxnSnapshot<InviteServerState>, ev, this.ctx)
        : nonInviteServerTransition(this.snap as TxnSnapshot<NonInviteServerState>, ev, this.ctx);
    const wasTerminated = this.snap.state === 'terminated';
    this.snap = t.snapshot;
    let delivered = false;
    let sent = false;
    for (const a of t.actions) {
      switch (a.kind) {
        case 'send-response':
          if (response) {
            this.last = response;
            sent = true;
            safeSend(this.sender, response, (e) => this.deferError(e));
          }
          break;
        case 'transmit':
          if (this.last) safeSend(this.sender, this.last, (e) => this.deferError(e));
          break;
        case 'deliver':
          delivered = true;
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
        case 'send-ack':
          break;
      }
    }
    if (!wasTerminated && this.snap.state === 'terminated') {
      this.timers.clear();
      this.onFinished?.(this);
      this.handlers.onTerminated?.(this);
    }
    return ev.type === 'tu-response' ? sent : delivered;
  }

  private lastError: Error | undefined;

  private deferError(e: Error): void {
    queueMicrotask(() => {
      this.lastError = e;
      this.dispatch({ type: 'transport-error' });
    });
  }
}
