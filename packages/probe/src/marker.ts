import { createHash } from 'node:crypto';

/**
 * Every probe packet starts with a 16-octet ASCII marker: the prefix
 * `IMSLAB` and ten hex digits derived from the call and the direction.
 * A marker found in a capture therefore says "plaintext of this call, this
 * direction", on whatever link it was seen.
 */
export const MARKER_PREFIX = 'IMSLAB';
export const MARKER_LENGTH = 16;

/** Direction of a media stream relative to the call: from the caller or from the callee. */
export type ProbeDirection = 'orig' | 'term';

/**
 * The marker of one call, one direction and one kind of media. Audio (the
 * call's first stream) keeps the marker of a call with no other stream;
 * video and text streams of the same call get markers of their own, so that
 * every stream is found, and judged, on its own.
 */
export function markerFor(callId: string, direction: ProbeDirection, media: 'audio' | 'video' | 'text' = 'audio'): string {
  const digest = createHash('sha256').update(media === 'audio' ? `${callId}\u0000${direction}` : `${callId}\u0000${direction}\u0000${media}`).digest('hex');
  return MARKER_PREFIX + digest.slice(0, MARKER_LENGTH - MARKER_PREFIX.length);
}

const PREFIX_BYTES = Buffer.from(MARKER_PREFIX, 'ascii');
const HEX = /^[0-9a-f]{10}$/;

/** Returns the first well-formed marker in `data`, or null. */
export function findMarker(data: Uint8Array, from = 0): string | null {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let at = buf.indexOf(PREFIX_BYTES, from);
  while (at >= 0 && at + MARKER_LENGTH <= buf.length) {
    const candidate = buf.toString('ascii', at, at + MARKER_LENGTH);
    if (HEX.test(candidate.slice(MARKER_PREFIX.length))) return candidate;
    at = buf.indexOf(PREFIX_BYTES, at + 1);
  }
  return null;
}
