import { cseqOf, type SipMessage, type SipRequest, type SipResponse } from '../src/index.ts';

/** A request of this method (and Call-ID, when given). */
export const isRequest = (method: string, callId?: string) => (m: SipMessage): m is SipRequest =>
  m.kind === 'request' && m.method === method && (callId === undefined || m.headers.get('Call-ID') === callId);

/**
 * A response with this status ('final': any status from 200 on) to a request
 * of this method (any method when it is undefined: a 501 or 405 is checked by
 * status alone) and Call-ID, when given. The peer only holds messages that
 * parsed, and the parser checks CSeq, so cseqOf does not throw here.
 */
export const isResponse = (status: number | 'final', method?: string, callId?: string) => (m: SipMessage): m is SipResponse =>
  m.kind === 'response' &&
  (status === 'final' ? m.status >= 200 : m.status === status) &&
  (method === undefined || cseqOf(m).method === method) &&
  (callId === undefined || m.headers.get('Call-ID') === callId);

/** `INVITE`, or `200 BYE`: what a timeout message lists. */
export const brief = (m: SipMessage): string => (m.kind === 'request' ? m.method : `${m.status} ${cseqOf(m).method}`);
