/**
 * Header names: compact forms (RFC 3261 sec. 7.3.3 and the IANA registry),
 * canonical spelling for serialisation, and which headers may carry several
 * comma-separated values (sec. 7.3.1).
 */

/** Compact form -> full name. */
export const COMPACT_FORMS: Readonly<Record<string, string>> = Object.freeze({
  a: 'Accept-Contact',
  b: 'Referred-By',
  c: 'Content-Type',
  d: 'Request-Disposition',
  e: 'Content-Encoding',
  f: 'From',
  i: 'Call-ID',
  j: 'Reject-Contact',
  k: 'Supported',
  l: 'Content-Length',
  m: 'Contact',
  n: 'Identity-Info',
  o: 'Event',
  r: 'Refer-To',
  s: 'Subject',
  t: 'To',
  u: 'Allow-Events',
  v: 'Via',
  x: 'Session-Expires',
  y: 'Identity',
});

const CANONICAL = new Map<string, string>(
  [
    'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events',
    'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition',
    'Content-Encoding', 'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Error-Info',
    'Event', 'Expires', 'From', 'In-Reply-To', 'Max-Forwards', 'Min-Expires', 'MIME-Version', 'Organization',
    'P-Asserted-Identity', 'P-Preferred-Identity', 'P-Access-Network-Info', 'P-Charging-Vector',
    'P-Associated-URI', 'P-Called-Party-ID', 'P-Visited-Network-ID', 'Path', 'Priority', 'Privacy',
    'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Require', 'Record-Route', 'Refer-To', 'Referred-By',
    'Reject-Contact', 'Reply-To', 'Request-Disposition', 'Require', 'Retry-After', 'Route', 'RSeq', 'RAck',
    'Security-Client', 'Security-Server', 'Security-Verify', 'Server', 'Service-Route', 'Session-Expires',
    'Subject', 'Supported', 'Timestamp', 'To', 'Unsupported', 'User-Agent', 'Via', 'Warning',
    'WWW-Authenticate', 'Identity', 'Identity-Info', 'Reason',
  ].map((n) => [n.toLowerCase(), n]),
);

/**
 * Headers whose values may be combined into one comma-separated line
 * (sec. 7.3.1). The authentication headers are deliberately absent: their
 * single value contains commas.
 */
const MULTI_VALUE = new Set([
  'via', 'route', 'record-route', 'path', 'service-route', 'contact', 'allow', 'supported', 'require',
  'proxy-require', 'unsupported', 'p-asserted-identity', 'p-preferred-identity', 'p-associated-uri',
  'security-client', 'security-server', 'security-verify', 'accept', 'accept-encoding', 'accept-language',
  'allow-events', 'content-encoding', 'content-language', 'in-reply-to', 'reply-to', 'call-info',
  'alert-info', 'error-info', 'warning',
]);

/** Lower-case full name of a header, expanding a compact form. */
export function normalizeHeaderName(name: string): string {
  const lower = name.toLowerCase();
  const full = lower.length === 1 ? COMPACT_FORMS[lower] : undefined;
  return full ? full.toLowerCase() : lower;
}

/** The spelling used when serialising: canonical for known headers, as given otherwise. */
export function canonicalHeaderName(name: string): string {
  const lower = normalizeHeaderName(name);
  return CANONICAL.get(lower) ?? name;
}

/** True when the header's values are a comma-separated list. */
export function isMultiValueHeader(name: string): boolean {
  return MULTI_VALUE.has(normalizeHeaderName(name));
}

/**
 * Splits a header value on the commas that separate values, ignoring commas
 * inside quoted strings and inside `<...>` (a URI may contain commas).
 * Linear in the input; unbalanced quotes simply run to the end.
 */
export function splitHeaderValues(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (inQuote) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inQuote = false;
    } else if (ch === 0x22) inQuote = true;
    else if (ch === 0x3c /* < */) inAngle = true;
    else if (ch === 0x3e /* > */) inAngle = false;
    else if (ch === 0x2c /* , */ && !inAngle) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((v) => v.length > 0);
}

/** RFC 3261 `token` (sec. 25.1). */
export const TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
