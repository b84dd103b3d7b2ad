/**
 * Cheap first-bytes recognisers for the signalling and security protocols
 * the flow table classifies. They look only at the start of one payload and
 * never throw.
 */

/** TLSPlaintext/TLSCiphertext length limit: 2^14 + 2048 (RFC 5246 sec 6.2.3; RFC 8446 is stricter). */
const TLS_MAX_RECORD = 16384 + 2048;

/**
 * First bytes are a TLS record header (RFC 8446 sec 5.1): content type 20..23
 * (change_cipher_spec, alert, handshake, application_data), legacy version
 * 0x0300..0x0304, length 1..2^14+2048.
 */
export function looksLikeTls(buf: Buffer): boolean {
  if (buf.length < 5) return false;
  const type = buf[0]!;
  if (type < 20 || type > 23 || buf[1] !== 3 || buf[2]! > 4) return false;
  const len = (buf[3]! << 8) | buf[4]!;
  return len >= 1 && len <= TLS_MAX_RECORD;
}

/**
 * First bytes are a DTLS record header (RFC 9147 sec 4 / RFC 6347 sec 4.1):
 * content type 20..23, version 0xfeff (1.0) or 0xfefd (1.2), 13-byte header.
 * Addition: DTLS-SRTP keying (RFC 5764) shares the media 5-tuple.
 */
export function looksLikeDtls(buf: Buffer): boolean {
  if (buf.length < 13) return false;
  const type = buf[0]!;
  if (type < 20 || type > 23 || buf[1] !== 0xfe || (buf[2] !== 0xff && buf[2] !== 0xfd)) return false;
  const len = (buf[11]! << 8) | buf[12]!;
  return len >= 1 && len <= TLS_MAX_RECORD;
}

/** Longest first line we inspect; real start lines are far shorter. */
const MAX_START_LINE = 1024;

/** First line (without CRLF) when it is printable ASCII; the line may be cut by the end of the buffer. */
function firstLine(buf: Buffer): string | null {
  const end = Math.min(buf.length, MAX_START_LINE);
  let i = 0;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === 0x0d || c === 0x0a) break;
    if (c < 0x20 || c > 0x7e) return null;
  }
  if (i === 0) return null;
  return buf.toString('latin1', 0, i);
}

// RFC 3261 sec 25.1: Method = token (the methods in use are all upper case); Request-URI here limited to
// SIP(S)/tel/urn URIs; SIP-Version "SIP/2.0". Status-Line: SIP-Version SP 3DIGIT SP Reason-Phrase.
const SIP_REQUEST = /^[A-Z][A-Z0-9._!%*+`'~-]* (?:[sS][iI][pP][sS]?|[tT][eE][lL]|[uU][rR][nN]):\S+ SIP\/2\.0$/;
const SIP_STATUS = /^SIP\/2\.0 [1-6]\d\d(?: |$)/;

/**
 * Starts with a SIP request line (`METHOD sip:... SIP/2.0`) or status line
 * (`SIP/2.0 200 ...`), RFC 3261 sec 7.1 / 7.2; and, when the bytes go on
 * past that line, the next line is a header field (`token ":"`, RFC 3261
 * sec 7.3.1) or the empty line. Content-based, so it runs on any port: the
 * checks reject the first octets of RTP, STUN, TLS and binary payloads at
 * once, and text that only happens to start like SIP at the second line.
 */
export function looksLikeSip(buf: Buffer): boolean {
  if (buf.length < 12) return false;
  const c = buf[0]!;
  // Cheap reject before building a string: a start line begins with an upper-case letter.
  if (c < 0x41 || c > 0x5a) return false;
  const line = firstLine(buf);
  if (line === null || !(SIP_STATUS.test(line) || SIP_REQUEST.test(line))) return false;
  return secondLineIsHeader(buf, line.length);
}

/** RFC 3261 sec 25.1 token characters. */
function isTokenChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e || c === 0x21 ||
    c === 0x25 || c === 0x2a || c === 0x5f || c === 0x2b || c === 0x60 || c === 0x27 || c === 0x7e;
}

/**
 * After the start line ending at `eol`: true when the buffer ends there (a cut
 * message), or the line break is followed by the empty line or by a header
 * field name and its colon (or by a prefix of one, when the buffer ends).
 */
function secondLineIsHeader(buf: Buffer, eol: number): boolean {
  let i = eol;
  if (i >= buf.length) return true;
  if (buf[i] === 0x0d) i++;
  if (i >= buf.length) return true;
  if (buf[i] !== 0x0a) return false;
  i++;
  if (i >= buf.length) return true;
  if (buf[i] === 0x0d || buf[i] === 0x0a) return true; // the empty line: a message without header fields
  const start = i;
  while (i < buf.length && isTokenChar(buf[i]!)) i++;
  if (i === buf.length) return true;
  if (i === start) return false;
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  return i === buf.length || buf[i] === 0x3a;
}

// RFC 4975 sec 9: req-start = "MSRP" SP transact-id SP method CRLF;
// resp-line = "MSRP" SP transact-id SP status-code [SP comment] CRLF;
// transact-id = ident = ALPHANUM 3*31ident-char.
const MSRP_START = /^MSRP [A-Za-z0-9][A-Za-z0-9.\-+%=]{3,31} (?:[A-Z]+|\d{3}(?: .*)?)$/;

/** Starts with an MSRP request/response line (RFC 4975 sec 7: `MSRP <transact-id> ...`). */
export function looksLikeMsrp(buf: Buffer): boolean {
  if (buf.length < 12 || buf[0] !== 0x4d /* M */) return false;
  const line = firstLine(buf);
  return line !== null && MSRP_START.test(line);
}
