/**
 * Signalling over TCP, recognised by content on any port: each direction of
 * each connection is put back in order (retransmissions and overlaps trimmed,
 * out-of-order segments held until the hole fills) and read as what its bytes
 * are:
 * - TLS (RFC 8446 sec. 5.1): records counted by walking their headers; only
 *   the 5-octet header is ever buffered.
 * - SIP (RFC 3261 sec. 18.3): messages framed by Content-Length.
 * - MSRP (RFC 4975 sec. 7, 9): messages framed by their end-line
 *   `-------<transaction-id>` followed by `$`, `+` or `#`.
 * A direction that starts with none of these (the capture began mid-stream,
 * or another protocol) is read again at each segment that starts one.
 *
 * Memory is bounded per direction: MAX_PENDING octets out of order (then the
 * hole is given up and reading resynchronises), MAX_MESSAGE octets of one
 * unfinished SIP or MSRP message (then it is dropped). A direction is
 * forgotten at FIN or RST.
 */
import { looksLikeMsrp, looksLikeSip, looksLikeTls } from '@imslab/capture';

const MAX_PENDING = 1 << 20;
const MAX_MESSAGE = 1 << 20;
const MAX_HEADER = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im;
const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;

/** What a direction's bytes turned out to be. */
export type StreamKind = 'detect' | 'tls' | 'sip' | 'msrp' | 'other';

/** Where complete messages go: one call per SIP message (its bytes), MSRP message, TLS record. */
export interface StreamSink {
  sip(flow: string, message: Buffer): void;
  msrp(flow: string, message: Buffer): void;
  tls(flow: string, records: number): void;
}

class Direction {
  kind: StreamKind = 'detect';
  next: number | undefined;
  private readonly pending = new Map<number, Buffer>();
  private pendingBytes = 0;
  /** In-order bytes not yet framed (SIP, MSRP, detection). */
  private data: Buffer = Buffer.alloc(0);
  /** TLS: header octets of the record being read, and body octets still to skip. */
  private tlsHeader = Buffer.alloc(5);
  private tlsHave = 0;
  private tlsSkip = 0;

  constructor(readonly flow: string, private readonly sink: StreamSink) {}

  push(seq: number, payload: Buffer): void {
    seq >>>= 0;
    if (this.next === undefined) this.next = seq;
    const rel = (seq - this.next) | 0; // signed distance modulo 2^32 (RFC 9293 sec. 3.4)
    if (rel > 0) {
      const had = this.pending.get(seq);
      if (had === undefined || had.length < payload.length) {
        this.pending.set(seq, Buffer.from(payload));
        this.pendingBytes += payload.length - (had?.length ?? 0);
      }
      if (this.pendingBytes <= MAX_PENDING) return;
      this.skipHole();
    } else if (rel + payload.length > 0) {
      this.feed(payload.subarray(-rel));
    } else {
      return; // a retransmission of what was read
    }
    this.drain();
  }

  private feed(bytes: Buffer): void {
    this.next = (this.next! + bytes.length) >>> 0;
    // A direction read as nothing (or that lost step) starts again at a segment that starts a message;
    // one still detecting switches to TLS at a segment that starts a record (TLS is not line-based).
    const k = this.kind === 'other' || this.kind === 'detect' ? startKind(bytes) : null;
    if (this.kind === 'other' && k === null) return;
    if (k !== null && (this.kind === 'other' || (k === 'tls' && startKind(this.data) === null))) {
      this.kind = k;
      this.data = Buffer.alloc(0);
    }
    if (this.kind === 'tls') {
      this.readTls(bytes, 0);
      return;
    }
    this.data = this.data.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.data, bytes]);
    this.frame();
  }

  private skipHole(): void {
    let best: number | undefined;
    for (const s of this.pending.keys()) if (best === undefined || ((s - this.next!) | 0) < ((best - this.next!) | 0)) best = s;
    this.next = best;
    this.data = Buffer.alloc(0);
    this.tlsHave = 0;
    this.tlsSkip = 0;
    this.kind = 'detect';
  }

  private drain(): void {
    let progressed = true;
    while (progressed && this.pending.size > 0) {
      progressed = false;
      for (const [s, seg] of this.pending) {
        const rel = (s - this.next!) | 0;
        if (rel > 0) continue;
        this.pending.delete(s);
        this.pendingBytes -= seg.length;
        if (rel + seg.length > 0) this.feed(seg.subarray(-rel));
        progressed = true;
      }
    }
  }

  /** Walks TLS record headers from `at`; counts each record whose header is complete. */
  private readTls(bytes: Buffer, at: number): void {
    let records = 0;
    while (at < bytes.length) {
      if (this.tlsSkip > 0) {
        const n = Math.min(this.tlsSkip, bytes.length - at);
        this.tlsSkip -= n;
        at += n;
        continue;
      }
      this.tlsHeader[this.tlsHave++] = bytes[at++]!;
      if (this.tlsHave < 5) continue;
      this.tlsHave = 0;
      if (!looksLikeTls(this.tlsHeader)) {
        // Out of step (a lost segment): read again from the next segment that starts a record.
        this.kind = 'other';
        break;
      }
      records++;
      this.tlsSkip = (this.tlsHeader[3]! << 8) | this.tlsHeader[4]!;
    }
    if (records > 0) this.sink.tls(this.flow, records);
  }

  /** Detects what the buffered bytes are, then cuts out every complete message. */
  private frame(): void {
    for (;;) {
      let d = this.data;
      let i = 0;
      while (i < d.length && (d[i] === 0x0d || d[i] === 0x0a)) i++; // keep-alive CRLFs (RFC 5626 sec. 3.5.1)
      if (i > 0) d = this.data = d.subarray(i);
      if (d.length === 0) break;
      if (this.kind === 'detect') {
        const k = startKind(d);
        if (k === 'tls') {
          this.kind = 'tls';
          this.data = Buffer.alloc(0);
          this.readTls(d, 0);
          return;
        }
        if (k === null) {
          // Not a message start: look for one at a later line, else wait (bounded).
          const at = nextStart(d);
          if (at > 0) {
            this.data = d.subarray(at);
            continue;
          }
          if (d.length > MAX_HEADER) {
            this.kind = 'other';
            this.data = Buffer.alloc(0);
          }
          break;
        }
        this.kind = k;
      }
      const n = this.kind === 'sip' ? sipLength(d) : this.kind === 'msrp' ? msrpLength(d) : -2;
      if (n === -1) {
        // Incomplete: wait, unless it has grown past any real message.
        if (d.length > MAX_MESSAGE) this.resync(d);
        break;
      }
      if (n === -2) {
        this.resync(d);
        if (this.data.length === d.length) break;
        continue;
      }
      const message = d.subarray(0, n);
      if (this.kind === 'sip') this.sink.sip(this.flow, message);
      else this.sink.msrp(this.flow, message);
      this.data = d.subarray(n);
    }
    // Keep the unframed tail in a buffer of its own, so the segment it came in is not retained.
    if (this.data.length > 0 && this.data.buffer.byteLength > this.data.length * 2) this.data = Buffer.from(this.data);
  }

  /** Drops bytes up to the next line that starts a message; back to detection. */
  private resync(d: Buffer): void {
    const at = nextStart(d.subarray(1));
    this.data = at >= 0 ? d.subarray(at + 1) : Buffer.alloc(0);
    this.kind = 'detect';
  }
}

/** TLS, SIP or MSRP when `b` starts a record or message of it; null otherwise. */
function startKind(b: Buffer): 'tls' | 'sip' | 'msrp' | null {
  if (looksLikeTls(b)) return 'tls';
  if (looksLikeSip(b)) return 'sip';
  if (looksLikeMsrp(b)) return 'msrp';
  return null;
}

/** Offset of the first line after the first that starts a SIP or MSRP message, or -1. */
function nextStart(d: Buffer): number {
  for (let at = d.indexOf(CRLF); at >= 0; at = d.indexOf(CRLF, at + 2)) {
    const c = d[at + 2];
    if (c === undefined) return -1;
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) {
      const rest = d.subarray(at + 2);
      if (looksLikeSip(rest) || looksLikeMsrp(rest)) return at + 2;
    }
  }
  return -1;
}

/** Length of the SIP message at the start of `d` (headers, CRLFCRLF, Content-Length octets of body); -1 incomplete; -2 not framable. */
function sipLength(d: Buffer): number {
  if (!looksLikeSip(d)) return -2;
  const headerEnd = d.indexOf(CRLFCRLF);
  if (headerEnd < 0) return d.length > MAX_HEADER ? -2 : -1;
  const m = CONTENT_LENGTH.exec(d.toString('latin1', 0, headerEnd));
  // RFC 3261 sec. 18.3: Content-Length is mandatory on stream transports; without it, no body.
  const body = m ? Number(m[1]) : 0;
  if (body > MAX_MESSAGE) return -2;
  const total = headerEnd + 4 + body;
  return d.length >= total ? total : -1;
}

/** Length of the MSRP message at the start of `d`, through the CRLF after its end-line; -1 incomplete; -2 not framable. */
function msrpLength(d: Buffer): number {
  if (!looksLikeMsrp(d)) return -2;
  const eol = d.indexOf(CRLF);
  if (eol < 0) return -1;
  // req-start / resp-line: "MSRP" SP transact-id SP ...
  const tid = d.toString('latin1', 5, d.indexOf(0x20, 5));
  const end = Buffer.from(`\r\n-------${tid}`, 'latin1');
  for (let at = d.indexOf(end, eol); at >= 0; at = d.indexOf(end, at + 1)) {
    const flag = at + end.length;
    if (flag + 3 > d.length) return -1;
    const f = d[flag];
    if ((f === 0x24 || f === 0x2b || f === 0x23) && d[flag + 1] === 0x0d && d[flag + 2] === 0x0a) return flag + 3;
  }
  return -1;
}

/** Every TCP direction of one link. */
export class TcpSignalling {
  private readonly dirs = new Map<string, Direction>();

  constructor(private readonly sink: StreamSink) {}

  /** One segment of the direction named `flow` (`tcp a:p > b:q`). */
  segment(flow: string, seq: number, flags: number, payload: Buffer): void {
    let d = this.dirs.get(flow);
    if ((flags & SYN) !== 0) {
      // A new connection on these ports: start from its initial sequence number + 1.
      d = new Direction(flow, this.sink);
      d.next = (seq + 1) >>> 0;
      this.dirs.set(flow, d);
    }
    if (payload.length > 0) {
      if (!d) {
        d = new Direction(flow, this.sink);
        this.dirs.set(flow, d);
      }
      d.push((flags & SYN) !== 0 ? seq + 1 : seq, payload);
    }
    if ((flags & (FIN | RST)) !== 0) this.dirs.delete(flow);
  }

  /** Directions being followed (for tests). */
  get size(): number {
    return this.dirs.size;
  }
}
