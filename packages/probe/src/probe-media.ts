/**
 * Where the probe marker lies in each kind of probe media, for whoever reads
 * it back (the analyser, in the clear or after decrypting the start of an
 * SRTP payload). The rule of every probe stream: the 16-octet marker at a
 * fixed octet offset of every RTP payload, the same for every packet of the
 * stream.
 *
 * | media | payload format | offset |
 * |---|---|---|
 * | audio | PCMU (RFC 3551) | 0 |
 * | video | H.264 (RFC 6184), STAP-A led by a marker NAL unit | 6 |
 * | text | T.140 (RFC 4103) | 0 |
 * | text with redundancy | text/red (RFC 2198) of T.140, R redundant generations | 1 + 4R |
 */
import { findMarker, MARKER_LENGTH } from './marker.ts';
import { t140MarkerOffset } from './t140.ts';
import { VIDEO_MARKER_OFFSET } from './h264-rtp.ts';

/** The kinds of probe media. */
export type ProbeMediaType = 'audio' | 'video' | 'text';

/**
 * Octet offset of the marker in the RTP payload of every packet of a probe
 * stream. For text sent as text/red, `redundantGenerations` is the number of
 * redundant generations (what the SDP's `a=fmtp:<red> t/t/t` lists, minus
 * one); omit it for plain text/t140.
 */
export function markerOffset(mediaType: ProbeMediaType, redundantGenerations?: number): number {
  switch (mediaType) {
    case 'audio':
      return 0;
    case 'video':
      return VIDEO_MARKER_OFFSET;
    case 'text':
      return t140MarkerOffset(redundantGenerations ?? null);
  }
}

/**
 * The marker of one probe payload read where `mediaType` puts it, or null.
 * Text needs no redundancy level here: a text/red payload's offset follows
 * from its own headers (each redundant header has the F bit set, RFC 2198
 * sec. 3), while text/t140 starts with the marker itself.
 */
export function readProbeMarker(mediaType: ProbeMediaType, payload: Uint8Array): string | null {
  let at = markerOffset(mediaType);
  if (mediaType === 'text' && findMarkerAt(payload, 0) === null) {
    at = 0;
    while (at < payload.length && (payload[at]! & 0x80) !== 0) at += 4;
    at += 1;
  }
  return findMarkerAt(payload, at);
}

function findMarkerAt(payload: Uint8Array, at: number): string | null {
  if (at + MARKER_LENGTH > payload.length) return null;
  return findMarker(payload.subarray(at, at + MARKER_LENGTH));
}
