import { timerDuration } from '../timers.ts';
import { move, stay, type ClientEvent, type InviteClientState, type Transition, type TxnAction, type TxnContext, type TxnSnapshot } from './types.ts';

const M = 'invite-client' as const;

/** Initial snapshot of an INVITE client transaction (sec. 17.1.1.2: "the Calling state"). */
export function inviteClientInitial(ctx: TxnContext): TxnSnapshot<InviteClientState> {
  return { state: 'calling', interval: ctx.timers.T1 };
}

function startTimer(ctx: TxnContext, timer: 'A' | 'B' | 'D' | 'M', ms?: number): TxnAction[] {
  const d = ms ?? timerDuration(timer, ctx.reliable, ctx.timers);
  return d === null ? [] : [{ kind: 'start-timer', timer, ms: d }];
}

/**
 * INVITE client transaction, RFC 3261 fig. 5 as updated by RFC 6026 fig. 5.
 * Pure: returns the next snapshot and the actions to perform.
 */
export function inviteClientTransition(snap: TxnSnapshot<InviteClientState>, ev: ClientEvent, ctx: TxnContext): Transition<InviteClientState> {
  const stopAB: TxnAction[] = [{ kind: 'stop-timer', timer: 'A' }, { kind: 'stop-timer', timer: 'B' }];
  switch (snap.state) {
    case 'calling':
      if (ev.type === 'start') {
        // 17.1.1.2: "the client transaction MUST start timer A with a value of T1" (unreliable only)
        // "...and SHOULD start timer B with a value of 64*T1 seconds".
        return stay(snap, [{ kind: 'transmit' }, ...startTimer(ctx, 'A'), ...startTimer(ctx, 'B')]);
      }
      if (ev.type === 'timer' && ev.timer === 'A') {
        // 17.1.1.2: "When timer A fires, the client transaction MUST retransmit the request ...
        // and reset the timer with a value of 2*T1" (doubling, no cap for INVITE).
        const interval = snap.interval * 2;
        return { snapshot: { state: 'calling', interval }, actions: [{ kind: 'transmit' }, { kind: 'start-timer', timer: 'A', ms: interval }] };
      }
      if (ev.type === 'timer' && ev.timer === 'B') {
        // 17.1.1.2: "If the client transaction is still in the Calling state when timer B fires,
        // the client transaction SHOULD inform the TU that a timeout has occurred."
        return move(M, snap, 'terminated', [{ kind: 'stop-timer', timer: 'A' }, { kind: 'timeout', timer: 'B' }]);
      }
      if (ev.type === 'transport-error') return move(M, snap, 'terminated', [...stopAB, { kind: 'transport-error' }]);
      if (ev.type === 'response') return onResponse(snap, ev.status, ctx, stopAB);
      return stay(snap);
    case 'proceeding':
      if (ev.type === 'response') return onResponse(snap, ev.status, ctx, []);
      if (ev.type === 'transport-error') return move(M, snap, 'terminated', [{ kind: 'transport-error' }]);
      return stay(snap);
    case 'accepted':
      // RFC 6026 sec. 8.4: "any 2xx response received ... MUST be passed up to the TU" (retransmissions and forks).
      if (ev.type === 'response' && ev.status >= 200 && ev.status < 300) return stay(snap, [{ kind: 'deliver' }]);
      if (ev.type === 'timer' && ev.timer === 'M') return move(M, snap, 'terminated', []);
      return stay(snap);
    case 'completed':
      // 17.1.1.2: "Any retransmissions of the final response that are received while in the
      // Completed state MUST cause the ACK to be re-passed to the transport layer".
      if (ev.type === 'response' && ev.status >= 300) return stay(snap, [{ kind: 'send-ack' }]);
      // "If timer D fires while the client transaction is in the Completed state, the client
      // transaction MUST move to the terminated state."
      if (ev.type === 'timer' && ev.timer === 'D') return move(M, snap, 'terminated', []);
      return stay(snap);
    case 'terminated':
      return stay(snap);
  }
}

function onResponse(snap: TxnSnapshot<InviteClientState>, status: number, ctx: TxnContext, stop: TxnAction[]): Transition<InviteClientState> {
  if (status < 200) {
    // 17.1.1.2: "If the client transaction receives a provisional response while in the Calling
    // state, it transitions to the Proceeding state ... the response MUST be passed to the TU."
    return move(M, snap, 'proceeding', [...stop, { kind: 'deliver' }]);
  }
  if (status < 300) {
    // RFC 6026 sec. 8.4: "a 2xx response ... MUST cause the client transaction to enter the
    // Accepted state" (RFC 3261 had it terminate) and start Timer M.
    return move(M, snap, 'accepted', [...stop, { kind: 'deliver' }, ...startTimer(ctx, 'M')]);
  }
  // 17.1.1.2: "When in either the Calling or Proceeding states, reception of a response with
  // status code from 300-699 MUST cause the client transaction to transition to Completed ...
  // MUST pass the received response up to the TU, and ... MUST generate an ACK request".
  return move(M, snap, 'completed', [...stop, { kind: 'deliver' }, { kind: 'send-ack' }, ...startTimer(ctx, 'D')]);
}
