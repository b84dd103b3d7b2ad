/**
 * What a framed MSRP request or response says, checked against RFC 4975
 * sec. 7 and 9 (and RFC 4976 for AUTH): To-Path and From-Path first, a
 * Message-ID on SEND and REPORT, a Content-Type with every body, a Status on
 * REPORT, and well-formed values. A failure is an error value; receivers
 * answer it with 400 (sec. 10.2).
 */
import { MsrpParseError } from './errors.ts';
import { getHeader, type MsrpFrame } from './frame.ts';
import {
  H, parseByteRange, parseFailureReport, parseSeconds, parseStatus, parseSuccessReport,
  type ByteRange, type FailureReport, type ReportStatus,
} from './headers.ts';
import { parseMsrpUriList, type MsrpUri } from './uri.ts';

export interface FrameInfo {
  toPath: MsrpUri[];
  fromPath: MsrpUri[];
  messageId: string | undefined;
  /** As sent, or for a SEND with a body and no Byte-Range, the whole body (sec. 7.1.1: a message in one chunk). */
  byteRange: ByteRange | undefined;
  contentType: string | undefined;
  successReport: boolean;
  failureReport: FailureReport;
  status: ReportStatus | undefined;
  usePath: MsrpUri[] | undefined;
  expires: number | undefined;
}

export type InspectResult = { ok: true; info: FrameInfo } | { ok: false; error: MsrpParseError };

const MESSAGE_ID = /^[A-Za-z0-9][A-Za-z0-9.\-+%=]{3,31}$/; // ident (sec. 9)

function fail(code: 'missing-header' | 'header-order' | 'duplicate-header' | 'unexpected-body' | 'bad-value', msg: string, tid: string): InspectResult {
  return { ok: false, error: new MsrpParseError(code, msg, false, undefined, tid) };
}

/** Checks a frame and returns its typed header values. */
export function inspectFrame(frame: MsrpFrame): InspectResult {
  const tid = frame.transactionId;
  const names = frame.headers.map((h) => h.name.toLowerCase());
  for (const unique of [H.toPath, H.fromPath, H.messageId, H.byteRange, H.contentType, H.status]) {
    if (names.filter((n) => n === unique.toLowerCase()).length > 1) return fail('duplicate-header', `more than one ${unique}`, tid);
  }
  // Sec. 9: msg = start-line To-Path CRLF From-Path CRLF *(header CRLF) ...
  const to = getHeader(frame, H.toPath);
  const from = getHeader(frame, H.fromPath);
  if (to === undefined || from === undefined) return fail('missing-header', `${to === undefined ? H.toPath : H.fromPath} is missing`, tid);
  if (names[0] !== 'to-path' || names[1] !== 'from-path') return fail('header-order', 'To-Path and From-Path must be the first two headers (RFC 4975 sec. 9)', tid);
  const toPath = parseMsrpUriList(to);
  if (!toPath.ok) return { ok: false, error: toPath.error };
  const fromPath = parseMsrpUriList(from);
  if (!fromPath.ok) return { ok: false, error: fromPath.error };

  const messageId = getHeader(frame, H.messageId);
  if (messageId !== undefined && !MESSAGE_ID.test(messageId)) return fail('bad-value', `Message-ID is not an ident: ${JSON.stringify(messageId.slice(0, 40))}`, tid);
  const contentType = getHeader(frame, H.contentType);
  const sr = parseSuccessReport(getHeader(frame, H.successReport));
  if (!sr.ok) return sr;
  const fr = parseFailureReport(getHeader(frame, H.failureReport));
  if (!fr.ok) return fr;
  let byteRange: ByteRange | undefined;
  const br = getHeader(frame, H.byteRange);
  if (br !== undefined) {
    const r = parseByteRange(br);
    if (!r.ok) return r;
    byteRange = r.value;
  }
  let status: ReportStatus | undefined;
  const st = getHeader(frame, H.status);
  if (st !== undefined) {
    const r = parseStatus(st);
    if (!r.ok) return r;
    status = r.value;
  }
  let usePath: MsrpUri[] | undefined;
  const up = getHeader(frame, H.usePath);
  if (up !== undefined) {
    const r = parseMsrpUriList(up);
    if (!r.ok) return { ok: false, error: r.error };
    usePath = r.uris;
  }
  let expires: number | undefined;
  const ex = getHeader(frame, H.expires);
  if (ex !== undefined) {
    const r = parseSeconds(H.expires, ex);
    if (!r.ok) return r;
    expires = r.value;
  }

  if (frame.kind === 'request') {
    const body = frame.body;
    if (body !== undefined && body.length > 0 && contentType === undefined) return fail('missing-header', 'a body needs a Content-Type (RFC 4975 sec. 7.1.1)', tid);
    if (frame.method === 'SEND') {
      if (messageId === undefined) return fail('missing-header', 'SEND without Message-ID (RFC 4975 sec. 7.1.1)', tid);
      if (byteRange === undefined && body !== undefined && frame.continuation === '$') byteRange = { start: 1, end: body.length, total: body.length };
    } else if (frame.method === 'REPORT') {
      if (messageId === undefined) return fail('missing-header', 'REPORT without Message-ID (RFC 4975 sec. 7.1.2)', tid);
      if (status === undefined) return fail('missing-header', 'REPORT without Status (RFC 4975 sec. 7.1.2)', tid);
      if (body !== undefined && body.length > 0) return fail('unexpected-body', 'REPORT carries a body (RFC 4975 sec. 7.1.2)', tid);
    }
  }
  return {
    ok: true,
    info: { toPath: toPath.uris, fromPath: fromPath.uris, messageId, byteRange, contentType, successReport: sr.value, failureReport: fr.value, status, usePath, expires },
  };
}
