/**
 * What an application server reads from an SDP offer and writes in its
 * answer, through @imslab/sdp.
 */
import { buildAudioSdp, parseSdp, SdpMediaError, type ExtraMediaSpec, type SdpDirection } from '@imslab/sdp';

export { SdpError } from '@imslab/sdp';
export type { ExtraMediaSpec } from '@imslab/sdp';

/** What an application server needs from an SDP offer: where the audio goes and how it is keyed. */
export interface OfferedMedia {
  address: string;
  port: number;
  /** RTP/AVP or RTP/SAVP. */
  profile: string;
  /** a=crypto lines (RFC 4568) as `tag suite key-params [session-params]`. */
  crypto: string[];
  /** a=key-mgmt values (RFC 4567), e.g. `mikey <base64>`, media level first. */
  keyMgmt: string[];
  direction: SdpDirection;
  /** Other attributes by name (a=3ge2ae and the like); a media-level one wins over a session-level one. */
  attributes: Record<string, string>;
}

/**
 * Reads the first audio stream in use of an offer.
 * @throws SdpError saying what is missing or malformed
 */
export function readOffer(sdp: string): OfferedMedia {
  const d = parseSdp(sdp);
  const m = d.requireAudio('the offer');
  const attributes: Record<string, string> = {};
  for (const a of [...d.attributes, ...m.attributes]) if (a.name !== 'key-mgmt') attributes[a.name] = a.value;
  return { address: m.connectionAddress!, port: m.port, profile: m.protocol, crypto: m.crypto, keyMgmt: m.keyMgmt, direction: m.direction, attributes };
}

/** Our answer: PCMU on one audio stream, the given profile, direction and security lines. */
export interface AnswerSpec {
  address: string;
  port: number;
  profile: string;
  direction: SdpDirection;
  crypto?: string[];
  keyMgmt?: string[];
  attributes?: string[];
  /**
   * The answer's m= sections after the audio one, one per offered stream
   * after it, in the offer's order (RFC 3264 sec. 6): {@link acceptStream}
   * or {@link refuseStream} of each {@link readExtraStreams} entry.
   */
  extraMedia?: ExtraMediaSpec[];
}

/**
 * The SDP of our answer.
 * @throws SdpBuildError for a value SDP cannot carry
 */
export function buildAnswer(a: AnswerSpec): string {
  return buildAudioSdp({ address: a.address, port: a.port, protocol: a.profile, direction: a.direction, crypto: a.crypto ?? [], keyMgmt: a.keyMgmt ?? [], attributes: a.attributes ?? [], extraMedia: a.extraMedia ?? [] });
}

/** One m= section of an offer after its audio stream (video, real-time text, anything else), as an answerer reads it. */
export interface OfferedStream {
  /** 0-based position of its m= section in the offer (the audio stream is 0). */
  index: number;
  /** Media type: video, text, application, ... */
  type: string;
  /** 0: the offerer disabled the stream (the answer must too, RFC 3264 sec. 6). */
  port: number;
  /** Transport protocol as written: RTP/SAVP, RTP/AVP, ... */
  profile: string;
  /** The `<fmt>` list as written. */
  formats: string[];
  /** Its RTP payload types (the numeric formats). */
  payloadTypes: number[];
  /** The lines that describe its formats, as written and in order (b=, a=rtpmap, a=fmtp, a=framerate): what an answer accepting it echoes. */
  formatLines: string[];
  /** Where its media goes: its c= address, else the session's; null when neither has one. */
  address: string | null;
  direction: SdpDirection;
  rtcpMux: boolean;
  /** Its a=crypto values (RFC 4568, media level). */
  crypto: string[];
  /** a=key-mgmt values that apply to it (its own, then the session's). */
  keyMgmt: string[];
}

/** The lines of a section worth echoing in an answer that accepts it: bandwidth and format parameters, nothing about keys or direction. */
const FORMAT_LINE = /^(?:b=|a=(?:rtpmap|fmtp|framerate):)/;

/**
 * The offer's streams after its audio stream in use (the one {@link readOffer}
 * reads), in order. An answer built by {@link buildAnswer} writes the audio
 * first, so an offer with any m= section before that audio stream (a video
 * first, a disabled audio) cannot be answered in its own order (RFC 3264
 * sec. 6) and is refused here rather than answered out of order.
 * @throws SdpError what readOffer throws for, or a section before the audio stream
 */
export function readExtraStreams(sdp: string): OfferedStream[] {
  const d = parseSdp(sdp);
  const audio = d.requireAudio('the offer');
  if (audio.index !== 0) throw new SdpMediaError(`the offer's audio stream in use is its m= section ${audio.index + 1}: this answerer writes the audio first and cannot keep the offer's order (RFC 3264 sec. 6)`);
  const lines = sdp.split(/\r\n|\r|\n/);
  const sections = d.media.slice(1);
  return sections.map((m, i) => {
    // The section's lines: from its m= line to the next m= line (or the end); line numbers are 1-based.
    const end = sections[i + 1]?.line ?? lines.length + 1;
    const own = lines.slice(m.line, end - 1);
    return {
      index: m.index, type: m.type, port: m.port, profile: m.protocol, formats: [...m.formats], payloadTypes: m.payloadTypes,
      formatLines: own.filter((l) => FORMAT_LINE.test(l)), address: m.connectionAddress, direction: m.direction, rtcpMux: m.rtcpMux,
      crypto: m.crypto, keyMgmt: m.keyMgmt,
    };
  });
}

/** The direction that answers an offered one (RFC 3264 sec. 6.1): sendonly is answered recvonly, recvonly sendonly. */
export function answerDirection(offered: SdpDirection): SdpDirection {
  return offered === 'sendonly' ? 'recvonly' : offered === 'recvonly' ? 'sendonly' : offered;
}

/**
 * The answer's section accepting `s` on our `port`: the offer's m= line with
 * our port (and `profile`, default the offered one), its format lines, and
 * the answering direction (default {@link answerDirection} of the offered one).
 */
export function acceptStream(s: OfferedStream, a: { port: number; profile?: string; direction?: SdpDirection; crypto?: string[]; attributes?: string[] }): ExtraMediaSpec {
  return {
    lines: [`m=${s.type} ${a.port} ${a.profile ?? s.profile} ${s.formats.join(' ')}`, ...s.formatLines],
    direction: a.direction ?? answerDirection(s.direction), crypto: a.crypto ?? [], attributes: a.attributes ?? [],
  };
}

/** A transport protocol our SDP writer accepts (the offered one, when it is). */
const WRITABLE_PROFILE = /^[A-Za-z0-9]+(?:\/[A-Za-z0-9]+)*$/;

/**
 * The answer's section refusing `s` (RFC 3264 sec. 6): port 0, the offered
 * type, protocol and formats (ignored by the offerer, but at least one must
 * be there), inactive, nothing else.
 */
export function refuseStream(s: OfferedStream): ExtraMediaSpec {
  const profile = WRITABLE_PROFILE.test(s.profile) ? s.profile : 'RTP/AVP';
  const formats = s.formats.filter((f) => /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/.test(f));
  return { lines: [`m=${s.type} 0 ${profile} ${formats.length ? formats.join(' ') : '0'}`], direction: 'inactive' };
}
