import { SipParseError } from './errors.ts';
import { TOKEN_RE } from './header-names.ts';
import { SipHeaders, type SipMessage } from './message.ts';
import { validateMessage } from './validate.ts';

/** Result of parsing: a validated message, or an error value (never a throw). */
export type ParseResult =
  | { ok: true; message: SipMessage }
  | {
      ok: false;
      error: SipParseError;
      /**
       * What could be parsed before validation failed, so a UAS can still
       * answer 400/505 (sec. 8.2); absent when not even the headers parsed.
       */
      partial?: SipMessage | undefined;
    };

/** Parsing limits; the defaults bound work on hostile input. */
export interface ParseOptions {
  /** Largest accepted message in bytes (default 256 KiB). */
  maxSize?: number;
  /** Most header lines accepted (default 256). */
  maxHeaders?: number;
  /** Skip the mandatory-header validation (for tests of the syntax layer only). */
  skipValidation?: boolean;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');

function fail(message: string, partial?: SipMessage, status: 400 | 505 = 400): ParseResult {
  return { ok: false, error: new SipParseError(message, status), partial };
}

/**
 * Parses one SIP message from a datagram or a framed stream chunk
 * (RFC 3261 sec. 7). Leading CRLFs are skipped (sec. 7.5). Header lines are
 * unfolded (sec. 7.3.1), compact names accepted. When Content-Length is present
 * the body is cut to it and a shorter body is an error (sec. 18.3); when absent
 * the rest of the datagram is the body. The message is then validated
 * (see validateMessage). Linear-time; never throws.
 */
export function parseMessage(input: Buffer | string, options: ParseOptions = {}): ParseResult {
  try {
    return parseUnsafe(typeof input === 'string' ? Buffer.from(input, 'utf8') : input, options);
  } catch (e) {
    // Defence in depth: a bug in a helper must not crash a UA on hostile input.
    return fail(`internal parser error: ${(e as Error).message}`);
  }
}

function parseUnsafe(buf: Buffer, options: ParseOptions): ParseResult {
  const maxSize = options.maxSize ?? 256 * 1024;
  const maxHeaders = options.maxHeaders ?? 256;
  if (buf.length > maxSize) return fail(`message of ${buf.length} bytes exceeds the ${maxSize}-byte limit`);
  let start = 0;
  while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
  if (start >= buf.length) return fail('empty message');
  let sepAt = buf.indexOf(CRLFCRLF, start);
  let sepLen = 4;
  const lfAt = buf.indexOf(LFLF, start);
  if (lfAt >= 0 && (sepAt < 0 || lfAt < sepAt)) {
    sepAt = lfAt;
    sepLen = 2;
  }
  // A datagram that ends right after a header line lacks only the empty line
  // (RFC 4475 3.1.2.15's file is one): still malformed, but read far enough that
  // a UAS can answer it 400 rather than drop it. Anything else is truncated.
  const noEmptyLine = sepAt < 0 && buf.length >= 2 && buf[buf.length - 2] === 0x0d && buf[buf.length - 1] === 0x0a;
  if (sepAt < 0 && !noEmptyLine) return fail('no empty line after the headers (message truncated?)');
  if (noEmptyLine) {
    sepAt = buf.length - 2;
    sepLen = 2;
  }
  const headText = buf.toString('utf8', start, sepAt);
  let body = buf.subarray(sepAt + sepLen);
  const rawLines = headText.split(/\r?\n/);
  const lines: string[] = [];
  for (const line of rawLines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && lines.length > 0) {
      // sec. 7.3.1: a line starting with whitespace continues the previous header.
      lines[lines.length - 1] = trimLws(lines[lines.length - 1]!, false) + ' ' + trimLws(line);
    } else lines.push(line);
  }
  if (lines.length - 1 > maxHeaders) return fail(`more than ${maxHeaders} header lines`);
  const startLine = lines[0]!;
  for (const line of lines) if (hasBareControl(line)) return fail('control character in the header section');

  const headers = new SipHeaders();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return fail(`header line ${i} has no name or no colon: ${JSON.stringify(line.slice(0, 60))}`);
    const name = line.slice(0, colon).trimEnd();
    if (!TOKEN_RE.test(name)) return fail(`header name ${JSON.stringify(name.slice(0, 40))} is not a token`);
    headers.append(name, trimLws(line.slice(colon + 1)));
  }

  let message: SipMessage;
  if (startLine.startsWith('SIP/')) {
    // `s`: a reason phrase may hold any UTF-8 character (sec. 25.1), U+2028/U+2029 included.
    const m = /^SIP\/(\d+\.\d+) (\d{3})(?: (.*))?$/s.exec(startLine);
    if (!m) return fail(`malformed status line: ${JSON.stringify(startLine.slice(0, 80))}`);
    if (m[1] !== '2.0') return fail(`unsupported SIP version SIP/${m[1]}`, undefined, 505);
    const status = Number(m[2]);
    if (status < 100 || status > 699) return fail(`status code ${status} outside 100..699`);
    message = { kind: 'response', status, reason: m[3] ?? '', headers, body };
  } else {
    const parts = startLine.split(' ');
    if (parts.length !== 3) {
      // RFC 4475 3.1.2.8-10 (LWS in the Request-URI, extra SP): the line is broken but the
      // headers are not, so keep them for a 400 when the line still starts and ends like one.
      const words = parts.filter((p) => p !== '');
      const looksLikeOne = words.length >= 3 && TOKEN_RE.test(words[0]!) && /^SIP\/\d+\.\d+$/i.test(words[words.length - 1]!);
      const partial: SipMessage | undefined = looksLikeOne ? { kind: 'request', method: words[0]!, uri: words.slice(1, -1).join(' '), headers, body } : undefined;
      return fail(`malformed request line (expected "METHOD URI SIP/2.0"): ${JSON.stringify(startLine.slice(0, 80))}`, partial);
    }
    const [method, uri, version] = parts as [string, string, string];
    if (!TOKEN_RE.test(method)) return fail(`method ${JSON.stringify(method.slice(0, 40))} is not a token`);
    message = { kind: 'request', method, uri, headers, body };
    if (!/^SIP\/\d+\.\d+$/i.test(version)) return fail(`malformed SIP version ${JSON.stringify(version.slice(0, 20))}`, message);
    if (version.toUpperCase() !== 'SIP/2.0') return fail(`unsupported SIP version ${version}`, message, 505);
  }

  if (noEmptyLine) return fail('no empty line after the header section', message);

  const lengths = headers.getAll('Content-Length').map((v) => v.trim());
  if (lengths.length > 0) {
    if (!lengths.every((v) => /^\d{1,9}$/.test(v))) return fail(`Content-Length ${JSON.stringify(lengths[0])} is not a number`, message);
    if (new Set(lengths.map(Number)).size > 1) return fail('conflicting Content-Length headers', message);
    const len = Number(lengths[0]);
    if (len > body.length) return fail(`Content-Length ${len} exceeds the ${body.length} body bytes received`, message);
    // sec. 18.3: octets beyond Content-Length in a datagram are discarded.
    body = body.subarray(0, len);
    message.body = body;
  }
  if (!options.skipValidation) {
    const err = validateMessage(message);
    if (err) return { ok: false, error: err, partial: message };
  }
  return { ok: true, message };
}

/**
 * True when a line holds a control character (sec. 25.1 excludes them from
 * every token, word and TEXT-UTF8 production) other than HTAB and other than
 * inside a quoted-pair of a quoted-string: `quoted-pair = "\\" (%x00-09 /
 * %x0B-0C / %x0E-7F)` admits them there (RFC 4475 3.1.1.2's BEL, NUL, DEL).
 */
function hasBareControl(line: string): boolean {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (quoted && c === 0x5c && i + 1 < line.length) {
      const n = line.charCodeAt(i + 1);
      if (n === 0x0a || n === 0x0d) return true;
      i++;
      continue;
    }
    if (c === 0x22) quoted = !quoted;
    else if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

/**
 * Strips SP and HTAB only (sec. 25.1 LWS), not everything String#trim calls
 * white space: a value may start with U+FEFF (RFC 4475 3.1.1.2) or U+00A0.
 */
function trimLws(s: string, start = true): string {
  let a = 0;
  let b = s.length;
  if (start) while (a < b && (s[a] === ' ' || s[a] === '\t')) a++;
  while (b > a && (s[b - 1] === ' ' || s[b - 1] === '\t')) b--;
  return s.slice(a, b);
}
