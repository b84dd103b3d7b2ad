/**
 * AES-GCM AEAD for SRTP and SRTCP, RFC 7714. SRTP layout (sec. 8):
 * header || ciphertext || tag || MKI, AAD = header (sec. 8.2), or the whole
 * packet when payload encryption is off (sec. 8.3). SRTCP layout (sec. 9):
 * header || ciphertext || tag || E|index || MKI.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { RTCP_FIXED_HEADER_LENGTH, readU32, rtpSequence, writeU32 } from '@imslab/rtp';
import type { SessionKeys } from './kdf.ts';
import { SRTCP_E_FLAG, SRTCP_INDEX_LENGTH } from './profiles.ts';
import type { PacketTransform } from './packet-transform.ts';

type GcmAlgorithm = 'aes-128-gcm' | 'aes-256-gcm';

export class GcmTransform implements PacketTransform {
  private readonly algorithm: GcmAlgorithm;
  private readonly key: Buffer;
  private readonly salt: Buffer;
  private readonly iv = Buffer.alloc(12);
  /** Reused 4-octet E|index word, the AAD trailer of SRTCP (RFC 7714 sec. 9.2). */
  private readonly word = Buffer.alloc(4);

  constructor(keys: SessionKeys, readonly tagLength: number) {
    this.algorithm = keys.encKey.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm';
    this.key = keys.encKey;
    this.salt = keys.salt;
  }

  /**
   * IV = (0x0000 || SSRC || hi(32) || lo(16)) XOR salt: RTP uses hi = ROC, lo = SEQ
   * (RFC 7714 sec. 8.1); RTCP uses 0x0000 || 0 || index31 (sec. 9.1), which
   * is the same layout with hi = index >>> 16 and lo = the low 16 bits.
   */
  private setIv(ssrc: number, hi: number, lo: number): Buffer {
    const iv = this.iv;
    iv.set(this.salt, 0);
    iv[2]! ^= ssrc >>> 24;
    iv[3]! ^= ssrc >>> 16;
    iv[4]! ^= ssrc >>> 8;
    iv[5]! ^= ssrc;
    iv[6]! ^= hi >>> 24;
    iv[7]! ^= hi >>> 16;
    iv[8]! ^= hi >>> 8;
    iv[9]! ^= hi;
    iv[10]! ^= lo >>> 8;
    iv[11]! ^= lo;
    return iv;
  }

  sealRtp(rtp: Uint8Array, hdrLen: number, ssrc: number, roc: number, encrypt: boolean, mki: Uint8Array | undefined): Buffer {
    const len = rtp.length;
    const mkiLen = mki ? mki.length : 0;
    const out = Buffer.allocUnsafe(len + this.tagLength + mkiLen);
    const seq = rtpSequence(rtp);
    const c = createCipheriv(this.algorithm, this.key, this.setIv(ssrc, roc, seq), { authTagLength: this.tagLength });
    // RFC 7714 sec. 8.2: AAD is the header incl. CSRCs and extension; sec. 8.3: tag-only mode authenticates everything.
    const aadEnd = encrypt ? hdrLen : len;
    c.setAAD(rtp.subarray(0, aadEnd));
    out.set(rtp.subarray(0, aadEnd), 0);
    if (aadEnd < len) out.set(c.update(rtp.subarray(aadEnd, len)), aadEnd);
    c.final();
    out.set(c.getAuthTag(), len);
    if (mki) out.set(mki, len + this.tagLength);
    return out;
  }

  openRtp(srtp: Uint8Array, hdrLen: number, ssrc: number, roc: number, encrypted: boolean, mkiLen: number): Buffer | null {
    const ctEnd = srtp.length - mkiLen - this.tagLength;
    const seq = rtpSequence(srtp);
    const d = createDecipheriv(this.algorithm, this.key, this.setIv(ssrc, roc, seq), { authTagLength: this.tagLength });
    d.setAuthTag(srtp.subarray(ctEnd, ctEnd + this.tagLength));
    const aadEnd = encrypted ? hdrLen : ctEnd;
    d.setAAD(srtp.subarray(0, aadEnd));
    const out = Buffer.allocUnsafe(ctEnd);
    out.set(srtp.subarray(0, aadEnd), 0);
    if (aadEnd < ctEnd) out.set(d.update(srtp.subarray(aadEnd, ctEnd)), aadEnd);
    try {
      d.final();
    } catch {
      // node:crypto reports a GCM tag mismatch only by throwing from final().
      return null;
    }
    return out;
  }

  openRtpAnyRoc(srtp: Uint8Array, hdrLen: number, ssrc: number, rocs: readonly number[], encrypted: boolean, mkiLen: number): { roc: number; packet: Buffer } | null {
    for (const roc of rocs) {
      const packet = this.openRtp(srtp, hdrLen, ssrc, roc, encrypted, mkiLen);
      if (packet) return { roc, packet };
    }
    return null;
  }

  sealRtcp(rtcp: Uint8Array, ssrc: number, index: number, encrypt: boolean, mki: Uint8Array | undefined): Buffer {
    const len = rtcp.length;
    const mkiLen = mki ? mki.length : 0;
    const out = Buffer.allocUnsafe(len + this.tagLength + SRTCP_INDEX_LENGTH + mkiLen);
    writeU32(this.word, 0, (encrypt ? SRTCP_E_FLAG : 0) | index);
    const c = createCipheriv(this.algorithm, this.key, this.setIv(ssrc, index >>> 16, index & 0xffff), { authTagLength: this.tagLength });
    // RFC 7714 sec. 9.2: AAD = first 8 octets (or the whole packet when E=0) || E|index.
    const aadEnd = encrypt ? RTCP_FIXED_HEADER_LENGTH : len;
    c.setAAD(rtcp.subarray(0, aadEnd));
    c.setAAD(this.word);
    out.set(rtcp.subarray(0, aadEnd), 0);
    if (aadEnd < len) out.set(c.update(rtcp.subarray(aadEnd, len)), aadEnd);
    c.final();
    out.set(c.getAuthTag(), len);
    out.set(this.word, len + this.tagLength);
    if (mki) out.set(mki, len + this.tagLength + SRTCP_INDEX_LENGTH);
    return out;
  }

  openRtcp(srtcp: Uint8Array, ssrc: number, mkiLen: number): Buffer | null {
    const idxOff = this.rtcpIndexOffset(srtcp.length, mkiLen);
    const ctEnd = idxOff - this.tagLength;
    const word = readU32(srtcp, idxOff);
    const encrypted = (word & SRTCP_E_FLAG) !== 0;
    const d = createDecipheriv(this.algorithm, this.key, this.setIv(ssrc, (word & 0x7fffffff) >>> 16, word & 0xffff), { authTagLength: this.tagLength });
    d.setAuthTag(srtcp.subarray(ctEnd, idxOff));
    const aadEnd = encrypted ? RTCP_FIXED_HEADER_LENGTH : ctEnd;
    d.setAAD(srtcp.subarray(0, aadEnd));
    d.setAAD(srtcp.subarray(idxOff, idxOff + SRTCP_INDEX_LENGTH));
    const out = Buffer.allocUnsafe(ctEnd);
    out.set(srtcp.subarray(0, aadEnd), 0);
    if (aadEnd < ctEnd) out.set(d.update(srtcp.subarray(aadEnd, ctEnd)), aadEnd);
    try {
      d.final();
    } catch {
      return null;
    }
    return out;
  }

  rtcpIndexOffset(len: number, mkiLen: number): number {
    return len - mkiLen - SRTCP_INDEX_LENGTH;
  }
}
