/**
 * Reading back what h264-encode.ts writes: parameter sets (H.264 sec.
 * 7.3.2.1, 7.3.2.2), slice headers of Baseline-style streams (sec. 7.3.3),
 * and slice data made of I_PCM and P_Skip macroblocks (sec. 7.3.4, 7.3.5),
 * into 4:2:0 pictures. Anything else (CABAC, B slices, transform-coded
 * macroblocks, interlace) is `unsupported-stream`: this is the probe's
 * checker, not a general decoder. Malformed bytes are a
 * {@link ProbeMediaDecodeError} value, never an exception.
 */
import { BitReader, removeEmulationPrevention } from './h264-bits.ts';
import { MB_TYPE_I_PCM_I, MB_TYPE_I_PCM_P, NAL_TYPE, PCM_MB_BYTES } from './h264-encode.ts';
import { ProbeMediaDecodeError, type ProbeMediaDecodeErrorCode, type ProbeMediaResult } from './media-errors.ts';

/** What the probe needs of a sequence parameter set. */
export interface H264Sps {
  profileIdc: number;
  levelIdc: number;
  spsId: number;
  log2MaxFrameNum: number;
  pocType: number;
  log2MaxPocLsb: number;
  widthMbs: number;
  heightMbs: number;
  /** Display size after cropping (sec. 7.4.2.1.1, 4:2:0: crop units of 2). */
  width: number;
  height: number;
  cropLeft: number;
  cropTop: number;
  /** From VUI timing (sec. E.2.1), when present. */
  fps: number | null;
}

/** What the probe needs of a picture parameter set. */
export interface H264Pps {
  ppsId: number;
  spsId: number;
  bottomFieldPicOrder: boolean;
  weightedPred: boolean;
  deblockingControl: boolean;
  redundantPicCnt: boolean;
}

/** A parsed slice header (sec. 7.3.3), the fields the checker uses. */
export interface H264SliceHeader {
  nalRefIdc: number;
  idr: boolean;
  firstMb: number;
  /** 0 = P, 2 = I (slice_type % 5). */
  sliceType: number;
  ppsId: number;
  frameNum: number;
}

const fail = (code: ProbeMediaDecodeErrorCode, offset: number, detail: string) => new ProbeMediaDecodeError('h264', code, offset, detail);

/** Runs `f` over the RBSP of a NAL unit (header octet skipped), turning a thrown decode error into a value. */
function withRbsp<T>(nalu: Uint8Array, f: (r: BitReader) => T): ProbeMediaResult<T> {
  if (nalu.length < 2) return { ok: false, error: fail('truncated-syntax', 0, `a ${nalu.length}-octet NAL unit has no RBSP`) };
  const rbsp = removeEmulationPrevention(nalu.subarray(1), 1);
  if (rbsp instanceof ProbeMediaDecodeError) return { ok: false, error: rbsp };
  try {
    return { ok: true, value: f(new BitReader(rbsp)) };
  } catch (e) {
    if (e instanceof ProbeMediaDecodeError) return { ok: false, error: e };
    throw e;
  }
}

/** MaxFS of level 5.1 (Table A-1): the largest picture the checker will allocate. */
const MAX_FRAME_MBS = 36864;

/** High-profile SPS carry chroma_format_idc and more (sec. 7.3.2.1.1); the probe reads Baseline/Main/Extended only. */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Reads a sequence parameter set NAL unit. */
export function parseSps(nalu: Uint8Array): ProbeMediaResult<H264Sps> {
  return withRbsp(nalu, (r) => {
    const profileIdc = r.u(8);
    r.u(8);
    const levelIdc = r.u(8);
    const spsId = r.ue();
    if (spsId > 31) throw fail('bad-parameter-set', 4, `seq_parameter_set_id ${spsId} is above 31 (sec. 7.4.2.1.1)`);
    if (HIGH_PROFILES.has(profileIdc)) throw fail('unsupported-stream', 1, `profile_idc ${profileIdc}: the probe reads Baseline-family streams only`);
    const log2MaxFrameNum = r.ue() + 4;
    if (log2MaxFrameNum > 16) throw fail('bad-parameter-set', 4, `log2_max_frame_num_minus4 ${log2MaxFrameNum - 4} is above 12 (sec. 7.4.2.1.1)`);
    const pocType = r.ue();
    let log2MaxPocLsb = 0;
    if (pocType === 0) {
      log2MaxPocLsb = r.ue() + 4;
      if (log2MaxPocLsb > 16) throw fail('bad-parameter-set', 4, `log2_max_pic_order_cnt_lsb_minus4 ${log2MaxPocLsb - 4} is above 12`);
    } else if (pocType !== 2) throw fail('unsupported-stream', 4, `pic_order_cnt_type ${pocType}: the probe reads types 0 and 2`);
    r.ue(); // max_num_ref_frames
    r.flag(); // gaps_in_frame_num_value_allowed_flag
    const widthMbs = r.ue() + 1;
    const heightMbs = r.ue() + 1;
    if (widthMbs * heightMbs > MAX_FRAME_MBS) throw fail('bad-parameter-set', 4, `${widthMbs}x${heightMbs} macroblocks is more than level 5.1 allows (${MAX_FRAME_MBS}, Table A-1)`);
    if (!r.flag()) throw fail('unsupported-stream', 4, 'frame_mbs_only_flag 0 (interlace): the probe reads progressive frames only');
    r.flag(); // direct_8x8_inference_flag
    let [cl, cr, ct, cb] = [0, 0, 0, 0];
    if (r.flag()) [cl, cr, ct, cb] = [r.ue(), r.ue(), r.ue(), r.ue()];
    const width = widthMbs * 16 - 2 * (cl + cr);
    const height = heightMbs * 16 - 2 * (ct + cb);
    if (width <= 0 || height <= 0) throw fail('bad-parameter-set', 4, `cropping leaves ${width}x${height} samples (sec. 7.4.2.1.1)`);
    let fps: number | null = null;
    if (r.flag()) {
      if (r.flag() && r.u(8) === 255) r.u(32); // aspect_ratio_idc, Extended_SAR: sar_width, sar_height
      if (r.flag()) r.flag(); // overscan
      if (r.flag() && (r.u(4), r.flag())) r.u(24); // video_format, video_full_range_flag, colour description
      if (r.flag()) (r.ue(), r.ue()); // chroma sample locations
      if (r.flag()) {
        const tick = r.u(32);
        const scale = r.u(32);
        if (tick > 0) fps = scale / (2 * tick);
      }
    }
    return { profileIdc, levelIdc, spsId, log2MaxFrameNum, pocType, log2MaxPocLsb, widthMbs, heightMbs, width, height, cropLeft: 2 * cl, cropTop: 2 * ct, fps };
  });
}

/** Reads a picture parameter set NAL unit. */
export function parsePps(nalu: Uint8Array): ProbeMediaResult<H264Pps> {
  return withRbsp(nalu, (r) => {
    const ppsId = r.ue();
    const spsId = r.ue();
    if (ppsId > 255 || spsId > 31) throw fail('bad-parameter-set', 1, `pic_parameter_set_id ${ppsId} / seq_parameter_set_id ${spsId} out of range (sec. 7.4.2.2)`);
    if (r.flag()) throw fail('unsupported-stream', 1, 'entropy_coding_mode_flag 1 (CABAC): the probe reads CAVLC only');
    const bottomFieldPicOrder = r.flag();
    if (r.ue() !== 0) throw fail('unsupported-stream', 1, 'slice groups (FMO): the probe reads one slice group only');
    r.ue();
    r.ue(); // num_ref_idx_l0/l1_default_active_minus1
    const weightedPred = r.flag();
    r.u(2);
    r.se();
    r.se();
    r.se(); // weighted_bipred_idc, pic_init_qp/qs_minus26, chroma_qp_index_offset
    const deblockingControl = r.flag();
    r.flag(); // constrained_intra_pred_flag
    const redundantPicCnt = r.flag();
    return { ppsId, spsId, bottomFieldPicOrder, weightedPred, deblockingControl, redundantPicCnt };
  });
}

/** A decoded picture being built: planes of whole macroblocks, and which macroblocks were written. */
export interface PictureBuffer {
  sps: H264Sps;
  y: Uint8Array;
  cb: Uint8Array;
  cr: Uint8Array;
  written: Uint8Array;
}

export function newPicture(sps: H264Sps): PictureBuffer {
  const w = sps.widthMbs * 16;
  const h = sps.heightMbs * 16;
  return { sps, y: new Uint8Array(w * h), cb: new Uint8Array((w * h) / 4), cr: new Uint8Array((w * h) / 4), written: new Uint8Array(sps.widthMbs * sps.heightMbs) };
}

function copyMb(to: PictureBuffer, addr: number, samples: Uint8Array | null, from: PictureBuffer | null): void {
  const { widthMbs } = to.sps;
  const cw = widthMbs * 16;
  const mbx = addr % widthMbs;
  const mby = Math.floor(addr / widthMbs);
  for (let r = 0; r < 16; r++) {
    const at = (mby * 16 + r) * cw + mbx * 16;
    to.y.set(samples ? samples.subarray(r * 16, r * 16 + 16) : from!.y.subarray(at, at + 16), at);
  }
  for (let r = 0; r < 8; r++) {
    const at = (mby * 8 + r) * (cw >> 1) + mbx * 8;
    to.cb.set(samples ? samples.subarray(256 + r * 8, 264 + r * 8) : from!.cb.subarray(at, at + 8), at);
    to.cr.set(samples ? samples.subarray(320 + r * 8, 328 + r * 8) : from!.cr.subarray(at, at + 8), at);
  }
  to.written[addr] = 1;
}

/**
 * Decodes one coded slice NAL unit (type 1 or 5) into `pic`, P_Skip copying
 * from `ref` (the previous decoded picture). Returns the header.
 */
export function decodeSlice(
  nalu: Uint8Array,
  sps: ReadonlyMap<number, H264Sps>,
  pps: ReadonlyMap<number, H264Pps>,
  picture: (sps: H264Sps) => PictureBuffer,
  ref: PictureBuffer | null,
): ProbeMediaResult<H264SliceHeader> {
  const nalRefIdc = (nalu[0]! >> 5) & 3;
  const idr = (nalu[0]! & 0x1f) === NAL_TYPE.IDR;
  return withRbsp(nalu, (r) => {
    const firstMb = r.ue();
    const sliceType = r.ue() % 5;
    if (sliceType !== 0 && sliceType !== 2) throw fail('unsupported-stream', 1, `slice_type ${sliceType} (B, SP or SI): the probe reads I and P slices only`);
    if (idr && sliceType !== 2) throw fail('bad-slice', 1, 'a P slice in an IDR picture (sec. 7.4.3)');
    const ppsId = r.ue();
    const p = pps.get(ppsId);
    if (!p) throw fail('missing-parameter-set', 1, `the slice refers to picture parameter set ${ppsId}, which was not received`);
    const s = sps.get(p.spsId);
    if (!s) throw fail('missing-parameter-set', 1, `picture parameter set ${ppsId} refers to sequence parameter set ${p.spsId}, which was not received`);
    const total = s.widthMbs * s.heightMbs;
    if (firstMb >= total) throw fail('bad-slice', 1, `first_mb_in_slice ${firstMb} is past the last of ${total} macroblocks`);
    const frameNum = r.u(s.log2MaxFrameNum);
    if (idr) r.ue(); // idr_pic_id
    if (s.pocType === 0) {
      r.u(s.log2MaxPocLsb);
      if (p.bottomFieldPicOrder) r.se();
    }
    if (p.redundantPicCnt) r.ue();
    if (sliceType === 0) {
      if (r.flag()) r.ue(); // num_ref_idx_active_override_flag, num_ref_idx_l0_active_minus1
      if (r.flag()) {
        // ref_pic_list_modification (sec. 7.3.3.1): idc 0..2 take one ue(v), 3 ends the list
        for (let i = 0, idc = r.ue(); idc !== 3; idc = r.ue(), i++) {
          if (idc > 5 || i > 32) throw fail('bad-slice', 1, `modification_of_pic_nums_idc ${idc} (sec. 7.4.3.1)`);
          r.ue();
        }
      }
      if (p.weightedPred) throw fail('unsupported-stream', 1, 'weighted prediction: the probe reads unweighted P slices only');
    }
    if (nalRefIdc !== 0) {
      if (idr) (r.flag(), r.flag());
      else if (r.flag()) {
        // dec_ref_pic_marking (sec. 7.3.3.3): memory_management_control_operation until 0
        for (let i = 0, op = r.ue(); op !== 0; op = r.ue(), i++) {
          if (op > 6 || i > 66) throw fail('bad-slice', 1, `memory_management_control_operation ${op} (sec. 7.4.3.3)`);
          if (op === 1 || op === 2 || op === 3 || op === 6 || op === 4) r.ue();
          if (op === 3) r.ue();
        }
      }
    }
    r.se(); // slice_qp_delta
    if (p.deblockingControl && r.ue() !== 1) (r.se(), r.se()); // disable_deblocking_filter_idc, alpha/beta offsets
    // slice_data() (sec. 7.3.4), I_PCM and P_Skip only.
    const pic = picture(s);
    let addr = firstMb;
    const next = (what: string) => {
      if (addr >= total) throw fail('bad-slice', 1, `${what} past the last of ${total} macroblocks`);
    };
    for (let more = true; more; ) {
      if (sliceType === 0) {
        const run = r.ue();
        for (let i = 0; i < run; i++, addr++) {
          next('mb_skip_run runs');
          if (!ref || ref.sps.widthMbs !== s.widthMbs || ref.sps.heightMbs !== s.heightMbs) throw fail('bad-slice', 1, 'P_Skip with no reference picture of this size');
          copyMb(pic, addr, null, ref);
        }
        if (run > 0 && !r.moreRbspData()) break;
      }
      next('a macroblock');
      const mbType = r.ue();
      if (mbType !== (sliceType === 2 ? MB_TYPE_I_PCM_I : MB_TYPE_I_PCM_P)) throw fail('unsupported-stream', 1, `mb_type ${mbType}: the probe reads I_PCM and P_Skip macroblocks only`);
      r.alignZero();
      copyMb(pic, addr++, r.bytes(PCM_MB_BYTES), null);
      more = r.moreRbspData();
    }
    return { nalRefIdc, idr, firstMb, sliceType, ppsId, frameNum };
  });
}
