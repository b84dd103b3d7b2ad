/**
 * A parsed session description: sdp-transform's reading of the text, with
 * the accessors imslab needs, resolved the way RFC 4566 / RFC 3264 say
 * (media level over session level, sendrecv by default).
 */
import sdpTransform from 'sdp-transform';
import { splitAttribute, type SdpAttribute } from './attribute.ts';
import { readCryptoValue, type SdesLine } from './crypto.ts';
import { SdpMediaError, SdpParseError } from './errors.ts';
import { decodeMikeyKeyMgmt, isMikeyKeyMgmt } from './key-mgmt.ts';
import { rawSections, type RawSection, type SdpLine } from './section-lines.ts';
import type { KeyMgmtAttribute } from '@imslab/mikey';

/** Stream direction attributes (RFC 4566 sec. 6, RFC 3264 sec. 5.1). */
export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** The RTP profiles of SRTP: RTP/SAVP (RFC 3711 sec. 12) and RTP/SAVPF (RFC 5124). */
const SRTP_PROFILES = new Set(['RTP/SAVP', 'RTP/SAVPF']);

type Level = { invalid?: Array<{ value: string }>; direction?: SdpDirection; connection?: { version: number; ip: string } };

/** The attributes sdp-transform has no grammar for, minus a=crypto (read from the raw lines, see section-lines.ts). */
function otherAttributes(level: Level): SdpAttribute[] {
  // String(): sdp-transform turns an all-digit line ("a=7") into a number.
  return (level.invalid ?? []).map((a) => splitAttribute(String(a.value))).filter((a) => a.name !== 'crypto');
}

/**
 * The address of a c= line without the multicast TTL and address count
 * (RFC 4566 sec. 5.7: `<base multicast address>[/<ttl>]/<number of addresses>`);
 * IPv6 addresses contain no "/" of their own.
 */
function connectionAddress(c: { ip: string | number } | undefined): string | null {
  if (!c || (!c.ip && c.ip !== 0)) return null;
  // sdp-transform turns an all-digit address ("c=IN IP4 7") into a number.
  const ip = String(c.ip);
  const slash = ip.indexOf('/');
  return slash < 0 ? ip : ip.slice(0, slash);
}

/** One m= section (RFC 4566 sec. 5.14) and what it inherits from the session level. */
export class MediaSection {
  /** 0-based position among the readable m= sections. */
  readonly index: number;
  /** Media type: audio, video, ... */
  readonly type: string;
  /** Transport port; 0 marks a disabled or rejected stream (RFC 3264 sec. 6). */
  readonly port: number;
  /** Transport protocol as written, e.g. `RTP/AVP`, `RTP/SAVP`. */
  readonly protocol: string;
  /** The `<fmt>` list as written. */
  readonly formats: readonly string[];
  /** This section's attributes that have no typed accessor (a=key-mgmt, a=3ge2ae, ...), in order. */
  readonly attributes: readonly SdpAttribute[];

  constructor(
    private readonly m: sdpTransform.MediaDescription,
    private readonly session: SessionDescription,
    index: number,
    private readonly raw: RawSection,
  ) {
    this.index = index;
    this.type = m.type;
    this.port = m.port;
    this.protocol = m.protocol;
    this.formats = String(m.payloads ?? '').split(/\s+/).filter(Boolean);
    this.attributes = otherAttributes(m as Level);
  }

  /** The m= line's 1-based line number in the SDP text. */
  get line(): number {
    return this.raw.mLine?.line ?? 0;
  }

  /** RTP payload types of the `<fmt>` list (RTP profiles carry numbers there). */
  get payloadTypes(): number[] {
    return this.formats.filter((f) => /^\d{1,3}$/.test(f)).map(Number);
  }

  /** A port other than 0: the stream is in use (RFC 3264 sec. 6). */
  get active(): boolean {
    return this.port !== 0;
  }

  /** SRTP: RTP/SAVP (RFC 3711 sec. 12) or RTP/SAVPF (RFC 5124); RTP/AVP and the rest are not. */
  get srtp(): boolean {
    return SRTP_PROFILES.has(this.protocol);
  }

  /** Where the media goes: this section's c= address, else the session's (RFC 4566 sec. 5.7); null when neither has one. */
  get connectionAddress(): string | null {
    return connectionAddress(this.m.connection) ?? this.session.connectionAddress;
  }

  /** 4 or 6, from the c= line that applies; null without one. */
  get addressFamily(): 4 | 6 | null {
    const c = this.m.connection ?? this.session.raw.connection;
    return c ? (c.version === 6 ? 6 : 4) : null;
  }

  /** The direction attribute of this section, else of the session, else sendrecv (RFC 4566 sec. 6, RFC 3264 sec. 5.1). */
  get direction(): SdpDirection {
    return (this.m as Level).direction ?? this.session.direction ?? 'sendrecv';
  }

  /** a=rtcp-mux: RTP and RTCP on one port (RFC 5761 sec. 5.1.1). */
  get rtcpMux(): boolean {
    return this.m.rtcpMux === 'rtcp-mux';
  }

  /** Values of this section's a=crypto lines (RFC 4568; a media-level attribute), as written. */
  get crypto(): string[] {
    return this.raw.crypto.map((l) => l.text);
  }

  /** This section's a=crypto lines read by @imslab/srtp's SDES codec, each with what it means or why it is unusable. */
  sdes(): SdesLine[] {
    return this.raw.crypto.map((l: SdpLine) => readCryptoValue(l.text));
  }

  /**
   * The a=key-mgmt values that apply to this stream: its own, then the
   * session-level ones (RFC 4567 sec. 3.1: both levels may carry it, the
   * media level takes precedence).
   */
  get keyMgmt(): string[] {
    return [...valuesOf(this.attributes, 'key-mgmt'), ...this.session.keyMgmt];
  }

  /**
   * The MIKEY messages of {@link keyMgmt}, decoded by @imslab/mikey, in the same order.
   * @throws SdpAttributeError for a MIKEY value that does not decode
   */
  mikey(): KeyMgmtAttribute[] {
    return this.keyMgmt.filter(isMikeyKeyMgmt).map(decodeMikeyKeyMgmt);
  }

  /** The a=3ge2ae value (TS 24.229: e2ae `requested` / `applied`) of this section, else of the session; null when absent. */
  get e2ae(): string | null {
    return valuesOf(this.attributes, '3ge2ae')[0] ?? valuesOf(this.session.attributes, '3ge2ae')[0] ?? null;
  }

  /** The attribute with this name: this section's, else the session's; undefined when neither has it. */
  attribute(name: string): string | undefined {
    return valuesOf(this.attributes, name)[0] ?? valuesOf(this.session.attributes, name)[0];
  }
}

function valuesOf(attrs: readonly SdpAttribute[], name: string): string[] {
  return attrs.filter((a) => a.name === name).map((a) => a.value);
}

/** A parsed SDP (RFC 4566). */
export class SessionDescription {
  /** The m= sections in order. */
  readonly media: readonly MediaSection[];
  /** Session-level attributes that have no typed accessor, in order. */
  readonly attributes: readonly SdpAttribute[];

  /** m= sections left out because they could not be read (only with `malformedMedia: 'skip'`). */
  readonly skipped: readonly SdpParseError[];

  /** @internal use {@link parseSdp} */
  constructor(readonly raw: sdpTransform.SessionDescription, media: Array<{ m: sdpTransform.MediaDescription; raw: RawSection }>, skipped: SdpParseError[]) {
    this.attributes = otherAttributes(raw as Level);
    this.media = media.map((x, i) => new MediaSection(x.m, this, i, x.raw));
    this.skipped = skipped;
  }

  /** The session-level c= address (RFC 4566 sec. 5.7), without TTL or count; null when absent. */
  get connectionAddress(): string | null {
    return connectionAddress(this.raw.connection);
  }

  /** The session-level direction attribute, if any (it applies to every section without its own). */
  get direction(): SdpDirection | undefined {
    return (this.raw as Level).direction;
  }

  /** Session-level a=key-mgmt values (RFC 4567 sec. 3.1). */
  get keyMgmt(): string[] {
    return valuesOf(this.attributes, 'key-mgmt');
  }

  /** The first m= section of this media type that is in use (port other than 0), if any. */
  firstActive(type: string): MediaSection | undefined {
    return this.media.find((m) => m.type === type && m.active);
  }

  /**
   * The stream an audio endpoint uses: the first m=audio section with a port
   * other than 0 (RFC 3264 sec. 6: port 0 is a rejected or disabled stream)
   * and a c= address. `what` names the description in the messages
   * ("the offer", "the answer").
   * @throws SdpMediaError saying what is missing
   */
  requireAudio(what = 'the SDP'): MediaSection {
    const audio = this.media.filter((m) => m.type === 'audio');
    if (audio.length === 0) throw new SdpMediaError(`${what} has no m=audio stream`);
    const m = audio.find((a) => a.active);
    if (!m) throw new SdpMediaError('the audio stream is disabled (port 0)');
    if (!m.connectionAddress) throw new SdpMediaError(`${what} has no c= address for its audio`);
    return m;
  }
}

/** How {@link parseSdp} treats an m= line it cannot read. */
export interface ParseOptions {
  /**
   * `throw` (default): an {@link SdpParseError}, for endpoints that must
   * answer a malformed description with a reason. `skip`: leave the section
   * out of `media` and list the error in `skipped`, for observers (the
   * analysis) that want whatever the rest of the description shows.
   */
  malformedMedia?: 'throw' | 'skip';
}

/**
 * Parses SDP text with sdp-transform. Lenient where peers differ harmlessly
 * (unknown lines and attributes are kept or skipped, as sdp-transform does;
 * an empty text is a description without media), strict where a reader
 * would otherwise guess.
 * @throws SdpParseError for an m= line that is not `<media> <port> <proto> <fmt> ...` with a port of 0..65535 (RFC 4566 sec. 5.14), unless told to skip it
 */
export function parseSdp(text: string, options: ParseOptions = {}): SessionDescription {
  const raw = sdpTransform.parse(text);
  const sections = rawSections(text);
  const kept: Array<{ m: sdpTransform.MediaDescription; raw: RawSection }> = [];
  const skipped: SdpParseError[] = [];
  (raw.media ?? []).forEach((m, i) => {
    const section = sections[i + 1]!;
    // sdp-transform turns an all-digit token into a number ("m=audio 0 5 0"); both are tokens (RFC 4566 sec. 9).
    for (const k of ['type', 'protocol'] as const) if (typeof m[k] === 'number') (m as unknown as Record<string, string>)[k] = String(m[k]);
    // sdp-transform opens a section for every m= line but fills it only when its grammar matched.
    if (typeof m.type !== 'string' || m.type === '' || typeof m.port !== 'number' || !Number.isInteger(m.port) || m.port > 65535 || !m.protocol) {
      const line = section.mLine!;
      const e = new SdpParseError(line.line, `m=${line.text}`, 'expected "<media> <port> <proto> <fmt> ..." with a port of 0..65535 (RFC 4566 sec. 5.14; a "/<number of ports>" is not supported)');
      if (options.malformedMedia !== 'skip') throw e;
      skipped.push(e);
      return;
    }
    kept.push({ m, raw: section });
  });
  return new SessionDescription(raw, kept, skipped);
}
