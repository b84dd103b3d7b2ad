/**
 * MSRP frames (RFC 4975 sec. 5, ABNF sec. 9) as values, and their wire form:
 *
 *   req-start  = "MSRP" SP transact-id SP method CRLF
 *   resp-start = "MSRP" SP transact-id SP status-code [SP comment] CRLF
 *   headers    To-Path CRLF From-Path CRLF *(header CRLF)
 *   [Content-Type ... CRLF CRLF data CRLF]      (requests only)
 *   end-line   = "-------" transact-id continuation-flag CRLF
 */
import { MSRP } from './constants.ts';
import { MsrpBuildError } from './errors.ts';

/** `$` last chunk, `+` more follow, `#` message aborted (RFC 4975 sec. 9). */
export type ContinuationFlag = '$' | '+' | '#';

export interface MsrpHeader {
  name: string;
  value: string;
}

interface FrameBase {
  transactionId: string;
  /** In wire order; To-Path and From-Path first (sec. 9). */
  headers: MsrpHeader[];
  continuation: ContinuationFlag;
}

export interface MsrpRequest extends FrameBase {
  kind: 'request';
  /** SEND, REPORT, AUTH (RFC 4976) or any other upper-case method. */
  method: string;
  /** The data between the blank line and the CRLF before the end-line; undefined when the frame has none. */
  body: Buffer | undefined;
}

export interface MsrpResponse extends FrameBase {
  kind: 'response';
  status: number;
  comment: string | undefined;
}

export type MsrpFrame = MsrpRequest | MsrpResponse;

/** ident = ALPHANUM 3*31ident-char; ident-char = ALPHANUM / "." / "-" / "+" / "%" / "=" (sec. 9). */
export const TRANSACTION_ID = /^[A-Za-z0-9][A-Za-z0-9.\-+%=]{3,31}$/;
/** other-method = 1*UPALPHA (sec. 9). */
export const METHOD = /^[A-Z]+$/;

/** The first header of that name (names compare case-insensitively, as ABNF literal strings do). */
export function getHeader(frame: { headers: readonly MsrpHeader[] }, name: string): string | undefined {
  const n = name.toLowerCase();
  return frame.headers.find((h) => h.name.toLowerCase() === n)?.value;
}

/** Every header of that name. */
export function getHeaders(frame: { headers: readonly MsrpHeader[] }, name: string): string[] {
  const n = name.toLowerCase();
  return frame.headers.filter((h) => h.name.toLowerCase() === n).map((h) => h.value);
}

const CRLF = '\r\n';

/** The end-line of a transaction (sec. 9). */
export function endLine(transactionId: string, flag: ContinuationFlag): string {
  return `-------${transactionId}${flag}`;
}

/**
 * Does this body hold its own end-line? RFC 4975 sec. 7.1: the sender must
 * make sure the end-line (seven hyphens, the transaction id and a
 * continuation flag) is not present in the body, wherever it would stand;
 * the parser refuses such a frame on receipt by the same rule.
 */
export function bodyContainsEndLine(body: Buffer, transactionId: string): boolean {
  const needle = Buffer.from(`-------${transactionId}`, 'latin1');
  for (let i = body.indexOf(needle); i >= 0; i = body.indexOf(needle, i + 1)) {
    const flag = body[i + needle.length];
    if (flag === 0x24 || flag === 0x2b || flag === 0x23) return true; // $ + #
  }
  return false;
}

/**
 * The wire bytes of a frame. Throws MsrpBuildError for what RFC 4975 does
 * not allow: a bad transaction id or method, a header name or value that
 * would break the framing, a response with a body, or a body that contains
 * its own end-line.
 */
export function serializeFrame(frame: MsrpFrame): Buffer {
  const { transactionId: tid } = frame;
  const { min, max } = MSRP.transactionIdLength;
  if (!TRANSACTION_ID.test(tid)) throw new MsrpBuildError(`transaction id must be ${min}-${max} ident characters: ${JSON.stringify(tid)}`);
  let start: string;
  if (frame.kind === 'request') {
    if (!METHOD.test(frame.method)) throw new MsrpBuildError(`method must be upper-case letters: ${JSON.stringify(frame.method)}`);
    start = `MSRP ${tid} ${frame.method}`;
  } else {
    if (!Number.isInteger(frame.status) || frame.status < 100 || frame.status > 999) throw new MsrpBuildError(`status must be 3 digits: ${frame.status}`);
    if (frame.comment !== undefined && /[\r\n]/.test(frame.comment)) throw new MsrpBuildError('response comment contains a line break');
    start = `MSRP ${tid} ${frame.status}${frame.comment ? ` ${frame.comment}` : ''}`;
  }
  const lines = [start];
  for (const h of frame.headers) {
    if (!/^[A-Za-z][A-Za-z0-9!#$%&'*+\-.^_`|~]*$/.test(h.name)) throw new MsrpBuildError(`bad header name ${JSON.stringify(h.name)}`);
    if (/[\r\n]/.test(h.value)) throw new MsrpBuildError(`header ${h.name} value contains a line break`);
    lines.push(`${h.name}: ${h.value}`);
  }
  const body = frame.kind === 'request' ? frame.body : undefined;
  if (body === undefined) {
    return Buffer.from(`${lines.join(CRLF)}${CRLF}${endLine(tid, frame.continuation)}${CRLF}`, 'utf8');
  }
  if (bodyContainsEndLine(body, tid)) throw new MsrpBuildError(`body contains the end-line of transaction ${tid}`);
  return Buffer.concat([
    Buffer.from(`${lines.join(CRLF)}${CRLF}${CRLF}`, 'utf8'),
    body,
    Buffer.from(`${CRLF}${endLine(tid, frame.continuation)}${CRLF}`, 'latin1'),
  ]);
}
