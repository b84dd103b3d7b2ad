/**
 * AES-CM encryption with HMAC-SHA1 authentication (RFC 3711 sec. 4.1.1,
 * 4.2.1; RFC 6188 for AES-256). SRTP layout (sec. 3.1):
 * header || encrypted payload || MKI || tag, tag over header || payload || ROC.
 * SRTCP layout (sec. 3.4): header || encrypted || E|index || MKI || tag.
 */
import { createCipheriv, type Cipher } from 'node:crypto';
import { packetIndex, RTCP_FIXED_HEADER_LENGTH, readU32, rtpSequence, writeU32 } from '@imslab/rtp';
import { AesCm, aesCmIv } from './aes-cm.ts';
import { HmacSha1 } from './hmac-sha1.ts';
import type { SessionKeys } from './kdf.ts';
import { SRTCP_E_FLAG, SRTCP_INDEX_LENGTH } from './profiles.ts';
import type { PacketTransform } from './packet-transform.ts';

export class CmTransform implements PacketTransform {
  private readonly aes: AesCm;
  private readonly hmac: HmacSha1;
  /** Reused ROC trailer for the SRTP tag (RFC 3711 sec. 4.2: M = header || payload || ROC). */
  private readonly rocBuf = Buffer.alloc(4);
  /** Session salt and a reused IV, for the unbatched decryption of single packets. */
  private readonly salt: Buffer;
  private readonly iv = Buffer.alloc(16);
  private readonly encKey: Buffer;
  /** AES-ECB for {@link keystreamHeads}, made on first use; counter blocks for it. */
  private heads: Cipher | null = null;
  private headCounters = Buffer.alloc(0);

  constructor(keys: SessionKeys, readonly tagLength: number) {
    this.aes = new AesCm(keys.encKey, keys.salt);
    this.hmac = new HmacSha1(keys.authKey);
    this.salt = keys.salt;
    this.encKey = keys.encKey;
  }

  /**
   * The first keystream block (16 octets: the first 16 payload octets' mask)
   * of `count` packets of `ssrc` with indices first, first + step, ... (RFC
   * 3711 sec. 4.1.1, block counter 0), in one AES call: for reading the start
   * of payloads of a stream now and then.
   */
  keystreamHeads(ssrc: number, first: number, step: number, count: number): Buffer {
    if (this.heads === null) {
      this.heads = createCipheriv(this.encKey.length === 32 ? 'aes-256-ecb' : 'aes-128-ecb', this.encKey, null);
      this.heads.setAutoPadding(false);
    }
    if (this.headCounters.length < 16 * count) this.headCounters = Buffer.alloc(16 * count);
    for (let k = 0; k < count; k++) aesCmIv(this.salt, ssrc, first + k * step, this.headCounters, 16 * k);
    return this.heads.update(this.headCounters.subarray(0, 16 * count));
  }

  /**
   * Verify-only: the index in `rocs` of the first ROC under which the tag of
   * `srtp` verifies, or -1. Nothing is decrypted (HMAC-SHA1 covers the
   * ciphertext, RFC 3711 sec. 3.1, 4.2).
   */
  authenticateRtpAnyRoc(srtp: Uint8Array, rocs: readonly number[], mkiLen: number): number {
    const authedLen = srtp.length - mkiLen - this.tagLength;
    return this.hmac.verifyAnyRoc(srtp, authedLen, rocs, srtp, authedLen + mkiLen, this.tagLength);
  }

  /**
   * The RTP packet of an SRTP packet already known to authenticate, decrypted
   * with one keystream run for this packet alone (no per-SSRC batch: for
   * packets read now and then, not in sequence); only the first
   * `payloadOctets` of the payload when that is less than all of it.
   */
  decryptRtpOnce(srtp: Uint8Array, hdrLen: number, ssrc: number, roc: number, encrypted: boolean, mkiLen: number, payloadOctets = Infinity): Buffer {
    const authedLen = Math.min(srtp.length - mkiLen - this.tagLength, hdrLen + payloadOctets);
    const out = Buffer.allocUnsafe(authedLen);
    copyHead(srtp, hdrLen, out);
    if (!encrypted) {
      out.set(srtp.subarray(hdrLen, authedLen), hdrLen);
      return out;
    }
    aesCmIv(this.salt, ssrc, packetIndex(roc, rtpSequence(srtp)), this.iv);
    this.aes.xorIv(this.iv, srtp, hdrLen, authedLen, out, hdrLen);
    return out;
  }

  sealRtp(rtp: Uint8Array, hdrLen: number, ssrc: number, roc: number, encrypt: boolean, mki: Uint8Array | undefined): Buffer {
    const len = rtp.length;
    const mkiLen = mki ? mki.length : 0;
    const out = Buffer.allocUnsafe(len + mkiLen + this.tagLength);
    if (encrypt) {
      copyHead(rtp, hdrLen, out);
      // RFC 3711 sec. 3.3.1: i = 2^16 * ROC + SEQ.
      this.aes.xorPacket(ssrc, packetIndex(roc, rtpSequence(rtp)), rtp, hdrLen, len, out, hdrLen);
    } else {
      out.set(rtp.subarray(0, len), 0);
    }
    if (mki) out.set(mki, len);
    writeU32(this.rocBuf, 0, roc);
    this.hmac.macInto(out, len, this.rocBuf, out, len + mkiLen, this.tagLength);
    return out;
  }

  openRtp(srtp: Uint8Array, hdrLen: number, ssrc: number, roc: number, encrypted: boolean, mkiLen: number): Buffer | null {
    const authedLen = srtp.length - mkiLen - this.tagLength;
    writeU32(this.rocBuf, 0, roc);
    if (!this.hmac.verify(srtp, authedLen, this.rocBuf, srtp, authedLen + mkiLen, this.tagLength)) return null;
    return this.decryptRtp(srtp, hdrLen, authedLen, ssrc, roc, encrypted);
  }

  openRtpAnyRoc(srtp: Uint8Array, hdrLen: number, ssrc: number, rocs: readonly number[], encrypted: boolean, mkiLen: number): { roc: number; packet: Buffer } | null {
    const authedLen = srtp.length - mkiLen - this.tagLength;
    // Hash header || payload once; only the 4-octet ROC trailer differs per guess.
    const i = this.hmac.verifyAnyRoc(srtp, authedLen, rocs, srtp, authedLen + mkiLen, this.tagLength);
    if (i < 0) return null;
    const roc = rocs[i]!;
    return { roc, packet: this.decryptRtp(srtp, hdrLen, authedLen, ssrc, roc, encrypted) };
  }

  private decryptRtp(srtp: Uint8Array, hdrLen: number, authedLen: number, ssrc: number, roc: number, encrypted: boolean): Buffer {
    const out = Buffer.allocUnsafe(authedLen);
    if (encrypted) {
      copyHead(srtp, hdrLen, out);
      this.aes.xorPacket(ssrc, packetIndex(roc, rtpSequence(srtp)), srtp, hdrLen, authedLen, out, hdrLen);
    } else {
      out.set(srtp.subarray(0, authedLen), 0);
    }
    return out;
  }

  sealRtcp(rtcp: Uint8Array, ssrc: number, index: number, encrypt: boolean, mki: Uint8Array | undefined): Buffer {
    const len = rtcp.length;
    const mkiLen = mki ? mki.length : 0;
    const out = Buffer.allocUnsafe(len + SRTCP_INDEX_LENGTH + mkiLen + this.tagLength);
    if (encrypt) {
      // RFC 3711 sec. 3.4: everything after the first 8 octets is encrypted;
      // the SRTCP index takes the place of the SRTP index in the IV (sec. 4.1.1).
      copyHead(rtcp, RTCP_FIXED_HEADER_LENGTH, out);
      this.aes.xorPacket(ssrc, index, rtcp, RTCP_FIXED_HEADER_LENGTH, len, out, RTCP_FIXED_HEADER_LENGTH);
    } else {
      out.set(rtcp.subarray(0, len), 0);
    }
    writeU32(out, len, (encrypt ? SRTCP_E_FLAG : 0) | index);
    if (mki) out.set(mki, len + SRTCP_INDEX_LENGTH);
    // The tag covers header || encrypted part || E|index, not the MKI (sec. 3.4).
    this.hmac.macInto(out, len + SRTCP_INDEX_LENGTH, EMPTY, out, len + SRTCP_INDEX_LENGTH + mkiLen, this.tagLength);
    return out;
  }

  openRtcp(srtcp: Uint8Array, ssrc: number, mkiLen: number): Buffer | null {
    const idxOff = this.rtcpIndexOffset(srtcp.length, mkiLen);
    const authedLen = idxOff + SRTCP_INDEX_LENGTH;
    if (!this.hmac.verify(srtcp, authedLen, EMPTY, srtcp, authedLen + mkiLen, this.tagLength)) return null;
    const word = readU32(srtcp, idxOff);
    const index = word & 0x7fffffff;
    const out = Buffer.allocUnsafe(idxOff);
    if (word & SRTCP_E_FLAG) {
      copyHead(srtcp, RTCP_FIXED_HEADER_LENGTH, out);
      this.aes.xorPacket(ssrc, index, srtcp, RTCP_FIXED_HEADER_LENGTH, idxOff, out, RTCP_FIXED_HEADER_LENGTH);
    } else {
      out.set(srtcp.subarray(0, idxOff), 0);
    }
    return out;
  }

  rtcpIndexOffset(len: number, mkiLen: number): number {
    return len - this.tagLength - mkiLen - SRTCP_INDEX_LENGTH;
  }
}

const EMPTY = new Uint8Array(0);

/** Copies the first `n` octets of `src` to `out`; a loop because headers are short and `subarray` would allocate a view per packet. */
function copyHead(src: Uint8Array, n: number, out: Uint8Array): void {
  for (let i = 0; i < n; i++) out[i] = src[i]!;
}
