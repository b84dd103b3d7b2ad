import { TransactionMisuseError } from './errors.ts';
import { newBranch, newTag } from './ids.ts';
import { SipHeaders, cseqOf, topViaOf, type SipRequest, type SipResponse } from './message.ts';
import { formatNameAddr, parseNameAddr, type NameAddr } from './name-addr.ts';
import { reasonPhrase } from './status-codes.ts';
import { formatVia } from './via.ts';

/** Our sent-by for a Via (sec. 18.1.1): transport plus the address we listen on. */
export interface ViaSpec {
  transport: 'UDP' | 'TCP' | 'TLS' | string;
  host: string;
  port?: number | undefined;
  /** Defaults to a fresh branch. */
  branch?: string | undefined;
  /** Add `;rport` (RFC 3581): ask for the response to come back to our source port. */
  rport?: boolean | undefined;
  /**
   * Add `;alias` (RFC 5923): on TCP/TLS, ask the next hop to reach our sent-by
   * address over this connection instead of opening a new one toward us.
   */
  alias?: boolean | undefined;
}

/** Formats our Via value. */
export function formatOwnVia(v: ViaSpec): string {
  const params = new Map<string, string | null>([['branch', v.branch ?? newBranch()]]);
  if (v.rport) params.set('rport', null);
  if (v.alias) params.set('alias', null);
  return formatVia({ protocol: 'SIP/2.0', transport: v.transport.toUpperCase(), host: v.host, port: v.port, params });
}

/** Everything a UAC needs to build a request outside or inside a dialog (sec. 8.1.1). */
export interface RequestSpec {
  method: string;
  uri: string;
  via: ViaSpec;
  from: NameAddr | string;
  to: NameAddr | string;
  callId: string;
  cseq: number;
  maxForwards?: number | undefined;
  /** Contact value (a name-addr string). */
  contact?: string | undefined;
  /** Route values, in order. */
  routes?: readonly string[] | undefined;
  /** Extra headers, appended in order. */
  headers?: ReadonlyArray<readonly [string, string]> | undefined;
  body?: Buffer | string | undefined;
  contentType?: string | undefined;
}

const asText = (v: NameAddr | string) => (typeof v === 'string' ? v : formatNameAddr(v));

/** Builds a request with the mandatory headers of sec. 8.1.1 in the customary order. */
export function createRequest(spec: RequestSpec): SipRequest {
  if (spec.method === 'ACK' && spec.cseq < 0) throw new TransactionMisuseError('negative CSeq');
  const h = new SipHeaders();
  h.append('Via', formatOwnVia(spec.via));
  h.append('Max-Forwards', String(spec.maxForwards ?? 70));
  for (const r of spec.routes ?? []) h.append('Route', r);
  h.append('From', asText(spec.from));
  h.append('To', asText(spec.to));
  h.append('Call-ID', spec.callId);
  h.append('CSeq', `${spec.cseq} ${spec.method}`);
  if (spec.contact) h.append('Contact', spec.contact);
  for (const [n, v] of spec.headers ?? []) h.append(n, v);
  const body = spec.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(spec.body) ? spec.body : Buffer.from(spec.body, 'utf8');
  if (body.length) h.append('Content-Type', spec.contentType ?? 'application/sdp');
  return { kind: 'request', method: spec.method, uri: spec.uri, headers: h, body };
}

/** Options for createResponse. */
export interface ResponseSpec {
  reason?: string | undefined;
  /** To tag to add when the request had none (sec. 8.2.6.2). Defaults to a fresh tag, except for 100. */
  toTag?: string | undefined;
  headers?: ReadonlyArray<readonly [string, string]> | undefined;
  body?: Buffer | string | undefined;
  contentType?: string | undefined;
}

/**
 * Builds a response (sec. 8.2.6.2): "The From field of the response MUST equal
 * the From header field of the request. The Call-ID ... MUST equal ... The CSeq
 * ... MUST equal ... The Via header field values in the response MUST equal the
 * Via header field values in the request and MUST maintain the same ordering."
 * A To tag is added unless the request had one or the status is 100.
 */
export function createResponse(req: SipRequest, status: number, spec: ResponseSpec = {}): SipResponse {
  const h = new SipHeaders();
  for (const v of req.headers.getAll('Via')) h.append('Via', v);
  const toText = req.headers.get('To') ?? '';
  let to = toText;
  const na = parseNameAddr(toText);
  if (na && !na.params.has('tag') && status !== 100) {
    na.params.set('tag', spec.toTag ?? newTag());
    to = formatNameAddr(na);
  }
  h.append('From', req.headers.get('From') ?? '');
  h.append('To', to);
  h.append('Call-ID', req.headers.get('Call-ID') ?? '');
  h.append('CSeq', req.headers.get('CSeq') ?? '');
  // sec. 8.2.6.1: a 100 Trying copies the Timestamp header.
  const ts = req.headers.get('Timestamp');
  if (status === 100 && ts) h.append('Timestamp', ts);
  for (const [n, v] of spec.headers ?? []) h.append(n, v);
  const body = spec.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(spec.body) ? spec.body : Buffer.from(spec.body, 'utf8');
  if (body.length) h.append('Content-Type', spec.contentType ?? 'application/sdp');
  return { kind: 'response', status, reason: spec.reason === undefined ? reasonPhrase(status) : safeReasonPhrase(spec.reason), headers: h, body };
}

/** Longest Reason-Phrase written: a refusal says why in a line, not in a page. */
export const MAX_REASON_PHRASE = 300;

/**
 * A Reason-Phrase that keeps the status line one line (RFC 3261 sec. 25.1:
 * Reason-Phrase = *(reserved / unreserved / escaped / UTF8-NONASCII /
 * UTF8-CONT / SP / HTAB)): control characters (CR, LF, NUL, ...) become
 * '?', and an overlong text is cut. Refusals quote what they refused, which
 * can be an attacker's bytes (a tampered identity inside a MIKEY message):
 * one CR LF in the status line, and the proxies drop the response.
 */
export function safeReasonPhrase(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '?');
  return clean.length > MAX_REASON_PHRASE ? `${clean.slice(0, MAX_REASON_PHRASE - 3)}...` : clean;
}

/**
 * The ACK a client transaction sends for a non-2xx final response
 * (sec. 17.1.1.3): same Request-URI, Call-ID, From, CSeq number and top Via
 * (same branch) as the INVITE; To from the response; the INVITE's Route headers.
 */
export function createAckForNon2xx(invite: SipRequest, response: SipResponse): SipRequest {
  const h = new SipHeaders();
  h.append('Via', invite.headers.getAll('Via')[0]!);
  h.append('Max-Forwards', '70');
  for (const r of invite.headers.getAll('Route')) h.append('Route', r);
  h.append('From', invite.headers.get('From')!);
  h.append('To', response.headers.get('To')!);
  h.append('Call-ID', invite.headers.get('Call-ID')!);
  h.append('CSeq', `${cseqOf(invite).seq} ACK`);
  return { kind: 'request', method: 'ACK', uri: invite.uri, headers: h, body: Buffer.alloc(0) };
}

/**
 * A CANCEL for a pending request (sec. 9.1): "The Request-URI, Call-ID, To,
 * the numeric part of CSeq, and From header fields in the CANCEL request MUST
 * be identical to those in the request being cancelled, including tags. A
 * CANCEL constructed by a client MUST have only a single Via header field value
 * matching the top Via value in the request being cancelled." Route headers are
 * copied so that it follows the same path.
 */
export function createCancel(request: SipRequest): SipRequest {
  if (request.method === 'ACK' || request.method === 'CANCEL') throw new TransactionMisuseError(`cannot CANCEL a ${request.method}`);
  topViaOf(request);
  const h = new SipHeaders();
  h.append('Via', request.headers.getAll('Via')[0]!);
  h.append('Max-Forwards', '70');
  for (const r of request.headers.getAll('Route')) h.append('Route', r);
  h.append('From', request.headers.get('From')!);
  h.append('To', request.headers.get('To')!);
  h.append('Call-ID', request.headers.get('Call-ID')!);
  h.append('CSeq', `${cseqOf(request).seq} CANCEL`);
  return { kind: 'request', method: 'CANCEL', uri: request.uri, headers: h, body: Buffer.alloc(0) };
}

/** Copy of a request with a fresh top Via branch (a retry after 401/407 is a new transaction, sec. 8.1.3.5). */
export function withNewBranch(req: SipRequest): SipRequest {
  const out = new SipHeaders();
  let done = false;
  for (const e of req.headers.entries()) {
    if (!done && e.name === 'Via') {
      out.append('Via', e.value.replace(/;\s*branch=[^;,\s]*/i, `;branch=${newBranch()}`));
      done = true;
    } else out.append(e.name, e.value);
  }
  if (!done) throw new TransactionMisuseError('request has no Via');
  return { ...req, headers: out };
}
