import { timerDuration } from '../timers.ts';
import { move, stay, type NonInviteServerState, type ServerEvent, type Transition, type TxnContext, type TxnSnapshot } from './types.ts';

const M = 'non-invite-server' as const;

/** Initial snapshot (sec. 17.2.2: "The state machine is initialized in the Trying state"). */
export function nonInviteServerInitial(ctx: TxnContext): TxnSnapshot<NonInviteServerState> {
  return { state: 'trying', interval: ctx.timers.T1 };
}

/** Non-INVITE server transaction, RFC 3261 fig. 8. Pure. */
export function nonInviteServerTransition(snap: TxnSnapshot<NonInviteServerState>, ev: ServerEvent, ctx: TxnContext): Transition<NonInviteServerState> {
  const final = () =>
    // 17.2.2: "If the TU passes a final response (status codes 200-699) to the server while in the
    // Trying [Proceeding] state, the transaction MUST enter the Completed state, and the response
    // MUST be passed to the transport layer"; Timer J = 64*T1 unreliable, zero reliable.
    move(M, snap, 'completed', [{ kind: 'send-response' }, { kind: 'start-timer', timer: 'J', ms: timerDuration('J', ctx.reliable, ctx.timers)! }]);
  switch (snap.state) {
    case 'trying':
      // "Once in the Trying state, any further request retransmissions are discarded."
      if (ev.type === 'tu-response' && ev.status < 200) return move(M, snap, 'proceeding', [{ kind: 'send-response' }]);
      if (ev.type === 'tu-response') return final();
      if (ev.type === 'transport-error') return move(M, snap, 'terminated', [{ kind: 'transport-error' }]);
      return stay(snap);
    case 'proceeding':
      if (ev.type === 'request') {
        // "If a retransmission of the request is received while in the Proceeding state, the most
        // recently sent provisional response MUST be passed to the transport layer".
        return stay(snap, [{ kind: 'transmit' }]);
      }
      if (ev.type === 'tu-response' && ev.status < 200) return stay(snap, [{ kind: 'send-response' }]);
      if (ev.type === 'tu-response') return final();
      if (ev.type === 'transport-error') return move(M, snap, 'terminated', [{ kind: 'transport-error' }]);
      return stay(snap);
    case 'completed':
      // "While in the Completed state, the server transaction MUST pass the final response to the
      // transport layer for retransmission whenever a retransmission of the request is received.
      // Any other final responses passed by the TU ... MUST be discarded".
      if (ev.type === 'request') return stay(snap, [{ kind: 'transmit' }]);
      if (ev.type === 'timer' && ev.timer === 'J') return move(M, snap, 'terminated', []);
      if (ev.type === 'transport-error') return move(M, snap, 'terminated', [{ kind: 'transport-error' }]);
      return stay(snap);
    case 'terminated':
      return stay(snap);
  }
}
