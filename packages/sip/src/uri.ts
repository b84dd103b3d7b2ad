import { formatParams, parseParams, type Params } from './params.ts';

/** A parsed `sip:` or `sips:` URI (RFC 3261 sec. 19.1). */
export interface SipUri {
  scheme: 'sip' | 'sips';
  user?: string | undefined;
  password?: string | undefined;
  /** Host as written; IPv6 references keep their brackets. */
  host: string;
  port?: number | undefined;
  /** uri-parameters, lower-case names (`transport`, `lr`, `user`, ...). */
  params: Params;
  /** The `?h=v&...` part, unparsed, without the `?`. */
  headers?: string | undefined;
}

const HOSTNAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9\-_]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-_]*[A-Za-z0-9])?)*\.?$/;
const IPV6_RE = /^\[[0-9A-Fa-f:.]+\]$/;

/** True for a hostname, IPv4 address or bracketed IPv6 reference (sec. 25.1 `host`). */
export function isValidHost(host: string): boolean {
  return HOSTNAME_RE.test(host) || IPV6_RE.test(host);
}

/** Splits `host[:port]`; returns null when the port is not a number in 0..65535 or the host is invalid. */
export function parseHostPort(s: string): { host: string; port?: number } | null {
  let host = s;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return null;
    host = s.slice(0, end + 1);
    const rest = s.slice(end + 1);
    if (rest) {
      if (!rest.startsWith(':')) return null;
      portText = rest.slice(1);
    }
  } else {
    const colon = s.indexOf(':');
    if (colon >= 0) {
      host = s.slice(0, colon);
      portText = s.slice(colon + 1);
    }
  }
  if (!isValidHost(host)) return null;
  if (portText === undefined) return { host };
  if (!/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  if (port > 65535) return null;
  return { host, port };
}

/**
 * Parses a sip/sips URI; null when it is not one or is malformed.
 * The userinfo ends at the last `@` (an unescaped `@` cannot occur in it).
 */
export function parseSipUri(text: string): SipUri | null {
  const s = text.trim();
  const colon = s.indexOf(':');
  if (colon < 0) return null;
  const scheme = s.slice(0, colon).toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips') return null;
  let rest = s.slice(colon + 1);
  if (!rest || /[\s<>"]/.test(rest)) return null;
  let headers: string | undefined;
  const q = rest.indexOf('?');
  let user: string | undefined;
  let password: string | undefined;
  // A `?` may sit in the user part (user-unreserved, RFC 4475 3.1.1.2) and `@` never
  // in headers unescaped: without an `@` before the first `?`, look past it.
  let at = rest.lastIndexOf('@', q >= 0 ? q : rest.length);
  if (at < 0 && q >= 0) at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const pc = userinfo.indexOf(':');
    user = pc >= 0 ? userinfo.slice(0, pc) : userinfo;
    if (pc >= 0) password = userinfo.slice(pc + 1);
    if (!user) return null;
  }
  const q2 = rest.indexOf('?');
  if (q2 >= 0) {
    headers = rest.slice(q2 + 1);
    rest = rest.slice(0, q2);
  }
  const semi = rest.indexOf(';');
  const hostport = semi >= 0 ? rest.slice(0, semi) : rest;
  const params = semi >= 0 ? parseParams(rest.slice(semi)) : new Map<string, string | null>();
  if (!params) return null;
  const hp = parseHostPort(hostport);
  if (!hp) return null;
  return { scheme, user, password, host: hp.host, port: hp.port, params, headers };
}

/** Serialises a SIP URI. */
export function formatSipUri(u: SipUri): string {
  let s = `${u.scheme}:`;
  if (u.user !== undefined) s += u.user + (u.password !== undefined ? `:${u.password}` : '') + '@';
  s += u.host;
  if (u.port !== undefined) s += `:${u.port}`;
  s += formatParams(u.params);
  if (u.headers) s += `?${u.headers}`;
  return s;
}

/**
 * True for any absolute URI we accept in a Request-URI or name-addr: a valid
 * sip/sips URI, or `scheme:opaque` for other schemes (tel:, urn:, ...).
 */
export function isValidUri(text: string): boolean {
  const colon = text.indexOf(':');
  if (colon <= 0) return false;
  const scheme = text.slice(0, colon).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(text) !== null;
  return /^[a-z][a-z0-9+\-.]*$/.test(scheme) && colon + 1 < text.length && !/[\s<>"]/.test(text);
}

/**
 * Compares two SIP URIs by the essentials of sec. 19.1.4 that matter to a UA:
 * scheme, user, host (case-insensitive), port, and transport.
 */
export function sameSipUri(a: SipUri, b: SipUri): boolean {
  return (
    a.scheme === b.scheme &&
    (a.user ?? '') === (b.user ?? '') &&
    a.host.toLowerCase() === b.host.toLowerCase() &&
    a.port === b.port &&
    (a.params.get('transport') ?? '').toLowerCase() === (b.params.get('transport') ?? '').toLowerCase()
  );
}
