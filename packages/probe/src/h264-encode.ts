/**
 * The H.264 the video probe sends: Constrained Baseline (profile_idc 66,
 * constraint_set0 and set1), CAVLC, one reference frame, and only two kinds
 * of macroblock: I_PCM (the samples as they are, H.264 sec. 7.3.5) and P_Skip
 * (a copy of the same macroblock of the previous frame, sec. 8.4.1.1: every
 * motion vector here is zero). An IDR picture is all I_PCM; a P picture codes
 * the macroblocks that changed as I_PCM and skips the rest. No transform, no
 * entropy coding of samples: any H.264 decoder shows exactly the pattern.
 *
 * Level: the lowest whose frame size and macroblock rate fit (Table A-1).
 * I_PCM is uncompressed, so the stream exceeds that level's bit rate and
 * MinCR (sec. A.3.1); decoders do not police either (ffmpeg decodes it bit
 * for bit), and the SDP announces the real rate in b=AS (video.ts).
 */
import { BitWriter, addEmulationPrevention } from './h264-bits.ts';
import { MARKER_LENGTH } from './marker.ts';

export const NAL_TYPE = { UNSPECIFIED: 0, SLICE: 1, IDR: 5, SEI: 6, SPS: 7, PPS: 8, STAP_A: 24, FU_A: 28 } as const;
/** SEI payloadType of user_data_unregistered (H.264 sec. D.1.7): a 16-octet UUID, then user data. */
export const SEI_USER_DATA_UNREGISTERED = 5;
/** mb_type of I_PCM: 25 in I slices (Table 7-11), 5 + 25 in P slices (Table 7-13). */
export const MB_TYPE_I_PCM_I = 25;
export const MB_TYPE_I_PCM_P = 30;
/** slice_type 7 and 5: every slice of the picture is I, resp. P (Table 7-6). */
export const SLICE_TYPE_ALL_I = 7;
export const SLICE_TYPE_ALL_P = 5;
/** log2_max_frame_num_minus4 = 0: frame_num is 4 bits, modulo 16. */
export const LOG2_MAX_FRAME_NUM = 4;
/** Samples of one 4:2:0 macroblock: 256 luma, 64 Cb, 64 Cr. */
export const PCM_MB_BYTES = 384;

/** Table A-1: level_idc, MaxMBPS, MaxFS (macroblocks). */
const LEVELS: ReadonlyArray<readonly [number, number, number]> = [
  [10, 1485, 99], [11, 3000, 396], [12, 6000, 396], [13, 11880, 396], [20, 11880, 396], [21, 19800, 792], [22, 20250, 1620],
  [30, 40500, 1620], [31, 108000, 3600], [32, 216000, 5120], [40, 245760, 8192], [42, 522240, 8704], [50, 589824, 22080], [51, 983040, 36864],
];

/** Sequence-level choices, derived once from the size and rate. */
export interface H264StreamParams {
  widthMbs: number;
  heightMbs: number;
  /** frame_crop_right_offset / frame_crop_bottom_offset, in units of 2 samples (sec. 7.4.2.1.1, 4:2:0). */
  cropRight: number;
  cropBottom: number;
  levelIdc: number;
  /** VUI timing: time_scale / (2 * num_units_in_tick) = frames per second (sec. E.2.1). */
  numUnitsInTick: number;
  timeScale: number;
}

/** The level and geometry for `width` x `height` (even) at `fps`; null when no level fits. */
export function h264StreamParams(width: number, height: number, fps: number): H264StreamParams | null {
  const widthMbs = Math.ceil(width / 16);
  const heightMbs = Math.ceil(height / 16);
  const fs = widthMbs * heightMbs;
  const level = LEVELS.find(([, mbps, maxFs]) => fs <= maxFs && fs * fps <= mbps);
  if (!level) return null;
  return {
    widthMbs,
    heightMbs,
    cropRight: (widthMbs * 16 - width) / 2,
    cropBottom: (heightMbs * 16 - height) / 2,
    levelIdc: level[0],
    numUnitsInTick: 1000,
    timeScale: Math.round(fps * 2000),
  };
}

/** profile-level-id (RFC 6184 sec. 8.1): profile_idc, the constraint octet, level_idc, in hex. */
export function profileLevelId(p: H264StreamParams): string {
  return [66, 0xc0, p.levelIdc].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function nal(refIdc: number, type: number, rbsp: Uint8Array): Uint8Array {
  const body = addEmulationPrevention(rbsp);
  const out = new Uint8Array(1 + body.length);
  out[0] = (refIdc << 5) | type;
  out.set(body, 1);
  return out;
}

/** Sequence parameter set NAL unit (sec. 7.3.2.1.1) with VUI timing (sec. E.1.1). */
export function encodeSps(p: H264StreamParams): Uint8Array {
  const w = new BitWriter();
  w.u(8, 66).u(8, 0xc0).u(8, p.levelIdc); // profile_idc, constraint_set0/1 flags + reserved_zero_2bits, level_idc
  w.ue(0).ue(LOG2_MAX_FRAME_NUM - 4); // seq_parameter_set_id, log2_max_frame_num_minus4
  w.ue(2); // pic_order_cnt_type 2: output order = decoding order
  w.ue(1).flag(false); // max_num_ref_frames, gaps_in_frame_num_value_allowed_flag
  w.ue(p.widthMbs - 1).ue(p.heightMbs - 1); // pic_width_in_mbs_minus1, pic_height_in_map_units_minus1
  w.flag(true).flag(true); // frame_mbs_only_flag, direct_8x8_inference_flag
  const crop = p.cropRight > 0 || p.cropBottom > 0;
  w.flag(crop);
  if (crop) w.ue(0).ue(p.cropRight).ue(0).ue(p.cropBottom);
  w.flag(true); // vui_parameters_present_flag
  w.flag(false).flag(false).flag(false).flag(false); // aspect ratio, overscan, video signal type, chroma location
  w.flag(true).u(32, p.numUnitsInTick).u(32, p.timeScale).flag(true); // timing_info_present_flag, ..., fixed_frame_rate_flag
  w.flag(false).flag(false).flag(false).flag(false); // nal/vcl hrd, pic_struct_present_flag, bitstream_restriction_flag
  return nal(3, NAL_TYPE.SPS, w.trailing().finish());
}

/** Picture parameter set NAL unit (sec. 7.3.2.2): CAVLC, one slice group, deblocking control present. */
export function encodePps(): Uint8Array {
  const w = new BitWriter();
  w.ue(0).ue(0); // pic_parameter_set_id, seq_parameter_set_id
  w.flag(false).flag(false); // entropy_coding_mode_flag (CAVLC), bottom_field_pic_order_in_frame_present_flag
  w.ue(0).ue(0).ue(0); // num_slice_groups_minus1, num_ref_idx_l0/l1_default_active_minus1
  w.flag(false).u(2, 0); // weighted_pred_flag, weighted_bipred_idc
  w.se(0).se(0).se(0); // pic_init_qp_minus26, pic_init_qs_minus26, chroma_qp_index_offset
  w.flag(true).flag(false).flag(false); // deblocking_filter_control_present_flag, constrained_intra_pred_flag, redundant_pic_cnt_present_flag
  return nal(3, NAL_TYPE.PPS, w.trailing().finish());
}

/**
 * The NAL unit that carries the probe marker at the front of every RTP
 * packet. The first packet of a frame carries an SEI user_data_unregistered
 * message whose 16-octet UUID is the marker (sec. D.1.7): SEI NAL units must
 * precede the picture's first slice (sec. 7.4.1.2.3). Later packets of the
 * frame carry a NAL unit of type 0, unspecified (applications may use it and
 * decoders ignore it, sec. 7.4.1; it may follow the first slice), laid out
 * the same way. Both are 20 octets: header, 0x05, 0x10, marker, 0x80.
 */
export function markerNal(marker: string, firstOfFrame: boolean): Uint8Array {
  const out = new Uint8Array(4 + MARKER_LENGTH);
  out[0] = firstOfFrame ? NAL_TYPE.SEI : NAL_TYPE.UNSPECIFIED; // nal_ref_idc 0 (sec. 7.4.1: required for SEI)
  out[1] = SEI_USER_DATA_UNREGISTERED;
  out[2] = MARKER_LENGTH;
  for (let i = 0; i < MARKER_LENGTH; i++) out[3 + i] = marker.charCodeAt(i); // ASCII (marker.ts)
  out[3 + MARKER_LENGTH] = 0x80; // rbsp_trailing_bits
  return out;
}

/** One macroblock of a slice: its I_PCM samples (Y, Cb, Cr), or null for P_Skip. */
export type SliceMb = Uint8Array | null;

/** What a slice header needs to say (sec. 7.3.3). */
export interface SliceSpec {
  idr: boolean;
  /** frame_num, modulo 2^LOG2_MAX_FRAME_NUM. */
  frameNum: number;
  /** idr_pic_id: consecutive IDR pictures must differ (sec. 7.4.3). */
  idrPicId: number;
  firstMb: number;
  /** Consecutive macroblocks from firstMb, in raster order; an IDR slice has no skips. */
  mbs: readonly SliceMb[];
}

/** A coded slice NAL unit (IDR: type 5, I; otherwise type 1, P), nal_ref_idc 3 resp. 2. */
export function encodeSlice(s: SliceSpec): Uint8Array {
  const w = new BitWriter();
  w.ue(s.firstMb).ue(s.idr ? SLICE_TYPE_ALL_I : SLICE_TYPE_ALL_P).ue(0); // first_mb_in_slice, slice_type, pic_parameter_set_id
  w.u(LOG2_MAX_FRAME_NUM, s.frameNum % 2 ** LOG2_MAX_FRAME_NUM);
  if (s.idr) w.ue(s.idrPicId);
  if (!s.idr) w.flag(false).flag(false); // num_ref_idx_active_override_flag, ref_pic_list_modification_flag_l0
  if (s.idr) w.flag(false).flag(false); // dec_ref_pic_marking: no_output_of_prior_pics_flag, long_term_reference_flag
  else w.flag(false); // adaptive_ref_pic_marking_mode_flag: sliding window
  w.se(0); // slice_qp_delta
  w.ue(1); // disable_deblocking_filter_idc 1: I_PCM and copies stay exact
  // slice_data() (sec. 7.3.4): in P slices mb_skip_run before each coded macroblock and at the end.
  let skip = 0;
  for (const mb of s.mbs) {
    if (mb === null) {
      skip++;
      continue;
    }
    if (!s.idr) w.ue(skip);
    skip = 0;
    w.ue(s.idr ? MB_TYPE_I_PCM_I : MB_TYPE_I_PCM_P).alignZero().bytes(mb);
  }
  if (skip > 0) w.ue(skip);
  return nal(s.idr ? 3 : 2, s.idr ? NAL_TYPE.IDR : NAL_TYPE.SLICE, w.trailing().finish());
}

/** The I_PCM samples of macroblock (mbx, mby) of a frame whose planes are whole macroblocks. */
export function macroblockSamples(y: Uint8Array, cb: Uint8Array, cr: Uint8Array, codedWidth: number, mbx: number, mby: number): Uint8Array {
  const out = new Uint8Array(PCM_MB_BYTES);
  for (let r = 0; r < 16; r++) out.set(y.subarray((mby * 16 + r) * codedWidth + mbx * 16, (mby * 16 + r) * codedWidth + mbx * 16 + 16), r * 16);
  const cw = codedWidth >> 1;
  for (let r = 0; r < 8; r++) {
    out.set(cb.subarray((mby * 8 + r) * cw + mbx * 8, (mby * 8 + r) * cw + mbx * 8 + 8), 256 + r * 8);
    out.set(cr.subarray((mby * 8 + r) * cw + mbx * 8, (mby * 8 + r) * cw + mbx * 8 + 8), 320 + r * 8);
  }
  return out;
}
