import { createRequest, createResponse, newBranch, type SipMessage, type SipRequest, type TxnSender } from '../src/index.ts';

export function invite(branch = newBranch(), method = 'INVITE'): SipRequest {
  return createRequest({
    method,
    uri: 'sip:bob@example.com',
    via: { transport: 'UDP', host: '192.0.2.1', port: 5060, branch, rport: true },
    from: '<sip:alice@example.com>;tag=a1',
    to: '<sip:bob@example.com>',
    callId: 'call-1@192.0.2.1',
    cseq: 1,
    contact: '<sip:alice@192.0.2.1:5060>',
  });
}

export function reply(req: SipRequest, status: number) {
  return createResponse(req, status, { toTag: 'b1' });
}

/** A TxnSender that records what it sends (with the fake clock time). */
export function recorder(reliable = false): TxnSender & { sent: Array<{ at: number; m: SipMessage }> } {
  const sent: Array<{ at: number; m: SipMessage }> = [];
  return { reliable, sent, send: (m) => void sent.push({ at: Date.now(), m }) };
}
