import { createHash } from 'node:crypto';
import { SipParseError } from './errors.ts';
import { newCnonce } from './ids.ts';
import { quote, unquote } from './params.ts';

/**
 * HTTP Digest authentication for the UAC side (RFC 2617, RFC 7616 for
 * SHA-256, as profiled by RFC 3261 sec. 22.4): parse a WWW-Authenticate or
 * Proxy-Authenticate challenge, compute the Authorization value.
 */

/** A parsed Digest challenge. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string | undefined;
  /** Upper-case, e.g. `MD5`, `MD5-SESS`, `SHA-256`; MD5 when absent (RFC 2617 sec. 3.2.1). */
  algorithm: string;
  /** Offered qop values, e.g. `['auth', 'auth-int']`; empty for RFC 2069 style. */
  qop: string[];
  stale: boolean;
  /** Every parameter as received (values unquoted), lower-case names. */
  params: Map<string, string>;
}

/** The algorithms this implementation can compute. */
export const SUPPORTED_DIGEST_ALGORITHMS = ['MD5', 'MD5-SESS', 'SHA-256', 'SHA-256-SESS'] as const;

/**
 * Parses comma-separated `name=value` auth-params (values token or
 * quoted-string). Returns null on a syntax error.
 */
export function parseAuthParams(text: string): Map<string, string> | null {
  const out = new Map<string, string>();
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /[\s,]/.test(text[i]!)) i++;
    if (i >= n) break;
    const eq = text.indexOf('=', i);
    if (eq < 0) return null;
    const name = text.slice(i, eq).trim().toLowerCase();
    if (!/^[a-z0-9\-_]+$/.test(name)) return null;
    let j = eq + 1;
    while (j < n && (text[j] === ' ' || text[j] === '\t')) j++;
    let value: string;
    if (text[j] === '"') {
      let k = j + 1;
      while (k < n && text[k] !== '"') k += text[k] === '\\' ? 2 : 1;
      if (k >= n) return null;
      value = unquote(text.slice(j, k + 1));
      j = k + 1;
    } else {
      let k = j;
      while (k < n && text[k] !== ',') k++;
      value = text.slice(j, k).trim();
      j = k;
    }
    out.set(name, value);
    i = j;
  }
  return out;
}

/** Parses a `Digest ...` challenge value; an error value when it is not one or lacks realm/nonce. */
export function parseDigestChallenge(headerValue: string): { ok: true; challenge: DigestChallenge } | { ok: false; error: SipParseError } {
  const m = /^\s*(\S+)\s+(.*)$/s.exec(headerValue);
  if (!m || m[1]!.toLowerCase() !== 'digest') return { ok: false, error: new SipParseError(`not a Digest challenge: ${JSON.stringify(headerValue.slice(0, 40))}`) };
  const params = parseAuthParams(m[2]!);
  if (!params) return { ok: false, error: new SipParseError('malformed Digest challenge parameters') };
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined) return { ok: false, error: new SipParseError('Digest challenge lacks realm or nonce') };
  return {
    ok: true,
    challenge: {
      realm,
      nonce,
      opaque: params.get('opaque'),
      algorithm: (params.get('algorithm') ?? 'MD5').toUpperCase(),
      qop: (params.get('qop') ?? '').split(',').map((q) => q.trim().toLowerCase()).filter(Boolean),
      stale: (params.get('stale') ?? '').toLowerCase() === 'true',
      params,
    },
  };
}

function hashFn(algorithm: string): (s: string) => string {
  const base = algorithm.replace(/-SESS$/, '');
  const name = base === 'MD5' ? 'md5' : base === 'SHA-256' ? 'sha256' : null;
  if (!name) throw new RangeError(`unsupported digest algorithm ${algorithm}`);
  return (s) => createHash(name).update(s, 'utf8').digest('hex');
}

/** Inputs of the digest computation (RFC 2617 sec. 3.2.2). */
export interface DigestInput {
  algorithm?: string | undefined;
  username: string;
  realm: string;
  password: string;
  nonce: string;
  method: string;
  uri: string;
  /** `auth` or undefined (RFC 2069 compatibility); auth-int is not offered by us. */
  qop?: 'auth' | undefined;
  /** 8 hex digits, e.g. `00000001`. */
  nc?: string | undefined;
  cnonce?: string | undefined;
}

/**
 * The `response` value: KD(H(A1), nonce:nc:cnonce:qop:H(A2)) with qop, or
 * KD(H(A1), nonce:H(A2)) without (RFC 2617 sec. 3.2.2.1); A1 for -sess per
 * sec. 3.2.2.2. Throws RangeError for an algorithm not in SUPPORTED_DIGEST_ALGORITHMS.
 */
export function computeDigestResponse(d: DigestInput): string {
  const algorithm = (d.algorithm ?? 'MD5').toUpperCase();
  const H = hashFn(algorithm);
  let ha1 = H(`${d.username}:${d.realm}:${d.password}`);
  if (algorithm.endsWith('-SESS')) ha1 = H(`${ha1}:${d.nonce}:${d.cnonce ?? ''}`);
  const ha2 = H(`${d.method}:${d.uri}`);
  if (d.qop) return H(`${ha1}:${d.nonce}:${d.nc ?? '00000001'}:${d.cnonce ?? ''}:${d.qop}:${ha2}`);
  return H(`${ha1}:${d.nonce}:${ha2}`);
}

/** Credentials of the UAC. For IMS, `username` is the IMPI. */
export interface DigestCredentials {
  username: string;
  password: string;
}

/**
 * Builds the Authorization / Proxy-Authorization value answering a challenge.
 * Uses qop=auth when offered (RFC 3261 sec. 22.4 requires support), a fresh
 * cnonce and the given nonce count. Returns an error value for an algorithm
 * we cannot compute, so the caller reports it as an authentication failure.
 */
export function buildDigestAuthorization(
  challenge: DigestChallenge,
  creds: DigestCredentials,
  request: { method: string; uri: string },
  nonceCount = 1,
  cnonce: string = newCnonce(),
): { ok: true; value: string } | { ok: false; error: SipParseError } {
  if (!(SUPPORTED_DIGEST_ALGORITHMS as readonly string[]).includes(challenge.algorithm)) {
    return { ok: false, error: new SipParseError(`unsupported digest algorithm ${challenge.algorithm}`) };
  }
  const qop = challenge.qop.includes('auth') ? ('auth' as const) : undefined;
  if (!qop && challenge.qop.length > 0) return { ok: false, error: new SipParseError(`no supported qop in ${challenge.qop.join(',')}`) };
  const nc = nonceCount.toString(16).padStart(8, '0');
  const response = computeDigestResponse({
    algorithm: challenge.algorithm,
    username: creds.username,
    realm: challenge.realm,
    password: creds.password,
    nonce: challenge.nonce,
    method: request.method,
    uri: request.uri,
    qop,
    nc,
    cnonce,
  });
  const parts = [
    `username=${quote(creds.username)}`,
    `realm=${quote(challenge.realm)}`,
    `nonce=${quote(challenge.nonce)}`,
    `uri=${quote(request.uri)}`,
    `response=${quote(response)}`,
    `algorithm=${challenge.algorithm}`,
  ];
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${quote(cnonce)}`);
  return { ok: true, value: `Digest ${parts.join(', ')}` };
}
