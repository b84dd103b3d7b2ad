/**
 * The MIME framing S/MIME needs (RFC 2045, RFC 8551 sec. 3): a header block,
 * a blank line, a body. Only what the S/MIME layers of RFC 8591 use: entity
 * headers with parameters, and binary bodies (RFC 8591 on transfer encoding: SIP and MSRP
 * are 8-bit clean, so S/MIME bodies go as binary, never base64).
 */
import { concat, decodeUtf8, indexOfBlankLine, utf8 } from './bytes.ts';
import { CmsFormatError } from './errors.ts';
import { LIMITS } from './limits.ts';

export interface MimeHeader {
  /** Header name as written. MIME header names compare case-insensitively (RFC 2045 sec. 3). */
  name: string;
  value: string;
}

export interface MimeEntity {
  headers: MimeHeader[];
  body: Uint8Array;
}

/** A parsed Content-Type: lower-cased type/subtype and parameters (names lower-cased, values unquoted). */
export interface ContentType {
  type: string;
  params: Record<string, string>;
}

/** First value of a header, by case-insensitive name. */
export function mimeHeader(headers: readonly MimeHeader[], name: string): string | undefined {
  const n = name.toLowerCase();
  return headers.find((h) => h.name.toLowerCase() === n)?.value;
}

/** Serialises an entity: headers, CRLF, body (binary as given). */
export function buildMimeEntity(headers: readonly MimeHeader[], body: Uint8Array): Uint8Array {
  for (const h of headers) {
    if (!/^[!-9;-~]+$/.test(h.name) || /[\r\n]/.test(h.value)) throw new CmsFormatError('bad-argument', `MIME header ${JSON.stringify(h.name)} has a bad name or a line break in its value`);
  }
  return concat(utf8(headers.map((h) => `${h.name}: ${h.value}\r\n`).join('') + '\r\n'), body);
}

/**
 * Splits an entity into headers and body. Header lines end in CRLF; a line
 * starting with space or tab continues the previous one (RFC 5322 sec. 2.2.3
 * folding, which MIME inherits).
 */
export function parseMimeEntity(bytes: Uint8Array): MimeEntity {
  // An entity with no headers at all starts with the blank line itself.
  const end = bytes[0] === 13 && bytes[1] === 10 ? -2 : indexOfBlankLine(bytes);
  if (end === -1) throw new CmsFormatError('mime-malformed', 'MIME entity: no blank line between the headers and the body');
  if (end > LIMITS.maxHeaderBlockBytes) throw new CmsFormatError('mime-malformed', `MIME entity: header block of ${end} bytes exceeds ${LIMITS.maxHeaderBlockBytes}`);
  const headers = end < 0 ? [] : parseMimeHeaderBlock(bytes.subarray(0, end), 'MIME entity');
  return { headers, body: bytes.subarray(end + 4) };
}

/** Parses CRLF-separated header lines (no trailing blank line). `what` names the block in errors. */
export function parseMimeHeaderBlock(block: Uint8Array, what: string): MimeHeader[] {
  const text = decodeUtf8(block);
  if (text === undefined) throw new CmsFormatError('mime-malformed', `${what}: header block is not valid UTF-8`);
  const lines = text.split('\r\n');
  if (lines.length > LIMITS.maxHeaderLines) throw new CmsFormatError('mime-malformed', `${what}: ${lines.length} header lines exceed ${LIMITS.maxHeaderLines}`);
  const headers: MimeHeader[] = [];
  lines.forEach((line, i) => {
    if (/[\r\n\0]/.test(line)) throw new CmsFormatError('mime-malformed', `${what} line ${i + 1}: bare CR, LF or NUL`);
    if (line.startsWith(' ') || line.startsWith('\t')) {
      const last = headers[headers.length - 1];
      if (!last) throw new CmsFormatError('mime-malformed', `${what} line ${i + 1}: continuation line before any header`);
      last.value += ' ' + line.trim();
      return;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    // RFC 5322 sec. 2.2: field-name is printable US-ASCII except colon.
    if (!/^[!-9;-~]+$/.test(name)) throw new CmsFormatError('mime-malformed', `${what} line ${i + 1}: not a "Name: value" header: ${JSON.stringify(line.slice(0, 60))}`);
    headers.push({ name, value: line.slice(colon + 1).trim() });
  });
  return headers;
}

/**
 * Parses a Content-Type value (RFC 2045 sec. 5.1): `type/subtype *(; param=value)`,
 * values as tokens or quoted strings.
 */
export function parseContentType(value: string): ContentType {
  const m = /^\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+\/[!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*/.exec(value);
  if (!m) throw new CmsFormatError('mime-malformed', `Content-Type ${JSON.stringify(value.slice(0, 80))} is not type/subtype`);
  const params: Record<string, string> = {};
  let rest = value.slice(m[0].length);
  while (rest.length > 0) {
    const p = /^;\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([!#$%&'*+\-.^_`|~0-9A-Za-z]+))\s*/.exec(rest);
    if (!p) {
      // RFC 3261 sec. 23.3's own example ends the Content-Type with a stray ";": tolerate trailing separators only.
      if (/^[;\s]*$/.test(rest)) break;
      throw new CmsFormatError('mime-malformed', `Content-Type parameters ${JSON.stringify(rest.slice(0, 80))} are not ;name=value`);
    }
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
    rest = rest.slice(p[0].length);
  }
  return { type: m[1]!.toLowerCase(), params };
}
