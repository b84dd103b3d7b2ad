/**
 * The verdict on one message (SIP MESSAGE or MSRP SEND), from where its
 * marker and its CMS were seen on each link. Pure: the sightings come from
 * messages.ts, which reads the captures, the TLS key logs and the stores.
 *
 * - `none`: the marker is readable in the raw bytes of some link (UDP
 *   payloads, reassembled TCP streams): anyone on that link reads it.
 * - `hop-by-hop(<elements>)`: readable only after TLS decryption with the key
 *   logs: the elements that terminate that TLS (the servers; the users' own
 *   devices are not named unless no server is) read it.
 * - `e2e`: never readable; CMS (EnvelopedData or AuthEnvelopedData) whose
 *   every recipient is a user's certificate on every link it crossed, and the
 *   CMS bytes leaving every server identical to bytes that entered it.
 * - `unknown`: anything else (no sighting, CMS that changed at a server, a
 *   recipient that is not a user, a TLS stream the key logs did not open,
 *   CMS that does not parse, a server that stored it in plaintext).
 *
 * A store (or log) of an element holding the marker means that element read
 * it: it is named in a hop-by-hop verdict and rules out e2e.
 */
import type { CmsKind } from './cms-sniff.ts';

export type MessageVerdict = 'e2e' | 'none' | 'unknown' | `hop-by-hop(${string})`;
/** The verdicts as a pattern, for files that name one. */
export const MESSAGE_VERDICT_PATTERN = /^(e2e|none|unknown|hop-by-hop\([A-Za-z0-9+.:[\]_-]+\))$/;

/** What carried the bytes the marker or the CMS was found in. */
export type MessageCarrier = 'sip' | 'msrp' | 'udp' | 'tcp';

/** Where one message was seen on one flow of one link. */
export interface FlowEnds {
  link: string;
  /** `udp|tcp src > dst`, as the media flows are named. */
  flow: string;
  src: string;
  dst: string;
  /** The elements owning the two ends (the address when no element owns it). */
  srcElement: string;
  dstElement: string;
}

/** The marker read on a flow: in its raw bytes, or inside TLS with the key logs. */
export interface MarkerSighting extends FlowEnds {
  marker: string;
  inside: 'raw' | 'tls';
  carrier: MessageCarrier;
  /** Packets (raw) or decrypted TLS chunks (tls) it was read in. */
  count: number;
}

/** A CMS structure seen in a MESSAGE or SEND body on a flow. */
export interface CmsSighting extends FlowEnds {
  carrier: 'sip' | 'msrp';
  insideTls: boolean;
  callId?: string;
  msrpMessageId?: string;
  kind: CmsKind;
  sha256: string;
  bytes: number;
  /** RecipientInfos as described by @imslab/cms (`issuer <CN> serial <hex>`). */
  recipients: string[];
  /** The users the recipients are (certificate subjectAltNames); a recipient that is no user's certificate is absent here. */
  recipientIdentities: string[];
  /** Every recipient is one of the users' certificates. */
  allRecipientsUsers: boolean;
  /** Why it could not be read (truncated, malformed). */
  error?: string;
  /** How it was tied to the message: by Call-ID, MSRP Message-ID, same bytes as another sighting, or its decrypted content. */
  attributedBy?: 'call-id' | 'message-id' | 'same-bytes' | 'decrypted';
}

/** A TLS stream on a link whose key logs did not open it (application data, nothing decrypted). */
export interface UnopenedTls extends FlowEnds {
  why: string;
}

/** A marker found in what an element stored or logged. */
export interface StoreSighting {
  element: string;
  /** `ue` for a user's own device (reading its own messages is no finding). */
  kind?: string;
  file: string;
}

export type MessageLinkProtection = 'plaintext' | 'tls' | 'cms' | 'absent';

export interface MessageLinkReport {
  link: string;
  /** The weakest seen: plaintext, else tls, else cms, else absent. */
  protection: MessageLinkProtection;
  plaintext: MarkerSighting[];
  tls: MarkerSighting[];
  cms: CmsSighting[];
}

/** Per server the message crossed: the CMS digests that entered it and that left it. */
export interface ServerCrossing {
  element: string;
  in: string[];
  out: string[];
  /** Every digest that left was one that entered. */
  identical: boolean;
}

export interface MessageReport {
  marker: string;
  alias?: string;
  verdict: MessageVerdict;
  links: Record<string, MessageLinkReport>;
  servers: ServerCrossing[];
  /** Elements that could read the message (TLS endpoints, stores with it in plaintext); everyone when `none`. */
  readBy: string[];
  stores: StoreSighting[];
  /**
   * Store files (of servers, not users' devices) whose bytes are exactly a
   * CMS of this message seen on a link: the message kept at rest as
   * ciphertext (an offline store, TR 33.828 4.3 deferred delivery).
   */
  cmsAtRest?: Array<StoreSighting & { sha256: string }>;
  reasons: string[];
}

/** Everything the judgement needs about one message. */
export interface MessageEvidence {
  marker: string;
  alias?: string;
  links: string[];
  markers: MarkerSighting[];
  cms: CmsSighting[];
  unopenedTls: UnopenedTls[];
  stores: StoreSighting[];
  /** Element kind by name (`ue` for users' devices), from the address owners. */
  kindOf: (element: string) => string | undefined;
  /** Users' certificates were given: recipients can be checked. */
  haveUserCertificates: boolean;
  /** Identities the message was for (each must be a recipient of every CMS). */
  expectedRecipients?: string[];
  /** Links it must be seen on (as CMS) for e2e. */
  expectedLinks?: string[];
}

const uniq = (xs: string[]): string[] => [...new Set(xs)].sort();
const where = (s: FlowEnds): string => `${s.link} ${s.flow} (${s.srcElement} -> ${s.dstElement})`;

/** The verdict of one message and why. */
export function judgeMessage(ev: MessageEvidence): MessageReport {
  const links: Record<string, MessageLinkReport> = {};
  for (const l of ev.links) {
    const plaintext = ev.markers.filter((m) => m.link === l && m.inside === 'raw');
    const tls = ev.markers.filter((m) => m.link === l && m.inside === 'tls');
    const cms = ev.cms.filter((c) => c.link === l);
    const protection: MessageLinkProtection = plaintext.length > 0 ? 'plaintext' : tls.length > 0 ? 'tls' : cms.length > 0 ? 'cms' : 'absent';
    links[l] = { link: l, protection, plaintext, tls, cms };
  }
  const servers = crossings(ev.cms, ev.kindOf);
  const reasons: string[] = [];
  const isUe = (e: string) => ev.kindOf(e) === 'ue';
  const storing = ev.stores.filter((s) => s.kind !== 'ue' && ev.kindOf(s.element) !== 'ue');
  const storeReasons = storing.map((s) => `${s.element} holds the message in plaintext at rest (${s.file}): it reads it`);
  const ownStores = ev.stores.filter((s) => !storing.includes(s)).map((s) => `${s.element} (a user's device) holds it in plaintext (${s.file})`);

  const report = (verdict: MessageVerdict, readBy: string[]): MessageReport => ({
    marker: ev.marker, ...(ev.alias !== undefined ? { alias: ev.alias } : {}), verdict, links, servers, readBy: uniq(readBy), stores: ev.stores, reasons: [...reasons, ...storeReasons, ...ownStores],
  });

  const raw = ev.markers.filter((m) => m.inside === 'raw');
  if (raw.length > 0) {
    for (const m of raw) reasons.push(`readable in the clear on ${where(m)}, ${m.count} ${m.carrier} ${m.count === 1 ? 'packet' : 'packets'}`);
    return report('none', ['anyone on ' + uniq(raw.map((m) => m.link)).join(', ')]);
  }

  const tls = ev.markers.filter((m) => m.inside === 'tls');
  if (tls.length > 0) {
    const ends = uniq(tls.flatMap((m) => [m.srcElement, m.dstElement]));
    const servers = ends.filter((e) => !isUe(e));
    const named = uniq([...(servers.length > 0 ? servers : ends), ...storing.map((s) => s.element)]);
    for (const m of tls) reasons.push(`readable inside TLS on ${where(m)}: protected on the link, read by ${m.srcElement} and ${m.dstElement}`);
    const passed = new Set(tls.flatMap((m) => [m.srcElement, m.dstElement]));
    for (const u of ev.unopenedTls.filter((x) => onPath(x, passed, isUe))) reasons.push(`TLS not opened on ${where(u)} (${u.why}): its ends may read it too`);
    return report(`hop-by-hop(${named.join('+')})`, [...ends, ...named]);
  }

  if (ev.cms.length === 0) {
    reasons.push('the marker was read nowhere and no CMS was tied to the message (by Call-ID, MSRP Message-ID, identical bytes or its decrypted content)');
    for (const u of ev.unopenedTls) reasons.push(`TLS not opened on ${where(u)} (${u.why}): the message may be inside`);
    return report('unknown', storing.map((s) => s.element));
  }

  // CMS only: is it end to end?
  const failures: string[] = [];
  for (const c of ev.cms) {
    if (c.error) failures.push(`CMS on ${where(c)} does not read: ${c.error}`);
    else if (c.kind === 'signed-data' && c.recipients.length === 0) failures.push(`CMS on ${where(c)} is SignedData only: signed, not encrypted`);
    else if (c.recipients.length === 0) failures.push(`CMS on ${where(c)} names no recipient`);
    else if (!ev.haveUserCertificates) failures.push(`no users' certificates were given: the recipients of the CMS on ${where(c)} (${c.recipients.join('; ')}) cannot be shown to be users`);
    else if (!c.allRecipientsUsers) failures.push(`CMS on ${where(c)} has a recipient that is no user's certificate: ${c.recipients.join('; ')}`);
    else {
      const missing = (ev.expectedRecipients ?? []).filter((r) => !c.recipientIdentities.includes(r));
      if (missing.length > 0) failures.push(`CMS on ${where(c)} is not encrypted to ${missing.join(', ')}`);
    }
  }
  for (const l of ev.expectedLinks ?? []) {
    if (!ev.cms.some((c) => c.link === l)) failures.push(`no CMS of the message was seen on ${l}, a link it must cross`);
  }
  for (const s of servers) {
    if (!s.identical) failures.push(`the CMS changed at ${s.element}: in ${s.in.map(short).join(', ')}, out ${s.out.map(short).join(', ')} (not byte-identical: ${s.element} may have opened and re-encrypted it)`);
  }
  const crossed = new Set(ev.cms.flatMap((c) => [c.srcElement, c.dstElement]));
  for (const u of ev.unopenedTls.filter((x) => onPath(x, crossed, isUe))) failures.push(`TLS not opened on ${where(u)} (${u.why}): the message may cross it readable`);
  if (storing.length > 0) failures.push(`stored in plaintext by ${uniq(storing.map((s) => s.element)).join(', ')}`);
  if (failures.length > 0) {
    reasons.push(...failures);
    return report('unknown', storing.map((s) => s.element));
  }
  const recipients = uniq(ev.cms.flatMap((c) => c.recipientIdentities));
  for (const l of Object.values(links).filter((x) => x.cms.length > 0)) {
    reasons.push(`${l.link}: CMS ${uniq(l.cms.map((c) => c.kind)).join(', ')} ${uniq(l.cms.map((c) => short(c.sha256))).join(', ')}${l.cms.some((c) => c.insideTls) ? ' (inside TLS)' : ''}, marker nowhere in the clear`);
  }
  reasons.push(`encrypted to the users ${recipients.join(', ')} only`);
  if (!ev.cms.some((c) => isUe(c.dstElement))) reasons.push("not seen arriving at a user's device (stored for later delivery, or that link was not captured)");
  for (const s of servers) reasons.push(`${s.element} forwarded the CMS byte for byte (${s.out.map(short).join(', ')})`);
  return report('e2e', recipients);
}

const short = (h: string): string => `sha256:${h.slice(0, 12)}`;

/**
 * Whether a TLS stream the key logs did not open may have carried the
 * message: it joins an element the message crossed with another such element
 * or with a user's device (a UE's connection to its P-CSCF; not a UE's
 * connection to the KMS, which the message never crosses, nor an element's
 * connection to itself).
 */
function onPath(u: FlowEnds, crossed: ReadonlySet<string>, isUe: (e: string) => boolean): boolean {
  // A connection of an element to itself (the MSRP relay passing a SEND between the two sessions it
  // holds, from its core address to an access address) takes the message to nobody new.
  if (u.srcElement === u.dstElement) return false;
  const a = crossed.has(u.srcElement);
  const b = crossed.has(u.dstElement);
  return (a && b) || (a && isUe(u.dstElement)) || (b && isUe(u.srcElement));
}

/** Per element that received the message's CMS and sent it on: the digests in and out. */
function crossings(cms: CmsSighting[], kindOf: (e: string) => string | undefined): ServerCrossing[] {
  const elements = uniq(cms.map((c) => c.dstElement)).filter((e) => cms.some((c) => c.srcElement === e) && kindOf(e) !== 'ue');
  return elements.map((element) => {
    const ins = uniq(cms.filter((c) => c.dstElement === element).map((c) => c.sha256));
    const outs = uniq(cms.filter((c) => c.srcElement === element).map((c) => c.sha256));
    return { element, in: ins, out: outs, identical: outs.every((h) => ins.includes(h)) };
  });
}
