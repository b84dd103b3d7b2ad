/**
 * What the SDP inside a SIP message seen in the clear gives away: the media
 * endpoints it announces (to tie flows to the dialog), the SDES keys, the
 * e2ae marks and the MIKEY offers. The SDP is read with @imslab/sdp; only
 * the SIP framing around it (Call-ID, where the body starts) is read here.
 */
import { isMikeyKeyMgmt, parseSdp, type SessionDescription } from '@imslab/sdp';

/** A media endpoint an SDP announces: `address:port` as the flow reports name their ends (IPv6 as `[address]:port`). */
export interface SdpEndpoint {
  endpoint: string;
  callId: string;
  protocol: string;
}

/** An SDES key readable in an a=crypto line: its suite and key||salt in base64. */
export interface SdesOffer {
  suite: string;
  keySalt: string;
}

/** Everything the SDP of one SIP message shows. */
export interface SipSdpFindings {
  /** The message's Call-ID ('' when it has none). */
  callId: string;
  endpoints: SdpEndpoint[];
  sdes: SdesOffer[];
  /** a=3ge2ae values, session and media level. */
  e2ae: string[];
  /** a=key-mgmt attributes carrying MIKEY (RFC 4567), counted where written. */
  mikeyOffers: number;
}

const CALL_ID = /^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)/im;

/**
 * `address:port` as the analyser names flow ends: IPv6 in brackets and in
 * its RFC 5952 form (lower case, longest zero run as `::`, IPv4-mapped as
 * dotted quad), whatever form the SDP wrote it in (RFC 4566 sec. 5.7, IP6).
 */
export function sdpEndpoint(address: string, port: number): string {
  if (!address.includes(':')) return `${address}:${port}`;
  let text = address;
  try {
    // WHATWG URL serialises IPv6 hosts in the RFC 5952 compressed form.
    text = new URL(`http://[${address}]/`).hostname.slice(1, -1);
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(text);
    if (mapped) {
      const hi = parseInt(mapped[1]!, 16);
      const lo = parseInt(mapped[2]!, 16);
      text = `::ffff:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
    }
  } catch {
    // Not an IPv6 address after all: keep it as written.
  }
  return `[${text}]:${port}`;
}

/**
 * The SDP of a SIP message (its body: after the first empty line), read as an
 * observer reads it: unreadable m= sections are skipped, not fatal. Null when
 * there is no body.
 */
function sdpOf(sipText: string): SessionDescription | null {
  const sep = /\r?\n\r?\n/.exec(sipText);
  if (!sep) return null;
  return parseSdp(sipText.slice(sep.index + sep[0].length), { malformedMedia: 'skip' });
}

/** Reads the SDP of a SIP message seen in the clear; never throws. */
export function readSipSdp(sipText: string): SipSdpFindings {
  const callId = CALL_ID.exec(sipText)?.[1] ?? '';
  const found: SipSdpFindings = { callId, endpoints: [], sdes: [], e2ae: [], mikeyOffers: 0 };
  const d = sdpOf(sipText);
  if (!d) return found;
  const levels = [d.attributes, ...d.media.map((m) => m.attributes)];
  for (const attrs of levels) {
    for (const a of attrs) {
      if (a.name === '3ge2ae') found.e2ae.push(a.value);
      else if (a.name === 'key-mgmt' && isMikeyKeyMgmt(a.value)) found.mikeyOffers++;
    }
  }
  for (const m of d.media) {
    // RFC 4566 sec. 5.7 / 5.14: c= of the section or of the session, port of the m= line.
    if (m.active && m.connectionAddress) found.endpoints.push({ endpoint: sdpEndpoint(m.connectionAddress, m.port), callId, protocol: m.protocol });
    for (const line of m.sdes()) {
      if (!line.attribute) continue;
      for (const k of line.attribute.keyParams) found.sdes.push({ suite: line.attribute.suite, keySalt: k.keySalt.toString('base64') });
    }
  }
  return found;
}

/**
 * The media endpoints an SDP body announces (RFC 4566: c= at session or media
 * level, m= port), so media flows can be tied to the SIP dialog that set them up.
 */
export function sdpEndpoints(sipText: string): SdpEndpoint[] {
  return readSipSdp(sipText).endpoints;
}
