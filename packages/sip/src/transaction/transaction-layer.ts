import { TransactionMisuseError } from '../errors.ts';
import type { SipRequest, SipResponse } from '../message.ts';
import { DEFAULT_TIMER_BASE, type TimerBase } from '../timers.ts';
import { ClientTransaction, type ClientTransactionHandlers } from './client-transaction.ts';
import { cancelTargetKey, clientTransactionKey, serverTransactionKey } from './matching.ts';
import type { TxnSender } from './runtime.ts';
import { ServerTransaction } from './server-transaction.ts';

/** What became of an incoming request. */
export type IncomingRequest =
  /** A new request: the TU must answer through `txn.respond()`. */
  | { kind: 'new'; txn: ServerTransaction }
  /** A retransmission (or an ACK for a non-2xx) absorbed by an existing transaction. */
  | { kind: 'absorbed' }
  /** An ACK that belongs to no transaction, i.e. the ACK for a 2xx (sec. 17.2.3, 13.3.1.4): the TU's. */
  | { kind: 'ack'; request: SipRequest };

/**
 * The transaction layer (RFC 3261 sec. 17): creates client and server
 * transactions, matches incoming messages to them and forgets terminated
 * ones. It owns no socket: each transaction gets a TxnSender.
 */
export class TransactionLayer {
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  readonly timers: TimerBase;

  constructor(timers: Partial<TimerBase> = {}) {
    this.timers = { ...DEFAULT_TIMER_BASE, ...timers };
  }

  /** Starts a client transaction for `request` (which must carry a unique branch). */
  sendRequest(request: SipRequest, sender: TxnSender, handlers: ClientTransactionHandlers): ClientTransaction {
    const txn = new ClientTransaction(request, sender, {
      ...handlers,
      onTerminated: (t) => {
        if (this.clients.get(t.key) === t) this.clients.delete(t.key);
        handlers.onTerminated?.(t);
      },
    }, this.timers);
    if (this.clients.has(txn.key)) throw new TransactionMisuseError(`a client transaction with key ${txn.key} already exists: use a new branch`);
    this.clients.set(txn.key, txn);
    txn.start();
    return txn;
  }

  /** Matches a response to its client transaction (sec. 17.1.3); false when none matches (a stray response). */
  receiveResponse(response: SipResponse): boolean {
    const txn = this.clients.get(clientTransactionKey(response));
    if (!txn) return false;
    txn.receiveResponse(response);
    return true;
  }

  /** Matches a request to a server transaction (sec. 17.2.3) or creates one. */
  receiveRequest(request: SipRequest, sender: TxnSender): IncomingRequest {
    const key = serverTransactionKey(request);
    const existing = this.servers.get(key);
    if (request.method === 'ACK') {
      if (existing && existing.kind === 'invite') {
        return existing.receiveRequest(request) ? { kind: 'ack', request } : { kind: 'absorbed' };
      }
      return { kind: 'ack', request };
    }
    if (existing) {
      existing.receiveRequest(request);
      return { kind: 'absorbed' };
    }
    const txn = new ServerTransaction(request, sender, this.timers, (t) => {
      if (this.servers.get(t.key) === t) this.servers.delete(t.key);
    });
    this.servers.set(key, txn);
    return { kind: 'new', txn };
  }

  /** The INVITE server transaction a CANCEL targets, if it still exists (sec. 9.2). */
  findInviteForCancel(cancel: SipRequest): ServerTransaction | undefined {
    const t = this.servers.get(cancelTargetKey(cancel));
    return t && t.kind === 'invite' ? t : undefined;
  }

  /** Live transaction counts (for tests and health). */
  get size(): { clients: number; servers: number } {
    return { clients: this.clients.size, servers: this.servers.size };
  }

  /** Stops every timer (UA shutdown); transactions are forgotten. */
  dispose(): void {
    for (const t of this.clients.values()) t.dispose();
    for (const t of this.servers.values()) t.dispose();
    this.clients.clear();
    this.servers.clear();
  }
}
