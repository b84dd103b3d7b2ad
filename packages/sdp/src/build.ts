/**
 * Writing the SDP of an imslab endpoint through sdp-transform: one m=audio
 * stream with one codec, its direction and its security lines, and any
 * further streams (video, real-time text) after it. Every
 * value is checked before it is written, so that no caller can put a line
 * break (a line of its own) or a malformed key line into a description.
 */
import sdpTransform from 'sdp-transform';
import { splitAttribute } from './attribute.ts';
import { readCryptoValue } from './crypto.ts';
import type { SdpDirection } from './description.ts';
import { SdpBuildError } from './errors.ts';
import { keyMgmtProtocol } from './key-mgmt.ts';

/** An RTP payload format: static payload type, encoding name and clock rate (a=rtpmap, RFC 4566 sec. 6). */
export interface RtpCodec {
  payload: number;
  codec: string;
  rate: number;
}

/** G.711 µ-law: static payload type 0 at 8 kHz (RFC 3551 sec. 6), the testbed's only codec. */
export const PCMU: RtpCodec = Object.freeze({ payload: 0, codec: 'PCMU', rate: 8000 });

/** What an audio endpoint's SDP says. */
export interface AudioSdpSpec {
  /** The c= and o= address: IPv4 or IPv6. */
  address: string;
  port: number;
  /** Transport protocol, e.g. `RTP/AVP`, `RTP/SAVP`. */
  protocol: string;
  /** o= session id and version (RFC 4566 sec. 5.2); default: the current time in seconds, version 0. */
  sessionId?: number;
  sessionVersion?: number;
  /** s= line; default `imslab`. */
  sessionName?: string;
  /** Default {@link PCMU}. */
  codec?: RtpCodec;
  /** a=ptime in ms; default 20, 0 to leave it out. */
  ptime?: number;
  /** Default sendrecv, written explicitly. */
  direction?: SdpDirection;
  /** a=rtcp-mux (RFC 5761 sec. 5.1.1). */
  rtcpMux?: boolean;
  /** a=crypto values (text after `a=crypto:`); each must parse with @imslab/srtp's SDES codec (RFC 4568). */
  crypto?: readonly string[];
  /** a=key-mgmt values (`<prtcl-id> <data>`, RFC 4567 sec. 3.1), written at media level (sec. 3.1 allows it). */
  keyMgmt?: readonly string[];
  /** Further media-level attributes as `name` or `name:value`, e.g. `3ge2ae:requested`. */
  attributes?: readonly string[];
  /** More m= sections after the audio one, in order (video, real-time text). */
  extraMedia?: readonly ExtraMediaSpec[];
}

/**
 * One more m= section: its format lines as a media source writes them (the
 * m= line first, then b=, a=rtpmap, a=fmtp and the like, e.g. @imslab/probe
 * VideoProbeSender.sdpLines), and the security and direction lines added here.
 */
export interface ExtraMediaSpec {
  lines: readonly string[];
  direction?: SdpDirection;
  crypto?: readonly string[];
  keyMgmt?: readonly string[];
  attributes?: readonly string[];
}

const NO_BREAK = /^[^\r\n]*$/;
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/; // RFC 4566 sec. 9: att-field = token
const PROTOCOL = /^[A-Za-z0-9]+(?:\/[A-Za-z0-9]+)*$/;

function check(spec: AudioSdpSpec): void {
  if (!spec.address || /\s/.test(spec.address)) throw new SdpBuildError('address', `"${spec.address}" is not an address`);
  if (!Number.isInteger(spec.port) || spec.port < 0 || spec.port > 65535) throw new SdpBuildError('port', `${spec.port} is not a port (0..65535)`);
  if (!PROTOCOL.test(spec.protocol)) throw new SdpBuildError('protocol', `"${spec.protocol}" is not a transport protocol such as RTP/AVP (RFC 4566 sec. 5.14)`);
  if (spec.sessionName !== undefined && (!spec.sessionName || !NO_BREAK.test(spec.sessionName))) throw new SdpBuildError('sessionName', 's= needs one line of text (RFC 4566 sec. 5.3)');
  checkLines(spec);
}

/** The security and attribute lines of one m= section. */
function checkLines(spec: Pick<AudioSdpSpec, 'crypto' | 'keyMgmt' | 'attributes'>): void {
  for (const c of spec.crypto ?? []) {
    const r = readCryptoValue(c);
    if (r.error) throw new SdpBuildError('crypto', r.error.message);
  }
  for (const k of spec.keyMgmt ?? []) {
    if (!NO_BREAK.test(k) || keyMgmtProtocol(k) === null) throw new SdpBuildError('keyMgmt', `"${k.slice(0, 40)}" is not "<prtcl-id> <keymgmt-data>" on one line (RFC 4567 sec. 3.1)`);
  }
  for (const a of spec.attributes ?? []) {
    if (!NO_BREAK.test(a) || !TOKEN.test(splitAttribute(a).name)) throw new SdpBuildError('attributes', `"${a.slice(0, 40)}" is not "<attribute>[:<value>]" on one line (RFC 4566 sec. 5.13)`);
  }
}

/**
 * An extra m= section as sdp-transform holds it: its format lines parsed on
 * their own (exactly one m= line, first), then the direction, the security
 * lines and the attributes added.
 */
function extraSection(x: ExtraMediaSpec, i: number): sdpTransform.MediaDescription {
  const what = `extraMedia[${i}]`;
  if (x.lines.length === 0 || !x.lines[0]!.startsWith('m=') || x.lines.slice(1).some((l) => l.startsWith('m='))) throw new SdpBuildError(what, 'needs exactly one m= line, first');
  for (const l of x.lines) if (!NO_BREAK.test(l) || !/^[a-z]=/.test(l)) throw new SdpBuildError(what, `"${l.slice(0, 40)}" is not one SDP line "<type>=<value>" (RFC 4566 sec. 5)`);
  if (x.lines.some((l) => /^a=(crypto|key-mgmt|sendrecv|sendonly|recvonly|inactive)\b/.test(l))) throw new SdpBuildError(what, 'direction and security lines go in direction, crypto and keyMgmt, not in lines');
  checkLines(x);
  const parsed = sdpTransform.parse(['v=0', ...x.lines, ''].join('\r\n')).media?.[0];
  if (!parsed || !PROTOCOL.test(String(parsed.protocol)) || !Number.isInteger(parsed.port)) throw new SdpBuildError(what, `"${x.lines[0]!.slice(0, 60)}" is not an m= line "m=<media> <port> <proto> <fmt> ..." (RFC 4566 sec. 5.14)`);
  parsed.direction = x.direction ?? 'sendrecv';
  parsed.crypto = (x.crypto ?? []).map(cryptoFields);
  parsed.invalid = [...(parsed.invalid ?? []), ...(x.keyMgmt ?? []).map((v) => ({ value: `key-mgmt:${v}` })), ...(x.attributes ?? []).map((value) => ({ value }))];
  return parsed;
}

/** Splits an a=crypto value into the fields sdp-transform writes back as `%d %s %s %s`. */
function cryptoFields(value: string): { id: number; suite: string; config: string; sessionConfig?: string } {
  const [id = '', suite = '', config = '', ...session] = value.trim().split(/[ \t]+/);
  return { id: Number(id), suite, config, ...(session.length ? { sessionConfig: session.join(' ') } : {}) };
}

/**
 * The SDP text of one audio stream: v=, o=, s=, c=, t=0 0, m=audio with one
 * codec, a=rtpmap, a=ptime, the direction, a=rtcp-mux, a=crypto, a=key-mgmt
 * and further attributes, CRLF line ends (RFC 4566 sec. 5).
 * @throws SdpBuildError for a value SDP cannot carry
 */
export function buildAudioSdp(spec: AudioSdpSpec): string {
  check(spec);
  const codec = spec.codec ?? PCMU;
  const ipVer = spec.address.includes(':') ? 6 : 4;
  const ptime = spec.ptime ?? 20;
  const media: sdpTransform.MediaDescription = {
    type: 'audio',
    port: spec.port,
    protocol: spec.protocol,
    payloads: String(codec.payload),
    rtp: [{ payload: codec.payload, codec: codec.codec, rate: codec.rate }],
    fmtp: [],
    ...(ptime > 0 ? { ptime } : {}),
    direction: spec.direction ?? 'sendrecv',
    ...(spec.rtcpMux ? { rtcpMux: 'rtcp-mux' as const } : {}),
    crypto: (spec.crypto ?? []).map(cryptoFields),
    // sdp-transform writes attributes it has no grammar for from `invalid`, verbatim.
    invalid: [...(spec.keyMgmt ?? []).map((v) => ({ value: `key-mgmt:${v}` })), ...(spec.attributes ?? []).map((value) => ({ value }))],
  };
  return sdpTransform.write({
    version: 0,
    origin: { username: '-', sessionId: spec.sessionId ?? Math.floor(Date.now() / 1000), sessionVersion: spec.sessionVersion ?? 0, netType: 'IN', ipVer, address: spec.address },
    name: spec.sessionName ?? 'imslab',
    connection: { version: ipVer, ip: spec.address },
    timing: { start: 0, stop: 0 },
    media: [media, ...(spec.extraMedia ?? []).map(extraSection)],
  });
}
