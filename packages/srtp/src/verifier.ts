/**
 * SrtpVerifier: stateless check of captured packets against one master key,
 * for the packet analyser. No replay window, no ROC tracking: the caller
 * supplies ROC guesses.
 */
import { RTCP_FIXED_HEADER_LENGTH, rtcpSenderSsrc, rtpSsrc } from '@imslab/rtp';
import { SrtpConfigError } from './errors.ts';
import { deriveSessionKeys } from './kdf.ts';
import { SRTCP_INDEX_LENGTH, type SrtpProfile, type SrtpProfileName } from './profiles.ts';
import { checkRtcpHeader, srtpHeaderLength } from './rtp.ts';
import { MAX_MESSAGE, Sha1x4 } from './sha1-x4.ts';
import { createTransform, type PacketTransform } from './transform.ts';
import { CmTransform } from './transform-cm.ts';
import { checkMasterKey, resolveProfile } from './validate.ts';

/** Options of an {@link SrtpVerifier}; the defaults fit SDES without MKI. */
export interface SrtpVerifierOptions {
  /** MKI length in octets carried by the packets (RFC 3711 sec. 3.1); its value is not checked. Default 0. */
  mkiLength?: number;
  /** Payloads are authenticated but not encrypted (SDES UNENCRYPTED_SRTP). */
  unencryptedSrtp?: boolean;
}

const ROC_ZERO: readonly number[] = Object.freeze([0]);

/**
 * Stateless-ish checker for the packet analyser: derives session keys once,
 * then tells whether a captured SRTP packet authenticates under this master
 * key (trying the given ROC values, default [0]) and, on success, returns
 * the decrypted RTP packet. kdr = 0 only.
 */
export class SrtpVerifier {
  /** The profile in use. */
  readonly profile: SrtpProfile;
  private readonly rtp: PacketTransform;
  private readonly rtcp: PacketTransform;
  private readonly mkiLen: number;
  private readonly encrypted: boolean;
  /**
   * For {@link SrtpTagBatch}: the SRTP session authentication key (RFC 3711
   * sec. 4.3.1, label 0x01) when the tag is HMAC-SHA1; null for AEAD, whose
   * tag cannot be checked without decrypting.
   */
  readonly batchKey: { authKey: Buffer; tagLength: number; mkiLength: number } | null;

  /** {@link SrtpTagBatch}, reachable through the class the package exports. */
  static get TagBatch(): typeof SrtpTagBatch {
    return SrtpTagBatch;
  }

  constructor(profile: SrtpProfileName, masterKey: Uint8Array, masterSalt: Uint8Array, opts: SrtpVerifierOptions = {}) {
    this.profile = resolveProfile(profile);
    checkMasterKey(this.profile, masterKey, masterSalt);
    const mkiLen = opts.mkiLength ?? 0;
    if (!Number.isInteger(mkiLen) || mkiLen < 0 || mkiLen > 128) throw new SrtpConfigError(`mkiLength must be 0..128 octets, got ${mkiLen}`);
    this.mkiLen = mkiLen;
    this.encrypted = !opts.unencryptedSrtp;
    const rtpKeys = deriveSessionKeys(this.profile, masterKey, masterSalt, false);
    this.rtp = createTransform(this.profile, rtpKeys, false);
    this.rtcp = createTransform(this.profile, deriveSessionKeys(this.profile, masterKey, masterSalt, true), true);
    this.batchKey = this.profile.aead ? null : { authKey: rtpKeys.authKey, tagLength: this.profile.authTagLength, mkiLength: mkiLen };
  }

  /**
   * Verify-only: the ROC (from `rocs`) under which the authentication tag of
   * `srtp` verifies, or -1 (malformed, or no ROC authenticates). For the
   * HMAC-SHA1 profiles nothing is decrypted; for AES-GCM (RFC 7714) the tag
   * is part of the AEAD, so decrypting is the check and the plaintext is
   * dropped. Never throws on packet content.
   */
  authenticatesRtp(srtp: Uint8Array, rocs: readonly number[] = ROC_ZERO): number {
    const hdrLen = srtpHeaderLength(srtp);
    if (typeof hdrLen !== 'number' || srtp.length < hdrLen + this.profile.authTagLength + this.mkiLen) return -1;
    if (this.rtp instanceof CmTransform) {
      const i = this.rtp.authenticateRtpAnyRoc(srtp, rocs, this.mkiLen);
      return i < 0 ? -1 : rocs[i]!;
    }
    const hit = this.rtp.openRtpAnyRoc(srtp, hdrLen, rtpSsrc(srtp), rocs, this.encrypted, this.mkiLen);
    return hit ? hit.roc : -1;
  }

  /**
   * The first keystream block (the mask of the first 16 payload octets) of
   * `count` SRTP packets of `ssrc` with indices first, first + step, ...
   * (RFC 3711 sec. 3.3.1 index, sec. 4.1.1 keystream): XORed with a packet's
   * first payload octets it gives them in the clear without a call per packet.
   * Null for AES-GCM and unencrypted SRTP.
   */
  rtpKeystreamHeads(ssrc: number, first: number, step: number, count: number): Buffer | null {
    if (!(this.rtp instanceof CmTransform) || !this.encrypted || this.mkiLen !== 0) return null;
    return this.rtp.keystreamHeads(ssrc, first, step, count);
  }

  /**
   * The RTP packet inside `srtp` under `roc`, for a packet whose tag already
   * verified (with {@link authenticatesRtp} or a {@link SrtpTagBatch}):
   * AES-CM decryption without a second tag check; AES-GCM decrypts and checks
   * (null when it does not authenticate). Null when malformed. With
   * `payloadOctets`, AES-CM decrypts only that many octets of the payload
   * (the header and a prefix: one AES block for the probe's marker).
   */
  decryptRtp(srtp: Uint8Array, roc: number, payloadOctets = Infinity): Buffer | null {
    const hdrLen = srtpHeaderLength(srtp);
    if (typeof hdrLen !== 'number' || srtp.length < hdrLen + this.profile.authTagLength + this.mkiLen) return null;
    if (this.rtp instanceof CmTransform) return this.rtp.decryptRtpOnce(srtp, hdrLen, rtpSsrc(srtp), roc, this.encrypted, this.mkiLen, payloadOctets);
    return this.rtp.openRtp(srtp, hdrLen, rtpSsrc(srtp), roc, this.encrypted, this.mkiLen);
  }

  /**
   * The decrypted RTP packet and the ROC under which `srtp` authenticates,
   * or null (malformed, or no ROC in `rocs` authenticates). Never throws on packet content.
   */
  verifyRtp(srtp: Uint8Array, rocs: readonly number[] = ROC_ZERO): { roc: number; packet: Buffer } | null {
    const hdrLen = srtpHeaderLength(srtp);
    if (typeof hdrLen !== 'number' || srtp.length < hdrLen + this.profile.authTagLength + this.mkiLen) return null;
    return this.rtp.openRtpAnyRoc(srtp, hdrLen, rtpSsrc(srtp), rocs, this.encrypted, this.mkiLen);
  }

  /** The decrypted RTCP packet if `srtcp` authenticates under this key, else null. */
  verifyRtcp(srtcp: Uint8Array): Buffer | null {
    if (checkRtcpHeader(srtcp) || srtcp.length < RTCP_FIXED_HEADER_LENGTH + SRTCP_INDEX_LENGTH + this.mkiLen + this.profile.srtcpAuthTagLength) return null;
    return this.rtcp.openRtcp(srtcp, rtcpSenderSsrc(srtcp), this.mkiLen);
  }
}

/**
 * Authentication tags of many SRTP packets checked together: HMAC-SHA1 four
 * packets at a time in WebAssembly SIMD (sha1-x4.ts), for the analyser that
 * checks every packet of a capture. Jobs may mix keys; the tag of each is
 * compared in constant time per packet after {@link run}.
 *
 * Use: a `handle` per key (-1 when its packets cannot be batched: AES-GCM,
 * an MKI, no SIMD here), `add` each packet (a job number, or -1 when the
 * batch is full or the packet is over 2 KiB; check those with
 * {@link SrtpVerifier.authenticatesRtp}), `run` when {@link full} or when
 * the results are needed, read `ok(job)`, then `clear`. The authenticated part is
 * copied at `add`; the tag is read from `bytes` at `run`, so leave them
 * unchanged until then. Reached as `SrtpVerifier.TagBatch` from the package.
 */
export class SrtpTagBatch {
  private readonly engine: Sha1x4 | null;
  private n = 0;
  private ran = false;
  /** Per key handle: key table offset and tag length. */
  private readonly handles = new Map<SrtpVerifier, number>();
  private keyOffset: number[] = [];
  private keyTagLength: number[] = [];
  /** Per job: key handle, block count, where its tag is. */
  private readonly keyOf: Int32Array;
  private readonly blocks: Int32Array;
  private readonly tagAt: Int32Array;
  private readonly tagBytes: Array<Uint8Array | null>;
  private readonly result: Uint8Array;
  /** Job numbers grouped by block count (lanes of one SIMD call must have equal lengths). */
  private readonly groups: Int32Array[] = [];
  private readonly groupLength: Int32Array;

  constructor(readonly capacity = 64) {
    this.engine = Sha1x4.create(capacity);
    this.keyOf = new Int32Array(capacity);
    this.blocks = new Int32Array(capacity);
    this.tagAt = new Int32Array(capacity);
    this.tagBytes = new Array<Uint8Array | null>(capacity).fill(null);
    this.result = new Uint8Array(capacity);
    const maxBlocks = (MAX_MESSAGE + 13 + 63) >> 6;
    for (let b = 0; b <= maxBlocks; b++) this.groups.push(new Int32Array(capacity));
    this.groupLength = new Int32Array(maxBlocks + 1);
  }

  /** Whether the SIMD engine is there (otherwise nothing is batchable). */
  get available(): boolean {
    return this.engine !== null;
  }

  get length(): number {
    return this.n;
  }

  get full(): boolean {
    return this.n === this.capacity;
  }

  /**
   * A handle for queuing packets under `v`, or -1 when its packets cannot
   * be batched (AES-GCM, an MKI, no SIMD here): check those with
   * {@link SrtpVerifier.authenticatesRtp}. Look it up once per key.
   */
  handle(v: SrtpVerifier): number {
    const known = this.handles.get(v);
    if (known !== undefined) return known;
    const bk = v.batchKey;
    let h = -1;
    if (bk !== null && this.engine !== null && bk.mkiLength === 0) {
      h = this.keyOffset.length;
      this.keyOffset.push(this.engine.key(bk.authKey));
      this.keyTagLength.push(bk.tagLength);
    }
    this.handles.set(v, h);
    return h;
  }

  /**
   * Queues the tag check of the SRTP packet `bytes[start, end)` under the key
   * of `handle` (from {@link handle}, not -1) with rollover counter `roc`
   * (RFC 3711 sec. 3.3.1); the RTP header must already have been checked.
   * Returns the job number, or -1 (the batch is full, or the packet is over
   * 2 KiB: check it with authenticatesRtp).
   */
  add(handle: number, bytes: Uint8Array, start: number, end: number, roc: number): number {
    const authed = end - start - this.keyTagLength[handle]!;
    if (this.n === this.capacity || authed < 12 || authed > MAX_MESSAGE) return -1;
    const j = this.n++;
    this.keyOf[j] = handle;
    this.blocks[j] = this.engine!.load(j, bytes, start, authed, roc);
    this.tagBytes[j] = bytes;
    this.tagAt[j] = start + authed;
    this.ran = false;
    return j;
  }

  /** Computes the result of every queued job. */
  run(): void {
    const e = this.engine;
    if (e === null || this.ran) return;
    this.ran = true;
    const len = this.groupLength;
    len.fill(0);
    for (let j = 0; j < this.n; j++) {
      const b = this.blocks[j]!;
      this.groups[b]![len[b]!++] = j;
    }
    for (let nb = 1; nb < len.length; nb++) {
      const n = len[nb]!;
      if (n === 0) continue;
      const g = this.groups[nb]!;
      for (let i = 0; i < n; i += 4) {
        // A short last group repeats its first job in the empty lanes; their results are not read.
        const j0 = g[i]!;
        const j1 = i + 1 < n ? g[i + 1]! : j0;
        const j2 = i + 2 < n ? g[i + 2]! : j0;
        const j3 = i + 3 < n ? g[i + 3]! : j0;
        const ko = this.keyOffset;
        e.hmac4(j0, j1, j2, j3, ko[this.keyOf[j0]!]!, ko[this.keyOf[j1]!]!, ko[this.keyOf[j2]!]!, ko[this.keyOf[j3]!]!, nb);
        const lanes = Math.min(4, n - i);
        for (let l = 0; l < lanes; l++) this.result[g[i + l]!] = this.compare(e, l, g[i + l]!) ? 1 : 0;
      }
    }
  }

  /** Whether job `j`'s tag verified (after {@link run}). */
  ok(j: number): boolean {
    if (!this.ran) this.run();
    return this.result[j] === 1;
  }

  /** Drops every job (and the references to their packets). */
  clear(): void {
    for (let j = 0; j < this.n; j++) this.tagBytes[j] = null;
    this.n = 0;
    this.ran = false;
  }

  /** Constant-time comparison of lane `lane`'s HMAC, truncated to the tag length, with job `j`'s tag. */
  private compare(e: Sha1x4, lane: number, j: number): boolean {
    const p = this.tagBytes[j]!;
    const len = this.keyTagLength[this.keyOf[j]!]!;
    let at = this.tagAt[j]!;
    let diff = 0;
    let i = 0;
    for (; i + 4 <= len; i += 4, at += 4) diff |= e.word(lane, i >> 2) ^ ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!);
    for (; i < len; i++, at++) diff |= ((e.word(lane, i >> 2) >>> (24 - 8 * (i & 3))) & 0xff) ^ p[at]!;
    return diff === 0;
  }
}
