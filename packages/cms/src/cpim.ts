/**
 * CPIM message format (RFC 3862): message headers, a blank line, then an
 * encapsulated MIME entity (its headers, a blank line, its content). This is
 * what RFC 8591 signs and encrypts, so the signed bytes must be exactly the
 * bytes built here: the builder never folds or re-orders, and the parser keeps
 * every header in order.
 *
 * The parser is total: any input ends in a {@link CpimMessage} or a
 * {@link CpimParseError} naming the line and what was wrong.
 */
import { concat, decodeUtf8, indexOfBlankLine, utf8 } from './bytes.ts';
import { CmsError, CpimParseError } from './errors.ts';
import { LIMITS } from './limits.ts';
import { mimeHeader, parseMimeHeaderBlock, type MimeHeader } from './mime.ts';

/** An address in From, To or cc (RFC 3862 sec. 4.1-4.3): `[Formal-name] "<" URI ">"`. */
export interface CpimAddress {
  /** Display name, unescaped. */
  name?: string;
  uri: string;
}

/** One message header as it appeared (RFC 3862 sec. 3.6: `Name ":" *(";" Parameter) SP value`). */
export interface CpimHeader {
  /** Full name including any `prefix.` (case-sensitive, RFC 3862 sec. 3.1). */
  name: string;
  params: Array<{ name: string; value: string }>;
  /** Raw value (escapes kept as written). */
  value: string;
}

export interface CpimMessage {
  from: CpimAddress;
  to: CpimAddress[];
  cc: CpimAddress[];
  /** DateTime (RFC 3862 sec. 4.4, an RFC 3339 date-time), when present. */
  dateTime?: Date;
  subject: Array<{ value: string; lang?: string }>;
  /** NS declarations (RFC 3862 sec. 4.6): prefix -> namespace URI. */
  ns: Array<{ prefix?: string; uri: string }>;
  /** Require (RFC 3862 sec. 4.7): header names the receiver must understand. */
  require: string[];
  /** Every message header in order, including the ones decoded above. */
  headers: CpimHeader[];
  /** Content-Type of the encapsulated MIME entity. */
  contentType: string;
  contentId?: string;
  /** Every MIME header of the encapsulated entity in order. */
  contentHeaders: MimeHeader[];
  body: Uint8Array;
}

/** What {@link buildCpim} needs. */
export interface CpimInput {
  from: CpimAddress;
  to: CpimAddress | CpimAddress[];
  cc?: CpimAddress[];
  /** Written as UTC with milliseconds; RFC 8591 wants it on every protected message. */
  dateTime?: Date;
  subject?: string | Array<{ value: string; lang?: string }>;
  ns?: Array<{ prefix?: string; uri: string }>;
  require?: string[];
  /** Further message headers, written after the standard ones. */
  extraHeaders?: Array<{ name: string; value: string }>;
  /** e.g. `text/plain;charset=utf-8`. */
  contentType: string;
  contentId?: string;
  /** Further MIME headers of the encapsulated entity. */
  contentHeaders?: MimeHeader[];
  body: Uint8Array | string;
}

// RFC 3862 sec. 3.6 NAMECHAR: %x21 / %x23-27 / %x2a-2b / %x2d / %x5e-60 / %x7c / %x7e / ALPHA / DIGIT.
const NAME = "[!#-'*+\\-^-`|~A-Za-z0-9]+";
const HEADER_NAME_RE = new RegExp(`^(?:${NAME}\\.)?${NAME}$`);
// Token = 1*TOKENCHAR, TOKENCHAR = NAMECHAR / "." / UCS-high.
const TOKEN_RE = /^[!#-'*+\-.^-`|~A-Za-z0-9\u0080-\u{10FFFF}]+$/u;
const HEADERCHAR_RE = /^[\u0020-\u007e\u0080-\u{10FFFF}]*$/u;
// RFC 3339 sec. 5.6 date-time.
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** Serialises a CPIM message (RFC 3862 sec. 2), CRLF line ends throughout. */
export function buildCpim(m: CpimInput): Uint8Array {
  const lines: string[] = [];
  const add = (name: string, value: string, params = ''): void => {
    if (!HEADER_NAME_RE.test(name)) throw new CmsError('bad-argument', `CPIM header name ${JSON.stringify(name)} is not [prefix.]Name`);
    if (!HEADERCHAR_RE.test(value)) throw new CmsError('bad-argument', `CPIM ${name} value contains a control character`);
    lines.push(`${name}:${params} ${value}`);
  };
  add('From', formatAddress(m.from));
  for (const to of Array.isArray(m.to) ? m.to : [m.to]) add('To', formatAddress(to));
  for (const cc of m.cc ?? []) add('cc', formatAddress(cc));
  if (m.dateTime) {
    if (Number.isNaN(m.dateTime.getTime())) throw new CmsError('bad-argument', 'CPIM DateTime is an invalid Date');
    add('DateTime', m.dateTime.toISOString());
  }
  const subjects = typeof m.subject === 'string' ? [{ value: m.subject }] : (m.subject ?? []);
  for (const s of subjects) add('Subject', s.value, s.lang ? `;lang=${checkLang(s.lang)}` : '');
  for (const ns of m.ns ?? []) {
    if (ns.prefix !== undefined && !new RegExp(`^${NAME}$`).test(ns.prefix)) throw new CmsError('bad-argument', `CPIM NS prefix ${JSON.stringify(ns.prefix)} is not a Name`);
    add('NS', `${ns.prefix ? `${ns.prefix} ` : ''}<${checkUri(ns.uri)}>`);
  }
  if (m.require?.length) {
    for (const r of m.require) if (!HEADER_NAME_RE.test(r)) throw new CmsError('bad-argument', `CPIM Require entry ${JSON.stringify(r)} is not a header name`);
    add('Require', m.require.join(','));
  }
  for (const h of m.extraHeaders ?? []) add(h.name, h.value);

  const mime: MimeHeader[] = [{ name: 'Content-Type', value: m.contentType }];
  if (m.contentId !== undefined) mime.push({ name: 'Content-ID', value: m.contentId });
  mime.push(...(m.contentHeaders ?? []));
  for (const h of mime) {
    if (!/^[!-9;-~]+$/.test(h.name) || /[\r\n]/.test(h.value)) throw new CmsError('bad-argument', `MIME header ${JSON.stringify(h.name)} has a bad name or a line break`);
  }
  const head = lines.join('\r\n') + '\r\n\r\n' + mime.map((h) => `${h.name}: ${h.value}`).join('\r\n') + '\r\n\r\n';
  return concat(utf8(head), typeof m.body === 'string' ? utf8(m.body) : m.body);
}

/** Parses CPIM bytes; throws only {@link CpimParseError}. */
export function parseCpim(bytes: Uint8Array): CpimMessage {
  const msgEnd = indexOfBlankLine(bytes);
  if (msgEnd === -1) throw new CpimParseError('no blank line after the message headers (RFC 3862 sec. 2)', 0);
  if (msgEnd > LIMITS.maxHeaderBlockBytes) throw new CpimParseError(`message header block of ${msgEnd} bytes exceeds ${LIMITS.maxHeaderBlockBytes}`, 0);
  const text = decodeUtf8(bytes.subarray(0, msgEnd));
  if (text === undefined) throw new CpimParseError('message headers are not valid UTF-8 (RFC 3862 sec. 3.2)', 0);
  const lines = text.split('\r\n');
  if (lines.length > LIMITS.maxHeaderLines) throw new CpimParseError(`${lines.length} message headers exceed ${LIMITS.maxHeaderLines}`, 0);

  const msg: Omit<CpimMessage, 'from' | 'contentType' | 'contentHeaders' | 'body'> & { from?: CpimAddress } = {
    to: [], cc: [], subject: [], ns: [], require: [], headers: [],
  };
  lines.forEach((line, i) => {
    const h = parseHeaderLine(line, i + 1);
    msg.headers.push(h);
    const n = i + 1;
    // RFC 3862 sec. 3.1: header names are case-sensitive, so "from" is an extension header, not From.
    switch (h.name) {
      case 'From':
        if (msg.from) throw new CpimParseError('more than one From (RFC 3862 sec. 4.1)', n);
        msg.from = parseAddress(h.value, n);
        break;
      case 'To':
        msg.to.push(parseAddress(h.value, n));
        break;
      case 'cc':
        msg.cc.push(parseAddress(h.value, n));
        break;
      case 'DateTime': {
        if (msg.dateTime) throw new CpimParseError('more than one DateTime (RFC 3862 sec. 4.4)', n);
        const t = Date.parse(h.value);
        if (!DATE_TIME_RE.test(h.value) || Number.isNaN(t)) throw new CpimParseError(`DateTime ${JSON.stringify(h.value)} is not an RFC 3339 date-time`, n);
        msg.dateTime = new Date(t);
        break;
      }
      case 'Subject': {
        const lang = h.params.find((p) => p.name === 'lang')?.value;
        msg.subject.push(lang === undefined ? { value: h.value } : { value: h.value, lang });
        break;
      }
      case 'NS': {
        const m = new RegExp(`^(?:(${NAME}) )?<([^<>]*)>$`).exec(h.value);
        if (!m || !isUri(m[2]!)) throw new CpimParseError(`NS ${JSON.stringify(h.value)} is not [prefix] <URI> (RFC 3862 sec. 4.6)`, n);
        msg.ns.push(m[1] === undefined ? { uri: m[2]! } : { prefix: m[1], uri: m[2]! });
        break;
      }
      case 'Require': {
        const names = h.value.split(',');
        if (!names.every((x) => HEADER_NAME_RE.test(x))) throw new CpimParseError(`Require ${JSON.stringify(h.value)} is not a list of header names (RFC 3862 sec. 4.7)`, n);
        msg.require.push(...names);
        break;
      }
    }
  });
  if (!msg.from) throw new CpimParseError('no From header (RFC 3862 sec. 4.1; RFC 8591 checks the signer against it)', 0);
  if (msg.to.length === 0) throw new CpimParseError('no To header (RFC 3862 sec. 4.2)', 0);

  const rest = bytes.subarray(msgEnd + 4);
  const mimeEnd = indexOfBlankLine(rest);
  if (mimeEnd === -1) throw new CpimParseError('no blank line after the encapsulated MIME headers (RFC 3862 sec. 2)', lines.length + 2);
  if (mimeEnd > LIMITS.maxHeaderBlockBytes) throw new CpimParseError(`encapsulated MIME header block of ${mimeEnd} bytes exceeds ${LIMITS.maxHeaderBlockBytes}`, lines.length + 2);
  let contentHeaders: MimeHeader[];
  try {
    contentHeaders = parseMimeHeaderBlock(rest.subarray(0, mimeEnd), 'CPIM encapsulated MIME headers');
  } catch (e) {
    throw new CpimParseError(e instanceof Error ? e.message : String(e), lines.length + 2);
  }
  const contentType = mimeHeader(contentHeaders, 'Content-Type');
  if (!contentType) throw new CpimParseError('the encapsulated MIME entity has no Content-Type (RFC 3862 sec. 2)', lines.length + 2);
  const contentId = mimeHeader(contentHeaders, 'Content-ID');
  return {
    ...msg,
    from: msg.from,
    contentType,
    ...(contentId === undefined ? {} : { contentId }),
    contentHeaders,
    body: rest.subarray(mimeEnd + 4),
  };
}

function parseHeaderLine(line: string, n: number): CpimHeader {
  const colon = line.indexOf(':');
  const name = colon > 0 ? line.slice(0, colon) : '';
  if (!HEADER_NAME_RE.test(name)) throw new CpimParseError(`not a "Name: value" header: ${JSON.stringify(line.slice(0, 60))} (RFC 3862 sec. 3.1)`, n);
  let rest = line.slice(colon + 1);
  const params: CpimHeader['params'] = [];
  // RFC 3862 sec. 3.6: *( ";" Parameter ) before the SP that starts the value.
  for (;;) {
    const p = new RegExp(`^;(${NAME})=("(?:[^"\\\\]|\\\\.)*"|[^; ]+)`, 'u').exec(rest);
    if (!p) break;
    params.push({ name: p[1]!, value: p[2]! });
    rest = rest.slice(p[0].length);
  }
  if (!rest.startsWith(' ')) throw new CpimParseError(`${name}: expected a space after the colon and parameters (RFC 3862 sec. 3.6)`, n);
  const value = rest.slice(1);
  if (!HEADERCHAR_RE.test(value)) throw new CpimParseError(`${name}: value contains a control character (RFC 3862 sec. 3.2)`, n);
  return { name, params, value };
}

function parseAddress(value: string, n: number): CpimAddress {
  const lt = value.lastIndexOf('<');
  if (lt === -1 || !value.endsWith('>')) throw new CpimParseError(`address ${JSON.stringify(value.slice(0, 80))} is not [Formal-name] <URI> (RFC 3862 sec. 4.1)`, n);
  const uri = value.slice(lt + 1, -1);
  if (!isUri(uri)) throw new CpimParseError(`${JSON.stringify(uri.slice(0, 80))} is not an absolute URI`, n);
  const display = value.slice(0, lt).trimEnd();
  if (display === '') return { uri };
  if (display.startsWith('"')) {
    const m = /^"((?:[^"\\]|\\(?:u[0-9A-Fa-f]{4}|[btnr"'\\]))*)"$/u.exec(display);
    if (!m) throw new CpimParseError(`formal name ${JSON.stringify(display.slice(0, 80))} is not a valid quoted string (RFC 3862 sec. 3.6)`, n);
    return { name: unescape(m[1]!), uri };
  }
  if (!display.split(' ').every((t) => TOKEN_RE.test(t))) throw new CpimParseError(`formal name ${JSON.stringify(display.slice(0, 80))} is neither tokens nor a quoted string`, n);
  return { name: display, uri };
}

function formatAddress(a: CpimAddress): string {
  const uri = checkUri(a.uri);
  if (a.name === undefined || a.name === '') return `<${uri}>`;
  // RFC 3862 sec. 3.6: Formal-name = 1*( Token SP ) / String.
  if (a.name.split(' ').every((t) => TOKEN_RE.test(t))) return `${a.name} <${uri}>`;
  if (/[\u0000-\u001f\u007f]/.test(a.name)) throw new CmsError('bad-argument', `CPIM formal name contains a control character`);
  return `"${a.name.replace(/[\\"]/g, (c) => `\\${c}`)}"<${uri}>`;
}

const ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', r: '\r', '"': '"', "'": "'", '\\': '\\' };
function unescape(s: string): string {
  return s.replace(/\\(u[0-9A-Fa-f]{4}|.)/g, (_, e: string) => (e.length === 5 ? String.fromCharCode(parseInt(e.slice(1), 16)) : ESCAPES[e] ?? e));
}

function isUri(s: string): boolean {
  // RFC 3986 sec. 3: scheme ":" then at least one character, none of them space, control, '<' or '>'.
  return /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"\u0000-\u001f\u007f]+$/.test(s);
}

function checkUri(uri: string): string {
  if (!isUri(uri)) throw new CmsError('bad-argument', `${JSON.stringify(uri)} is not an absolute URI`);
  return uri;
}

function checkLang(lang: string): string {
  // RFC 3066 Language-Tag, as RFC 3862 sec. 3.3 uses it.
  if (!/^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/.test(lang)) throw new CmsError('bad-argument', `${JSON.stringify(lang)} is not a language tag`);
  return lang;
}
