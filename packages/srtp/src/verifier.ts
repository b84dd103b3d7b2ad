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
import { createTransform, type PacketTransform } from './transform.ts';
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

  constructor(profile: SrtpProfileName, masterKey: Uint8Array, masterSalt: Uint8Array, opts: SrtpVerifierOptions = {}) {
    this.profile = resolveProfile(profile);
    checkMasterKey(this.profile, masterKey, masterSalt);
    const mkiLen = opts.mkiLength ?? 0;
    if (!Number.isInteger(mkiLen) || mkiLen < 0 || mkiLen > 128) throw new SrtpConfigError(`mkiLength must be 0..128 octets, got ${mkiLen}`);
    this.mkiLen = mkiLen;
    this.encrypted = !opts.unencryptedSrtp;
    this.rtp = createTransform(this.profile, deriveSessionKeys(this.profile, masterKey, masterSalt, false), false);
    this.rtcp = createTransform(this.profile, deriveSessionKeys(this.profile, masterKey, masterSalt, true), true);
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
