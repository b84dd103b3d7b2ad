import { IllegalTransitionError } from '../errors.ts';
import type { TimerBase, TimerName } from '../timers.ts';

/**
 * Shared vocabulary of the four transaction state machines (RFC 3261 sec. 17).
 * Each machine is a pure function `(snapshot, event, context) -> (snapshot,
 * actions)`; the runtime wrappers execute the actions (send, arm timers,
 * notify the TU). Keeping the functions pure lets tests walk every branch of
 * the RFC's figures 5-8 without sockets or clocks.
 */

export type InviteClientState = 'calling' | 'proceeding' | 'accepted' | 'completed' | 'terminated';
export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';
export type InviteServerState = 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';
export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export type MachineName = 'invite-client' | 'non-invite-client' | 'invite-server' | 'non-invite-server';

/** The state of a machine plus the current retransmission interval (Timer A, E or G). */
export interface TxnSnapshot<S extends string> {
  readonly state: S;
  /** Current retransmission interval in ms (doubles per sec. 17.1.1.2, 17.1.2.2, 17.2.1). */
  readonly interval: number;
}

/** What a transition asks the runtime to do, in order. */
export type TxnAction =
  /** Client: (re)send the request. Server: resend the most recent response. */
  | { kind: 'transmit' }
  /** INVITE client: (re)send the ACK for the non-2xx final response (sec. 17.1.1.3). */
  | { kind: 'send-ack' }
  /** Server: send the response the TU just handed over. */
  | { kind: 'send-response' }
  /** Client: pass the response to the TU. Server: pass the request (an ACK in Accepted) to the TU. */
  | { kind: 'deliver' }
  | { kind: 'start-timer'; timer: TimerName; ms: number }
  | { kind: 'stop-timer'; timer: TimerName }
  /** Inform the TU of a timeout (Timer B, F, or H). */
  | { kind: 'timeout'; timer: TimerName }
  /** Inform the TU of a transport failure (sec. 17.1.4, 17.2.4). */
  | { kind: 'transport-error' };

/** Output of a pure transition. */
export interface Transition<S extends string> {
  snapshot: TxnSnapshot<S>;
  actions: TxnAction[];
}

/** Inputs common to all machines. */
export interface TxnContext {
  /** Reliable transport (TCP, TLS, SCTP): no retransmissions, zero wait timers. */
  reliable: boolean;
  timers: TimerBase;
}

/** Events of a client transaction. */
export type ClientEvent =
  | { type: 'start' }
  | { type: 'response'; status: number }
  | { type: 'timer'; timer: TimerName }
  | { type: 'transport-error' };

/** Events of a server transaction. */
export type ServerEvent =
  | { type: 'start' }
  /** A request matching the transaction arrived: a retransmission, or an ACK for an INVITE transaction. */
  | { type: 'request'; method: string }
  /** The TU hands a response to the transaction. */
  | { type: 'tu-response'; status: number }
  | { type: 'timer'; timer: TimerName }
  | { type: 'transport-error' };

/**
 * Allowed state changes per machine: figures 5-8 of RFC 3261 with the
 * Accepted state of RFC 6026 (fig. 5 and 7 updated). Anything else is a bug.
 */
const ALLOWED: Readonly<Record<MachineName, Readonly<Record<string, readonly string[]>>>> = {
  'invite-client': {
    calling: ['proceeding', 'accepted', 'completed', 'terminated'],
    proceeding: ['accepted', 'completed', 'terminated'],
    accepted: ['terminated'],
    completed: ['terminated'],
    terminated: [],
  },
  'non-invite-client': {
    trying: ['proceeding', 'completed', 'terminated'],
    proceeding: ['completed', 'terminated'],
    completed: ['terminated'],
    terminated: [],
  },
  'invite-server': {
    proceeding: ['accepted', 'completed', 'terminated'],
    accepted: ['terminated'],
    completed: ['confirmed', 'terminated'],
    confirmed: ['terminated'],
    terminated: [],
  },
  'non-invite-server': {
    trying: ['proceeding', 'completed', 'terminated'],
    proceeding: ['completed', 'terminated'],
    completed: ['terminated'],
    terminated: [],
  },
};

/**
 * Throws IllegalTransitionError (naming both states) unless `from -> to` is an
 * edge of the machine's figure; a self-loop is not a transition and is allowed.
 */
export function checkTransition(machine: MachineName, from: string, to: string): void {
  if (from === to) return;
  const edges = ALLOWED[machine][from];
  if (!edges || !edges.includes(to)) throw new IllegalTransitionError(machine, from, to);
}

/** Helper for the machines: a checked move with actions. */
export function move<S extends string>(machine: MachineName, snap: TxnSnapshot<S>, to: S, actions: TxnAction[], interval = snap.interval): Transition<S> {
  checkTransition(machine, snap.state, to);
  return { snapshot: { state: to, interval }, actions };
}

/** Helper: an event the state absorbs (RFC: "discarded", or simply no rule). */
export function stay<S extends string>(snap: TxnSnapshot<S>, actions: TxnAction[] = []): Transition<S> {
  return { snapshot: snap, actions };
}
