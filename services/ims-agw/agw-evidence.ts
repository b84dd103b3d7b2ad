import rtpengine from 'rtpengine-client';
import { NG_PORT } from '@imslab/topology';
import type { AgwPlan } from './plan.ts';

/**
 * What each IMS-AGW says about a call's media, over its own ng protocol
 * (`query`). It is a cross-check, recorded next to the captures
 * (agw-cross-check.ts compares the two); the verdict itself comes from the
 * packets.
 *
 * The shape of rtpengine 10.5's `query` reply, as observed on the real
 * daemon (fixtures in test/fixtures/, produced by test/rtpengine-query.test.ts):
 *
 *   tags.<tag>.medias[] = { index, type, protocol, codec, flags[], streams[] }
 *   streams[] (one per RTP and RTCP component) = {
 *     'local address': '127.0.13.1', 'local port': 50000,      (strings and numbers, not an object)
 *     endpoint: { family, address, port }, 'advertised endpoint': { ... },
 *     'crypto suite'?: 'AES_CM_128_HMAC_SHA1_80',               (absent when none)
 *     flags: ['RTP' | 'RTCP', 'filled', ...], SSRC?, 'last packet',
 *     stats: { packets, bytes, errors } }                       (what it RECEIVED from the endpoint)
 *
 * Three things are easy to misread:
 * - `crypto suite` is the stream's outgoing context: the suite rtpengine
 *   encrypts with toward that endpoint. The suite it decrypts with is not
 *   reported; with SDES one suite serves both directions (the answer picks
 *   one a=crypto), so on a side it terminates it is the same.
 * - In passthrough (media flag `passthrough`) rtpengine relays SRTP byte for
 *   byte, yet 10.5 still reports a `crypto suite` on the answerer's side:
 *   the suite was negotiated, not applied. `srtp` below is null there.
 * - `stats` count packets received from the endpoint up to the query (the
 *   call is still up); what it sent toward an endpoint is what it received
 *   on the peer side. On a side where it decrypts, `bytes` are counted after
 *   decryption (no auth tag).
 */

/** The interfaces of an IMS-AGW element (rtpengine's names), by which a stream's side is named. */
export type AgwInterface = 'access' | 'inner' | 'core';

/** How the IMS-AGW handles one side of a session. */
export type AgwHandling =
  /** Plain RTP on this side (RTP/AVP, RTP/AVPF). */
  | 'rtp'
  /** SRTP that rtpengine itself decrypts and encrypts (it holds the keys of this side). */
  | 'srtp-terminated'
  /** SRTP relayed untouched (media flag `passthrough`): rtpengine applies no SRTP. */
  | 'srtp-passthrough'
  /** An SRTP profile but no suite and no passthrough: keys not (yet) set up, e.g. DTLS pending. */
  | 'srtp-unkeyed';

/** One side (tag) of one media section of an ng session, as rtpengine reported it. */
export interface AgwStream {
  /** rtpengine's tag for the side: the SIP From- or To-tag of the party there. */
  tag: string;
  /** The tags this side exchanges media with (the query's `subscriptions`). */
  peers: string[];
  /** The m= line (1-based) and its type. */
  index: number;
  type: string;
  /** The interface its socket is on, by local address; null when the address is none of the element's. */
  interface: AgwInterface | null;
  protocol: string | null;
  codec: string | null;
  /** Media flags as rtpengine reports them (`passthrough`, `SDES`, `ICE controlling`, `loop check`...). */
  flags: string[];
  handling: AgwHandling;
  /**
   * The SRTP suite rtpengine applies on this side, per direction; null in a
   * direction where it applies none (plain RTP, passthrough).
   */
  srtp: { fromEndpoint: string | null; toEndpoint: string | null } | null;
  /** The `crypto suite` exactly as reported (also in passthrough, where it is not applied). */
  reportedSuite: string | null;
  /** rtpengine's RTP socket on this side, `ip:port`; and its RTCP socket (the next port). */
  local: string | null;
  localRtcp: string | null;
  /** Where it sends this side's media (learned from the packets, else signalled), `ip:port`. */
  endpoint: string | null;
  /** What the SDP announced, `ip:port`. */
  advertised: string | null;
  /** RTP packets, bytes and errors received from the endpoint until the query. */
  packets: number;
  bytes: number;
  errors: number;
  rtcpPackets: number;
  /** The SSRC last received from the endpoint. */
  ssrc: number | null;
  /** Unix time (s) of the last packet received; null when none. */
  lastPacket: number | null;
}

/** One IMS-AGW's report of one ng session (`<Call-ID>-mo`, `-mt`, `-tc1`, `-tc2`). */
export interface AgwStreamReport {
  agw: string;
  ngCallId: string;
  /** When it was asked (ISO 8601). */
  at: string;
  /** The element's interfaces: name -> address (to tell its sockets in the captures). */
  interfaces: Partial<Record<AgwInterface, string>>;
  found: boolean;
  streams: AgwStream[];
  /** Why not found: rtpengine's error-reason (`Unknown call-id`) or the transport error. */
  error?: string;
}

/** What queryAgw needs of an IMS-AGW element. */
export type AgwTarget = Pick<AgwPlan, 'name' | 'accessAddress' | 'accessName' | 'coreAddress'>;

/**
 * The ng call-ids an element holds per SIP call. The P-CSCFs
 * (services/pcscf/kamailio.cfg) use `<Call-ID>-mo` for the originating pass
 * and `-mt` for the terminating pass; the transcoder
 * (services/transcoder/kamailio.cfg) drives its media engine, the IMS-AGW with
 * the `inner` interface, with two sessions joined on that interface:
 * `-tc1` (the caller's side) and `-tc2` (the callee's).
 */
export function ngCallIdsOf(e: Pick<AgwPlan, 'accessName'>, callId: string): string[] {
  return (e.accessName === 'inner' ? ['tc1', 'tc2'] : ['mo', 'mt']).map((s) => `${callId}-${s}`);
}

export function interfacesOf(e: AgwTarget): Partial<Record<AgwInterface, string>> {
  return { [e.accessName]: e.accessAddress, core: e.coreAddress };
}

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const strings = (v: unknown): string[] => arr(v).filter((x): x is string => typeof x === 'string');

function endpointOf(v: unknown): string | null {
  const e = obj(v);
  const address = str(e.address);
  const port = num(e.port);
  return address !== null && port !== null ? `${address}:${port}` : null;
}

function localOf(s: Json): string | null {
  const address = str(s['local address']);
  const port = num(s['local port']);
  return address !== null && port !== null ? `${address}:${port}` : null;
}

function handlingOf(protocol: string | null, mediaFlags: string[], suite: string | null): AgwHandling {
  if (protocol === null || !/SAVP/.test(protocol)) return 'rtp';
  if (mediaFlags.includes('passthrough')) return 'srtp-passthrough';
  return suite !== null ? 'srtp-terminated' : 'srtp-unkeyed';
}

/**
 * Reads rtpengine's `query` reply into one entry per side and media section.
 * Pure: the fixtures of real replies test it. `interfaces` names the
 * element's addresses, to say which side a socket is on.
 */
export function parseQueryReply(reply: Json, interfaces: Partial<Record<AgwInterface, string>>): AgwStream[] {
  const byAddress = new Map(Object.entries(interfaces).map(([name, address]) => [address, name as AgwInterface]));
  const out: AgwStream[] = [];
  for (const [tagKey, tv] of Object.entries(obj(reply.tags))) {
    const t = obj(tv);
    const tag = str(t.tag) ?? tagKey;
    const peers = arr(t.subscriptions).map((s) => str(obj(s).tag)).filter((x): x is string => x !== null);
    for (const mv of arr(t.medias)) {
      const m = obj(mv);
      const streams = arr(m.streams).map(obj);
      const rtp = streams.find((s) => strings(s.flags).includes('RTP')) ?? streams[0] ?? {};
      const rtcp = streams.find((s) => s !== rtp && strings(s.flags).includes('RTCP'));
      const protocol = str(m.protocol);
      const mediaFlags = strings(m.flags);
      const reportedSuite = str(rtp['crypto suite']);
      const handling = handlingOf(protocol, mediaFlags, reportedSuite);
      const local = localOf(rtp);
      const stats = obj(rtp.stats);
      out.push({
        tag,
        peers,
        index: num(m.index) ?? 0,
        type: str(m.type) ?? 'unknown',
        interface: byAddress.get(str(rtp['local address']) ?? '') ?? null,
        protocol,
        codec: str(m.codec),
        flags: mediaFlags,
        handling,
        srtp: handling === 'srtp-terminated' ? { fromEndpoint: reportedSuite, toEndpoint: reportedSuite } : null,
        reportedSuite,
        local,
        localRtcp: rtcp ? localOf(rtcp) : null,
        endpoint: endpointOf(rtp.endpoint),
        advertised: endpointOf(rtp['advertised endpoint']),
        packets: num(stats.packets) ?? 0,
        bytes: num(stats.bytes) ?? 0,
        errors: num(stats.errors) ?? 0,
        rtcpPackets: num(obj(rtcp?.stats).packets) ?? 0,
        ssrc: num(rtp.SSRC),
        lastPacket: (num(stats.packets) ?? 0) > 0 ? num(rtp['last packet']) : null,
      });
    }
  }
  return out;
}

/**
 * One IMS-AGW's report of a SIP call: every ng session the element holds for
 * it (ngCallIdsOf), found or not. Transport errors are recorded, not thrown:
 * this runs while the call is up and must not fail the scenario.
 */
export async function queryAgw(e: AgwTarget, callId: string, opts: { ngPort?: number; timeoutMs?: number } = {}): Promise<AgwStreamReport[]> {
  const client = new rtpengine.Client({ timeout: opts.timeoutMs ?? 1500 });
  // A late answer to a query that timed out is emitted as an 'error': harmless here, never a crash.
  client.on('error', () => {});
  const interfaces = interfacesOf(e);
  try {
    const out: AgwStreamReport[] = [];
    for (const ngCallId of ngCallIdsOf(e, callId)) {
      const at = new Date().toISOString();
      try {
        const reply = (await client.query(opts.ngPort ?? NG_PORT, e.coreAddress, { 'call-id': ngCallId })) as Json;
        if (reply.result !== 'ok') {
          out.push({ agw: e.name, ngCallId, at, interfaces, found: false, streams: [], error: str(reply['error-reason']) ?? `result ${String(reply.result)}` });
          continue;
        }
        out.push({ agw: e.name, ngCallId, at, interfaces, found: true, streams: parseQueryReply(reply, interfaces) });
      } catch (err) {
        out.push({ agw: e.name, ngCallId, at, interfaces, found: false, streams: [], error: (err as Error).message });
      }
    }
    return out;
  } finally {
    client.close();
  }
}
