import { timerDuration } from '../timers.ts';
import { move, stay, type ClientEvent, type NonInviteClientState, type Transition, type TxnAction, type TxnContext, type TxnSnapshot } from './types.ts';

const M = 'non-invite-client' as const;

/** Initial snapshot of a non-INVITE client transaction (sec. 17.1.2.2: "the Trying state"). */
export function nonInviteClientInitial(ctx: TxnContext): TxnSnapshot<NonInviteClientState> {
  return { state: 'trying', interval: ctx.timers.T1 };
}

/** Non-INVITE client transaction, RFC 3261 fig. 6. Pure. */
export function nonInviteClientTransition(snap: TxnSnapshot<NonInviteClientState>, ev: ClientEvent, ctx: TxnContext): Transition<NonInviteClientState> {
  const { T2 } = ctx.timers;
  switch (snap.state) {
    case 'trying':
    case 'proceeding': {
      if (ev.type === 'start' && snap.state === 'trying') {
        // 17.1.2.2: "the client transaction SHOULD set timer F to fire in 64*T1 seconds" and,
        // "If an unreliable transport is in use, the client transaction MUST set timer E to fire in T1".
        const e = timerDuration('E', ctx.reliable, ctx.timers);
        const actions: TxnAction[] = [{ kind: 'transmit' }];
        if (e !== null) actions.push({ kind: 'start-timer', timer: 'E', ms: e });
        actions.push({ kind: 'start-timer', timer: 'F', ms: timerDuration('F', ctx.reliable, ctx.timers)! });
        return stay(snap, actions);
      }
      if (ev.type === 'timer' && ev.timer === 'E') {
        // Trying: "reset with a value of MIN(2*T1, T2) ... MIN(4*T1, T2)"; Proceeding: "reset ... with a value of T2".
        const interval = snap.state === 'trying' ? Math.min(snap.interval * 2, T2) : T2;
        return { snapshot: { state: snap.state, interval }, actions: [{ kind: 'transmit' }, { kind: 'start-timer', timer: 'E', ms: interval }] };
      }
      if (ev.type === 'timer' && ev.timer === 'F') {
        // "If Timer F fires while the client transaction is still in the Trying [or Proceeding]
        // state, the client transaction SHOULD inform the TU about the timeout, and then it SHOULD
        // enter the Terminated state."
        return move(M, snap, 'terminated', [{ kind: 'stop-timer', timer: 'E' }, { kind: 'timeout', timer: 'F' }]);
      }
      if (ev.type === 'transport-error') {
        return move(M, snap, 'terminated', [{ kind: 'stop-timer', timer: 'E' }, { kind: 'stop-timer', timer: 'F' }, { kind: 'transport-error' }]);
      }
      if (ev.type === 'response' && ev.status < 200) {
        // "If a provisional response is received while in the Trying state, the response MUST be
        // passed to the TU, and then the client transaction SHOULD move to the Proceeding state."
        return move(M, snap, 'proceeding', [{ kind: 'deliver' }]);
      }
      if (ev.type === 'response') {
        // "If a final response (status codes 200-699) is received while in the Trying [Proceeding]
        // state, the response MUST be passed to the TU, and the client transaction MUST transition
        // to the Completed state" and set Timer K (T4 unreliable, zero reliable).
        return move(M, snap, 'completed', [
          { kind: 'stop-timer', timer: 'E' },
          { kind: 'stop-timer', timer: 'F' },
          { kind: 'deliver' },
          { kind: 'start-timer', timer: 'K', ms: timerDuration('K', ctx.reliable, ctx.timers)! },
        ]);
      }
      return stay(snap);
    }
    case 'completed':
      // "The client transaction enters the Completed state to buffer any additional response
      // retransmissions" (absorbed). "If Timer K fires while in this state, the client
      // transaction MUST transition to the Terminated state."
      if (ev.type === 'timer' && ev.timer === 'K') return move(M, snap, 'terminated', []);
      return stay(snap);
    case 'terminated':
      return stay(snap);
  }
}
