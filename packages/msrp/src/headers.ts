/**
 * Typed values of the MSRP headers (RFC 4975 sec. 9, RFC 4976 sec. 5 and 9):
 * Byte-Range, Status, Success-Report, Failure-Report, Expires. Parsers return
 * error values; formatters throw only on values that cannot be written.
 */
import { MsrpBuildError, MsrpParseError } from './errors.ts';

/** Header names as RFC 4975 / 4976 spell them. */
export const H = {
  toPath: 'To-Path',
  fromPath: 'From-Path',
  messageId: 'Message-ID',
  byteRange: 'Byte-Range',
  successReport: 'Success-Report',
  failureReport: 'Failure-Report',
  status: 'Status',
  contentType: 'Content-Type',
  usePath: 'Use-Path',
  expires: 'Expires',
  minExpires: 'Min-Expires',
  maxExpires: 'Max-Expires',
  wwwAuthenticate: 'WWW-Authenticate',
  authorization: 'Authorization',
  authenticationInfo: 'Authentication-Info',
} as const;

/**
 * Byte-Range: range-start "-" (range-end / "*") "/" (total / "*"), 1-based
 * and inclusive (RFC 4975 sec. 7.1.1, ABNF sec. 9). `end` / `total` are
 * undefined for "*".
 */
export interface ByteRange {
  start: number;
  end: number | undefined;
  total: number | undefined;
}

type R<T> = { ok: true; value: T } | { ok: false; error: MsrpParseError };
const bad = <T>(code: 'bad-byte-range' | 'bad-status' | 'bad-value', msg: string): R<T> => ({ ok: false, error: new MsrpParseError(code, msg, false) });
const num = (s: string) => (/^\d{1,15}$/.test(s) ? Number(s) : NaN);

export function parseByteRange(text: string): R<ByteRange> {
  const m = /^(\d+)-(\d+|\*)\/(\d+|\*)$/.exec(text.trim());
  if (!m) return bad('bad-byte-range', `Byte-Range is not start-end/total: ${JSON.stringify(text.slice(0, 60))}`);
  const start = num(m[1]!);
  const end = m[2] === '*' ? undefined : num(m[2]!);
  const total = m[3] === '*' ? undefined : num(m[3]!);
  if (!Number.isSafeInteger(start) || start < 1) return bad('bad-byte-range', `Byte-Range start must be 1 or more: ${text}`);
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start - 1)) return bad('bad-byte-range', `Byte-Range end before start: ${text}`);
  if (total !== undefined && !Number.isSafeInteger(total)) return bad('bad-byte-range', `Byte-Range total too large: ${text}`);
  if (total !== undefined && end !== undefined && end > total) return bad('bad-byte-range', `Byte-Range end beyond total: ${text}`);
  return { ok: true, value: { start, end, total } };
}

export function formatByteRange(r: ByteRange): string {
  if (!Number.isSafeInteger(r.start) || r.start < 1) throw new MsrpBuildError(`Byte-Range start must be a positive integer: ${r.start}`);
  return `${r.start}-${r.end ?? '*'}/${r.total ?? '*'}`;
}

/** Status = namespace SP status-code [SP text-reason] (RFC 4975 sec. 9); namespace 000 is MSRP's. */
export interface ReportStatus {
  namespace: number;
  code: number;
  reason: string | undefined;
}

export function parseStatus(text: string): R<ReportStatus> {
  const m = /^(\d{3}) (\d{3})(?: (.*))?$/s.exec(text.trim());
  if (!m) return bad('bad-status', `Status is not "namespace code [reason]": ${JSON.stringify(text.slice(0, 60))}`);
  return { ok: true, value: { namespace: Number(m[1]), code: Number(m[2]), reason: m[3] } };
}

export function formatStatus(s: ReportStatus): string {
  const ns = String(s.namespace).padStart(3, '0');
  return `${ns} ${s.code}${s.reason ? ` ${s.reason}` : ''}`;
}

/** Success-Report: yes / no (sec. 9); absent means no (sec. 7.1.1). */
export function parseSuccessReport(text: string | undefined): R<boolean> {
  if (text === undefined) return { ok: true, value: false };
  const v = text.trim();
  if (v === 'yes' || v === 'no') return { ok: true, value: v === 'yes' };
  return bad('bad-value', `Success-Report must be yes or no: ${JSON.stringify(v.slice(0, 40))}`);
}

export type FailureReport = 'yes' | 'no' | 'partial';

/** Failure-Report: yes / no / partial (sec. 9); absent means yes (sec. 7.1.1). */
export function parseFailureReport(text: string | undefined): R<FailureReport> {
  if (text === undefined) return { ok: true, value: 'yes' };
  const v = text.trim();
  if (v === 'yes' || v === 'no' || v === 'partial') return { ok: true, value: v };
  return bad('bad-value', `Failure-Report must be yes, no or partial: ${JSON.stringify(v.slice(0, 40))}`);
}

/** Expires / Min-Expires / Max-Expires = 1*DIGIT seconds (RFC 4976 sec. 9). */
export function parseSeconds(name: string, text: string): R<number> {
  const v = text.trim();
  const n = num(v);
  if (!Number.isSafeInteger(n)) return bad('bad-value', `${name} must be a number of seconds: ${JSON.stringify(v.slice(0, 40))}`);
  return { ok: true, value: n };
}
