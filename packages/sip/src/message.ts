import { MissingHeaderError } from './errors.ts';
import { canonicalHeaderName, isMultiValueHeader, normalizeHeaderName, splitHeaderValues } from './header-names.ts';
import { parseNameAddr, type NameAddr } from './name-addr.ts';
import { parseVia, type Via } from './via.ts';

/** One header line as received or built; `name` is the canonical full name. */
export interface SipHeader {
  name: string;
  value: string;
}

/**
 * Ordered header list with case-insensitive, compact-form-aware access.
 * Order is preserved because it matters for Via, Route and Record-Route.
 */
export class SipHeaders {
  private readonly list: SipHeader[] = [];

  /** Builds a header list from `[name, value]` pairs. */
  static from(pairs: Iterable<readonly [string, string]>): SipHeaders {
    const h = new SipHeaders();
    for (const [n, v] of pairs) h.append(n, v);
    return h;
  }

  /** First raw value of a header (a multi-value line is returned whole). */
  get(name: string): string | undefined {
    const key = normalizeHeaderName(name);
    return this.list.find((h) => normalizeHeaderName(h.name) === key)?.value;
  }

  /** Every value of a header, comma-separated lines split for multi-value headers (sec. 7.3.1). */
  getAll(name: string): string[] {
    const key = normalizeHeaderName(name);
    const split = isMultiValueHeader(key);
    const out: string[] = [];
    for (const h of this.list) {
      if (normalizeHeaderName(h.name) !== key) continue;
      if (split) out.push(...splitHeaderValues(h.value));
      else out.push(h.value);
    }
    return out;
  }

  /** Number of header lines with this name (not of values). */
  countLines(name: string): number {
    const key = normalizeHeaderName(name);
    return this.list.filter((h) => normalizeHeaderName(h.name) === key).length;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replaces every line of this header by one line. */
  set(name: string, value: string): this {
    this.remove(name);
    this.list.push({ name: canonicalHeaderName(name), value });
    return this;
  }

  /** Adds a line at the end. */
  append(name: string, value: string): this {
    this.list.push({ name: canonicalHeaderName(name), value });
    return this;
  }

  /** Adds a line before every other line of the same header (or at the very top), as a proxy adds a Via. */
  prepend(name: string, value: string): this {
    const key = normalizeHeaderName(name);
    const at = this.list.findIndex((h) => normalizeHeaderName(h.name) === key);
    this.list.splice(at < 0 ? 0 : at, 0, { name: canonicalHeaderName(name), value });
    return this;
  }

  /** Removes every line of this header. */
  remove(name: string): this {
    const key = normalizeHeaderName(name);
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (normalizeHeaderName(this.list[i]!.name) === key) this.list.splice(i, 1);
    }
    return this;
  }

  /** All lines, in order. */
  entries(): readonly SipHeader[] {
    return this.list;
  }

  clone(): SipHeaders {
    const h = new SipHeaders();
    for (const e of this.list) h.list.push({ ...e });
    return h;
  }
}

interface MessageBase {
  headers: SipHeaders;
  body: Buffer;
}

/** A SIP request (RFC 3261 sec. 7.1). */
export interface SipRequest extends MessageBase {
  kind: 'request';
  /** Method, case-sensitive (sec. 7.1). */
  method: string;
  /** Request-URI as written. */
  uri: string;
}

/** A SIP response (RFC 3261 sec. 7.2). */
export interface SipResponse extends MessageBase {
  kind: 'response';
  status: number;
  reason: string;
}

export type SipMessage = SipRequest | SipResponse;

/** CSeq value (sec. 20.16). */
export interface CSeq {
  seq: number;
  method: string;
}

/** Parses `123 INVITE`; null when malformed or the number exceeds 2**31 - 1 (sec. 8.1.1.5). */
export function parseCSeq(text: string): CSeq | null {
  const m = /^\s*(\d{1,10})\s+([A-Za-z0-9\-.!%*_+`'~]+)\s*$/.exec(text);
  if (!m) return null;
  const seq = Number(m[1]);
  if (seq > 0x7fffffff) return null;
  return { seq, method: m[2]! };
}

/** The Call-ID; throws MissingHeaderError on an unvalidated message without one. */
export function callIdOf(m: SipMessage): string {
  const v = m.headers.get('Call-ID');
  if (!v) throw new MissingHeaderError('Call-ID');
  return v.trim();
}

/** The parsed CSeq; throws MissingHeaderError when absent or malformed. */
export function cseqOf(m: SipMessage): CSeq {
  const v = m.headers.get('CSeq');
  const c = v === undefined ? null : parseCSeq(v);
  if (!c) throw new MissingHeaderError('CSeq');
  return c;
}

/** Every Via, top first. Throws MissingHeaderError when one is malformed or none exists. */
export function viasOf(m: SipMessage): Via[] {
  const vias = m.headers.getAll('Via').map(parseVia);
  if (vias.length === 0 || vias.some((v) => v === null)) throw new MissingHeaderError('Via');
  return vias as Via[];
}

/** The top Via. */
export function topViaOf(m: SipMessage): Via {
  return viasOf(m)[0]!;
}

function nameAddrHeader(m: SipMessage, name: string): NameAddr {
  const v = m.headers.get(name);
  const na = v === undefined ? null : parseNameAddr(v);
  if (!na) throw new MissingHeaderError(name);
  return na;
}

/** The parsed From header. */
export function fromOf(m: SipMessage): NameAddr {
  return nameAddrHeader(m, 'From');
}

/** The parsed To header. */
export function toOf(m: SipMessage): NameAddr {
  return nameAddrHeader(m, 'To');
}

/** Every value of a name-addr list header (Contact, Route, Record-Route, Path, Service-Route, P-Asserted-Identity), skipping malformed ones. */
export function nameAddrsOf(m: SipMessage, name: string): NameAddr[] {
  const out: NameAddr[] = [];
  for (const v of m.headers.getAll(name)) {
    const na = parseNameAddr(v);
    if (na) out.push(na);
  }
  return out;
}

/** A short description for logs: `INVITE sip:bob@x` or `200 OK`. */
export function describeMessage(m: SipMessage): string {
  return m.kind === 'request' ? `${m.method} ${m.uri}` : `${m.status} ${m.reason}`;
}
