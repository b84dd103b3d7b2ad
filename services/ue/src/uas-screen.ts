import { createResponse, parseSipUri, SipHeaders, type SipMessage, type SipRequest, type SipResponse } from '@imslab/sip';
import { ALLOWED_METHODS, KNOWN_UNSERVED_METHODS } from './methods.ts';

/**
 * The checks RFC 3261 sec. 8.2 has a UAS make, in its order, before a request
 * reaches the call, messaging or registration logic: method (8.2.1), URI
 * scheme and form (8.2.2.1), Require (8.2.2.3), body type and Accept (8.2.3).
 * RFC 4475 names the answers: 501 (3.1.1.2), 416 (3.3.2), 420 (3.3.5),
 * 415 (3.3.6), 406 (3.3.15), 400 for headers in a Request-URI (3.1.2.11).
 */

/** Methods this UA recognises: the ones it serves, and the ones the call logic answers 405 (call-manager.ts). */
const RECOGNISED = new Set([...ALLOWED_METHODS.split(', '), ...KNOWN_UNSERVED_METHODS]);
/** Option tags this UA supports in a Require (it advertises `path` when registering). */
const SUPPORTED = new Set(['path']);
/** Request-URI schemes a UA is ever reached at. */
const SCHEMES = new Set(['sip', 'sips', 'tel']);

export interface Refusal {
  status: number;
  reason?: string;
  headers: Array<[string, string]>;
}

/** True when sec. 8.2.1 would have this UA answer 501 to `method`. */
export function unrecognisedMethod(method: string): boolean {
  return !RECOGNISED.has(method);
}

/** The refusal sec. 8.2 calls for, or null when the request may go on to the logic. ACK is never refused (sec. 17.2.3). */
export function screenRequest(req: SipRequest): Refusal | null {
  if (req.method === 'ACK') return null;
  // 8.2.1: "the UAS SHOULD generate a 501 (Not Implemented) response" with an Allow (sec. 20.5).
  if (unrecognisedMethod(req.method)) return { status: 501, headers: [['Allow', ALLOWED_METHODS]] };
  const scheme = req.uri.slice(0, Math.max(0, req.uri.indexOf(':'))).toLowerCase();
  // 8.2.2.1: "If the Request-URI uses a scheme not supported by the UAS, it SHOULD reject the request with a 416".
  if (!SCHEMES.has(scheme)) return { status: 416, headers: [] };
  // sec. 19.1.1's table allows no headers in a Request-URI (RFC 4475 3.1.2.11: refusing is acceptable).
  if (scheme !== 'tel' && parseSipUri(req.uri)?.headers !== undefined) return { status: 400, reason: 'Bad Request (headers in the Request-URI)', headers: [] };
  if (req.method !== 'CANCEL') {
    // 8.2.2.3: a 420 "MUST only list those option tags that the UAS does not understand".
    const unknown = req.headers.getAll('Require').map((t) => t.trim()).filter((t) => t && !SUPPORTED.has(t.toLowerCase()));
    if (unknown.length) return { status: 420, headers: [['Unsupported', unknown.join(', ')]] };
  }
  if (req.method === 'INVITE') {
    // 8.2.3: a body the UAS cannot read is a 415 with the Accept it can (an INVITE offer must be SDP here).
    const type = (req.headers.get('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (req.body.length > 0 && type !== '' && type !== 'application/sdp') return { status: 415, headers: [['Accept', 'application/sdp']] };
    // Every answer to the offer carries SDP: an Accept without it leaves only 406 (sec. 21.4.7).
    const accept = req.headers.getAll('Accept').map((a) => a.split(';')[0]!.trim().toLowerCase());
    if (accept.length && !accept.some((a) => a === 'application/sdp' || a === 'application/*' || a === '*/*')) return { status: 406, headers: [['Accept', 'application/sdp']] };
  }
  return null;
}

/**
 * A response to a request that failed validation (sec. 8.2: 400 or 505), or
 * 501 when its method is not one this UA recognises (8.2.1 comes before
 * header inspection: RFC 4475 3.1.2.18). Built only from the headers the
 * request has, so RFC 4475 3.3.1's request without Call-ID, From and To still
 * gets its 400 with nothing invented; null when it has no Via or CSeq to
 * route and match the answer by.
 */
export function refusalOfMalformed(partial: SipMessage, status: number, reason: string | undefined): SipResponse | null {
  if (partial.kind !== 'request' || partial.method === 'ACK') return null;
  const h = partial.headers;
  if (!h.has('Via') || !h.has('CSeq')) return null;
  const code = status === 400 && unrecognisedMethod(partial.method) ? 501 : status;
  const extra: Array<[string, string]> = code === 501 ? [['Allow', ALLOWED_METHODS]] : [];
  const res = createResponse(partial, code, { reason: code === 400 ? reason : undefined, headers: extra });
  if (h.has('From') && h.has('To') && h.has('Call-ID')) return res;
  // createResponse wrote the missing ones empty: leave them out instead.
  const kept = new SipHeaders();
  for (const { name, value } of res.headers.entries()) if (value !== '' || !['From', 'To', 'Call-ID'].includes(name)) kept.append(name, value);
  return { ...res, headers: kept };
}
