/**
 * Message protection (SIP MESSAGE, RFC 3428; MSRP SEND, RFC 4975) proven
 * from the per-link captures: where each message's marker is readable, and
 * what CMS carried it where it is not.
 *
 * Per link, once: every UDP payload and every TCP direction (put back in
 * order; IP fragments reassembled first) is searched for the markers in its
 * raw bytes; SIP MESSAGE and MSRP SEND bodies (MSRP chunks joined by
 * Message-ID and Byte-Range) are searched for CMS (cms-sniff.ts). The TCP
 * streams that are TLS are then opened with tshark and the TLS key logs
 * (`-z follow,tls,raw`), and the decrypted bytes searched the same way, with
 * the TLS endpoints named; analyseMessages does that for all links with one
 * pair of tshark runs over their captures merged (link-merge.ts). Stores and logs (a file or a directory per
 * element) are searched for the markers. message-verdict.ts judges each
 * message.
 *
 * CMS is tied to a message by the Call-ID or MSRP Message-ID the caller
 * gives (or that carried the marker somewhere in the clear), by being the same
 * bytes as CMS already tied to it (a server forwarding it), or by its content
 * once decrypted with a user's credential, when credentials are given.
 *
 * Never throws for bad input: an unreadable capture, a tshark failure, CMS
 * that does not parse become `problems` or a sighting's `error`.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { CaptureFileReader, decodeFrame, flowKeyString, LINKTYPE, looksLikeMsrp, looksLikeSip } from '@imslab/capture';
import type { CmsCredential } from '@imslab/cms';
import { MARKER_LENGTH, MARKER_PREFIX } from '@imslab/probe';
import { base64Runs, certificateKeys, findCmsLoaded as findCms, loadCmsReader, type CertificateKey, type SniffedCms } from './cms-sniff.ts';
import { IpReassembler } from './ip-fragments.ts';
import { concatLinkCaptures, sameDecodeAs, tlsDecodePorts, tsharkGroups } from './link-merge.ts';
import { parseKeyLog, type KeyLog } from './tls13.ts';
import { followTlsInProcess, noKeysFor } from './tls-reader.ts';
import { judgeMessage, type CmsSighting, type FlowEnds, type MarkerSighting, type MessageCarrier, type MessageReport, type StoreSighting, type UnopenedTls } from './message-verdict.ts';
import { TcpSignalling } from './tcp-streams.ts';
import type { AddressOwner } from './verdict.ts';

const run = promisify(execFile);

/** One message to judge. */
export interface MessageSpec {
  /** The unique marker its plaintext carries (@imslab/probe markerFor: `IMSLAB` and ten hex digits). */
  marker: string;
  /** A name for reports (the scenario's message alias). */
  alias?: string;
  /** Call-IDs of the SIP MESSAGE requests that carried it (each hop keeps the Call-ID; an exploder's copies have their own). */
  callIds?: string[];
  /** MSRP Message-IDs of the SENDs that carried it. */
  msrpMessageIds?: string[];
  /** User identities (e.g. `sip:bob@ims.example`) that must be recipients of its CMS for e2e. */
  recipients?: string[];
  /** Links the message must be seen on as CMS for e2e (default: the links it was seen on). */
  links?: string[];
}

/** A store or log of one element: a directory (scanned through) or one file (e.g. `logs/<element>.log`). */
export interface MessageStore {
  element: string;
  /** `ue` for a user's device: its own messages in it are no finding. */
  kind?: string;
  path: string;
}

export interface MessageAnalysisInput {
  /** link name -> capture file (pcap or pcapng). */
  captures: Record<string, string>;
  /** TLS key logs (SSLKEYLOGFILE format) to open the TLS on the links with tshark. */
  tlsKeyLogs?: string[];
  /** Names the elements from addresses (as the media verdicts do). */
  owner: AddressOwner;
  messages: MessageSpec[];
  /** The users' certificates (PEM text, several per text allowed, or DER): CMS recipients must be among them for e2e. */
  userCertificates?: Array<string | Uint8Array>;
  /** Users' credentials, optional: CMS that opens with one is tied to the message whose marker is inside. */
  userCredentials?: CmsCredential[];
  /** Element stores and logs, scanned for the markers. */
  stores?: MessageStore[];
  /** Store files are named relative to this (default: as found). */
  storeBase?: string;
}

/** What one link's capture showed, for every message at once. */
export interface LinkMessageScan {
  link: string;
  file: string;
  packets: number;
  markers: MarkerSighting[];
  cms: CmsSighting[];
  /** TCP flows carrying TLS records. */
  tlsFlows: string[];
  /** TLS streams opened with the key logs (`tcp client > server`). */
  tlsOpened: string[];
  unopenedTls: UnopenedTls[];
  /** Marker -> Call-IDs and MSRP Message-IDs of the messages it was read in (in the clear or in TLS). */
  idsByMarker: Record<string, { callIds: string[]; msrpMessageIds: string[] }>;
  error?: string;
}

export interface MessageAnalysis {
  messages: MessageReport[];
  links: LinkMessageScan[];
  problems: string[];
}

const MARKER_RE = /^IMSLAB[0-9a-f]{10}$/;
const NO_KEY_LOG = 'no TLS key log given';
const NO_SECRETS = 'the key logs hold no secrets for it';
const PREFIX = Buffer.from(MARKER_PREFIX, 'ascii');
const CRLFCRLF = Buffer.from('\r\n\r\n');
/** A chunked MSRP message is joined up to this size (the CMS limit of @imslab/cms), 32 at a time per link. */
const MAX_MSRP_MESSAGE = 1 << 20;
const MAX_MSRP_PENDING = 32;
/** Out-of-order octets held per TCP direction for the raw marker search. */
const MAX_RAW_PENDING = 1 << 20;

/** The markers of `wanted` in `data`. */
function markersIn(data: Buffer, wanted: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  for (let at = data.indexOf(PREFIX); at >= 0 && at + MARKER_LENGTH <= data.length; at = data.indexOf(PREFIX, at + 1)) {
    const m = data.toString('latin1', at, at + MARKER_LENGTH);
    if (wanted.has(m)) out.add(m);
  }
  return [...out];
}

interface ParsedHead {
  startLine: string;
  headers: string;
  body: Buffer;
}

function splitMessage(m: Buffer): ParsedHead | null {
  const end = m.indexOf(CRLFCRLF);
  if (end < 0) return null;
  const head = m.toString('latin1', 0, end);
  const eol = head.indexOf('\r\n');
  return { startLine: eol < 0 ? head : head.slice(0, eol), headers: eol < 0 ? '' : head.slice(eol + 2), body: m.subarray(end + 4) };
}

function header(headers: string, ...names: string[]): string | undefined {
  for (const line of headers.split('\r\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    if (names.includes(line.slice(0, i).trim().toLowerCase())) return line.slice(i + 1).trim();
  }
  return undefined;
}

/** `ip:port` as flows name endpoints (IPv6 in brackets). */
const endpoint = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
const addressOf = (ep: string): string => (ep.startsWith('[') ? ep.slice(1, ep.indexOf(']')) : ep.slice(0, ep.lastIndexOf(':')));

/** Parses `tcp a:p > b:q` into its two endpoints. */
function flowEnds(flow: string): [string, string] {
  const body = flow.replace(/^(tcp|udp) /, '');
  const [a = '', b = ''] = body.split(' > ');
  return [a, b];
}

/** Per-link scanner: raw markers, SIP MESSAGE and MSRP SEND bodies, TLS flows. */
class LinkScanner {
  readonly markerHits = new Map<string, MarkerSighting>();
  readonly cmsHits = new Map<string, CmsSighting>();
  readonly tlsFlows = new Set<string>();
  readonly ids = new Map<string, { callIds: Set<string>; msrpMessageIds: Set<string> }>();
  /** Per TCP direction: the next expected sequence number and the last octets (a marker cut between segments). */
  private readonly tails = new Map<string, { next: number; tail: Buffer; pending: Map<number, Buffer>; pendingBytes: number }>();
  private readonly msrpChunks = new Map<string, { total: number; chunks: Map<number, Buffer>; bytes: number; flow: string; insideTls: boolean }>();

  constructor(
    private readonly link: string,
    private readonly wanted: ReadonlySet<string>,
    private readonly name: (address: string) => string,
    private readonly users: CertificateKey[],
  ) {}

  private ends(flow: string): FlowEnds {
    const [src, dst] = flowEnds(flow);
    return { link: this.link, flow, src, dst, srcElement: this.name(addressOf(src)), dstElement: this.name(addressOf(dst)) };
  }

  marker(flow: string, data: Buffer, inside: 'raw' | 'tls', carrier: MessageCarrier): string[] {
    const found = markersIn(data, this.wanted);
    for (const m of found) {
      const key = `${m}|${inside}|${flow}`;
      const had = this.markerHits.get(key);
      if (had) {
        had.count++;
        if (carrier === 'sip' || carrier === 'msrp') had.carrier = carrier;
      } else {
        this.markerHits.set(key, { ...this.ends(flow), marker: m, inside, carrier, count: 1 });
      }
    }
    return found;
  }

  private learn(markers: string[], callId: string | undefined, msrpId: string | undefined): void {
    for (const m of markers) {
      let e = this.ids.get(m);
      if (!e) this.ids.set(m, (e = { callIds: new Set(), msrpMessageIds: new Set() }));
      if (callId) e.callIds.add(callId);
      if (msrpId) e.msrpMessageIds.add(msrpId);
    }
  }

  private addCms(flow: string, carrier: 'sip' | 'msrp', insideTls: boolean, found: SniffedCms[], ids: { callId?: string; msrpMessageId?: string }): void {
    for (const c of found) {
      const key = `${flow}|${insideTls}|${c.sha256}`;
      if (this.cmsHits.has(key)) continue;
      const identities = new Set<string>();
      let allUsers = c.recipients.length > 0;
      for (const r of c.recipients) {
        const u = this.users.find((k) => k.names.includes(r));
        if (u) for (const id of u.identities) identities.add(id);
        else allUsers = false;
      }
      this.cmsHits.set(key, {
        ...this.ends(flow), carrier, insideTls, ...ids, kind: c.kind, sha256: c.sha256, bytes: c.der.length,
        recipients: c.recipients, recipientIdentities: [...identities].sort(), allRecipientsUsers: allUsers, ...(c.error ? { error: c.error } : {}),
      });
      this.cmsDer.set(c.sha256, c.der);
    }
  }

  /**
   * Markers in a body's base64 text (Content-Transfer-Encoding base64, a
   * signed-only S/MIME body in base64): encoded, not protected, so read as
   * found in the clear.
   */
  private encoded(flow: string, body: Buffer, insideTls: boolean, carrier: 'sip' | 'msrp'): string[] {
    return base64Runs(body).flatMap((d) => this.marker(flow, d, insideTls ? 'tls' : 'raw', carrier));
  }

  /** CMS bytes by digest, for opening with the users' credentials. */
  readonly cmsDer = new Map<string, Buffer>();

  /** A whole SIP message (a datagram, a framed TCP message, or one read inside TLS). */
  sip(flow: string, m: Buffer, insideTls: boolean): void {
    const p = splitMessage(m);
    const found = this.marker(flow, m, insideTls ? 'tls' : 'raw', 'sip');
    if (!p) return;
    const callId = header(p.headers, 'call-id', 'i');
    this.learn(found, callId, undefined);
    if (!/^MESSAGE /i.test(p.startLine)) return;
    const cl = header(p.headers, 'content-length', 'l');
    const body = cl !== undefined && /^\d+$/.test(cl) ? p.body.subarray(0, Number(cl)) : p.body;
    this.learn(this.encoded(flow, body, insideTls, 'sip'), callId, undefined);
    this.addCms(flow, 'sip', insideTls, findCms(body), callId ? { callId } : {});
  }

  /** A whole MSRP message; SEND chunks are joined by Message-ID and Byte-Range before the CMS search. */
  msrp(flow: string, m: Buffer, insideTls: boolean): void {
    const found = this.marker(flow, m, insideTls ? 'tls' : 'raw', 'msrp');
    const p = splitMessage(m);
    if (!p) return;
    const [, tid = '', method = ''] = p.startLine.split(' ');
    const msgId = header(p.headers, 'message-id');
    this.learn(found, undefined, msgId);
    if (method !== 'SEND' || !msgId) return;
    const endLine = p.body.lastIndexOf(Buffer.from(`\r\n-------${tid}`, 'latin1'));
    const body = endLine >= 0 ? p.body.subarray(0, endLine) : p.body;
    // The end-line's flag (RFC 4975 sec. 7.1): `$` last chunk, `+` more to come, `#` aborted.
    const flag = endLine >= 0 ? String.fromCharCode(p.body[endLine + 9 + tid.length] ?? 0x24) : '$';
    const range = /^(\d+)-(\d+|\*)\/(\d+|\*)$/.exec(header(p.headers, 'byte-range') ?? '1-*/*');
    const start = range ? Number(range[1]) : 1;
    let total = range && range[3] !== '*' ? Number(range[3]) : -1;
    if (total === -1 && flag === '$') total = start - 1 + body.length;
    const key = `${flow}|${msgId}`;
    if (flag === '#') {
      this.msrpChunks.delete(key);
      return;
    }
    if (start === 1 && total === body.length && !this.msrpChunks.has(key)) {
      this.learn(this.encoded(flow, body, insideTls, 'msrp'), undefined, msgId);
      this.addCms(flow, 'msrp', insideTls, findCms(body), { msrpMessageId: msgId });
      return;
    }
    if (start < 1 || (total >= 0 && start - 1 >= total)) return; // a Byte-Range that lies
    let acc = this.msrpChunks.get(key);
    if (!acc) {
      if (this.msrpChunks.size >= MAX_MSRP_PENDING) this.msrpChunks.delete(this.msrpChunks.keys().next().value!);
      this.msrpChunks.set(key, (acc = { total, chunks: new Map(), bytes: 0, flow, insideTls }));
    }
    if (total >= 0) acc.total = total;
    if (!acc.chunks.has(start)) {
      acc.chunks.set(start, Buffer.from(body));
      acc.bytes += body.length;
    }
    if (acc.bytes > MAX_MSRP_MESSAGE) {
      this.msrpChunks.delete(key);
      return;
    }
    // Complete when the chunks cover 1..total without a hole.
    if (acc.total < 0 || acc.bytes < acc.total) return;
    const whole = Buffer.alloc(acc.total);
    let covered = 0;
    for (const [s, b] of [...acc.chunks].sort((x, y) => x[0] - y[0])) {
      if (s - 1 > covered) return;
      if (s - 1 >= acc.total) break;
      b.copy(whole, s - 1, 0, Math.max(0, Math.min(b.length, acc.total - (s - 1))));
      covered = Math.max(covered, s - 1 + b.length);
    }
    if (covered < acc.total) return;
    this.msrpChunks.delete(key);
    this.learn(this.marker(flow, whole, insideTls ? 'tls' : 'raw', 'msrp'), undefined, msgId);
    this.learn(this.encoded(flow, whole, insideTls, 'msrp'), undefined, msgId);
    this.addCms(flow, 'msrp', insideTls, findCms(whole), { msrpMessageId: msgId });
  }

  /**
   * Raw bytes of a TCP segment, searched in sequence order with the last
   * octets of the bytes before them (a marker cut between segments is found);
   * out-of-order segments wait (bounded) until the hole fills, retransmitted
   * octets are not searched twice.
   */
  tcpRaw(flow: string, seq: number, flags: number, payload: Buffer): void {
    let d = this.tails.get(flow);
    if ((flags & 0x02) !== 0) {
      this.tails.set(flow, (d = { next: (seq + 1) >>> 0, tail: Buffer.alloc(0), pending: new Map(), pendingBytes: 0 }));
    }
    if (payload.length === 0) return;
    if (!d) this.tails.set(flow, (d = { next: seq >>> 0, tail: Buffer.alloc(0), pending: new Map(), pendingBytes: 0 }));
    const rel = ((seq >>> 0) - d.next) | 0;
    if (rel > 0) {
      if (!d.pending.has(seq >>> 0)) {
        d.pending.set(seq >>> 0, Buffer.from(payload));
        d.pendingBytes += payload.length;
      }
      if (d.pendingBytes <= MAX_RAW_PENDING) return;
      // Give the hole up: go on from the earliest held segment.
      d.next = [...d.pending.keys()].sort((x, y) => (((x - d!.next) | 0) - ((y - d!.next) | 0)))[0]!;
      d.tail = Buffer.alloc(0);
    } else if (rel + payload.length > 0) {
      this.rawInOrder(flow, d, payload.subarray(-rel));
    }
    for (let progressed = true; progressed && d.pending.size > 0;) {
      progressed = false;
      for (const [s, seg] of d.pending) {
        const r = (s - d.next) | 0;
        if (r > 0) continue;
        d.pending.delete(s);
        d.pendingBytes -= seg.length;
        if (r + seg.length > 0) this.rawInOrder(flow, d, seg.subarray(-r));
        progressed = true;
      }
    }
  }

  /** A direction ended (FIN or RST): forget it. */
  tcpClosed(flow: string): void {
    this.tails.delete(flow);
  }

  private rawInOrder(flow: string, d: { next: number; tail: Buffer }, bytes: Buffer): void {
    // The seam (the octets before and the first of these) and the segment itself: no copy of the whole segment.
    if (d.tail.length > 0) this.marker(flow, Buffer.concat([d.tail, bytes.subarray(0, MARKER_LENGTH - 1)]), 'raw', 'tcp');
    this.marker(flow, bytes, 'raw', 'tcp');
    d.next = (d.next + bytes.length) >>> 0;
    const keep = MARKER_LENGTH - 1;
    d.tail = bytes.length >= keep ? Buffer.from(bytes.subarray(bytes.length - keep)) : Buffer.concat([d.tail, bytes]).subarray(-keep);
  }
}

type ScanOptions = { owner: AddressOwner; tlsKeyLogs?: string[]; users?: CertificateKey[] };

/** Reads one link's capture for every message's marker and CMS, then opens its TLS with the key logs. */
export async function scanLinkMessages(
  link: string,
  file: string,
  markers: ReadonlySet<string>,
  opts: ScanOptions,
): Promise<LinkMessageScan & { cmsDer: Map<string, Buffer> }> {
  const read = await readLinkCapture(link, file, markers, opts);
  const followed = read.sc.tlsFlows.size > 0 && opts.tlsKeyLogs?.length ? await followTls(file, opts.tlsKeyLogs, [...read.sc.tlsFlows]) : undefined;
  return finishLinkScan(read, followed);
}

/** What {@link readLinkCapture} read of one link, before its TLS is opened. */
interface LinkCaptureRead {
  link: string;
  file: string;
  name: (address: string) => string;
  sc: LinkScanner;
  packets: number;
  error: string | undefined;
}

/** The first part of {@link scanLinkMessages}: the capture read once, the TLS flows listed. */
async function readLinkCapture(link: string, file: string, markers: ReadonlySet<string>, opts: ScanOptions): Promise<LinkCaptureRead> {
  await loadCmsReader();
  const name = (a: string) => opts.owner(a)?.name ?? a;
  const sc = new LinkScanner(link, markers, name, opts.users ?? []);
  const tcp = new TcpSignalling({
    sip: (flow, m) => sc.sip(flow, m, false),
    msrp: (flow, m) => sc.msrp(flow, m, false),
    tls: (flow) => sc.tlsFlows.add(flow),
  });
  const fragments = new IpReassembler();
  let packets = 0;
  let error: string | undefined;
  const onPacket = (linkType: number, data: Buffer, ts: number): void => {
    const whole = fragments.push(linkType, data, ts);
    if (whole === null) return;
    const lt = whole !== data ? LINKTYPE.RAW : linkType;
    const d = decodeFrame(lt, whole);
    if (!d || (d.payload.length === 0 && d.protocol !== 'tcp')) return;
    if (d.protocol === 'udp') {
      const sip = looksLikeSip(d.payload) && d.payload.indexOf(0x0a) > 0;
      const msrp = !sip && looksLikeMsrp(d.payload);
      // Media and anything else without the marker prefix: nothing to read (no flow name built per packet).
      if (!sip && !msrp && d.payload.indexOf(PREFIX) < 0) return;
      const flow = flowKeyString({ protocol: 'udp', src: d.src, srcPort: d.srcPort, dst: d.dst, dstPort: d.dstPort });
      if (sip) sc.sip(flow, d.payload, false);
      else if (msrp) sc.msrp(flow, d.payload, false);
      else sc.marker(flow, d.payload, 'raw', 'udp');
    } else if (d.protocol === 'tcp') {
      const flow = flowKeyString({ protocol: 'tcp', src: d.src, srcPort: d.srcPort, dst: d.dst, dstPort: d.dstPort });
      sc.tcpRaw(flow, d.tcp!.seq, d.tcp!.flags, d.payload);
      tcp.segment(flow, d.tcp!.seq, d.tcp!.flags, d.payload);
      if ((d.tcp!.flags & 0x05) !== 0) sc.tcpClosed(flow); // FIN or RST
    }
  };
  let reader: CaptureFileReader | null = null;
  try {
    reader = await CaptureFileReader.open(file);
    while (await reader.refill()) {
      for (let p = reader.next(); p !== null; p = reader.next()) {
        packets++;
        try {
          onPacket(p.linkType, p.data, p.timestampUs);
        } catch (e) {
          error ??= `packet ${packets}: ${(e as Error).message}`;
        }
      }
    }
  } catch (e) {
    error = (e as Error).message;
  } finally {
    await reader?.close().catch(() => undefined);
  }
  return { link, file, name, sc, packets, error };
}

/**
 * The second part of {@link scanLinkMessages}: the link's TLS streams as
 * {@link followTls} opened them (undefined: no key log given), searched, and
 * the link's scan put together.
 */
function finishLinkScan(read: LinkCaptureRead, followed: { streams: FollowedStream[]; error?: string } | undefined): LinkMessageScan & { cmsDer: Map<string, Buffer> } {
  const { link, file, name, sc, packets, error } = read;
  const tlsOpened: string[] = [];
  const unopened: UnopenedTls[] = [];
  if (sc.tlsFlows.size > 0) {
    const ends = (flow: string): FlowEnds => {
      const [src, dst] = flowEnds(flow);
      return { link, flow, src, dst, srcElement: name(addressOf(src)), dstElement: name(addressOf(dst)) };
    };
    // One entry per connection (a flow whose reverse is listed already is the same connection).
    const connections = [...sc.tlsFlows].sort().filter((f, _i, all) => {
      const [a, b] = flowEnds(f);
      const reverse = `tcp ${b} > ${a}`;
      return !all.includes(reverse) || f < reverse;
    });
    if (!followed) {
      for (const f of connections) unopened.push({ ...ends(f), why: NO_KEY_LOG });
    } else {
      const r = followed;
      if (r.error) {
        for (const f of connections) unopened.push({ ...ends(f), why: r.error });
      }
      for (const s of r.streams) {
        // A framer per stream: two connections on the same ports (reused) are two streams.
        const inTls = new TcpSignalling({
          sip: (flow, m) => sc.sip(flow, m, true),
          msrp: (flow, m) => sc.msrp(flow, m, true),
          tls: () => undefined,
        });
        const c2s = `tcp ${s.client} > ${s.server}`;
        const s2c = `tcp ${s.server} > ${s.client}`;
        if (s.toServer.length + s.toClient.length === 0) {
          if (s.appData) unopened.push({ ...ends(c2s), why: NO_SECRETS });
          continue;
        }
        tlsOpened.push(c2s);
        for (const [flow, bytes] of [[c2s, s.toServer], [s2c, s.toClient]] as const) {
          if (bytes.length === 0) continue;
          sc.marker(flow, bytes, 'tls', 'tcp');
          inTls.segment(flow, 1, 0, bytes);
        }
      }
    }
  }
  const idsByMarker: LinkMessageScan['idsByMarker'] = {};
  for (const [m, e] of sc.ids) idsByMarker[m] = { callIds: [...e.callIds].sort(), msrpMessageIds: [...e.msrpMessageIds].sort() };
  const byFlow = (x: FlowEnds, y: FlowEnds) => (x.flow < y.flow ? -1 : x.flow > y.flow ? 1 : 0);
  return {
    link, file, packets, markers: [...sc.markerHits.values()].sort(byFlow), cms: [...sc.cmsHits.values()], tlsFlows: [...sc.tlsFlows].sort(), tlsOpened: tlsOpened.sort(), unopenedTls: unopened, idsByMarker,
    ...(error ? { error } : {}), cmsDer: sc.cmsDer,
  };
}

/**
 * The stores and logs of a run's `logs/` directory by element: each entry
 * whose name is an element's name, or starts with it and `.` or `-`
 * (`s-cscf.log`, `im-server-store/`, `chat-server/`), belongs to that element
 * (the longest name that fits). Entries of no element are left out.
 */
export function messageStoresIn(logsDir: string, elements: ReadonlyArray<{ name: string; kind?: string }>): MessageStore[] {
  let names: string[];
  try {
    names = readdirSync(logsDir).sort();
  } catch {
    return [];
  }
  const byLength = [...elements].sort((a, b) => b.name.length - a.name.length);
  const out: MessageStore[] = [];
  for (const n of names) {
    const e = byLength.find((x) => n === x.name || n.startsWith(`${x.name}.`) || n.startsWith(`${x.name}-`));
    if (e) out.push({ element: e.name, ...(e.kind ? { kind: e.kind } : {}), path: join(logsDir, n) });
  }
  return out;
}

/** Store files are read in their first part only (as store-scan.ts does). */
const MAX_STORE_BYTES = 32 * 1024 * 1024;
const MAX_STORE_FILES = 100_000;

/** The files of a store: the file itself, or every file under the directory. A missing path is a problem. */
function storeFiles(path: string, problems: string[], element: string): string[] {
  const out: string[] = [];
  const walk = (p: string, top: boolean): void => {
    if (out.length >= MAX_STORE_FILES) return;
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      if (top) problems.push(`store of ${element}: ${p} not found: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return;
    }
    if (st.isFile()) out.push(p);
    else if (st.isDirectory()) {
      let names: string[] = [];
      try {
        names = readdirSync(p).sort();
      } catch (e) {
        problems.push(`store of ${element}: ${p} not listed: ${(e as Error).message}`);
      }
      for (const n of names) walk(join(p, n), false);
    }
  };
  walk(path, true);
  return out;
}

/** One TCP stream's decrypted bytes, each direction whole. */
interface FollowedStream {
  client: string;
  server: string;
  toServer: Buffer;
  toClient: Buffer;
  /** It carried TLS application data records (content type 23). */
  appData: boolean;
}

/** A TCP stream tshark listed: its ends, whether it is TLS, and the interface of its first packet. */
interface ListedStream {
  client: string;
  server: string;
  fromSyn: boolean;
  appData: boolean;
  tls: boolean;
  interfaceId: number | undefined;
}

/**
 * The decrypted bytes of every TLS stream in `capture`, with tshark and the
 * key logs: a first pass lists the streams (their client from the SYN, else
 * the first packet), a second follows them all (`-z follow,tls,raw,N`).
 * Never throws: failures are `error`.
 */
export async function followTls(capture: string, keyLogs: string[], tlsFlows: string[]): Promise<{ streams: FollowedStream[]; error?: string }> {
  const texts = readKeyLogs(keyLogs);
  if (typeof texts === 'string') return { streams: [], error: texts };
  try {
    return { streams: (await tsharkFollow(capture, texts, tlsDecodePorts(tlsFlows, false), () => true)).map((x) => x.stream) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { streams: [], error: err.code === 'ENOENT' ? 'tshark not installed (apt-get install tshark)' : `tshark: ${err.message.split('\n')[0]!}` };
  }
}

/**
 * {@link followTls} for several links at once. Each link is first followed
 * in process (tls-reader.ts: TLS 1.3 with the key logs); a link with a
 * connection that could not be read for a reason tshark might not share
 * (TLS 1.2, a capture it does not follow) goes to tshark: links whose
 * captures can be merged (link-merge.ts) are followed by one pair of tshark
 * runs over the merged file, each stream given back to the link it crossed;
 * the others, and every link of a merged run that fails, one by one, so
 * errors stay per link. Never throws.
 */
export async function followTlsOnLinks(links: ReadonlyArray<{ link: string; file: string; tlsFlows: string[] }>, keyLogs: string[]): Promise<Map<string, { streams: FollowedStream[]; error?: string }>> {
  const got = new Map<string, { streams: FollowedStream[]; error?: string }>();
  const texts = readKeyLogs(keyLogs);
  const forTshark: Array<{ link: string; file: string; tlsFlows: string[] }> = [];
  const keyLog = typeof texts === 'string' || keyLogs.length === 0 ? null : parseKeyLogs(texts);
  for (const l of links) {
    const r = keyLog ? await followTlsInProcess(l.file, keyLog).catch(() => null) : null;
    if (r && r.unread.every((u) => noKeysFor(u.why))) got.set(l.link, { streams: r.streams });
    else forTshark.push(l);
  }
  if (typeof texts !== 'string') {
    for (const g of await tsharkGroups(forTshark.map((l) => ({ ...l, flows: l.tlsFlows })))) {
      const merged = g.length > 1 ? await followMerged(g, texts) : null;
      if (merged) for (const [link, r] of merged) got.set(link, r);
    }
  }
  for (const l of links) if (!got.has(l.link)) got.set(l.link, await followTls(l.file, keyLogs, l.tlsFlows));
  return got;
}

/** One followTls over the links' captures merged; null when it cannot answer for every link. */
async function followMerged(links: ReadonlyArray<{ link: string; file: string; tlsFlows: string[] }>, keyLogTexts: string[]): Promise<Map<string, { streams: FollowedStream[] }> | null> {
  let dir: string | undefined;
  try {
    dir = mkdtempSync(join(tmpdir(), 'imslab-msg-tls-links-'));
    const file = join(dir, 'links.pcapng');
    const interfaces = await concatLinkCaptures(links, file);
    const linkPorts = new Map(links.map((l) => [l.link, new Set(tlsDecodePorts(l.tlsFlows, false))]));
    const allPorts = new Set([...linkPorts.values()].flatMap((s) => [...s]));
    const portOf = (ep: string) => Number(ep.slice(ep.lastIndexOf(':') + 1));
    let unplaced = false;
    const linkOf = (e: ListedStream): string | undefined => {
      const from = e.interfaceId === undefined ? undefined : interfaces[e.interfaceId];
      if (!from) unplaced = true;
      return from?.link;
    };
    // A stream decoded as TLS only because another link has TLS on one of its ports: the link's own run would not have followed it.
    const followed = await tsharkFollow(file, keyLogTexts, [...allPorts].sort((x, y) => x - y), (e) => {
      const link = linkOf(e);
      return link !== undefined && sameDecodeAs(portOf(e.client), portOf(e.server), linkPorts.get(link)!, allPorts);
    });
    if (unplaced) return null;
    const out = new Map<string, { streams: FollowedStream[] }>(links.map((l) => [l.link, { streams: [] }]));
    for (const f of followed) out.get(linkOf(f.listed)!)!.streams.push(f.stream);
    return out;
  } catch {
    return null;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** All the key logs' lines by client random (tls13.ts). */
function parseKeyLogs(texts: string[]): KeyLog {
  const out: KeyLog = new Map();
  for (const t of texts) parseKeyLog(t, out);
  return out;
}

/** The key logs' texts, or why one could not be read. */
function readKeyLogs(keyLogs: string[]): string[] | string {
  const texts: string[] = [];
  for (const f of keyLogs) {
    try {
      texts.push(readFileSync(f, 'utf8'));
    } catch (e) {
      return `TLS key log ${f} not readable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    }
  }
  return texts;
}

/**
 * The two tshark passes of {@link followTls} over `capture`: the TLS streams
 * `keep` accepts, followed, in tshark's order. Throws what tshark throws.
 */
async function tsharkFollow(capture: string, keyLogTexts: string[], ports: number[], keep: (e: ListedStream) => boolean): Promise<Array<{ stream: FollowedStream; listed: ListedStream }>> {
  const dir = mkdtempSync(join(tmpdir(), 'imslab-msg-tls-'));
  try {
    const keylog = join(dir, 'keys.log');
    writeFileSync(keylog, keyLogTexts.join('\n'));
    const base = ['-r', capture, '-n', '-o', `tls.keylog_file:${keylog}`, ...ports.flatMap((p) => ['-d', `tcp.port==${p},tls`])];
    const fields = ['tcp.stream', 'ip.src', 'ipv6.src', 'tcp.srcport', 'ip.dst', 'ipv6.dst', 'tcp.dstport', 'tcp.flags.syn', 'tcp.flags.ack', 'tls.record.content_type', 'tls.record.opaque_type', 'frame.interface_id'];
    const { stdout } = await run('tshark', [...base, '-Y', 'tls || (tcp.flags.syn == 1 && tcp.flags.ack == 0)', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])], { maxBuffer: 256 << 20 });
    const streams = new Map<number, ListedStream>();
    for (const line of stdout.split('\n')) {
      if (!line.trim()) continue;
      const [st = '', s4 = '', s6 = '', sp = '', d4 = '', d6 = '', dp = '', syn = '', ack = '', ct = '', ot = '', iface = ''] = line.split('\t');
      const n = Number(st);
      if (!Number.isInteger(n)) continue;
      const src = endpoint(s4 || s6, Number(sp));
      const dst = endpoint(d4 || d6, Number(dp));
      const isSyn = (syn === '1' || syn === 'True') && (ack === '0' || ack === 'False');
      let e = streams.get(n);
      if (!e) streams.set(n, (e = { client: src, server: dst, fromSyn: isSyn, appData: false, tls: false, interfaceId: iface === '' ? undefined : Number(iface) }));
      else if (isSyn && !e.fromSyn) Object.assign(e, { client: src, server: dst, fromSyn: true });
      if (ct || ot) e.tls = true;
      if (ct.split(',').includes('23') || ot.split(',').includes('23')) e.appData = true;
    }
    const tlsStreams = [...streams].filter(([, e]) => e.tls && keep(e));
    if (tlsStreams.length === 0) return [];
    const follow = await run('tshark', [...base, '-q', ...tlsStreams.flatMap(([n]) => ['-z', `follow,tls,raw,${n}`])], { maxBuffer: 1 << 30 });
    const out: Array<{ stream: FollowedStream; listed: ListedStream }> = [];
    for (const block of follow.stdout.split(/^=+$/m)) {
      const filter = /^Filter: tcp\.stream eq (\d+)$/m.exec(block);
      if (!filter) continue;
      const e = streams.get(Number(filter[1]));
      if (!e) continue;
      const node0 = /^Node 0: (.+)$/m.exec(block)?.[1]?.trim() ?? '';
      // Lines of node 0 start in column 0, node 1's after a tab. tshark 4.0 names node 0 for TLS (the first to send a
      // decrypted record: the server in TLS 1.3) and prints node 1 as ":0"; unnamed, node 0 is taken as the server.
      const same = (a: string, ep: string) => a === ep || a === ep.replace(/^\[(.*)\]/, '$1');
      const node0IsServer = !same(node0, e.client);
      const a: Buffer[] = [];
      const b: Buffer[] = [];
      for (const line of block.split('\n')) {
        const hex = line.trim();
        if (!/^[0-9a-f]+$/i.test(hex) || hex.length % 2 !== 0) continue;
        (line.startsWith('\t') ? b : a).push(Buffer.from(hex, 'hex'));
      }
      const fromNode0 = Buffer.concat(a);
      const fromNode1 = Buffer.concat(b);
      out.push({
        listed: e,
        stream: {
          client: e.client, server: e.server, appData: e.appData,
          toServer: node0IsServer ? fromNode1 : fromNode0,
          toClient: node0IsServer ? fromNode0 : fromNode1,
        },
      });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Judges every message of `input.messages`: reads each link's capture once
 * (and its TLS with the key logs), ties CMS to messages, scans the stores, and
 * gives per message its verdict, per link where it was seen, and per server
 * whether the CMS left it byte for byte. Never throws for bad input.
 */
export async function analyseMessages(input: MessageAnalysisInput): Promise<MessageAnalysis> {
  const problems: string[] = [];
  const wanted = new Set<string>();
  for (const m of input.messages) {
    if (MARKER_RE.test(m.marker)) wanted.add(m.marker);
    else problems.push(`message ${m.alias ?? m.marker}: "${m.marker}" is not a probe marker (IMSLAB and ten hex digits)`);
  }
  const certs = await certificateKeys(input.userCertificates ?? []);
  problems.push(...certs.errors);
  const scans: Array<LinkMessageScan & { cmsDer: Map<string, Buffer> }> = [];
  const failedScan = (link: string, file: string, e: unknown): LinkMessageScan & { cmsDer: Map<string, Buffer> } =>
    ({ link, file, packets: 0, markers: [], cms: [], tlsFlows: [], tlsOpened: [], unopenedTls: [], idsByMarker: {}, error: (e as Error).message, cmsDer: new Map() });
  // Every capture read once (as scanLinkMessages does), then the TLS of all links opened by one tshark run where their captures merge.
  const reads = new Map<string, LinkCaptureRead | { failed: unknown }>();
  for (const [link, file] of Object.entries(input.captures)) {
    try {
      reads.set(link, await readLinkCapture(link, file, wanted, { owner: input.owner, users: certs.keys }));
    } catch (e) {
      reads.set(link, { failed: e });
    }
  }
  const withTls = input.tlsKeyLogs?.length
    ? [...reads.values()].filter((r): r is LinkCaptureRead => !('failed' in r) && r.sc.tlsFlows.size > 0).map((r) => ({ link: r.link, file: r.file, tlsFlows: [...r.sc.tlsFlows] }))
    : [];
  const followed = withTls.length > 0 ? await followTlsOnLinks(withTls, input.tlsKeyLogs!) : new Map<string, { streams: FollowedStream[]; error?: string }>();
  for (const [link, file] of Object.entries(input.captures)) {
    const r = reads.get(link)!;
    let s: LinkMessageScan & { cmsDer: Map<string, Buffer> };
    if ('failed' in r) s = failedScan(link, file, r.failed);
    else {
      try {
        s = finishLinkScan(r, followed.get(link));
      } catch (e) {
        s = failedScan(link, file, e);
      }
    }
    if (s.error) problems.push(`${link}: ${s.error}`);
    // What failed (tshark, a key log) is a problem; a stream the key logs hold no secrets for is evidence (unopenedTls, reasons).
    const failed = new Set(s.unopenedTls.map((u) => u.why).filter((why) => why !== NO_KEY_LOG && why !== NO_SECRETS));
    for (const why of failed) problems.push(`${link}: TLS not opened: ${why}`);
    for (const c of s.cms) if (c.error) problems.push(`${link}: CMS on ${c.flow}: ${c.error}`);
    scans.push(s);
  }

  // Markers found inside CMS that opens with a user's credential.
  const openedMarkers = new Map<string, string[]>();
  if (input.userCredentials?.length) {
    const { decryptContent } = await loadCmsReader();
    const ders = new Map<string, Buffer>();
    for (const s of scans) for (const c of s.cms) if (!c.error && c.kind !== 'signed-data') ders.set(c.sha256, s.cmsDer.get(c.sha256)!);
    for (const [h, der] of ders) {
      for (const cred of input.userCredentials) {
        try {
          const opened = await decryptContent(der, cred);
          openedMarkers.set(h, markersIn(Buffer.from(opened.content), wanted));
          break;
        } catch {
          // not for this credential (or not openable): try the next
        }
      }
    }
  }

  const stores: Array<StoreSighting & { marker: string }> = [];
  /** Every store file's digest: a file that is exactly a message's CMS keeps that message at rest as ciphertext. */
  const storedDigests: Array<StoreSighting & { sha256: string }> = [];
  for (const st of input.stores ?? []) {
    for (const f of storeFiles(st.path, problems, st.element)) {
      try {
        const data = readFileSync(f).subarray(0, MAX_STORE_BYTES);
        const file = input.storeBase ? relative(input.storeBase, f) : f;
        storedDigests.push({ element: st.element, ...(st.kind ? { kind: st.kind } : {}), file, sha256: createHash('sha256').update(data).digest('hex') });
        for (const m of markersIn(data, wanted)) stores.push({ element: st.element, ...(st.kind ? { kind: st.kind } : {}), file, marker: m });
      } catch (e) {
        problems.push(`store of ${st.element}: ${f} not read: ${(e as Error).message}`);
      }
    }
  }

  const allCms = scans.flatMap((s) => s.cms);
  const links = Object.keys(input.captures);
  const kindOf = (element: string): string | undefined => {
    // An element's kind from any address it owns on the links (names come from the same owner function).
    for (const s of scans) {
      for (const c of [...s.cms, ...s.markers, ...s.unopenedTls]) {
        for (const [ep, el] of [[c.src, c.srcElement], [c.dst, c.dstElement]] as const) if (el === element) return input.owner(addressOf(ep))?.kind;
      }
    }
    return (input.stores ?? []).find((x) => x.element === element)?.kind;
  };

  const messages = input.messages.map((spec): MessageReport => {
    const marker = spec.marker;
    const callIds = new Set(spec.callIds ?? []);
    const msrpIds = new Set(spec.msrpMessageIds ?? []);
    for (const s of scans) {
      for (const id of s.idsByMarker[marker]?.callIds ?? []) callIds.add(id);
      for (const id of s.idsByMarker[marker]?.msrpMessageIds ?? []) msrpIds.add(id);
    }
    const tied = new Map<CmsSighting, CmsSighting['attributedBy']>();
    // CMS that opened with a user's credential and holds another marker is another message's, whatever its ids say.
    const other = (c: CmsSighting) => openedMarkers.has(c.sha256) && !openedMarkers.get(c.sha256)!.includes(marker);
    for (const c of allCms) {
      if (other(c)) continue;
      if (c.callId !== undefined && c.carrier === 'sip' && callIds.has(c.callId)) tied.set(c, 'call-id');
      else if (c.msrpMessageId !== undefined && c.carrier === 'msrp' && msrpIds.has(c.msrpMessageId)) tied.set(c, 'message-id');
      else if (openedMarkers.get(c.sha256)?.includes(marker)) tied.set(c, 'decrypted');
    }
    // Same bytes as CMS already tied: the same message forwarded (a group exploder's copies under new Call-IDs).
    for (let grew = true; grew;) {
      grew = false;
      const hashes = new Set([...tied.keys()].map((c) => c.sha256));
      for (const c of allCms) {
        if (!tied.has(c) && !other(c) && hashes.has(c.sha256)) {
          tied.set(c, 'same-bytes');
          grew = true;
        }
      }
    }
    const cms = [...tied].map(([c, by]) => ({ ...c, attributedBy: by }));
    const markers = scans.flatMap((s) => s.markers.filter((m) => m.marker === marker));
    const cmsHashes = new Set(cms.map((c) => c.sha256));
    const atRest = storedDigests.filter((d) => cmsHashes.has(d.sha256) && d.kind !== 'ue');
    const report = judgeMessage({
      marker, ...(spec.alias !== undefined ? { alias: spec.alias } : {}), links,
      markers, cms,
      unopenedTls: scans.flatMap((s) => s.unopenedTls),
      stores: stores.filter((s) => s.marker === marker).map(({ marker: _m, ...rest }) => rest),
      kindOf, haveUserCertificates: certs.keys.length > 0,
      ...(spec.recipients ? { expectedRecipients: spec.recipients } : {}),
      ...(spec.links ? { expectedLinks: spec.links } : {}),
    });
    if (atRest.length === 0) return report;
    return {
      ...report, cmsAtRest: atRest,
      reasons: [...report.reasons, ...atRest.map((d) => `${d.element} keeps it at rest as the CMS it forwards, byte for byte (${d.file}, sha256:${d.sha256.slice(0, 12)})`)],
    };
  });
  return { messages, links: scans.map(({ cmsDer: _d, ...s }) => s), problems };
}

