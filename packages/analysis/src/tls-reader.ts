/**
 * The SIP inside the TLS 1.3 connections of one capture, decrypted in
 * process with the key logs (tls13.ts), as the analysis reports it
 * (TlsSipMessage: who sent what, its Call-ID and CSeq method, and the media
 * lines of its SDP). Connections are found by content: a TCP connection
 * whose first payload is a ClientHello, on any port; every direction but
 * HTTPS (the KMS) and MSRP is framed as SIP (RFC 3261 sec. 7, 18.3), and
 * what does not frame is left out. Messages come in capture order.
 *
 * What cannot be read is listed with the reason, never guessed; the caller
 * decides whether tshark should try instead (tls-signalling.ts).
 */
import { CaptureFileReader, SipStreamReassembler, TCP_FLAGS, decodeFrame, looksLikeSip, looksLikeTls } from '@imslab/capture';
import { sdpEndpoint } from './sip-sdp.ts';
import { TlsConnection, type KeyLog, type TlsChunk } from './tls13.ts';

/** One SIP message that crossed a link inside TLS, read with the endpoints' TLS key logs. */
export interface TlsSipMessage {
  src: string;
  dst: string;
  /** Method of a request, or the status code of a response. */
  what: string;
  callId: string;
  mediaProtocols: string[];
  /** `a=` media attribute values, e.g. `crypto:1 AES_CM_128_HMAC_SHA1_80 inline:...`, `3ge2ae:requested`. */
  mediaAttributes: string[];
  /** Media endpoints the SDP announces (`ip:port`), in m= line order. */
  mediaEndpoints: string[];
  /** TCP ports of the TLS connection, the CSeq method (`INVITE` for a 200 to an INVITE), the capture interface and time (µs). */
  srcPort?: number;
  dstPort?: number;
  cseqMethod?: string;
  interfaceId?: number;
  timeUs?: number;
}

/** A TLS connection of the capture whose SIP could not be read, and why. */
export interface UnreadTls {
  client: string;
  server: string;
  why: string;
}

/** Reasons tshark would meet too: nothing in the capture or the key logs opens the connection. */
const NO_KEYS_FOR_CONNECTION: readonly string[] = [
  'no ClientHello in the capture', 'no ServerHello in the capture', 'no key log line for this connection', 'no traffic secret logged',
];

/**
 * Whether a connection could not be read for want of keys (no hello captured,
 * no secrets logged for it), which tshark could not help with; any other
 * reason (TLS 1.2, a cipher suite, a segment missing or reordered) is worth
 * a tshark run.
 */
export function noKeysFor(why: string): boolean {
  return NO_KEYS_FOR_CONNECTION.includes(why) || /^no [A-Z_0-9]+ logged$/.test(why);
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
/** A stream that is not SIP from its first line: HTTP/1.x (RFC 9112 sec. 3, 4) or MSRP (RFC 4975 sec. 7.1). */
const NOT_SIP_START = /^(?:[A-Z]+ \S+ HTTP\/1\.[01]\r?\n|HTTP\/1\.[01] \d{3}[ \r]|MSRP \S+ )/;

function header(head: string, ...names: string[]): string | undefined {
  for (const n of names) {
    const m = new RegExp(`^${n}[ \\t]*:[ \\t]*(.*?)[ \\t]*$`, 'im').exec(head);
    if (m) return m[1]!;
  }
  return undefined;
}

/** Whether a TCP payload starts with a TLS ClientHello (record type 22, handshake type 1). */
export function isClientHello(p: Buffer): boolean {
  return looksLikeTls(p) && p[0] === 22 && p.length > 5 && p[5] === 1;
}

/** `ip:port` -> [ip, port]; IPv6 written bare, as the decoder gives it. */
function split(endpoint: string): [string, number] {
  const i = endpoint.lastIndexOf(':');
  return [endpoint.slice(0, i), Number(endpoint.slice(i + 1))];
}

/**
 * The SDP media lines as tshark's fields give them (sdp.media.proto,
 * sdp.media_attr, and each m= line's endpoint from its c= or the
 * session's). Read line by line, as an observer: a malformed line is
 * skipped, not fatal.
 */
function sdpMedia(body: string): Pick<TlsSipMessage, 'mediaProtocols' | 'mediaAttributes' | 'mediaEndpoints'> {
  const out = { mediaProtocols: [] as string[], mediaAttributes: [] as string[], mediaEndpoints: [] as string[] };
  let session: string | undefined;
  const media: Array<{ port: number; address?: string }> = [];
  for (const raw of body.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (line.startsWith('m=')) {
      const [, port = '', proto = ''] = line.slice(2).split(' ');
      out.mediaProtocols.push(proto);
      media.push({ port: Number(port.split('/')[0]) });
    } else if (line.startsWith('c=')) {
      // c=IN IP4 <address>[/ttl[/count]] (RFC 4566 sec. 5.7)
      const address = line.slice(2).split(' ')[2]?.split('/')[0];
      if (media.length === 0) session = address;
      else media[media.length - 1]!.address = address;
    } else if (line.startsWith('a=') && media.length > 0) out.mediaAttributes.push(line.slice(2));
  }
  for (const m of media) {
    const address = m.address ?? session;
    if (address && Number.isInteger(m.port)) out.mediaEndpoints.push(sdpEndpoint(address, m.port));
  }
  return out;
}

/** One SIP message read from a direction's application data. */
function sipFields(bytes: Buffer, src: string, dst: string, at: TlsChunk, pcapng: boolean): TlsSipMessage | null {
  if (!looksLikeSip(bytes)) return null;
  const end = bytes.indexOf(CRLFCRLF);
  const head = bytes.toString('latin1', 0, end < 0 ? bytes.length : end);
  const first = head.slice(0, head.indexOf('\r\n') < 0 ? head.length : head.indexOf('\r\n'));
  const status = /^SIP\/2\.0 (\d{3})/.exec(first);
  const [srcHost, srcPort] = split(src);
  const [dstHost, dstPort] = split(dst);
  const type = header(head, 'Content-Type', 'c') ?? '';
  const body = end >= 0 && /application\/sdp/i.test(type) ? bytes.toString('latin1', end + 4) : '';
  return {
    src: srcHost, dst: dstHost, what: status ? status[1]! : first.split(' ')[0]!,
    callId: header(head, 'Call-ID', 'i') ?? '',
    ...sdpMedia(body),
    srcPort, dstPort, cseqMethod: header(head, 'CSeq')?.split(/\s+/)[1], interfaceId: pcapng ? at.interfaceId : undefined, timeUs: at.timeUs,
  };
}

/** A TCP connection of a capture that carries TLS; `conn` is null when the capture missed its ClientHello. */
interface CapturedTls {
  conn: TlsConnection | null;
  /** `ip:port` of each end (IPv6 bare), the client first when known. */
  ends: [string, string];
  /** Without a ClientHello first: the first payload was a TLS record header. */
  tls: boolean;
  /** Without a ClientHello first: a segment started with an application_data record header. */
  protectedSeen: boolean;
  /** A ClientHello came after other payload of the connection (segments out of order in the capture). */
  lateHello: boolean;
  /** Its place in the capture (first payload), to list connections in capture order. */
  order: number;
}

/** Why a connection whose ClientHello came late is not read here (tshark puts segments back in order). */
export const LATE_HELLO = 'the ClientHello came after other data of the connection (segments out of order)';

/** Every TCP connection of `file` that carries TLS, fed to a TlsConnection with `keyLog`. Throws what reading the capture throws. */
async function readTlsConnections(file: string, keyLog: KeyLog): Promise<{ found: CapturedTls[]; pcapng: boolean }> {
  const conns = new Map<string, CapturedTls>();
  /** Connections whose ports a new connection (a SYN) took over, in capture order. */
  const ended: CapturedTls[] = [];
  let order = 0;
  const reader = await CaptureFileReader.open(file);
  // Classic pcap has no interfaces: no interfaceId, as tshark gives none.
  let pcapng = false;
  try {
    while (await reader.refill()) {
      for (let p = reader.next(); p !== null; p = reader.next()) {
        pcapng ||= reader.container === 'pcapng';
        const d = decodeFrame(p.linkType, p.data);
        if (!d || d.protocol !== 'tcp' || !d.tcp) continue;
        const src = `${d.src}:${d.srcPort}`;
        const dst = `${d.dst}:${d.dstPort}`;
        const key = src < dst ? `${src} ${dst}` : `${dst} ${src}`;
        // A SYN opens a new connection on these ports: the old one (if any) is over (RFC 9293 sec. 3.5).
        if ((d.tcp.flags & (TCP_FLAGS.SYN | TCP_FLAGS.ACK)) === TCP_FLAGS.SYN && conns.has(key)) {
          ended.push(conns.get(key)!);
          conns.delete(key);
        }
        if (d.payload.length === 0) continue;
        let c = conns.get(key);
        if (c === undefined) {
          // A connection is TLS from its first payload on; one whose ClientHello the capture missed cannot be opened.
          const hello = isClientHello(d.payload);
          c = { conn: hello ? new TlsConnection(keyLog, src, dst) : null, ends: [src, dst], tls: !hello && looksLikeTls(d.payload), protectedSeen: false, lateHello: false, order: order++ };
          conns.set(key, c);
        }
        if (c.conn) c.conn.segment(src, d.tcp.seq, d.payload, p.timestampUs, p.interfaceId);
        else if (isClientHello(d.payload)) c.lateHello = true;
        else if (d.payload[0] === 23 && looksLikeTls(d.payload)) c.protectedSeen = true;
      }
    }
  } finally {
    await reader.close();
  }
  const all = [...ended, ...conns.values()].sort((a, b) => a.order - b.order);
  return { found: all.filter((c) => c.conn !== null || c.tls || c.lateHello), pcapng };
}

/** Reads every TLS connection of `file` with `keyLog`; the SIP found and the connections that could not be read. Throws what reading the capture throws. */
export async function readTlsSipInProcess(file: string, keyLog: KeyLog): Promise<{ messages: TlsSipMessage[]; unread: UnreadTls[] }> {
  const { found: conns, pcapng } = await readTlsConnections(file, keyLog);
  const found: Array<{ m: TlsSipMessage; order: number }> = [];
  const unread: UnreadTls[] = [];
  for (const { conn: c, ends, lateHello } of conns) {
    if (lateHello) unread.push({ client: ends[0], server: ends[1], why: LATE_HELLO });
    if (!c) continue;
    for (const [dir, src, dst] of [[c.client, c.clientEnd, c.serverEnd], [c.server, c.serverEnd, c.clientEnd]] as const) {
      // HTTPS (the KMS) and MSRP are not SIP; anything else goes to the SIP framer, which skips keep-alive CRLFs (RFC 5626 sec. 3.5.1) and what is not SIP.
      if (dir.chunks.length === 0 || NOT_SIP_START.test(dir.chunks[0]!.data.toString('latin1', 0, 512))) continue;
      const r = new SipStreamReassembler();
      let seq = 0;
      for (const chunk of dir.chunks) {
        for (const b of r.push(seq, chunk.data)) {
          const m = sipFields(b, src, dst, chunk, pcapng);
          if (m) found.push({ m, order: found.length });
        }
        seq = (seq + chunk.data.length) >>> 0;
      }
    }
    if (c.error) unread.push({ client: c.clientEnd, server: c.serverEnd, why: c.error });
  }
  found.sort((a, b) => a.m.timeUs! - b.m.timeUs! || a.order - b.order);
  return { messages: found.map((f) => f.m), unread };
}

/** One TLS connection's decrypted application data, each direction whole (ends as `ip:port`, IPv6 in brackets). */
export interface DecryptedTlsStream {
  client: string;
  server: string;
  toServer: Buffer;
  toClient: Buffer;
  /** It carried application_data records (TLS 1.3's encrypted handshake among them), as tshark's content type 23. */
  appData: boolean;
}

const bracketed = (ep: string): string => {
  const [host, port] = split(ep);
  return host.includes(':') ? `[${host}]:${port}` : ep;
};

/**
 * Every TLS connection of `file` followed in process, in the order the
 * capture first shows them: the application data of each direction (empty
 * when nothing opens it), and the connections that could not be read.
 * Throws what reading the capture throws.
 */
export async function followTlsInProcess(file: string, keyLog: KeyLog): Promise<{ streams: DecryptedTlsStream[]; unread: UnreadTls[] }> {
  const { found } = await readTlsConnections(file, keyLog);
  const streams: DecryptedTlsStream[] = [];
  const unread: UnreadTls[] = [];
  for (const { conn: c, ends, protectedSeen, lateHello } of found) {
    const [client, server] = ends.map(bracketed) as [string, string];
    if (lateHello) unread.push({ client: ends[0], server: ends[1], why: LATE_HELLO });
    if (!c) {
      // TLS without its hello in the capture: records, nothing to open them with.
      streams.push({ client, server, toServer: Buffer.alloc(0), toClient: Buffer.alloc(0), appData: protectedSeen });
      continue;
    }
    const whole = (chunks: readonly TlsChunk[]) => Buffer.concat(chunks.map((x) => x.data));
    streams.push({ client, server, toServer: whole(c.client.chunks), toClient: whole(c.server.chunks), appData: c.client.sawProtectedRecord || c.server.sawProtectedRecord });
    if (c.error) unread.push({ client: c.clientEnd, server: c.serverEnd, why: c.error });
  }
  return { streams, unread };
}
