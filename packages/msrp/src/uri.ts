/**
 * MSRP URIs (RFC 4975 sec. 6, ABNF in sec. 9):
 *
 *   MSRP-URI = msrp-scheme "://" authority ["/" session-id] ";" transport *( ";" URI-parameter)
 *
 * and their comparison rules (sec. 6.1).
 */
import { MSRP } from './constants.ts';
import { MsrpParseError } from './errors.ts';

export type MsrpScheme = 'msrp' | 'msrps';

export interface MsrpUri {
  /** Lower case. `msrps` means TLS (RFC 4975 sec. 6). */
  scheme: MsrpScheme;
  /** userinfo before "@", kept as written; not significant for comparison. */
  user?: string | undefined;
  /** Host as written (IPv6 without brackets). */
  host: string;
  /** Explicit port; absent means 2855 when connecting (sec. 6.2) but matters for comparison (sec. 6.1). */
  port?: number | undefined;
  /** session-id as written (case-sensitive); absent in a relay's own URI, e.g. an AUTH To-Path (RFC 4976 sec. 5.1). */
  sessionId?: string | undefined;
  /** transport parameter, lower case (`tcp`). */
  transport: string;
  /** Other URI-parameters in order (`name` or `name=value`). */
  params: string[];
}

export type UriResult = { ok: true; uri: MsrpUri } | { ok: false; error: MsrpParseError };

const SESSION_ID = /^[A-Za-z0-9\-._~+=/]+$/; // unreserved / "+" / "=" / "/"
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+(=[A-Za-z0-9\-.!%*_+`'~]+)?$/;
const USERINFO = /^[A-Za-z0-9\-._~!$&'()*+,=:%]*$/; // no ";": it starts the parameters
const REG_NAME = /^[A-Za-z0-9\-._~!$&'()*+,=%]+$/;

function fail(text: string, why: string): UriResult {
  return { ok: false, error: new MsrpParseError('bad-uri', `not an MSRP URI (${why}): ${JSON.stringify(text.slice(0, 120))}`, false) };
}

/** Parses one MSRP URI; an error value, never an exception. */
export function parseMsrpUri(text: string): UriResult {
  const m = /^(msrps?):\/\/(.*)$/i.exec(text);
  if (!m) return fail(text, 'scheme must be msrp:// or msrps://');
  const scheme = m[1]!.toLowerCase() as MsrpScheme;
  let rest = m[2]!;
  const semi = rest.indexOf(';');
  if (semi < 0) return fail(text, 'the ";transport" parameter is mandatory (RFC 4975 sec. 9)');
  const params = rest.slice(semi + 1).split(';');
  rest = rest.slice(0, semi);
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const sessionId = slash < 0 ? undefined : rest.slice(slash + 1);
  if (sessionId !== undefined && !SESSION_ID.test(sessionId)) return fail(text, 'bad session-id');
  const at = authority.lastIndexOf('@');
  const user = at < 0 ? undefined : authority.slice(0, at);
  if (user !== undefined && !USERINFO.test(user)) return fail(text, 'bad userinfo');
  const hostport = at < 0 ? authority : authority.slice(at + 1);
  let host: string;
  let portText: string | undefined;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) return fail(text, 'unclosed IPv6 literal');
    host = hostport.slice(1, close);
    if (!/^[0-9A-Fa-f:.]+$/.test(host)) return fail(text, 'bad IPv6 literal');
    const after = hostport.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return fail(text, 'junk after IPv6 literal');
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const colon = hostport.indexOf(':');
    host = colon < 0 ? hostport : hostport.slice(0, colon);
    portText = colon < 0 ? undefined : hostport.slice(colon + 1);
    if (!REG_NAME.test(host)) return fail(text, 'bad host');
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return fail(text, 'bad port');
    port = Number(portText);
  }
  const transport = params[0]!;
  if (!/^[A-Za-z0-9]+$/.test(transport)) return fail(text, 'bad transport');
  const others = params.slice(1);
  if (!others.every((p) => TOKEN.test(p))) return fail(text, 'bad URI-parameter');
  return { ok: true, uri: { scheme, user, host, port, sessionId, transport: transport.toLowerCase(), params: others } };
}

/** Parses a space-separated URI list (To-Path, From-Path, Use-Path, a=path: RFC 4975 sec. 9 and 8.2). */
export function parseMsrpUriList(text: string): { ok: true; uris: MsrpUri[] } | { ok: false; error: MsrpParseError } {
  const parts = text.trim().split(/[ \t]+/);
  if (parts.length === 0 || parts[0] === '') return { ok: false, error: new MsrpParseError('bad-uri', 'empty URI list', false) };
  const uris: MsrpUri[] = [];
  for (const p of parts) {
    const r = parseMsrpUri(p);
    if (!r.ok) return r;
    uris.push(r.uri);
  }
  return { ok: true, uris };
}

/** The text form of a URI. */
export function formatMsrpUri(u: MsrpUri): string {
  const host = u.host.includes(':') ? `[${u.host}]` : u.host;
  const auth = `${u.user !== undefined ? `${u.user}@` : ''}${host}${u.port !== undefined ? `:${u.port}` : ''}`;
  return `${u.scheme}://${auth}${u.sessionId !== undefined ? `/${u.sessionId}` : ''};${[u.transport, ...u.params].join(';')}`;
}

export function formatMsrpUriList(uris: readonly MsrpUri[]): string {
  return uris.map(formatMsrpUri).join(' ');
}

/** Decodes percent-encoded unreserved characters before comparing an authority (RFC 4975 sec. 6.1, RFC 3986 sec. 6.2.2.2). */
function normaliseHost(h: string): string {
  return h.replace(/%([0-9A-Fa-f]{2})/g, (all, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : all.toUpperCase();
  }).toLowerCase();
}

/**
 * URI equivalence of RFC 4975 sec. 6.1: scheme case-insensitive; userinfo
 * ignored; host case-insensitive after percent-decoding of unreserved
 * characters; a port present in either URI must match exactly (an explicit
 * port never equals an absent one); session-id case-sensitive, and a URI
 * without one never equals one with one; transport case-insensitive and
 * must match. Other parameters do not take part.
 */
export function msrpUrisEqual(a: MsrpUri, b: MsrpUri): boolean {
  return (
    a.scheme === b.scheme &&
    normaliseHost(a.host) === normaliseHost(b.host) &&
    a.port === b.port &&
    a.sessionId === b.sessionId &&
    a.transport.toLowerCase() === b.transport.toLowerCase()
  );
}

/** Where to connect for a URI: its host and port, 2855 when absent (RFC 4975 sec. 6.2). */
export function uriAddress(u: MsrpUri): { host: string; port: number; tls: boolean } {
  return { host: u.host, port: u.port ?? MSRP.defaultPort, tls: u.scheme === 'msrps' };
}
