import { timerDuration } from '../timers.ts';
import { move, stay, type InviteServerState, type ServerEvent, type Transition, type TxnAction, type TxnContext, type TxnSnapshot } from './types.ts';

const M = 'invite-server' as const;

/** Initial snapshot (sec. 17.2.1: "the server transaction MUST be constructed ... in the Proceeding state"). */
export function inviteServerInitial(ctx: TxnContext): TxnSnapshot<InviteServerState> {
  return { state: 'proceeding', interval: ctx.timers.T1 };
}

/**
 * INVITE server transaction, RFC 3261 fig. 7 as updated by RFC 6026 fig. 7.
 * Sending 100 Trying is left to the TU (sec. 17.2.1 allows it when the TU
 * answers within 200 ms; our UA sends it at once). Retransmitting a 2xx is the
 * TU's job (sec. 13.3.1.4). Pure.
 */
export function inviteServerTransition(snap: TxnSnapshot<InviteServerState>, ev: ServerEvent, ctx: TxnContext): Transition<InviteServerState> {
  switch (snap.state) {
    case 'proceeding':
      if (ev.type === 'start') return stay(snap);
      if (ev.type === 'request' && ev.method === 'INVITE') {
        // 17.2.1: "If a request retransmission is received while in the Proceeding state, the most
        // recent provisional response that was received from the TU MUST be passed to the transport layer".
        return stay(snap, [{ kind: 'transmit' }]);
      }
      if (ev.type === 'tu-response' && ev.status < 200) return stay(snap, [{ kind: 'send-response' }]);
      if (ev.type === 'tu-response' && ev.status < 300) {
        // RFC 6026 sec. 8.5: "If, while in the Proceeding state, the TU passes a 2xx response to the
        // server transaction, the server transaction MUST pass this response to the transport layer
        // for transmission ... and the server transaction MUST enter the Accepted state", Timer L.
        return move(M, snap, 'accepted', [{ kind: 'send-response' }, { kind: 'start-timer', timer: 'L', ms: timerDuration('L', ctx.reliable, ctx.timers)! }]);
      }
      if (ev.type === 'tu-response') {
        // 17.2.1: "While in the Proceeding state, if the TU passes a response with status code from
        // 300 to 699 to the server transaction, the response MUST be passed to the transport layer
        // ... and the state machine MUST enter the Completed state. For unreliable transports,
        // timer G is set to fire in T1 seconds ... timer H MUST be set to fire in 64*T1 seconds".
        const g = timerDuration('G', ctx.reliable, ctx.timers);
        const actions: TxnAction[] = [{ kind: 'send-response' }];
        if (g !== null) actions.push({ kind: 'start-timer', timer: 'G', ms: g });
        actions.push({ kind: 'start-timer', timer: 'H', ms: timerDuration('H', ctx.reliable, ctx.timers)! });
        return move(M, snap, 'completed', actions);
      }
      if (ev.type === 'transport-error') return move(M, snap, 'terminated', [{ kind: 'transport-error' }]);
      return stay(snap);
    case 'accepted':
      // RFC 6026 sec. 8.7: retransmitted INVITEs are absorbed; "The server transaction MUST NOT
      // generate 2xx retransmissions on its own"; 2xx from the TU are sent; ACKs go to the TU.
      if (ev.type === 'tu-response' && ev.status >= 200 && ev.status < 300) return stay(snap, [{ kind: 'send-response' }]);
      if (ev.type === 'request' && ev.method === 'ACK') return stay(snap, [{ kind: 'deliver' }]);
      if (ev.type === 'timer' && ev.timer === 'L') return move(M, snap, 'terminated', []);
      return stay(snap);
    case 'completed':
      if (ev.type === 'timer' && ev.timer === 'G') {
        // 17.2.1: "If timer G fires, the response is passed to the transport layer once more for
        // retransmission, and timer G is set to fire in MIN(2*T1, T2) seconds."
        const interval = Math.min(snap.interval * 2, ctx.timers.T2);
        return { snapshot: { state: 'completed', interval }, actions: [{ kind: 'transmit' }, { kind: 'start-timer', timer: 'G', ms: interval }] };
      }
      if (ev.type === 'request' && ev.method === 'INVITE') {
        // "Furthermore, while in the Completed state, if a request retransmission is received, the
        // server SHOULD pass the response to the transport for retransmission."
        return stay(snap, [{ kind: 'transmit' }]);
      }
      if (ev.type === 'request' && ev.method === 'ACK') {
        // "If an ACK is received while the server transaction is in the Completed state, the server
        // transaction MUST transition to the Confirmed state" and set Timer I (T4 / zero).
        return move(M, snap, 'confirmed', [
          { kind: 'stop-timer', timer: 'G' },
          { kind: 'stop-timer', timer: 'H' },
          { kind: 'start-timer', timer: 'I', ms: timerDuration('I', ctx.reliable, ctx.timers)! },
        ]);
      }
      if (ev.type === 'timer' && ev.timer === 'H') {
        // "If timer H fires while in the Completed state, it implies that the ACK was never
        // received. In this case, the server transaction MUST transition to the Terminated state,
        // and MUST indicate to the TU that a transaction failure has occurred."
        return move(M, snap, 'terminated', [{ kind: 'stop-timer', timer: 'G' }, { kind: 'timeout', timer: 'H' }]);
      }
      if (ev.type === 'transport-error') return move(M, snap, 'terminated', [{ kind: 'stop-timer', timer: 'G' }, { kind: 'stop-timer', timer: 'H' }, { kind: 'transport-error' }]);
      return stay(snap);
    case 'confirmed':
      // "The purpose of the Confirmed state is to absorb any additional ACK messages";
      // "When this timer [I] fires, the server MUST transition to the Terminated state."
      if (ev.type === 'timer' && ev.timer === 'I') return move(M, snap, 'terminated', []);
      return stay(snap);
    case 'terminated':
      return stay(snap);
  }
}
