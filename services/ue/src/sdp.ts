/**
 * The UE's SDP: its audio stream (and any video and text streams after it)
 * written and the peer's read through @imslab/sdp, in the shape the
 * negotiation works with (MediaSecurityLines).
 */
import { buildAudioSdp, formatAttribute, parseSdp, PCMU, SdpBuildError, SdpError } from '@imslab/sdp';
import type { MediaSecurityLines } from './media-security.ts';
import { EXTRA_MEDIA_TYPES, probeSdpLines, type ExtraMediaType } from './probe-source.ts';

export { PCMU };

/** What our offer or answer contains. */
export interface LocalSdpSpec {
  address: string;
  port: number;
  sessionId: number;
  sessionVersion: number;
  security: MediaSecurityLines;
  /** Video and text streams after the audio one, in order: their keys come with the audio's (a PoC group key), so they carry no key lines. */
  extra?: ReadonlyArray<{ type: ExtraMediaType; port: number }>;
  /** m= lines with port 0 after the audio (and `extra`): the peer's streams we do not take, kept in its order (RFC 3264 sec. 6, 8). */
  rejected?: readonly string[];
}

/**
 * Our SDP: c=IN IP4 address, one m=audio line with PCMU only, ptime 20, the
 * direction, and the security lines (profile, a=crypto, a=key-mgmt at media
 * level as RFC 4567 sec. 3.1 allows, extra attributes such as a=3ge2ae).
 */
export function buildSdp(spec: LocalSdpSpec): string {
  const s = spec.security;
  return buildAudioSdp({
    address: spec.address, port: spec.port, sessionId: spec.sessionId, sessionVersion: spec.sessionVersion,
    protocol: s.profile, direction: s.direction ?? 'sendrecv', crypto: s.crypto, keyMgmt: s.keyMgmt ?? [], attributes: s.attributes,
    extraMedia: [
      ...(spec.extra ?? []).map((x) => ({ lines: probeSdpLines(x.type, x.port, s.profile), direction: s.direction ?? 'sendrecv' })),
      ...(spec.rejected ?? []).map((line) => ({ lines: [line], direction: 'inactive' as const })),
    ],
  });
}

/** The peer's audio stream as far as we use it. */
export interface RemoteSdp {
  address: string;
  port: number;
  payloads: number[];
  security: MediaSecurityLines;
  /** The peer's video and text streams, in order, where it sends and receives them (port 0: refused, RFC 3264 sec. 6). */
  extra: Array<{ type: ExtraMediaType; address: string; port: number }>;
  /** Every m= section after the audio one, as an m= line with port 0: what an answer that takes none of them lists (RFC 3264 sec. 6). */
  afterAudio: string[];
}

/**
 * Reads the first active audio stream of the peer's SDP. Fails (as a value)
 * when the SDP cannot be read, has no active audio stream, lacks a connection
 * address, or does not offer PCMU: the caller then answers 488 Not
 * Acceptable Here.
 */
export function parseRemoteSdp(body: string): { ok: true; sdp: RemoteSdp } | { ok: false; reason: string } {
  try {
    const d = parseSdp(body);
    const m = d.requireAudio('the SDP');
    // An answer lists the offer's streams in the offer's order (RFC 3264 sec. 6); ours starts with its audio.
    if (d.media[0] !== m) return { ok: false, reason: `the SDP's first m= section is ${d.media[0]!.type}${d.media[0]!.active ? '' : ' (port 0)'}, not the audio stream: this UE takes offers whose first stream is audio` };
    const payloads = m.payloadTypes;
    if (!payloads.includes(PCMU.payload)) return { ok: false, reason: `SDP audio offers payload types ${payloads.join(',') || 'none'}, not PCMU (0)` };
    const afterAudio = d.media.slice(1).map((x) => `m=${x.type} 0 ${x.protocol} ${x.formats.join(' ') || '0'}`);
    const unanswerable = rejectable(afterAudio);
    if (unanswerable) return { ok: false, reason: unanswerable };
    return {
      ok: true,
      sdp: {
        address: m.connectionAddress!,
        port: m.port,
        payloads,
        extra: d.media.filter((x) => x !== m && (EXTRA_MEDIA_TYPES as readonly string[]).includes(x.type))
          .map((x) => ({ type: x.type as ExtraMediaType, address: x.connectionAddress ?? m.connectionAddress!, port: x.port })),
        afterAudio,
        security: {
          profile: m.protocol,
          crypto: m.crypto,
          attributes: [...d.attributes, ...m.attributes].filter((a) => a.name !== 'key-mgmt').map(formatAttribute),
          // RFC 4567 sec. 3.1: media level first, then session level.
          keyMgmt: m.keyMgmt,
          direction: m.direction,
        },
      },
    };
  } catch (e) {
    if (e instanceof SdpError) return { ok: false, reason: e.message };
    throw e;
  }
}

/**
 * Null when every line can stand in our SDP as a rejected stream; else why
 * not. The parser reads more than the builder writes (a protocol like
 * RTP_AVP), and an answer we could not build would leave the INVITE
 * unanswered: such an offer gets a 488 with this reason instead.
 */
function rejectable(lines: readonly string[]): string | null {
  if (lines.length === 0) return null;
  try {
    buildSdp({ address: '0.0.0.0', port: 9, sessionId: 0, sessionVersion: 0, security: { profile: 'RTP/AVP', crypto: [], attributes: [] }, rejected: lines });
    return null;
  } catch (e) {
    if (!(e instanceof SdpBuildError)) throw e;
    return `a stream after the audio cannot be answered with port 0 (RFC 3264 sec. 6): ${e.message}`;
  }
}
