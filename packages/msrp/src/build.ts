/**
 * Builders of the frames an endpoint sends: SEND (one chunk), REPORT
 * (RFC 4975 sec. 7.1.2), responses (sec. 7.2) and AUTH (RFC 4976 sec. 5.1).
 * They return frame values; serializeFrame() gives the bytes.
 */
import { MSRP_STATUS } from './constants.ts';
import { MsrpBuildError } from './errors.ts';
import { bodyContainsEndLine, type ContinuationFlag, type MsrpHeader, type MsrpRequest, type MsrpResponse } from './frame.ts';
import { formatByteRange, formatStatus, H, type ByteRange, type FailureReport } from './headers.ts';
import { newTransactionId } from './ids.ts';
import { formatMsrpUri, formatMsrpUriList, type MsrpUri } from './uri.ts';

/** A transaction id whose end-line the body does not contain (sec. 7.1). */
export function transactionIdFor(body: Buffer | undefined): string {
  for (;;) {
    const tid = newTransactionId();
    if (!body || !bodyContainsEndLine(body, tid)) return tid;
  }
}

export interface SendSpec {
  toPath: readonly MsrpUri[];
  fromPath: readonly MsrpUri[];
  messageId: string;
  /** The chunk's bytes. */
  body: Buffer;
  contentType: string;
  byteRange: ByteRange;
  continuation?: ContinuationFlag;
  successReport?: boolean;
  failureReport?: FailureReport;
  /** Extra headers (e.g. MIME headers before Content-Type). */
  headers?: MsrpHeader[];
  transactionId?: string;
}

/** One SEND chunk (sec. 7.1.1). Report headers are written only when they differ from the defaults. */
export function buildSend(s: SendSpec): MsrpRequest {
  if (s.toPath.length === 0 || s.fromPath.length === 0) throw new MsrpBuildError('SEND needs a To-Path and a From-Path');
  const headers: MsrpHeader[] = [
    { name: H.toPath, value: formatMsrpUriList(s.toPath) },
    { name: H.fromPath, value: formatMsrpUriList(s.fromPath) },
    { name: H.messageId, value: s.messageId },
    { name: H.byteRange, value: formatByteRange(s.byteRange) },
  ];
  if (s.successReport) headers.push({ name: H.successReport, value: 'yes' });
  if (s.failureReport !== undefined && s.failureReport !== 'yes') headers.push({ name: H.failureReport, value: s.failureReport });
  headers.push(...(s.headers ?? []), { name: H.contentType, value: s.contentType });
  return { kind: 'request', transactionId: s.transactionId ?? transactionIdFor(s.body), method: 'SEND', headers, body: s.body, continuation: s.continuation ?? '$' };
}

/**
 * A REPORT for a message (sec. 7.1.2): To-Path is the From-Path of the SEND
 * (which lists the hops back to the sender), From-Path the reporter's own
 * URI, the same Message-ID, the Byte-Range the report covers and a Status
 * (namespace 000, the response code it reports).
 */
export function buildReport(r: {
  sendFromPath: readonly MsrpUri[];
  localUri: MsrpUri;
  messageId: string;
  byteRange: ByteRange;
  status: number;
  reason?: string;
}): MsrpRequest {
  return {
    kind: 'request',
    transactionId: newTransactionId(),
    method: 'REPORT',
    headers: [
      { name: H.toPath, value: formatMsrpUriList(r.sendFromPath) },
      { name: H.fromPath, value: formatMsrpUri(r.localUri) },
      { name: H.messageId, value: r.messageId },
      { name: H.byteRange, value: formatByteRange(r.byteRange) },
      { name: H.status, value: formatStatus({ namespace: 0, code: r.status, reason: r.reason ?? MSRP_STATUS[r.status] }) },
    ],
    body: undefined,
    continuation: '$',
  };
}

/**
 * A response (sec. 7.2): hop by hop, so To-Path holds only the previous hop
 * (the first URI of the request's From-Path) and From-Path the responder's
 * URI. REPORT requests are never answered (sec. 7.1.2); the caller checks.
 */
export function buildResponse(req: { transactionId: string; fromPath: readonly MsrpUri[] }, localUri: MsrpUri, status: number, comment?: string, extra: MsrpHeader[] = []): MsrpResponse {
  const prev = req.fromPath[0];
  if (!prev) throw new MsrpBuildError('cannot answer a request without From-Path');
  return {
    kind: 'response',
    transactionId: req.transactionId,
    status,
    comment: comment ?? MSRP_STATUS[status],
    headers: [
      { name: H.toPath, value: formatMsrpUri(prev) },
      { name: H.fromPath, value: formatMsrpUri(localUri) },
      ...extra,
    ],
    continuation: '$',
  };
}

/**
 * AUTH to a relay (RFC 4976 sec. 5.1): To-Path is the relay's URI, From-Path
 * the client's; Authorization answers a 401's challenge; Expires asks for a
 * lifetime of the Use-Path.
 */
export function buildAuth(a: { relayUri: MsrpUri; localUri: MsrpUri; authorization?: string; expires?: number }): MsrpRequest {
  const headers: MsrpHeader[] = [
    { name: H.toPath, value: formatMsrpUri(a.relayUri) },
    { name: H.fromPath, value: formatMsrpUri(a.localUri) },
  ];
  if (a.authorization !== undefined) headers.push({ name: H.authorization, value: a.authorization });
  if (a.expires !== undefined) headers.push({ name: H.expires, value: String(a.expires) });
  return { kind: 'request', transactionId: newTransactionId(), method: 'AUTH', headers, body: undefined, continuation: '$' };
}
