/**
 * Receiving the video probe: packets gathered into frames (by RTP timestamp;
 * the marker bit closes one), FU-A fragments put back together, and each
 * frame decoded with the probe's checker (h264-decode.ts) against the SPS and
 * PPS received in band, so a receiver can tell whether it got every frame of
 * the pattern exactly, and which probe markers it carried.
 */
import { seqDistance } from '@imslab/rtp';
import { decodeSlice, newPicture, parsePps, parseSps, type H264Pps, type H264Sps, type PictureBuffer } from './h264-decode.ts';
import { NAL_TYPE } from './h264-encode.ts';
import { parseH264Payload } from './h264-rtp.ts';
import type { ProbeMediaDecodeError } from './media-errors.ts';
import type { YuvFrame } from './video-pattern.ts';

/** An RTP packet of the video stream, as the receiver needs it. */
export interface VideoRtpPacket {
  sequence: number;
  timestamp: number;
  /** The RTP marker bit: last packet of a frame. */
  marker: boolean;
  payload: Uint8Array;
}

/** One frame as received. */
export interface ReceivedVideoFrame {
  timestamp: number;
  packets: number;
  /** Sequence numbers missing before and among this frame's packets (since the highest one received before it). */
  lostPackets: number;
  /** Distinct probe markers seen in the frame's packets. */
  markers: string[];
  packetsWithoutMarker: number;
  idr: boolean;
  /** The decoded picture at display size, null when nothing decoded. */
  picture: YuvFrame | null;
  /** Every macroblock decoded, no packet lost, no error. */
  complete: boolean;
  errors: ProbeMediaDecodeError[];
}

interface PendingFrame {
  timestamp: number;
  packets: number;
  lostPackets: number;
  markers: Set<string>;
  packetsWithoutMarker: number;
  nalUnits: Uint8Array[];
  errors: ProbeMediaDecodeError[];
  fu: { parts: Uint8Array[]; header: number; lastSeq: number } | null;
}

/**
 * Gathers the packets of the video probe into frames (by timestamp; the
 * marker bit closes one), and decodes them with the probe's checker
 * (h264-decode.ts) against the SPS and PPS received in band.
 */
export class VideoProbeReceiver {
  private readonly sps = new Map<number, H264Sps>();
  private readonly pps = new Map<number, H264Pps>();
  private ref: PictureBuffer | null = null;
  private cur: PendingFrame | null = null;
  private lastSeq: number | null = null;
  private readonly done: ReceivedVideoFrame[] = [];

  /**
   * @param parameterSets SPS and PPS NAL units known out of band (the SDP's
   *   sprop-parameter-sets, RFC 6184 sec. 8.1), for a stream joined after its
   *   last in-band SPS/PPS; ones that do not parse are ignored.
   */
  constructor(parameterSets: readonly Uint8Array[] = []) {
    for (const u of parameterSets) {
      const type = (u[0] ?? 0) & 0x1f;
      const r = type === NAL_TYPE.SPS ? parseSps(u) : type === NAL_TYPE.PPS ? parsePps(u) : null;
      if (r?.ok && 'ppsId' in r.value) this.pps.set(r.value.ppsId, r.value);
      else if (r?.ok) this.sps.set((r.value as H264Sps).spsId, r.value as H264Sps);
    }
  }

  /** Takes one packet; a payload that does not parse is counted in its frame and returned. */
  receive(p: VideoRtpPacket): ProbeMediaDecodeError | null {
    if (this.cur && this.cur.timestamp !== p.timestamp) this.close();
    const lost = this.lastSeq === null ? 0 : Math.max(0, seqDistance(this.lastSeq, p.sequence) - 1);
    if (this.lastSeq === null || seqDistance(this.lastSeq, p.sequence) > 0) this.lastSeq = p.sequence;
    const f = (this.cur ??= { timestamp: p.timestamp, packets: 0, lostPackets: 0, markers: new Set(), packetsWithoutMarker: 0, nalUnits: [], errors: [], fu: null });
    f.packets++;
    f.lostPackets += lost;
    const r = parseH264Payload(p.payload);
    let error: ProbeMediaDecodeError | null = null;
    if (!r.ok) {
      error = r.error;
      f.errors.push(r.error);
      f.packetsWithoutMarker++;
    } else {
      if (r.value.marker) f.markers.add(r.value.marker);
      else f.packetsWithoutMarker++;
      f.nalUnits.push(...r.value.nalUnits);
      const frag = r.value.fragment;
      if (frag) {
        if (frag.start) f.fu = { parts: [Uint8Array.of(frag.nalHeader), frag.data], header: frag.nalHeader, lastSeq: p.sequence };
        else if (f.fu && seqDistance(f.fu.lastSeq, p.sequence) === 1 && f.fu.header === frag.nalHeader) {
          f.fu.parts.push(frag.data);
          f.fu.lastSeq = p.sequence;
        } else f.fu = null; // a fragment whose predecessor is lost: the NAL unit is lost (RFC 6184 sec. 5.8)
        if (frag.end && f.fu) {
          f.nalUnits.push(Buffer.concat(f.fu.parts));
          f.fu = null;
        }
      }
    }
    if (p.marker) this.close();
    return error;
  }

  /** Frames closed so far (by the marker bit or a new timestamp); `all` also closes the one in progress. */
  takeFrames(all = false): ReceivedVideoFrame[] {
    if (all && this.cur) this.close();
    return this.done.splice(0);
  }

  private close(): void {
    const f = this.cur!;
    this.cur = null;
    let pic: PictureBuffer | null = null;
    let idr = false;
    for (const u of f.nalUnits) {
      const type = u[0]! & 0x1f;
      if (type === NAL_TYPE.SPS) {
        const r = parseSps(u);
        if (r.ok) this.sps.set(r.value.spsId, r.value);
        else f.errors.push(r.error);
      } else if (type === NAL_TYPE.PPS) {
        const r = parsePps(u);
        if (r.ok) this.pps.set(r.value.ppsId, r.value);
        else f.errors.push(r.error);
      } else if (type === NAL_TYPE.SLICE || type === NAL_TYPE.IDR) {
        idr ||= type === NAL_TYPE.IDR;
        const r = decodeSlice(u, this.sps, this.pps, (s) => (pic ??= newPicture(s)), this.ref);
        if (!r.ok) f.errors.push(r.error);
      }
    }
    const decoded = pic as PictureBuffer | null;
    const complete = decoded !== null && decoded.written.every((w) => w === 1) && f.errors.length === 0 && f.lostPackets === 0 && f.fu === null;
    if (decoded) this.ref = decoded;
    this.done.push({
      timestamp: f.timestamp,
      packets: f.packets,
      lostPackets: f.lostPackets,
      markers: [...f.markers],
      packetsWithoutMarker: f.packetsWithoutMarker,
      idr,
      picture: decoded ? crop(decoded) : null,
      complete,
      errors: f.errors,
    });
  }
}

/** The display window of a decoded picture (SPS cropping). */
function crop(p: PictureBuffer): YuvFrame {
  const { width, height, cropLeft, cropTop, widthMbs } = p.sps;
  const cw = widthMbs * 16;
  const out: YuvFrame = { width, height, y: new Uint8Array(width * height), cb: new Uint8Array((width * height) / 4), cr: new Uint8Array((width * height) / 4) };
  for (let r = 0; r < height; r++) out.y.set(p.y.subarray((cropTop + r) * cw + cropLeft, (cropTop + r) * cw + cropLeft + width), r * width);
  for (let r = 0; r < height / 2; r++) {
    const at = ((cropTop >> 1) + r) * (cw >> 1) + (cropLeft >> 1);
    out.cb.set(p.cb.subarray(at, at + width / 2), (r * width) / 2);
    out.cr.set(p.cr.subarray(at, at + width / 2), (r * width) / 2);
  }
  return out;
}
