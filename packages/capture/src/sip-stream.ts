/**
 * SIP over TCP: in-order reassembly of one direction of a stream and message
 * framing by Content-Length (RFC 3261 sec 18.3: on stream transports the
 * Content-Length header field MUST be present and delimits the body).
 */
import { looksLikeSip } from './signatures.ts';

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
/** Out-of-order bytes kept while waiting for a hole to fill; past this the hole is taken as lost. */
const MAX_PENDING_BYTES = 1 << 20;
/** A header section longer than this is not SIP we can frame; drop it and resync. */
const MAX_HEADER_BYTES = 64 * 1024;
// Content-Length or its compact form "l" (RFC 3261 sec 7.3.3, 20.14).
const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im;

/**
 * Reassembles one direction of a TCP stream in order and splits SIP
 * messages by Content-Length. Retransmitted and overlapping segments are
 * trimmed to their new bytes; out-of-order segments wait for the hole
 * (up to 1 MiB, then the hole is skipped and framing resynchronises on the
 * next SIP start line). Keep-alive CRLFs (RFC 5626 sec 3.5.1) are dropped.
 * Returned messages are copies owned by the caller.
 */
export class SipStreamReassembler {
  private next: number | undefined;
  private readonly pending = new Map<number, Buffer>();
  private pendingBytes = 0;
  private data: Buffer = Buffer.alloc(0);

  /** Feeds one segment (TCP sequence number of its first payload byte); returns the SIP messages it completed. */
  push(seq: number, payload: Buffer): Buffer[] {
    if (payload.length === 0) return [];
    seq >>>= 0;
    if (this.next === undefined) this.next = seq;
    const rel = (seq - this.next) | 0; // signed distance, modulo 2^32 (RFC 9293 sec 3.4)
    if (rel > 0) {
      const had = this.pending.get(seq);
      if (had === undefined || had.length < payload.length) {
        this.pending.set(seq, Buffer.from(payload));
        this.pendingBytes += payload.length - (had?.length ?? 0);
      }
      if (this.pendingBytes <= MAX_PENDING_BYTES) return [];
      this.skipHole();
    } else if (rel + payload.length > 0) {
      this.append(payload.subarray(-rel));
    } else {
      return []; // pure retransmission
    }
    this.drainPending();
    return this.extract();
  }

  /** Bytes buffered (in-order unframed plus out-of-order), for diagnostics. */
  get bufferedBytes(): number {
    return this.data.length + this.pendingBytes;
  }

  private append(bytes: Buffer): void {
    this.data = this.data.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.data, bytes]);
    this.next = (this.next! + bytes.length) >>> 0;
  }

  /** Gives up on the missing bytes: continue at the earliest pending segment and drop the partial message. */
  private skipHole(): void {
    let best: number | undefined;
    for (const s of this.pending.keys()) {
      if (best === undefined || ((s - this.next!) | 0) < ((best - this.next!) | 0)) best = s;
    }
    this.next = best;
    this.data = Buffer.alloc(0);
  }

  private drainPending(): void {
    let progressed = true;
    while (progressed && this.pending.size > 0) {
      progressed = false;
      for (const [s, seg] of this.pending) {
        const rel = (s - this.next!) | 0;
        if (rel > 0) continue;
        this.pending.delete(s);
        this.pendingBytes -= seg.length;
        if (rel + seg.length > 0) this.append(seg.subarray(-rel));
        progressed = true;
      }
    }
  }

  private extract(): Buffer[] {
    const out: Buffer[] = [];
    let d = this.data;
    for (;;) {
      let i = 0;
      while (i < d.length && (d[i] === 0x0d || d[i] === 0x0a)) i++;
      d = d.subarray(i);
      if (d.length === 0) break;
      const firstEol = d.indexOf(CRLF);
      if (firstEol < 0) {
        if (d.length > MAX_HEADER_BYTES) d = d.subarray(d.length); // not SIP: drop
        break;
      }
      if (!looksLikeSip(d)) {
        d = resync(d);
        continue;
      }
      const headerEnd = d.indexOf(CRLFCRLF);
      if (headerEnd < 0) {
        if (d.length > MAX_HEADER_BYTES) d = resync(d.subarray(firstEol + 2));
        else break;
        continue;
      }
      const m = CONTENT_LENGTH.exec(d.toString('latin1', 0, headerEnd));
      const total = headerEnd + 4 + (m ? Number(m[1]) : 0);
      if (d.length < total) break;
      out.push(d.subarray(0, total));
      d = d.subarray(total);
    }
    // Keep the tail in a buffer of its own size so one large chunk is not retained.
    this.data = d.length === 0 ? Buffer.alloc(0) : d.byteOffset === 0 && d.length === d.buffer.byteLength ? d : Buffer.from(d);
    return out;
  }
}

/** Drops bytes up to the next line that starts a SIP message (or keeps only the last, partial line). */
function resync(d: Buffer): Buffer {
  let at = d.indexOf(CRLF);
  while (at >= 0) {
    const cand = d.subarray(at + 2);
    if (cand.indexOf(CRLF) >= 0 && looksLikeSip(cand)) return cand;
    const nextEol = d.indexOf(CRLF, at + 2);
    if (nextEol < 0) return cand; // partial last line: wait for more
    at = nextEol;
  }
  return d.subarray(d.length);
}
