import { formatParams, parseParams, quote, unquote, type Params } from './params.ts';
import { isValidUri } from './uri.ts';

/**
 * A `name-addr` or `addr-spec` with header parameters, as in From, To,
 * Contact, Route, Record-Route, P-Asserted-Identity (RFC 3261 sec. 20.10).
 */
export interface NameAddr {
  /** Display name without quotes, if any. */
  displayName?: string | undefined;
  /** The URI exactly as written (any scheme). */
  uri: string;
  /** Header parameters after the URI (`tag`, `expires`, ...). */
  params: Params;
}

/**
 * Parses one name-addr / addr-spec. When the URI is not in `<>`, everything
 * after the first `;` is a header parameter (sec. 20.10: "if the URI contains
 * a comma, question mark or semicolon, the URI MUST be enclosed in angle
 * brackets"). Returns null when malformed.
 */
export function parseNameAddr(text: string): NameAddr | null {
  const s = text.trim();
  if (!s) return null;
  let i = 0;
  let displayName: string | undefined;
  if (s[0] === '"') {
    i = 1;
    while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
    if (i >= s.length) return null;
    displayName = unquote(s.slice(0, i + 1));
    i++;
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] !== '<') return null;
  }
  const lt = s.indexOf('<', i);
  let uri: string;
  let rest: string;
  if (lt >= 0) {
    if (displayName === undefined) {
      const name = s.slice(0, lt).trim();
      if (name) {
        // display-name = *(token LWS) / quoted-string: unquoted, only tokens (RFC 4475 3.1.2.15).
        if (!/^[A-Za-z0-9\-.!%*_+`'~]+(?:[ \t]+[A-Za-z0-9\-.!%*_+`'~]+)*$/.test(name)) return null;
        displayName = name;
      }
    }
    const gt = s.indexOf('>', lt);
    if (gt < 0) return null;
    // No LWS inside the brackets: addr-spec has none (RFC 4475 3.1.2.14).
    uri = s.slice(lt + 1, gt);
    rest = s.slice(gt + 1).trim();
    if (rest && !rest.startsWith(';')) return null;
  } else {
    if (displayName !== undefined) return null;
    const semi = s.indexOf(';');
    uri = (semi >= 0 ? s.slice(0, semi) : s).trim();
    rest = semi >= 0 ? s.slice(semi) : '';
    // sec. 20.10: a URI with a comma, question mark or semicolon MUST be in <> (RFC 4475 3.1.2.13).
    if (/[?,]/.test(uri)) return null;
  }
  if (!isValidUri(uri)) return null;
  const params = parseParams(rest);
  if (!params) return null;
  return { displayName, uri, params };
}

/** Serialises as `"Display" <uri>;params` (always with angle brackets, which is always legal). */
export function formatNameAddr(na: NameAddr): string {
  const dn = na.displayName !== undefined && na.displayName !== '' ? `${quote(na.displayName)} ` : '';
  return `${dn}<${na.uri}>${formatParams(na.params)}`;
}

/** The `tag` parameter of a From/To value, or undefined. */
export function tagOf(na: NameAddr): string | undefined {
  return na.params.get('tag') ?? undefined;
}
