import { formatParams, parseParams, type Params } from './params.ts';
import { parseHostPort } from './uri.ts';
import { TOKEN_RE } from './header-names.ts';

/** One Via value (RFC 3261 sec. 20.42). */
export interface Via {
  /** `SIP/2.0` */
  protocol: string;
  /** Upper-case transport: UDP, TCP, TLS, SCTP, WS, ... */
  transport: string;
  host: string;
  port?: number | undefined;
  /** branch, received, rport, maddr, ttl, ... (lower-case names). */
  params: Params;
}

/** Parses `SIP/2.0/UDP host:port;branch=...`; null when malformed. */
export function parseVia(text: string): Via | null {
  const m = /^\s*([^\s/]+)\s*\/\s*([^\s/]+)\s*\/\s*([^\s/;]+)\s+([^;\s]+)\s*(;.*)?$/s.exec(text);
  if (!m) return null;
  const [, name, version, transport, sentBy, paramText] = m as unknown as [string, string, string, string, string, string | undefined];
  if (!TOKEN_RE.test(name) || !TOKEN_RE.test(version) || !TOKEN_RE.test(transport)) return null;
  const hp = parseHostPort(sentBy);
  if (!hp) return null;
  const params = parseParams(paramText ?? '');
  if (!params) return null;
  const branch = params.get('branch');
  if (branch === null || branch === '') return null;
  return { protocol: `${name.toUpperCase()}/${version}`, transport: transport.toUpperCase(), host: hp.host, port: hp.port, params };
}

/** Serialises a Via value. */
export function formatVia(v: Via): string {
  return `${v.protocol}/${v.transport} ${v.host}${v.port !== undefined ? `:${v.port}` : ''}${formatParams(v.params)}`;
}

/** The branch id, or undefined (RFC 2543 peers may omit it). */
export function viaBranch(v: Via): string | undefined {
  return v.params.get('branch') ?? undefined;
}

/** `host:port` of the sent-by, with the transport's default port filled in (sec. 18.1.1, 19.1.2). */
export function viaSentBy(v: Via): string {
  const port = v.port ?? (v.transport === 'TLS' ? 5061 : 5060);
  return `${v.host.toLowerCase()}:${port}`;
}
