import type { ProbeDirection, ProbeMediaType } from '@imslab/probe';
import { addSignalledKeys, loadKeyRing } from './keys.ts';
import { scanStores, type StoreFinding } from './store-scan.ts';
import { scanLink, type LinkReport } from './link-scan.ts';
import { readSipInsideTlsOnLinks, sdesKeysIn, type TlsSignallingReport } from './tls-signalling.ts';
import { judgeCall, type AddressOwner, type CallReport } from './verdict.ts';

export interface AnalysisInput {
  /** link name -> capture file */
  captures: Record<string, string>;
  /** SRTP key log files (JSON lines, @imslab/probe format). */
  keyLogs: string[];
  /** The calls to judge: scenario alias and SIP Call-ID. */
  calls: Array<{ alias: string; callId: string; directions?: ProbeDirection[]; media?: ProbeMediaType }>;
  owner: AddressOwner;
  /** TLS key logs (SSLKEYLOGFILE format) to read the SIP inside TLS with tshark. */
  tlsKeyLogs?: string[];
  /** What the network elements stored (logs, message stores), scanned for markers and key bytes. */
  stores?: { dirs: string[]; base: string };
}

/** Where an SRTP master key travelled in signalling, and so who could read it. */
export interface KeyExposure {
  key: string;
  /** Links where the key crossed in plaintext SIP: anyone on the link could read it. */
  plaintextOn: string[];
  /** Links where it crossed inside TLS, and the TLS endpoints (the SIP hops that read it). */
  insideTlsOn: Array<{ link: string; between: string[] }>;
}

export interface Analysis {
  links: LinkReport[];
  calls: CallReport[];
  /** Every logged key; `mki` (hex) for keys whose packets carry one (MIKEY-SAKKE group keys). */
  /** Keys from the key logs; `purpose: 'floor-control'` for a PoC client-server key (SRTCP floor control only). */
  keys: Array<{ id: string; owner: string; dir: string; suite: string; callId: string; mki?: string; purpose?: 'floor-control' }>;
  problems: string[];
  /** SIP read inside TLS per link (tshark with the key logs). */
  tls: Record<string, TlsSignallingReport>;
  keyExposure: KeyExposure[];
  /** Markers and key bytes found in what the elements stored. */
  stores: StoreFinding[];
}

/** Which of the keys that protected the call's media travelled where someone in the middle could read them. */
function exposureConditions(call: CallReport, exposure: KeyExposure[]): string[] {
  const used = new Set(call.paths.flatMap((p) => Object.values(p.links).flatMap((l) => l.keys)));
  const out: string[] = [];
  for (const x of exposure.filter((e) => used.has(e.key))) {
    for (const l of x.plaintextOn) out.push(`key ${x.key} was readable in plaintext SIP on ${l}: anyone on that link can decrypt`);
    for (const t of x.insideTlsOn) {
      out.push(`key ${x.key} crossed ${t.link} inside TLS: readable by ${t.between.join(', ')}`);
    }
  }
  return out;
}

/** Reads every link's capture once and judges every call from what it found. */
export async function analyse(input: AnalysisInput): Promise<Analysis> {
  const ring = loadKeyRing(input.keyLogs);
  let links: LinkReport[] = [];
  for (const [link, file] of Object.entries(input.captures)) links.push(await scanLink(link, file, ring.keys));
  // Media (or its SRTCP: a PoC member's floor control under its client-server key) under no logged key: try the SDES keys anyone could read in the SIP.
  if (links.some((l) => l.media.some((f) => f.unknown > 0 || f.srtcpUnknown > 0))) {
    const offers = links.flatMap((l) => l.signalling.sdesOffers.map((o) => ({ link: l.link, ...o })));
    if (addSignalledKeys(ring, offers) > 0) {
      links = [];
      for (const [link, file] of Object.entries(input.captures)) links.push(await scanLink(link, file, ring.keys));
    }
  }
  const problems = [...ring.errors, ...links.filter((l) => l.error).map((l) => `${l.link}: ${l.error}`)];
  // The links that carried TLS, read by one tshark run where their captures can be merged (tls-signalling.ts).
  const tlsLinks = input.tlsKeyLogs?.length ? links.filter((l) => l.signalling.tlsRecords > 0) : [];
  const tls: Record<string, TlsSignallingReport> = tlsLinks.length === 0 ? {}
    : await readSipInsideTlsOnLinks(tlsLinks.map((l) => ({ link: l.link, file: l.file, tlsFlows: l.signalling.tlsFlows })), input.tlsKeyLogs!);
  for (const l of tlsLinks) if (tls[l.link]!.error) problems.push(`${l.link}: SIP inside TLS not readable: ${tls[l.link]!.error}`);
  // Tie media flows to the SDP that announced their destination.
  const announced = new Map<string, string>();
  for (const l of links) for (const e of l.signalling.sdpEndpoints) announced.set(e.endpoint, e.callId);
  for (const r of Object.values(tls)) for (const m of r.messages) for (const e of m.mediaEndpoints) announced.set(e, m.callId);
  for (const l of links) {
    for (const f of l.media) {
      // RTCP without rtcp-mux goes to the port above the announced RTP port (RFC 3550 sec. 11).
      const callId = announced.get(f.dst) ?? announced.get(f.src) ?? (f.packets === 0 ? announced.get(portBelow(f.dst)) ?? announced.get(portBelow(f.src)) : undefined);
      f.foundBy = callId !== undefined ? { how: 'sdp', callId } : { how: 'heuristic' };
    }
  }
  const name = (a: string) => input.owner(a)?.name ?? a;
  const keyExposure: KeyExposure[] = ring.keys.map((k) => ({
    key: k.id,
    plaintextOn: links.filter((l) => l.signalling.exposedSdesKeys.includes(k.entry.keySalt)).map((l) => l.link),
    insideTlsOn: Object.entries(tls).flatMap(([link, r]) => {
      const carrying = r.messages.filter((m) => sdesKeysIn([m]).includes(k.entry.keySalt));
      if (carrying.length === 0) return [];
      const ends = new Set(carrying.flatMap((m) => [name(m.src), name(m.dst)]));
      return [{ link, between: [...ends].sort() }];
    }),
  }));
  const calls = input.calls.map((c) => judgeCall(c.alias, c.callId, links, input.owner, c.directions, c.media));
  for (const call of calls) call.conditions = exposureConditions(call, keyExposure);
  return {
    links,
    calls,
    keys: ring.keys.map((k) => ({ id: k.id, owner: k.entry.owner, dir: k.entry.dir, suite: k.entry.suite, callId: k.entry.callId, ...(k.entry.mki ? { mki: k.entry.mki } : {}), ...(k.entry.purpose ? { purpose: k.entry.purpose } : {}) })),
    problems,
    tls,
    keyExposure,
    stores: input.stores ? scanStores(input.stores.dirs, ring.keys.filter((k) => k.entry.keyMgmt !== 'sdes-signalled'), input.stores.base) : [],
  };
}

/** `address:port` with the port one lower (`[v6]:port` too). */
function portBelow(endpoint: string): string {
  const i = endpoint.lastIndexOf(':');
  return `${endpoint.slice(0, i)}:${Number(endpoint.slice(i + 1)) - 1}`;
}
