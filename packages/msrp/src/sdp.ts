/**
 * SDP for MSRP media (RFC 4975 sec. 8) and RFC 5547 file transfer, through
 * sdp-transform (the project's SDP layer, see packages/sdp):
 *
 *   m=message <port> TCP/MSRP *        (TCP/TLS/MSRP for msrps, sec. 8.1)
 *   a=accept-types:<types>             (sec. 8.2, mandatory)
 *   a=accept-wrapped-types:<types>     (sec. 8.2, types allowed only inside CPIM)
 *   a=path:<MSRP-URI list>             (sec. 8.2, mandatory; relays first, RFC 4976 sec. 6)
 *   a=setup:active|passive|actpass     (RFC 6135: who opens the connection)
 *   a=file-selector, a=file-transfer-id, a=file-disposition   (RFC 5547 sec. 6)
 */
import sdpTransform from 'sdp-transform';
import { MsrpParseError } from './errors.ts';
import { formatMsrpUriList, parseMsrpUriList, type MsrpUri } from './uri.ts';

/** RFC 5547 sec. 6: the file the offer is about. Hash as hex octets with colons (sec. 6, "hash:sha-1:"). */
export interface FileSelector {
  name?: string | undefined;
  type?: string | undefined;
  size?: number | undefined;
  sha1?: string | undefined;
}

export type MsrpSetup = 'active' | 'passive' | 'actpass';
export type MsrpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface MsrpMedia {
  port: number;
  /** TCP/TLS/MSRP when true (msrps URIs), TCP/MSRP otherwise. */
  tls: boolean;
  path: MsrpUri[];
  acceptTypes: string[];
  acceptWrappedTypes?: string[] | undefined;
  setup?: MsrpSetup | undefined;
  direction?: MsrpDirection | undefined;
  fileSelector?: FileSelector | undefined;
  fileTransferId?: string | undefined;
  fileDisposition?: string | undefined;
}

export interface MsrpSdpSpec {
  /** Connection and origin address (IPv4). */
  address: string;
  sessionId?: number;
  username?: string;
  media: MsrpMedia[];
}

/** The SHA-1 of a file as RFC 5547 writes it: upper-case hex octets joined by ":". */
export function sha1Colon(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}

export function formatFileSelector(f: FileSelector): string {
  const parts: string[] = [];
  if (f.name !== undefined) {
    if (/["\r\n]/.test(f.name)) throw new MsrpParseError('bad-value', 'file name cannot hold a double quote or line break (RFC 5547 sec. 6: quoted-string)', false);
    parts.push(`name:"${f.name}"`);
  }
  if (f.type !== undefined) parts.push(`type:${f.type}`);
  if (f.size !== undefined) parts.push(`size:${f.size}`);
  if (f.sha1 !== undefined) parts.push(`hash:sha-1:${f.sha1}`);
  return parts.join(' ');
}

export function parseFileSelector(text: string): { ok: true; value: FileSelector } | { ok: false; error: MsrpParseError } {
  const out: FileSelector = {};
  // selector = name:"..." / type:... / size:N / hash:sha-1:XX:..., space-separated (RFC 5547 sec. 6)
  const re = /\s*(?:name:"([^"]*)"|type:(\S+)|size:(\d+)|hash:([A-Za-z0-9-]+):((?:[0-9A-Fa-f]{2}:)*[0-9A-Fa-f]{2}))/y;
  let i = 0;
  const s = text.trim();
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) return { ok: false, error: new MsrpParseError('bad-value', `bad file-selector at ${JSON.stringify(s.slice(i, i + 30))}`, false) };
    if (m[1] !== undefined) out.name = m[1];
    else if (m[2] !== undefined) out.type = m[2];
    else if (m[3] !== undefined) out.size = Number(m[3]);
    else if (m[4]!.toLowerCase() === 'sha-1') out.sha1 = m[5]!.toUpperCase();
    i = re.lastIndex;
  }
  return { ok: true, value: out };
}

type SdpMedia = sdpTransform.MediaDescription & { invalid?: Array<{ value: string }>; setup?: string; direction?: MsrpDirection };

/** Writes a session description with one m=message section per entry (RFC 4975 sec. 8). */
export function buildMsrpSdp(spec: MsrpSdpSpec): string {
  const id = spec.sessionId ?? Math.floor(Date.now() / 1000);
  const media: SdpMedia[] = spec.media.map((m) => {
    const extra: string[] = [`accept-types:${m.acceptTypes.join(' ')}`];
    if (m.acceptWrappedTypes?.length) extra.push(`accept-wrapped-types:${m.acceptWrappedTypes.join(' ')}`);
    extra.push(`path:${formatMsrpUriList(m.path)}`);
    if (m.fileSelector) extra.push(`file-selector:${formatFileSelector(m.fileSelector)}`);
    if (m.fileTransferId !== undefined) extra.push(`file-transfer-id:${m.fileTransferId}`);
    if (m.fileDisposition !== undefined) extra.push(`file-disposition:${m.fileDisposition}`);
    const out: SdpMedia = {
      type: 'message',
      port: m.port,
      protocol: m.tls ? 'TCP/TLS/MSRP' : 'TCP/MSRP',
      payloads: '*',
      rtp: [],
      fmtp: [],
      invalid: extra.map((value) => ({ value })),
    };
    if (m.setup) out.setup = m.setup;
    if (m.direction) out.direction = m.direction;
    return out;
  });
  return sdpTransform.write({
    version: 0,
    origin: { username: spec.username ?? '-', sessionId: id, sessionVersion: 1, netType: 'IN', ipVer: 4, address: spec.address },
    name: '-',
    timing: { start: 0, stop: 0 },
    connection: { version: 4, ip: spec.address },
    media,
  } as sdpTransform.SessionDescription);
}

export type MsrpSdpResult = { ok: true; address: string | undefined; media: MsrpMedia[] } | { ok: false; error: MsrpParseError };

/** Reads the m=message sections of a description; other media are ignored. */
export function parseMsrpSdp(text: string): MsrpSdpResult {
  let session: sdpTransform.SessionDescription;
  try {
    session = sdpTransform.parse(text);
  } catch (e) {
    return { ok: false, error: new MsrpParseError('bad-value', `SDP does not parse: ${(e as Error).message}`, false) };
  }
  const media: MsrpMedia[] = [];
  for (const m of (session.media ?? []) as SdpMedia[]) {
    if (m.type !== 'message') continue;
    const proto = String(m.protocol).toUpperCase();
    if (proto !== 'TCP/MSRP' && proto !== 'TCP/TLS/MSRP') continue;
    const attrs = new Map<string, string>();
    for (const a of m.invalid ?? []) {
      const c = a.value.indexOf(':');
      if (c > 0) attrs.set(a.value.slice(0, c).toLowerCase(), a.value.slice(c + 1).trim());
    }
    const pathText = attrs.get('path');
    if (pathText === undefined) return { ok: false, error: new MsrpParseError('missing-header', 'm=message without a=path (RFC 4975 sec. 8.2)', false) };
    const path = parseMsrpUriList(pathText);
    if (!path.ok) return { ok: false, error: path.error };
    const accept = attrs.get('accept-types');
    if (accept === undefined) return { ok: false, error: new MsrpParseError('missing-header', 'm=message without a=accept-types (RFC 4975 sec. 8.2)', false) };
    let fileSelector: FileSelector | undefined;
    const fs = attrs.get('file-selector');
    if (fs !== undefined) {
      const r = parseFileSelector(fs);
      if (!r.ok) return { ok: false, error: r.error };
      fileSelector = r.value;
    }
    const wrapped = attrs.get('accept-wrapped-types');
    media.push({
      port: m.port,
      tls: proto === 'TCP/TLS/MSRP',
      path: path.uris,
      acceptTypes: accept.split(/\s+/).filter(Boolean),
      acceptWrappedTypes: wrapped === undefined ? undefined : wrapped.split(/\s+/).filter(Boolean),
      setup: m.setup as MsrpSetup | undefined,
      direction: m.direction,
      fileSelector,
      fileTransferId: attrs.get('file-transfer-id'),
      fileDisposition: attrs.get('file-disposition'),
    });
  }
  return { ok: true, address: session.connection?.ip, media };
}

/**
 * Does a media type match an accept-types entry (RFC 4975 sec. 8.2: "*"
 * and "type/*" wildcards; parameters ignored)?
 */
export function acceptsType(acceptTypes: readonly string[], contentType: string): boolean {
  const [type] = contentType.toLowerCase().split(';');
  const t = type!.trim();
  return acceptTypes.some((a) => {
    const x = a.toLowerCase();
    return x === '*' || x === t || (x.endsWith('/*') && t.startsWith(x.slice(0, -1)));
  });
}
