/**
 * The SIP ladder of every call in a scenario directory: every SIP message
 * with its time, link, source and destination element, first line, and the
 * key-exchange attributes its SDP carries (a=crypto, a=key-mgmt, a=3ge2ae).
 *
 * SIP in the clear (UDP, TCP) is read from the link captures; SIP inside TLS
 * is decrypted in process with the run's TLS key logs (`keys/*.tls-keys.log`,
 * TLS 1.3, @imslab/analysis tls13.ts), which also gives the KMS exchanges (HTTPS) of
 * MIKEY-TICKET. A TLS connection that cannot be read that way falls back on
 * what the analysis read with tshark (`analysis.json` `tls`): those messages
 * have no time and keep only their order on the link.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureFileReader, SipStreamReassembler, decodeFrame, looksLikeSip, looksLikeTls, type DecodedPacket } from '@imslab/capture';
import { TlsConnection, isClientHello, readKeyLogs, type Analysis, type KeyLog } from '@imslab/analysis';

export const LINKS = ['access-a', 'core', 'access-b'] as const;

/** An SDP attribute that takes part in media key exchange, as the ladder marks it. */
export interface KeyExchangeMark {
  /** `crypto` (SDES, RFC 4568), `key-mgmt` (MIKEY, RFC 4567), `3ge2ae` (TS 33.328 e2ae), `mikey-ticket` (an exchange with the KMS). */
  kind: 'crypto' | 'key-mgmt' | '3ge2ae' | 'mikey-ticket';
  /** What to show: the crypto-suite, `mikey`, the 3ge2ae value, the KMS path. */
  detail: string;
}

/** One message of a call's ladder. */
export interface LadderMessage {
  /** Capture time, µs since the epoch; null when only the order on the link is known (TLS read by the analysis). */
  timeUs: number | null;
  link: string;
  /** `ip:port` (or the bare IP when only that is known). */
  src: string;
  dst: string;
  /** Element names (the address when no element owns it). */
  from: string;
  to: string;
  /** Start line: `INVITE sip:bob@ims.test SIP/2.0`, `SIP/2.0 200 OK`, `POST /mikey/request HTTP/1.1`. */
  firstLine: string;
  /** Request method, or null for a response. */
  method: string | null;
  status: number | null;
  cseq: string | null;
  /** SIP Call-ID; empty for an HTTPS exchange with the KMS. */
  callId: string;
  transport: 'udp' | 'tcp' | 'tls' | 'https';
  /** How the message was read: from the capture in the clear, decrypted here, or from the analysis (tshark). */
  via: 'capture' | 'tls' | 'analysis';
  hasSdp: boolean;
  keyExchange: KeyExchangeMark[];
}

/** Every message of a scenario, per Call-ID, and what could not be read. */
export interface Ladders {
  /** Call-ID -> messages in time order (messages without a time last, in link order). */
  calls: Map<string, LadderMessage[]>;
  /** HTTPS exchanges with the KMS (MIKEY-TICKET), not tied to a call yet: see {@link ladderOf}. */
  kms: LadderMessage[];
  /** Per link: TLS connections that could not be read, and why. */
  notes: string[];
}

/** Names an address (without port); undefined when no element owns it. */
export type Namer = (ip: string) => string | undefined;

const CRLFCRLF = Buffer.from('\r\n\r\n');
/** Ports that carry no SIP: the elements' control API, rtpengine's ng. */
const NOT_SIGNALLING = new Set([8000, 2223]);

function hostOf(endpoint: string): string {
  const i = endpoint.lastIndexOf(':');
  return i > 0 && !endpoint.startsWith('[') && endpoint.indexOf(':') === i ? endpoint.slice(0, i) : endpoint;
}

function header(head: string, ...names: string[]): string | null {
  for (const n of names) {
    const m = new RegExp(`^${n}[ \\t]*:[ \\t]*(.*?)[ \\t]*$`, 'im').exec(head);
    if (m) return m[1]!;
  }
  return null;
}

/** The key-exchange attributes of an SDP body (session and media level), in order. */
export function keyExchangeIn(sdp: string): KeyExchangeMark[] {
  const out: KeyExchangeMark[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^a=(crypto|key-mgmt|3ge2ae):(.*)$/.exec(line.trim());
    if (!m) continue;
    out.push(markOf(m[1] as 'crypto' | 'key-mgmt' | '3ge2ae', m[2]!));
  }
  return out;
}

function markOf(kind: 'crypto' | 'key-mgmt' | '3ge2ae', value: string): KeyExchangeMark {
  const words = value.trim().split(/\s+/);
  // crypto: tag suite inline:...  (RFC 4568 sec. 9.1); key-mgmt: prtcl-id data (RFC 4567 sec. 3.1)
  const detail = kind === 'crypto' ? (words[1] ?? '') : kind === 'key-mgmt' ? (words[0] ?? '') : value.trim();
  return { kind, detail };
}

/** Reads one SIP message (bytes as captured) into a ladder entry; null when it is not SIP. */
export function sipMessage(bytes: Buffer, where: { timeUs: number | null; link: string; src: string; dst: string; transport: LadderMessage['transport']; via: LadderMessage['via'] }, name: Namer): LadderMessage | null {
  if (!looksLikeSip(bytes)) return null;
  const end = bytes.indexOf(CRLFCRLF);
  const head = bytes.toString('latin1', 0, end < 0 ? bytes.length : end);
  const body = end < 0 ? '' : bytes.toString('latin1', end + 4);
  const firstLine = head.slice(0, head.indexOf('\r\n') < 0 ? head.length : head.indexOf('\r\n'));
  const status = /^SIP\/2\.0 (\d{3})/.exec(firstLine);
  const type = header(head, 'Content-Type', 'c') ?? '';
  const hasSdp = body.length > 0 && /application\/sdp/i.test(type);
  return {
    ...where,
    from: name(hostOf(where.src)) ?? hostOf(where.src),
    to: name(hostOf(where.dst)) ?? hostOf(where.dst),
    firstLine,
    method: status ? null : firstLine.split(' ')[0]!,
    status: status ? Number(status[1]) : null,
    cseq: header(head, 'CSeq'),
    callId: header(head, 'Call-ID', 'i') ?? '',
    hasSdp,
    keyExchange: hasSdp ? keyExchangeIn(body) : [],
  };
}

/** HTTP/1.1 messages of one direction (request or status line and Content-Length framing), for the KMS exchanges. */
class HttpFramer {
  private buf: Buffer = Buffer.alloc(0);
  push(data: Buffer): string[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    const out: string[] = [];
    for (;;) {
      const end = this.buf.indexOf(CRLFCRLF);
      if (end < 0) break;
      const head = this.buf.toString('latin1', 0, end);
      const len = Number(header(head, 'Content-Length') ?? 0);
      if (this.buf.length < end + 4 + len) break;
      out.push(head.split('\r\n')[0]!);
      this.buf = this.buf.subarray(end + 4 + len);
    }
    return out;
  }
}

const HTTP_START = /^(?:[A-Z]+ \/\S* HTTP\/1\.[01]|HTTP\/1\.[01] \d{3}\b.*)$/;

interface PlainStream {
  kind: 'plain';
  dirs: Map<string, SipStreamReassembler>;
}
interface TlsStream {
  kind: 'tls';
  conn: TlsConnection;
}
interface SkippedStream {
  kind: 'skip';
}
type Stream = PlainStream | TlsStream | SkippedStream;

function connectionKey(a: string, b: string): string {
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}

/** Reads every SIP message of one link's capture (and the HTTPS of the KMS), in capture order. */
export async function readLinkSignalling(link: string, file: string, keyLog: KeyLog, name: Namer): Promise<{ messages: LadderMessage[]; kms: LadderMessage[]; failed: Array<{ client: string; server: string; why: string; sip: boolean }> }> {
  const messages: LadderMessage[] = [];
  const streams = new Map<string, Stream>();
  const reader = await CaptureFileReader.open(file);
  try {
    while (await reader.refill()) {
      for (let p = reader.next(); p !== null; p = reader.next()) {
        // Cheap reject: most packets are media (UDP, first payload octet 0x80); decodeFrame only for the rest is not worth a
        // hand-rolled parser at these capture sizes.
        const d = decodeFrame(p.linkType, p.data);
        if (!d || d.payload.length === 0) continue;
        if (d.protocol === 'udp') {
          const c = d.payload[0]!;
          if (c < 0x41 || c > 0x7a) continue;
          const m = sipMessage(d.payload, { timeUs: p.timestampUs, link, src: `${d.src}:${d.srcPort}`, dst: `${d.dst}:${d.dstPort}`, transport: 'udp', via: 'capture' }, name);
          if (m) messages.push(m);
        } else if (d.protocol === 'tcp' && d.tcp) {
          tcpSegment(link, d, p.timestampUs, streams, keyLog, name, messages);
        }
      }
    }
  } finally {
    await reader.close();
  }
  const kms: LadderMessage[] = [];
  const failed: Array<{ client: string; server: string; why: string; sip: boolean }> = [];
  for (const s of streams.values()) {
    if (s.kind !== 'tls') continue;
    const { conn } = s;
    const sipPort = /:(5061|5060)$/.test(conn.serverEnd);
    const error = conn.error;
    // Both directions' application data, read as SIP or HTTP by what it starts with.
    for (const [dir, src, dst] of [[conn.client, conn.clientEnd, conn.serverEnd], [conn.server, conn.serverEnd, conn.clientEnd]] as const) {
      if (dir.chunks.length === 0) continue;
      const first = dir.chunks[0]!.data;
      if (looksLikeSip(first) || (sipPort && !HTTP_START.test(first.toString('latin1', 0, Math.max(0, first.indexOf('\r\n')))))) {
        const r = new SipStreamReassembler();
        let seq = 0;
        for (const c of dir.chunks) {
          for (const b of r.push(seq, c.data)) {
            const m = sipMessage(b, { timeUs: c.timeUs, link, src, dst, transport: 'tls', via: 'tls' }, name);
            if (m) messages.push(m);
          }
          seq = (seq + c.data.length) >>> 0;
        }
      } else {
        const h = new HttpFramer();
        for (const c of dir.chunks) {
          for (const line of h.push(c.data)) {
            if (!HTTP_START.test(line)) continue;
            const status = /^HTTP\/1\.[01] (\d{3})/.exec(line);
            const path = /^[A-Z]+ (\S+)/.exec(line)?.[1] ?? '';
            kms.push({
              timeUs: c.timeUs, link, src, dst, from: name(hostOf(src)) ?? hostOf(src), to: name(hostOf(dst)) ?? hostOf(dst),
              firstLine: line, method: status ? null : line.split(' ')[0]!, status: status ? Number(status[1]) : null, cseq: null, callId: '',
              transport: 'https', via: 'tls', hasSdp: false,
              keyExchange: path.startsWith('/mikey/') ? [{ kind: 'mikey-ticket', detail: path.slice('/mikey/'.length) }] : [],
            });
          }
        }
      }
    }
    if (error) failed.push({ client: conn.clientEnd, server: conn.serverEnd, why: error, sip: sipPort });
  }
  // Pair each KMS response with the request before it on the same connection: it has no path of its own.
  for (const r of kms) {
    if (r.status === null) continue;
    const req = kms.filter((q) => q.status === null && q.src === r.dst && q.dst === r.src && (q.timeUs ?? 0) <= (r.timeUs ?? 0)).at(-1);
    if (req) r.keyExchange = req.keyExchange;
  }
  return { messages, kms: kms.filter((k) => k.keyExchange.length > 0), failed };
}

function tcpSegment(link: string, d: DecodedPacket, timeUs: number, streams: Map<string, Stream>, keyLog: KeyLog, name: Namer, out: LadderMessage[]): void {
  const src = `${d.src}:${d.srcPort}`;
  const dst = `${d.dst}:${d.dstPort}`;
  const key = connectionKey(src, dst);
  let s = streams.get(key);
  if (!s) {
    if (NOT_SIGNALLING.has(d.srcPort) || NOT_SIGNALLING.has(d.dstPort)) s = { kind: 'skip' };
    else if (isClientHello(d.payload)) s = { kind: 'tls', conn: new TlsConnection(keyLog, src, dst) };
    else if (looksLikeTls(d.payload)) s = { kind: 'skip' }; // TLS whose ClientHello the capture missed
    else s = { kind: 'plain', dirs: new Map() }; // the reassembler keeps only what frames as SIP
    streams.set(key, s);
  }
  if (s.kind === 'tls') s.conn.segment(src, d.tcp!.seq, d.payload, timeUs);
  else if (s.kind === 'plain') {
    let r = s.dirs.get(src);
    if (!r) s.dirs.set(src, (r = new SipStreamReassembler()));
    for (const b of r.push(d.tcp!.seq, d.payload)) {
      const m = sipMessage(b, { timeUs, link, src, dst, transport: 'tcp', via: 'capture' }, name);
      if (m) out.push(m);
    }
  }
}

/** The SIP the analysis read inside TLS with tshark (no time, no full first line): for connections not decrypted here. */
export function analysisTlsMessages(link: string, report: Analysis['tls'][string] | undefined, keep: (src: string, dst: string) => boolean, name: Namer): LadderMessage[] {
  const out: LadderMessage[] = [];
  for (const m of report?.messages ?? []) {
    if (!keep(m.src, m.dst)) continue;
    // Two SIP messages in one TLS record come out of tshark joined by its aggregator (U+001F): the SDP goes with the last.
    const parts = m.what.split('\u001f');
    parts.forEach((what, i) => {
      const status = /^\d{3}$/.test(what) ? Number(what) : null;
      const last = i === parts.length - 1;
      out.push({
        timeUs: null, link, src: m.src, dst: m.dst, from: name(m.src) ?? m.src, to: name(m.dst) ?? m.dst,
        firstLine: status !== null ? `SIP/2.0 ${status}` : what, method: status !== null ? null : what, status, cseq: null,
        callId: m.callId, transport: 'tls', via: 'analysis', hasSdp: last && m.mediaProtocols.length > 0,
        keyExchange: last ? m.mediaAttributes.flatMap((a) => {
          const x = /^(crypto|key-mgmt|3ge2ae):(.*)$/.exec(a);
          return x ? [markOf(x[1] as 'crypto' | 'key-mgmt' | '3ge2ae', x[2]!)] : [];
        }) : [],
      });
    });
  }
  return out;
}

/** Time order; messages without a time keep their place after the timed ones, link by link. */
function ordered(ms: LadderMessage[]): LadderMessage[] {
  const timed = ms.filter((m) => m.timeUs !== null).sort((a, b) => a.timeUs! - b.timeUs!);
  return [...timed, ...ms.filter((m) => m.timeUs === null)];
}

/**
 * Every SIP message of a scenario directory, per Call-ID. `name` names the
 * elements by address; `analysis` (the scenario's analysis.json) is the
 * fallback for SIP inside TLS that cannot be decrypted here.
 */
export async function extractLadders(dir: string, name: Namer, analysis?: Pick<Analysis, 'tls'> | null): Promise<Ladders> {
  const keyDir = join(dir, 'keys');
  const keyFiles = existsSync(keyDir) ? readdirSync(keyDir).filter((f) => f.endsWith('.tls-keys.log')).map((f) => join(keyDir, f)) : [];
  const keyLog = readKeyLogs(keyFiles);
  const notes: string[] = [];
  const perLink = await Promise.all(LINKS.map(async (link) => {
    const file = join(dir, `${link}.pcap`);
    if (!existsSync(file)) return { messages: [] as LadderMessage[], kms: [] as LadderMessage[] };
    try {
      const r = await readLinkSignalling(link, file, keyLog, name);
      const failedSip = r.failed.filter((f) => f.sip);
      for (const f of failedSip) notes.push(`${link}: SIP inside TLS ${f.client} -> ${f.server} not decrypted here (${f.why})${analysis?.tls?.[link] ? '; shown as the analysis read it with tshark, without times' : ''}`);
      if (failedSip.length > 0 && analysis?.tls?.[link]) {
        const pairs = new Set(failedSip.flatMap((f) => [`${hostOf(f.client)} ${hostOf(f.server)}`, `${hostOf(f.server)} ${hostOf(f.client)}`]));
        const decrypted = new Set(r.messages.filter((m) => m.via === 'tls').map((m) => `${hostOf(m.src)} ${hostOf(m.dst)}`));
        r.messages.push(...analysisTlsMessages(link, analysis.tls[link], (s, d) => pairs.has(`${s} ${d}`) && !decrypted.has(`${s} ${d}`), name));
      }
      return r;
    } catch (e) {
      notes.push(`${link}: capture not readable: ${(e as Error).message}`);
      return { messages: [] as LadderMessage[], kms: [] as LadderMessage[] };
    }
  }));
  const calls = new Map<string, LadderMessage[]>();
  const seen = new Set<string>();
  for (const r of perLink) {
    for (const m of r.messages) {
      if (!m.callId) continue;
      // A packet kept by two link captures (a /24 each) is one message.
      const id = `${m.timeUs} ${m.src} ${m.dst} ${m.firstLine} ${m.cseq}`;
      if (m.timeUs !== null && seen.has(id)) continue;
      seen.add(id);
      let list = calls.get(m.callId);
      if (!list) calls.set(m.callId, (list = []));
      list.push(m);
    }
  }
  for (const [id, list] of calls) calls.set(id, ordered(list));
  const kms = perLink.flatMap((r) => r.kms).sort((a, b) => (a.timeUs ?? 0) - (b.timeUs ?? 0));
  return { calls, kms, notes };
}

/**
 * One call's ladder: its SIP messages and the KMS exchanges that belong to
 * it. A ticket request (`/mikey/request`) belongs to the call whose next
 * INVITE its UE sends; a resolve (`/mikey/resolve*`) to the call whose last
 * INVITE before it involved its UE (sent or received); its response goes
 * with it.
 */
export function ladderOf(ladders: Ladders, callId: string): LadderMessage[] {
  const own = ladders.calls.get(callId) ?? [];
  const invites = [...ladders.calls.entries()].flatMap(([id, ms]) => ms.filter((m) => m.method === 'INVITE' && m.timeUs !== null).map((m) => ({ id, m })));
  const picked: LadderMessage[] = [];
  for (const x of ladders.kms) {
    if (x.timeUs === null) continue;
    const ue = x.status === null ? x.from : x.to;
    const path = x.keyExchange[0]?.detail ?? '';
    // Responses follow their request's call: find the request (same connection, latest before).
    const req = x.status === null ? x : ladders.kms.filter((q) => q.status === null && q.src === x.dst && q.dst === x.src && q.timeUs! <= x.timeUs!).at(-1);
    if (!req) continue;
    let owner: string | undefined;
    if (path === 'request') owner = invites.filter((i) => i.m.from === ue && i.m.timeUs! >= req.timeUs!).sort((a, b) => a.m.timeUs! - b.m.timeUs!)[0]?.id;
    else owner = invites.filter((i) => (i.m.from === ue || i.m.to === ue) && i.m.timeUs! <= req.timeUs!).sort((a, b) => b.m.timeUs! - a.m.timeUs!)[0]?.id;
    if (owner === callId) picked.push(x);
  }
  return picked.length ? ordered([...own, ...picked]) : own;
}
