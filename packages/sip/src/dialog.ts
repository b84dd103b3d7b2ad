import { createRequest, type ViaSpec } from './builders.ts';
import { DialogError } from './errors.ts';
import { callIdOf, cseqOf, fromOf, nameAddrsOf, toOf, type SipRequest, type SipResponse } from './message.ts';
import { formatNameAddr, parseNameAddr, tagOf, type NameAddr } from './name-addr.ts';
import { formatSipUri, parseSipUri } from './uri.ts';

/** Dialog state of RFC 3261 sec. 12.1: the identifiers, sequence numbers, target and route set. */
export interface Dialog {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** Our identity (From of our requests), without tag. */
  localUri: NameAddr;
  /** The peer's identity (To of our requests), without tag. */
  remoteUri: NameAddr;
  /** Where in-dialog requests go: the URI of the peer's Contact. */
  remoteTarget: string;
  /** Route values in the order our requests carry them. */
  routeSet: string[];
  /** Last CSeq we used; incremented before each new non-ACK request (sec. 12.2.1.1). */
  localSeq: number;
  /** Last CSeq the peer used, or null while empty (sec. 12.1.1). */
  remoteSeq: number | null;
  /** sips Request-URI over TLS (sec. 12.1.1). */
  secure: boolean;
}

/** The dialog id `Call-ID;local-tag;remote-tag` (sec. 12). */
export function dialogId(d: Pick<Dialog, 'callId' | 'localTag' | 'remoteTag'>): string {
  return `${d.callId};${d.localTag};${d.remoteTag}`;
}

/** Dialog id of an incoming request as seen by us (UAS side: local tag = To tag, sec. 12.2.2). */
export function dialogIdOfIncomingRequest(req: SipRequest): string {
  return dialogId({ callId: callIdOf(req), localTag: tagOf(toOf(req)) ?? '', remoteTag: tagOf(fromOf(req)) ?? '' });
}

/** Dialog id of a response to our request (UAC side: local tag = From tag, sec. 12.1.2). */
export function dialogIdOfResponse(res: SipResponse): string {
  return dialogId({ callId: callIdOf(res), localTag: tagOf(fromOf(res)) ?? '', remoteTag: tagOf(toOf(res)) ?? '' });
}

function withoutTag(na: NameAddr): NameAddr {
  const params = new Map(na.params);
  params.delete('tag');
  return { displayName: na.displayName, uri: na.uri, params };
}

function contactUri(m: SipRequest | SipResponse): string | undefined {
  return nameAddrsOf(m, 'Contact')[0]?.uri;
}

/**
 * UAC dialog from a dialog-creating response (sec. 12.1.2): "The route set
 * MUST be set to the list of URIs in the Record-Route header field from the
 * response, taken in reverse order ... The remote target MUST be set to the URI
 * from the Contact header field of the response. The local sequence number
 * MUST be set to the value of the sequence number in the CSeq header field of
 * the request. The remote sequence number MUST be empty."
 */
export function createUacDialog(request: SipRequest, response: SipResponse): Dialog {
  if (response.status < 101 || response.status >= 300) throw new DialogError(`a ${response.status} response does not create a dialog`);
  const target = contactUri(response);
  if (!target) throw new DialogError(`the ${response.status} response has no usable Contact: cannot set the remote target`);
  const from = fromOf(request);
  const to = toOf(response);
  return {
    callId: callIdOf(request),
    localTag: tagOf(from) ?? '',
    remoteTag: tagOf(to) ?? '',
    localUri: withoutTag(from),
    remoteUri: withoutTag(to),
    remoteTarget: target,
    routeSet: response.headers.getAll('Record-Route').reverse(),
    localSeq: cseqOf(request).seq,
    remoteSeq: null,
    secure: request.uri.toLowerCase().startsWith('sips:'),
  };
}

/**
 * UAS dialog from a dialog-creating request (sec. 12.1.1): "The route set MUST
 * be set to the list of URIs in the Record-Route header field from the
 * request, taken in order ... The remote target MUST be set to the URI from
 * the Contact header field of the request ... The remote sequence number MUST
 * be set to the value of the sequence number in the CSeq header field of the
 * request. The local sequence number MUST be empty."
 */
export function createUasDialog(request: SipRequest, localTag: string): Dialog {
  const target = contactUri(request);
  if (!target) throw new DialogError(`the ${request.method} has no usable Contact: cannot set the remote target`);
  const from = fromOf(request);
  return {
    callId: callIdOf(request),
    localTag,
    remoteTag: tagOf(from) ?? '',
    localUri: withoutTag(toOf(request)),
    remoteUri: withoutTag(from),
    remoteTarget: target,
    routeSet: request.headers.getAll('Record-Route'),
    localSeq: 0,
    remoteSeq: cseqOf(request).seq,
    secure: request.uri.toLowerCase().startsWith('sips:'),
  };
}

/**
 * Request-URI and Route headers for an in-dialog request (sec. 12.2.1.1):
 * empty route set -> Request-URI = remote target, no Route; first route with
 * `lr` (loose routing) -> Request-URI = remote target, Route = route set;
 * otherwise (strict router) -> Request-URI = first route's URI with parameters
 * not allowed in a Request-URI stripped, Route = the rest plus the remote target.
 */
export function resolveDialogRoute(routeSet: readonly string[], remoteTarget: string): { requestUri: string; routes: string[] } {
  if (routeSet.length === 0) return { requestUri: remoteTarget, routes: [] };
  const first = parseNameAddr(routeSet[0]!);
  if (!first) throw new DialogError(`malformed route ${JSON.stringify(routeSet[0])}`);
  const uri = parseSipUri(first.uri);
  if (!uri || uri.params.has('lr')) return { requestUri: remoteTarget, routes: [...routeSet] };
  // sec. 19.1.1 table: `method` and the headers component are not allowed in a Request-URI.
  const stripped = { ...uri, params: new Map([...uri.params].filter(([k]) => k !== 'method')), headers: undefined };
  return { requestUri: formatSipUri(stripped), routes: [...routeSet.slice(1), `<${remoteTarget}>`] };
}

/** Options of an in-dialog request. */
export interface InDialogOptions {
  via: ViaSpec;
  contact?: string | undefined;
  headers?: ReadonlyArray<readonly [string, string]> | undefined;
  body?: Buffer | string | undefined;
  contentType?: string | undefined;
}

/**
 * Builds a request within a dialog (sec. 12.2.1.1): To = remote URI and tag,
 * From = local URI and tag, the dialog's Call-ID, a CSeq one above the last
 * local one (this mutates `dialog.localSeq`), routing by resolveDialogRoute.
 * ACK and CANCEL are refused: use createAckFor2xx / createCancel.
 */
export function createInDialogRequest(dialog: Dialog, method: string, options: InDialogOptions): SipRequest {
  if (method === 'ACK' || method === 'CANCEL') throw new DialogError(`${method} reuses a CSeq: use createAckFor2xx or createCancel`);
  dialog.localSeq += 1;
  return buildInDialog(dialog, method, dialog.localSeq, options);
}

/**
 * The ACK for a 2xx (sec. 13.2.2.4): "The UAC core MUST generate an ACK
 * request for each 2xx received ... The header fields of the ACK are
 * constructed in the same way as for any request sent within a dialog ... with
 * the exception of the CSeq ... The sequence number of the CSeq header field
 * MUST be the same as the INVITE being acknowledged". It is its own
 * transaction, so it gets a new branch.
 */
export function createAckFor2xx(dialog: Dialog, inviteCseq: number, options: InDialogOptions): SipRequest {
  return buildInDialog(dialog, 'ACK', inviteCseq, options);
}

function buildInDialog(dialog: Dialog, method: string, cseq: number, o: InDialogOptions): SipRequest {
  const { requestUri, routes } = resolveDialogRoute(dialog.routeSet, dialog.remoteTarget);
  const from = { ...dialog.localUri, params: new Map(dialog.localUri.params).set('tag', dialog.localTag) };
  const to = { ...dialog.remoteUri, params: new Map(dialog.remoteUri.params) };
  if (dialog.remoteTag) to.params.set('tag', dialog.remoteTag);
  return createRequest({
    method,
    uri: requestUri,
    via: o.via,
    from: formatNameAddr(from),
    to: formatNameAddr(to),
    callId: dialog.callId,
    cseq,
    routes,
    contact: o.contact,
    headers: o.headers,
    body: o.body,
    contentType: o.contentType,
  });
}

/**
 * Checks and records the CSeq of an in-dialog request (sec. 12.2.2): "If the
 * remote sequence number was not empty, but the sequence number of the request
 * is lower than the remote sequence number, the request is out of order and
 * MUST be rejected with a 500". ACK and CANCEL reuse a CSeq and are not checked.
 * Returns false when the request must be rejected.
 */
export function acceptRemoteCseq(dialog: Dialog, req: SipRequest): boolean {
  if (req.method === 'ACK' || req.method === 'CANCEL') return true;
  const seq = cseqOf(req).seq;
  if (dialog.remoteSeq !== null && seq < dialog.remoteSeq) return false;
  dialog.remoteSeq = seq;
  return true;
}

/**
 * Target refresh (sec. 12.2.2, 12.2.1.2): a re-INVITE or its 2xx with a
 * Contact replaces the remote target.
 */
export function refreshRemoteTarget(dialog: Dialog, m: SipRequest | SipResponse): void {
  const target = contactUri(m);
  if (target) dialog.remoteTarget = target;
}
