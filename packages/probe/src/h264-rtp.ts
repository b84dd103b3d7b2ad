/**
 * H.264 over RTP (RFC 6184), non-interleaved mode (packetization-mode=1):
 * single NAL unit packets, STAP-A aggregates and FU-A fragments, written
 * (STAP-A, the one the probe sends) and taken apart. A malformed payload is
 * a {@link ProbeMediaDecodeError} value, never an exception.
 */
import { NAL_TYPE } from './h264-encode.ts';
import { findMarker, MARKER_LENGTH } from './marker.ts';
import { ProbeMediaDecodeError, type ProbeMediaResult } from './media-errors.ts';

/** Where the marker starts in every video probe payload: STAP-A header (1), NAL unit size (2), NAL header (1), SEI payloadType and payloadSize (2). */
export const VIDEO_MARKER_OFFSET = 6;

/** An STAP-A payload (RFC 6184 sec. 5.7.1): F 0, NRI the highest of the units', type 24, then size-prefixed units. */
export function stapA(units: readonly Uint8Array[]): Uint8Array {
  const len = units.reduce((n, u) => n + 2 + u.length, 1);
  const out = new Uint8Array(len);
  out[0] = units.reduce((nri, u) => Math.max(nri, u[0]! & 0x60), 0) | NAL_TYPE.STAP_A;
  let at = 1;
  for (const u of units) {
    out[at] = u.length >> 8;
    out[at + 1] = u.length & 0xff;
    out.set(u, at + 2);
    at += 2 + u.length;
  }
  return out;
}

/** One H.264 RTP payload taken apart (RFC 6184 sec. 5.6-5.8, non-interleaved mode). */
export interface H264RtpPayload {
  kind: 'single' | 'stap-a' | 'fu-a';
  /** Whole NAL units: the one of a single NAL unit packet, or the STAP-A's. */
  nalUnits: Uint8Array[];
  /** An FU-A fragment: the reconstructed NAL header and this fragment's octets. */
  fragment: { start: boolean; end: boolean; nalHeader: number; data: Uint8Array } | null;
  /** The probe marker at {@link VIDEO_MARKER_OFFSET}, when the first NAL unit is a marker NAL unit. */
  marker: string | null;
}

const h264Error = (code: ProbeMediaDecodeError['code'], offset: number, detail: string): { ok: false; error: ProbeMediaDecodeError } => ({
  ok: false,
  error: new ProbeMediaDecodeError('h264', code, offset, detail),
});

/** The probe marker of a marker NAL unit (SEI user data or type 0, layout of markerNal), or null. */
function markerOf(nalu: Uint8Array): string | null {
  const type = nalu[0]! & 0x1f;
  if ((type !== NAL_TYPE.SEI && type !== NAL_TYPE.UNSPECIFIED) || nalu.length < 3 + MARKER_LENGTH || nalu[1] !== 5 || nalu[2] !== MARKER_LENGTH) return null;
  const m = findMarker(nalu.subarray(3, 3 + MARKER_LENGTH));
  return m;
}

/** Parses an H.264 RTP payload; a malformed one is an error value. */
export function parseH264Payload(payload: Uint8Array): ProbeMediaResult<H264RtpPayload> {
  if (payload.length === 0) return h264Error('empty', 0, 'an H.264 RTP payload has at least the one-octet NAL unit header (RFC 6184 sec. 5.3)');
  const h = payload[0]!;
  if (h & 0x80) return h264Error('forbidden-bit', 0, 'the F bit is set: the sender marks the NAL unit as corrupt (RFC 6184 sec. 5.3)');
  const type = h & 0x1f;
  if (type >= 1 && type <= 23) return { ok: true, value: { kind: 'single', nalUnits: [payload], fragment: null, marker: null } };
  if (type === NAL_TYPE.STAP_A) {
    const units: Uint8Array[] = [];
    for (let at = 1; at < payload.length; ) {
      if (at + 2 > payload.length) return h264Error('truncated-aggregate', at, 'an STAP-A NAL unit size field is cut off (RFC 6184 sec. 5.7.1)');
      const size = (payload[at]! << 8) | payload[at + 1]!;
      if (size === 0) return h264Error('empty-nal-unit', at, 'an STAP-A aggregation unit of size 0 (RFC 6184 sec. 5.7.1)');
      if (at + 2 + size > payload.length) return h264Error('truncated-aggregate', at, `an STAP-A NAL unit of ${size} octets runs ${at + 2 + size - payload.length} past the payload (RFC 6184 sec. 5.7.1)`);
      const u = payload.subarray(at + 2, at + 2 + size);
      if (u[0]! & 0x80) return h264Error('forbidden-bit', at + 2, 'an aggregated NAL unit has the F bit set (RFC 6184 sec. 5.3)');
      const t = u[0]! & 0x1f;
      if (t >= 24) return h264Error('unsupported-packet-type', at + 2, `an STAP-A may not aggregate NAL unit type ${t} (RFC 6184 sec. 5.7)`);
      units.push(u);
      at += 2 + size;
    }
    if (units.length === 0) return h264Error('truncated-aggregate', 1, 'an STAP-A with no NAL unit (RFC 6184 sec. 5.7.1)');
    return { ok: true, value: { kind: 'stap-a', nalUnits: units, fragment: null, marker: markerOf(units[0]!) } };
  }
  if (type === NAL_TYPE.FU_A) {
    if (payload.length < 3) return h264Error('truncated-fragment', payload.length, 'an FU-A has an FU indicator, an FU header and at least one octet (RFC 6184 sec. 5.8)');
    const fu = payload[1]!;
    const start = (fu & 0x80) !== 0;
    const end = (fu & 0x40) !== 0;
    const t = fu & 0x1f;
    if (start && end) return h264Error('bad-fragment', 1, 'an FU-A with both the S and the E bit set (RFC 6184 sec. 5.8)');
    if (fu & 0x20) return h264Error('bad-fragment', 1, 'the FU header R bit is set (RFC 6184 sec. 5.8: must be 0)');
    if (t === 0 || t >= 24) return h264Error('bad-fragment', 1, `an FU-A fragmenting NAL unit type ${t} (RFC 6184 sec. 5.8)`);
    return { ok: true, value: { kind: 'fu-a', nalUnits: [], fragment: { start, end, nalHeader: (h & 0xe0) | t, data: payload.subarray(2) }, marker: null } };
  }
  return h264Error('unsupported-packet-type', 0, `packet type ${type}: ${type === 0 || type >= 30 ? 'reserved' : 'STAP-B, MTAP or FU-B belong to the interleaved mode'}, not packetization-mode=1 (RFC 6184 sec. 5.4)`);
}
