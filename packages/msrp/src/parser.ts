/**
 * The streaming MSRP frame parser. Bytes arrive in any split; frames come
 * out whole. A frame ends only at CRLF "-------" + its own transaction id +
 * a continuation flag + CRLF (RFC 4975 sec. 5 and 9), so a body holding the
 * end-line of another transaction, or "-------<id>" followed by anything
 * else, is data. The parser is total: every input ends in frames and typed
 * errors, never in an exception, and memory stays bounded by the limits.
 *
 * Framing only: which headers a SEND or REPORT must carry is checked by
 * validate.ts, so a receiver can answer 400 to a frame that is framed well
 * but wrong inside, and go on (RFC 4975 sec. 7.3 / 10.2).
 */
import { MSRP } from './constants.ts';
import { MsrpParseError, type MsrpParseCode } from './errors.ts';
import { bodyContainsEndLine, METHOD, TRANSACTION_ID, type ContinuationFlag, type MsrpFrame, type MsrpHeader } from './frame.ts';

export type ParseEvent =
  | { kind: 'frame'; frame: MsrpFrame }
  /** A frame whose end was found but which is malformed; it was skipped, the stream goes on. */
  | { kind: 'invalid'; error: MsrpParseError; transactionId: string; method: string | undefined; status: number | undefined; headers: MsrpHeader[] }
  /** Framing is lost: the stream cannot be used any more (close the connection). */
  | { kind: 'error'; error: MsrpParseError };

export interface ParserOptions {
  maxStartLine?: number;
  maxHeaderBytes?: number;
  maxBodyBytes?: number;
}

type State = 'start' | 'headers' | 'body' | 'failed';

interface Current {
  tid: string;
  needle: Buffer;
  method: string | undefined;
  status: number | undefined;
  comment: string | undefined;
  headers: MsrpHeader[];
  headerBytes: number;
  parts: Buffer[];
  bodyLength: number;
  hasBody: boolean;
  /** Set once the frame is known to be bad: bytes are then discarded until its end-line. */
  error: MsrpParseError | undefined;
}

const EMPTY = Buffer.alloc(0);
const CR = 0x0d;
const LF = 0x0a;
/** A header's name and colon; the value is the rest, trimmed by hand (a lazy `(.*?)[ \t]*$` was quadratic in a run of blanks). */
const HEADER_NAME = /^([A-Za-z][A-Za-z0-9!#$%&'*+\-.^_`|~]*):/;
const isBlank = (c: number) => c === 0x20 || c === 0x09;

/** `Name: value` with the blanks around the value removed, or null (no name, or a bare CR or LF in it). */
function headerLine(line: string): { name: string; value: string } | null {
  const m = HEADER_NAME.exec(line);
  if (!m) return null;
  let from = m[0].length;
  let to = line.length;
  while (from < to && isBlank(line.charCodeAt(from))) from++;
  while (to > from && isBlank(line.charCodeAt(to - 1))) to--;
  const value = line.slice(from, to);
  return /[\r\n]/.test(value) ? null : { name: m[1]!, value };
}
const MSRP_PREFIX = Buffer.from('MSRP ', 'latin1');

export class MsrpStreamParser {
  private buf: Buffer = EMPTY;
  /** buf is memory of ours (made by concat), not the caller's chunk: body parts may point into it without a copy. */
  private owned = false;
  /** Stream offset of buf[0]. */
  private offset = 0;
  private state: State = 'start';
  private cur: Current | undefined;
  /** Where the next search in buf starts (bytes before it were searched already). */
  private scanFrom = 0;
  /** buf[0] is the first byte of a line (for an end-line at offset 0). */
  private lineStartAt0 = false;
  private readonly limits: Required<ParserOptions>;
  private fatal: MsrpParseError | undefined;

  constructor(opts: ParserOptions = {}) {
    this.limits = {
      maxStartLine: opts.maxStartLine ?? MSRP.maxStartLine,
      maxHeaderBytes: opts.maxHeaderBytes ?? MSRP.maxHeaderBytes,
      maxBodyBytes: opts.maxBodyBytes ?? MSRP.maxBodyBytes,
    };
  }

  /** The fatal error that stopped the stream, if any. */
  get failure(): MsrpParseError | undefined {
    return this.fatal;
  }

  /** True between frames (nothing buffered): a clean place for the connection to end. */
  get idle(): boolean {
    return this.state === 'start' && this.buf.length === 0;
  }

  /** Feeds bytes; returns the frames and errors they complete. */
  push(chunk: Uint8Array): ParseEvent[] {
    if (this.state === 'failed') return [];
    const out: ParseEvent[] = [];
    try {
      const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (this.buf.length === 0) {
        this.buf = data;
        this.owned = false;
      } else {
        this.buf = Buffer.concat([this.buf, data]);
        this.owned = true;
      }
      while (this.step(out));
    } catch (e) {
      // Defence in depth: a bug here must not become the caller's exception.
      this.failWith(out, 'stream-failed', `internal parser error: ${(e as Error).message}`);
    }
    return out;
  }

  /** The stream ended: a frame cut short is a fatal error. */
  end(): ParseEvent[] {
    if (this.state === 'failed' || this.idle) return [];
    const out: ParseEvent[] = [];
    this.failWith(out, 'stream-failed', `stream ended inside a frame${this.cur ? ` (transaction ${this.cur.tid})` : ''}`);
    return out;
  }

  private failWith(out: ParseEvent[], code: MsrpParseCode, message: string): false {
    const error = new MsrpParseError(code, message, true, this.offset, this.cur?.tid);
    this.fatal = error;
    this.state = 'failed';
    this.buf = EMPTY;
    this.cur = undefined;
    out.push({ kind: 'error', error });
    return false;
  }

  private advance(n: number): void {
    this.buf = n >= this.buf.length ? EMPTY : this.buf.subarray(n);
    this.offset += n;
  }

  /** One step of the state machine; false when more bytes are needed. */
  private step(out: ParseEvent[]): boolean {
    switch (this.state) {
      case 'start':
        return this.stepStart(out);
      case 'headers':
        return this.stepHeaders(out);
      case 'body':
        return this.stepBody(out);
      default:
        return false;
    }
  }

  private stepStart(out: ParseEvent[]): boolean {
    if (this.buf.length === 0) return false;
    // Fail early on bytes that can never start a frame (sec. 9: "MSRP" SP).
    const k = Math.min(this.buf.length, MSRP_PREFIX.length);
    if (this.buf.compare(MSRP_PREFIX, 0, k, 0, k) !== 0) {
      return this.failWith(out, 'bad-start-line', `frame does not start with "MSRP ": ${JSON.stringify(this.buf.subarray(0, 20).toString('latin1'))}`);
    }
    const eol = this.buf.indexOf('\r\n', this.scanFrom, 'latin1');
    if (eol < 0) {
      if (this.buf.length > this.limits.maxStartLine) return this.failWith(out, 'line-too-long', `start line longer than ${this.limits.maxStartLine} bytes`);
      this.scanFrom = Math.max(0, this.buf.length - 1);
      return false;
    }
    if (eol > this.limits.maxStartLine) return this.failWith(out, 'line-too-long', `start line longer than ${this.limits.maxStartLine} bytes`);
    const line = this.buf.toString('latin1', 0, eol);
    const parts = line.split(' ');
    const tid = parts[1] ?? '';
    if (!TRANSACTION_ID.test(tid)) return this.failWith(out, 'bad-transaction-id', `bad transaction id in start line ${JSON.stringify(line.slice(0, 80))}`);
    let method: string | undefined;
    let status: number | undefined;
    let comment: string | undefined;
    const third = parts[2] ?? '';
    if (/^\d{3}$/.test(third)) {
      status = Number(third);
      // resp-line = "MSRP" SP transact-id SP status-code [SP comment] CRLF
      comment = parts.length > 3 ? Buffer.from(line, 'latin1').toString('utf8').split(' ').slice(3).join(' ') : undefined;
    } else if (parts.length === 3 && METHOD.test(third)) {
      method = third;
    } else {
      return this.failWith(out, 'bad-start-line', `start line is neither a request nor a response: ${JSON.stringify(line.slice(0, 80))}`);
    }
    this.cur = {
      tid,
      needle: Buffer.from(`-------${tid}`, 'latin1'),
      method,
      status,
      comment,
      headers: [],
      headerBytes: 0,
      parts: [],
      bodyLength: 0,
      hasBody: false,
      // status-code is 3DIGIT, but RFC 4975 sec. 10 and its registry define
      // classes 2xx to 4xx: below 100 is no code at all, and a frame we could
      // not send ourselves (serializeFrame refuses it) is not taken either.
      error: status !== undefined && status < 100 ? new MsrpParseError('bad-status', `status code ${third} of transaction ${tid} is below 100`, false, this.offset, tid)
        // comment = utf8text: no line breaks (only CRLF ended the line; a bare CR or LF is left).
        : comment !== undefined && /[\r\n]/.test(comment) ? new MsrpParseError('bad-start-line', `the comment of response ${tid} holds a bare CR or LF`, false, this.offset, tid)
        : undefined,
    };
    this.advance(eol + 2);
    this.scanFrom = 0;
    this.state = 'headers';
    return true;
  }

  /** Marks the current frame bad and discards up to its end-line. */
  private skip(code: MsrpParseCode, message: string, atLineStart: boolean): true {
    const c = this.cur!;
    c.error ??= new MsrpParseError(code, message, false, this.offset, c.tid);
    this.state = 'body';
    this.lineStartAt0 = atLineStart;
    this.scanFrom = 0;
    return true;
  }

  private stepHeaders(out: ParseEvent[]): boolean {
    const c = this.cur!;
    const eol = this.buf.indexOf('\r\n', this.scanFrom, 'latin1');
    const room = this.limits.maxHeaderBytes - c.headerBytes;
    if (eol < 0 || eol > room) {
      if (this.buf.length > room) return this.skip('headers-too-large', `header block larger than ${this.limits.maxHeaderBytes} bytes`, false);
      this.scanFrom = Math.max(0, this.buf.length - 1);
      return false;
    }
    const line = this.buf.toString('utf8', 0, eol);
    c.headerBytes += eol + 2;
    this.advance(eol + 2);
    this.scanFrom = 0;
    if (line === '') {
      // The blank line before the body (sec. 9); responses have none.
      if (c.status !== undefined) return this.skip('unexpected-body', `response ${c.tid} carries a body`, true);
      c.hasBody = true;
      this.state = 'body';
      this.lineStartAt0 = true;
      return true;
    }
    if (line.length === c.needle.length + 1 && line.startsWith(c.needle.toString('latin1'))) {
      const flag = line[line.length - 1]!;
      if (flag === '$' || flag === '+' || flag === '#') {
        this.complete(out, flag);
        return true;
      }
    }
    const h = headerLine(line);
    if (!h) return this.skip('bad-header', `malformed header line ${JSON.stringify(line.slice(0, 80))}`, true);
    c.headers.push(h);
    return true;
  }

  private store(part: Buffer): void {
    if (part.length === 0) return;
    const c = this.cur!;
    if (c.error) return;
    if (c.bodyLength + part.length > this.limits.maxBodyBytes) {
      c.error = new MsrpParseError('body-too-large', `body larger than ${this.limits.maxBodyBytes} bytes`, false, this.offset, c.tid);
      c.parts = [];
      return;
    }
    // The caller may reuse its chunk buffers: copy unless the bytes are already ours.
    c.parts.push(this.owned ? part : Buffer.from(part));
    c.bodyLength += part.length;
  }

  /** Looks for CRLF + "-------" + id + flag + CRLF; data before it is body (or discarded). */
  private stepBody(out: ParseEvent[]): boolean {
    const c = this.cur!;
    const n = c.needle.length;
    let from = this.scanFrom;
    for (;;) {
      const pos = this.buf.indexOf(c.needle, from);
      if (pos < 0) {
        // No end-line can start before the last n+2 bytes (CRLF + needle): those are data.
        const commit = this.buf.length - (n + 2);
        if (commit > 0) {
          this.store(this.buf.subarray(0, commit));
          this.advance(commit);
          this.lineStartAt0 = false;
        }
        this.scanFrom = Math.max(0, this.buf.length - n + 1);
        return false;
      }
      const atLineStart = pos === 0 ? this.lineStartAt0 : pos >= 2 && this.buf[pos - 2] === CR && this.buf[pos - 1] === LF;
      if (!atLineStart) {
        from = pos + 1;
        continue;
      }
      if (this.buf.length < pos + n + 3) {
        // Maybe an end-line: keep CRLF + needle, commit what precedes them.
        const commit = Math.max(0, pos - 2);
        if (commit > 0) {
          this.store(this.buf.subarray(0, commit));
          this.advance(commit);
          this.lineStartAt0 = false;
        }
        this.scanFrom = pos - commit;
        return false;
      }
      const flag = String.fromCharCode(this.buf[pos + n]!);
      if ((flag !== '$' && flag !== '+' && flag !== '#') || this.buf[pos + n + 1] !== CR || this.buf[pos + n + 2] !== LF) {
        from = pos + 1;
        continue;
      }
      // Data ends before the CRLF that precedes the end-line (sec. 9: data CRLF end-line).
      this.store(this.buf.subarray(0, pos === 0 ? 0 : pos - 2));
      this.advance(pos + n + 3);
      this.complete(out, flag as ContinuationFlag);
      return true;
    }
  }

  private complete(out: ParseEvent[], flag: ContinuationFlag): void {
    const c = this.cur!;
    this.cur = undefined;
    this.state = 'start';
    this.scanFrom = 0;
    this.lineStartAt0 = false;
    if (c.error) {
      out.push({ kind: 'invalid', error: c.error, transactionId: c.tid, method: c.method, status: c.status, headers: c.headers });
      return;
    }
    if (c.status !== undefined) {
      out.push({ kind: 'frame', frame: { kind: 'response', transactionId: c.tid, status: c.status, comment: c.comment, headers: c.headers, continuation: flag } });
      return;
    }
    const body = c.hasBody ? (c.parts.length === 1 ? c.parts[0]! : Buffer.concat(c.parts, c.bodyLength)) : undefined;
    if (body && bodyContainsEndLine(body, c.tid)) {
      // Sec. 7.1: a sender must keep its end-line out of the body. A frame
      // that does not is ambiguous to any other receiver and is refused, the
      // same rule serializeFrame applies, so every accepted frame can be sent on.
      out.push({ kind: 'invalid', error: new MsrpParseError('unexpected-body', `the body of ${c.tid} contains its own end-line (-------${c.tid} and a continuation flag): RFC 4975 sec. 7.1`, false, this.offset, c.tid), transactionId: c.tid, method: c.method, status: c.status, headers: c.headers });
      return;
    }
    out.push({ kind: 'frame', frame: { kind: 'request', transactionId: c.tid, method: c.method!, headers: c.headers, body, continuation: flag } });
  }
}

/** Parses a buffer holding whole frames (tests, files): every event, and whether bytes were left over. */
export function parseFrames(bytes: Uint8Array, opts?: ParserOptions): { events: ParseEvent[]; complete: boolean } {
  const p = new MsrpStreamParser(opts);
  const events = p.push(bytes);
  return { events, complete: p.idle && !p.failure };
}
