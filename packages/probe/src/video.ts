/**
 * The video probe: the test pattern of video-pattern.ts as H.264 over RTP
 * (RFC 6184, packetization-mode=1), with the probe marker at a fixed place in
 * every packet.
 *
 * Every RTP packet is one STAP-A (RFC 6184 sec. 5.7.1) of two or more NAL
 * units: first the 20-octet marker NAL unit (h264-encode.ts markerNal: an SEI
 * user_data_unregistered message whose UUID is the marker in the frame's
 * first packet, a type-0 NAL unit of the same layout in its other packets),
 * then, in an IDR frame's first packet, the SPS and PPS, then one slice. So
 * the marker is at octet 6 of every payload (VIDEO_MARKER_OFFSET, h264-rtp.ts):
 * STAP-A header (1), NAL unit size (2), NAL header (1), payloadType and
 * payloadSize (2). Slices are cut so that each packet fits `maxPacketSize`;
 * no FU-A, whose fragments could not carry a NAL unit of their own.
 *
 * RTP (RFC 6184 sec. 5.1): 90 kHz timestamps, one per frame; the marker bit
 * on the last packet of each frame; a dynamic payload type.
 */
import { buildRtp } from '@imslab/rtp';
import {
  NAL_TYPE, PCM_MB_BYTES, encodePps, encodeSlice, encodeSps, h264StreamParams, macroblockSamples, markerNal, profileLevelId,
  type H264StreamParams, type SliceMb,
} from './h264-encode.ts';
import { findMarker, MARKER_LENGTH } from './marker.ts';
import { stapA } from './h264-rtp.ts';
import { checkDynamicPayloadType, ProbeMediaConfigError } from './media-errors.ts';
import { videoPatternFrame, type YuvFrame } from './video-pattern.ts';

/** RTP clock of video (RFC 6184 sec. 8.2.1). */
export const VIDEO_CLOCK_RATE = 90000;
export const VIDEO_DEFAULTS = { width: 176, height: 144, fps: 10, payloadType: 99, maxPacketSize: 1200 } as const;
const RTP_HEADER = 12;
/** Slice NAL unit beyond its samples: NAL header, slice header, mb_type and skip runs, trailing bits; generous. */
const SLICE_OVERHEAD = 24;
const PCM_MB_COST = PCM_MB_BYTES + 4;

/** How the video probe is sent. */
export interface VideoProbeOptions {
  /** The 16-octet probe marker (marker.ts). */
  marker: string;
  ssrc: number;
  /** Even, at least 16. Default 176 (QCIF). */
  width?: number;
  /** Even, at least 16. Default 144. */
  height?: number;
  /** Frames per second, 1..60. Default 10. */
  fps?: number;
  /** Dynamic payload type, 96..127. Default 99. */
  payloadType?: number;
  /** Largest RTP packet (header and payload, before SRTP adds its tag). Default 1200, at least 600. */
  maxPacketSize?: number;
  /** An IDR frame every this many frames. Default 2 s worth. */
  idrInterval?: number;
  firstSequence?: number;
  firstTimestamp?: number;
}

/** One frame as sent. */
export interface VideoProbeFrame {
  index: number;
  timestamp: number;
  idr: boolean;
  /** Whole RTP packets, in order; the last has the marker bit. */
  packets: Buffer[];
  /** The picture they carry. */
  picture: YuvFrame;
}

/** Generates the video probe frame by frame. Pure: frame n is the same for the same options. */
export class VideoProbeSender {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly payloadType: number;
  readonly maxPacketSize: number;
  readonly idrInterval: number;
  readonly params: H264StreamParams;
  readonly sps: Uint8Array;
  readonly pps: Uint8Array;
  private n = 0;
  private seq: number;
  private idrCount = 0;
  private lastIdr = 0;
  private prev: Uint8Array[] | null = null;

  constructor(readonly opts: VideoProbeOptions) {
    if (typeof opts.marker !== 'string' || findMarker(Buffer.from(opts.marker, 'latin1')) !== opts.marker) {
      throw new ProbeMediaConfigError('marker', opts.marker, `not a probe marker (${MARKER_LENGTH} octets: IMSLAB and ten hex digits, marker.ts)`);
    }
    this.width = opts.width ?? VIDEO_DEFAULTS.width;
    this.height = opts.height ?? VIDEO_DEFAULTS.height;
    this.fps = opts.fps ?? VIDEO_DEFAULTS.fps;
    this.payloadType = opts.payloadType ?? VIDEO_DEFAULTS.payloadType;
    this.maxPacketSize = opts.maxPacketSize ?? VIDEO_DEFAULTS.maxPacketSize;
    for (const [k, v] of [['width', this.width], ['height', this.height]] as const) {
      if (!Number.isInteger(v) || v < 16 || v % 2 !== 0) throw new ProbeMediaConfigError(k, v, 'must be an even integer of at least 16 (4:2:0 chroma is subsampled by 2)');
    }
    if (!(this.fps >= 1 && this.fps <= 60)) throw new ProbeMediaConfigError('fps', this.fps, 'must be between 1 and 60');
    checkDynamicPayloadType('payloadType', this.payloadType);
    if (!Number.isInteger(this.maxPacketSize) || this.maxPacketSize < 600 || this.maxPacketSize > 65535) {
      throw new ProbeMediaConfigError('maxPacketSize', this.maxPacketSize, 'must be 600..65535: an IDR frame\'s first packet holds the marker, SPS, PPS and one 384-octet I_PCM macroblock');
    }
    this.idrInterval = opts.idrInterval ?? Math.max(1, Math.round(2 * this.fps));
    if (!Number.isInteger(this.idrInterval) || this.idrInterval < 1) throw new ProbeMediaConfigError('idrInterval', this.idrInterval, 'must be a positive integer (frames)');
    const params = h264StreamParams(this.width, this.height, this.fps);
    if (!params) throw new ProbeMediaConfigError('width', `${this.width}x${this.height}@${this.fps}`, 'no H.264 level has that frame size and macroblock rate (Table A-1)');
    this.params = params;
    this.sps = encodeSps(params);
    this.pps = encodePps();
    this.seq = opts.firstSequence ?? 0;
  }

  /** The RTP timestamp of frame `index` (90 kHz, modulo 2^32). */
  timestampOf(index: number): number {
    return ((this.opts.firstTimestamp ?? 0) + Math.round((index * VIDEO_CLOCK_RATE) / this.fps)) >>> 0;
  }

  /** The next frame's packets. */
  nextFrame(): VideoProbeFrame {
    const index = this.n++;
    const { widthMbs, heightMbs } = this.params;
    const cw = widthMbs * 16;
    const coded = videoPatternFrame(cw, heightMbs * 16, index);
    const mbs: Uint8Array[] = [];
    for (let a = 0; a < widthMbs * heightMbs; a++) mbs.push(macroblockSamples(coded.y, coded.cb, coded.cr, cw, a % widthMbs, Math.floor(a / widthMbs)));
    const idr = index % this.idrInterval === 0 || this.prev === null;
    if (idr) {
      this.idrCount++;
      this.lastIdr = index;
    }
    const prev = this.prev;
    const slot: SliceMb[] = mbs.map((m, a) => (idr || !sameBytes(m, prev![a]!) ? m : null));
    this.prev = mbs;
    const slices = this.cutSlices(slot, idr, index - this.lastIdr);
    const timestamp = this.timestampOf(index);
    const packets = slices.map((slice, i) => {
      const units = [markerNal(this.opts.marker, i === 0), ...(idr && i === 0 ? [this.sps, this.pps] : []), slice];
      const payload = stapA(units);
      return buildRtp({ payloadType: this.payloadType, sequence: this.seq++ & 0xffff, timestamp, ssrc: this.opts.ssrc, marker: i === slices.length - 1 }, payload);
    });
    return { index, timestamp, idr, packets, picture: videoPatternFrame(this.width, this.height, index) };
  }

  /** Slices in raster order, each small enough for one packet. */
  private cutSlices(slot: readonly SliceMb[], idr: boolean, frameNum: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let addr = 0; addr < slot.length; ) {
      const extra = idr && out.length === 0 ? 4 + this.sps.length + this.pps.length : 0;
      const budget = this.maxPacketSize - RTP_HEADER - 1 - 2 - (4 + MARKER_LENGTH) - 2 - extra;
      for (let k = Math.max(1, Math.floor((budget - SLICE_OVERHEAD) / PCM_MB_COST)); ; k--) {
        let end = addr;
        for (let pcm = 0; end < slot.length; end++) {
          if (slot[end] === null) continue;
          if (pcm === k) break;
          pcm++;
        }
        const slice = encodeSlice({ idr, frameNum, idrPicId: this.idrCount & 0xffff, firstMb: addr, mbs: slot.slice(addr, end) });
        if (slice.length <= budget || k === 1) {
          if (slice.length > budget) throw new ProbeMediaConfigError('maxPacketSize', this.maxPacketSize, `a slice of one macroblock takes ${slice.length} octets, more than the ${budget} left`);
          out.push(slice);
          addr = end;
          break;
        }
      }
    }
    return out;
  }

  /**
   * The SDP a UE offers for this stream (RFC 6184 sec. 8.2.1, RFC 4566):
   * `m=video`, rtpmap, fmtp (profile-level-id, packetization-mode=1 for
   * STAP-A, the parameter sets), framerate, and the bandwidth (b=AS, kbit/s,
   * measured over one IDR period: I_PCM is uncompressed).
   */
  sdpLines(port: number, profile = 'RTP/AVP'): string[] {
    const pt = this.payloadType;
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
    return [
      `m=video ${port} ${profile} ${pt}`,
      `b=AS:${this.bandwidthKbps()}`,
      `a=rtpmap:${pt} H264/${VIDEO_CLOCK_RATE}`,
      `a=fmtp:${pt} profile-level-id=${profileLevelId(this.params)};packetization-mode=1;sprop-parameter-sets=${b64(this.sps)},${b64(this.pps)}`,
      `a=framerate:${this.fps}`,
    ];
  }

  /** Average RTP payload bit rate over one IDR period, with IP/UDP/RTP headers, in kbit/s (rounded up). */
  bandwidthKbps(): number {
    const twin = new VideoProbeSender({ ...this.opts, firstSequence: 0 });
    let bytes = 0;
    for (let i = 0; i < this.idrInterval; i++) for (const p of twin.nextFrame().packets) bytes += p.length + 28;
    return Math.ceil((bytes * 8 * this.fps) / this.idrInterval / 1000);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
