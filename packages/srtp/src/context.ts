/**
 * SrtpContext: one direction's cryptographic context (RFC 3711 sec. 3.2),
 * covering any number of SSRCs with per-SSRC rollover counter, SRTCP index
 * and replay window.
 */
import { estimateRoc, packetIndex, RTCP_FIXED_HEADER_LENGTH, rtcpSenderSsrc, readU32, rtpSequence, rtpSsrc } from '@imslab/rtp';
import { RtpFormatError, SrtpConfigError, SrtpIndexReuseError, SrtpKeyExpiredError } from './errors.ts';
import { tagsEqual } from './hmac-sha1.ts';
import { checkKdr, KeySchedule } from './key-schedule.ts';
import { DEFAULT_REPLAY_WINDOW, MIN_REPLAY_WINDOW, SRTCP_INDEX_LENGTH, SRTCP_MAX_LIFETIME, SRTP_MAX_LIFETIME, type SrtpProfile, type SrtpProfileName } from './profiles.ts';
import { ReplayWindow, RtpStreamState } from './replay.ts';
import { checkRtcpHeader, srtpHeaderLength } from './rtp.ts';
import { checkMasterKey, checkMki, resolveProfile } from './validate.ts';

/** Why an SRTP/SRTCP packet was not delivered. */
export type UnprotectFailure = 'too-short' | 'not-rtp' | 'auth-failed' | 'replayed' | 'too-old' | 'key-expired' | 'mki-unknown';

/** Outcome of unprotecting one packet; failures are values, never exceptions. */
export type UnprotectResult = { ok: true; packet: Buffer } | { ok: false; reason: UnprotectFailure };

/** Counters of one context. `replayed` counts both 'replayed' and 'too-old'; `malformed` counts 'too-short', 'not-rtp' and 'mki-unknown'. */
export interface SrtpStats {
  protected: number;
  unprotected: number;
  authFailed: number;
  replayed: number;
  malformed: number;
  /** Packets refused because the master key reached its lifetime. */
  keyExpired: number;
  /** Streams moved to a higher ROC after they kept failing (rocSearch). */
  rocResyncs: number;
}

/** Options of an {@link SrtpContext}. */
export interface SrtpContextOptions {
  profile: SrtpProfileName;
  masterKey: Uint8Array;
  masterSalt: Uint8Array;
  /** Replay window in packets, default 128 (RFC 3711 sec. 3.3.2 minimum 64). */
  replayWindow?: number;
  /** Master key identifier carried in every packet (RFC 3711 sec. 3.1), 1..128 octets. */
  mki?: Uint8Array;
  /** Master key lifetime in packets, default and maximum 2^48 for SRTP; SRTCP is further capped at 2^31 (RFC 3711 sec. 9.2). */
  keyLifetime?: number;
  /** Key derivation rate: 0 (default, derive once) or a power of two up to 2^24 (RFC 3711 sec. 4.3.1; SDES KDR=n means 2^n). */
  kdr?: number;
  /** Authenticate but do not encrypt RTP payloads (SDES UNENCRYPTED_SRTP, RFC 4568 sec. 6.3.2; RFC 7714 sec. 8.3). */
  unencryptedSrtp?: boolean;
  /** Send SRTCP with E=0 (SDES UNENCRYPTED_SRTCP, RFC 4568 sec. 6.3.2). Received SRTCP follows its own E flag. */
  unencryptedSrtcp?: boolean;
  /** Let protectRtp re-protect an index already sent (identical retransmissions); off by default because a different payload under a reused index leaks plaintext (RFC 3711 sec. 9.1). */
  allowRepeatTx?: boolean;
  /**
   * Receiving: ROC values above 0 tried on the first packet of an SSRC whose
   * ROC was not signalled (0, default: none). For a member that joins a group
   * whose relay passes SRTP on as it is: the sender's ROC may have moved past
   * 0 before the join, and RFC 3711 sec. 3.3.1 has the joiner learn it out of
   * band, which no relay here does. Each guess costs one tag check, and only
   * while the SSRC has no authenticated packet. At most {@link MAX_ROC_SEARCH};
   * not with a key derivation rate (kdr > 0), where each guess would derive
   * session keys and push the stream's own out of the cache.
   *
   * The first packet that authenticates fixes the stream's ROC. If that was
   * an old packet (replayed by anyone on the path, or held up in a queue)
   * from before the sender's rollover, every later packet would be judged
   * under the old ROC and fail. So while a stream keeps failing, every
   * {@link ROC_RESYNC_AFTER}th consecutive refusal (authentication, replay
   * window) also tries the next `rocSearch` ROCs above the stream's; a packet
   * that authenticates under one of them moves the stream there (the tag
   * covers the ROC, so only the sender's key can make that happen, and only
   * forwards: no index already accepted can be accepted again).
   */
  rocSearch?: number;
}

/** The most ROC guesses beyond 0 a receiving context makes for a new SSRC (each is a tag check per unauthenticated packet). */
export const MAX_ROC_SEARCH = 16;

/** With rocSearch: consecutive refusals of a known SSRC after which its next ROCs are tried (and again after as many more). */
export const ROC_RESYNC_AFTER = 8;

const FAILURES: { readonly [R in UnprotectFailure]: UnprotectResult } = {
  'too-short': Object.freeze({ ok: false, reason: 'too-short' }),
  'not-rtp': Object.freeze({ ok: false, reason: 'not-rtp' }),
  'auth-failed': Object.freeze({ ok: false, reason: 'auth-failed' }),
  replayed: Object.freeze({ ok: false, reason: 'replayed' }),
  'too-old': Object.freeze({ ok: false, reason: 'too-old' }),
  'key-expired': Object.freeze({ ok: false, reason: 'key-expired' }),
  'mki-unknown': Object.freeze({ ok: false, reason: 'mki-unknown' }),
};

const MAX_ROC = 0xffffffff;

/** One direction's crypto context (one SSRC space), RFC 3711 sec. 3.2. Tracks ROC per SSRC, replay window per SSRC. */
export class SrtpContext {
  /** The profile in use. */
  readonly profile: SrtpProfile;
  /** Packet counters, updated by every protect/unprotect call. */
  readonly stats: SrtpStats = { protected: 0, unprotected: 0, authFailed: 0, replayed: 0, malformed: 0, keyExpired: 0, rocResyncs: 0 };

  private readonly rtpKeys: KeySchedule;
  private readonly rtcpKeys: KeySchedule;
  private readonly mki: Uint8Array | undefined;
  private readonly mkiLen: number;
  private readonly window: number;
  private readonly rtpLifetime: number;
  private readonly rtcpLifetime: number;
  private readonly encryptRtp: boolean;
  private readonly encryptRtcp: boolean;
  private readonly allowRepeatTx: boolean;
  private readonly rocSearch: number;
  private readonly txRtp = new Map<number, RtpStreamState>();
  private readonly rxRtp = new Map<number, RtpStreamState>();
  private readonly txRtcpIndex = new Map<number, number>();
  private readonly rxRtcp = new Map<number, ReplayWindow>();
  private readonly initialRoc = new Map<number, number>();
  private rtpPackets = 0;
  private rtcpPackets = 0;

  constructor(opts: SrtpContextOptions) {
    this.profile = resolveProfile(opts.profile);
    checkMasterKey(this.profile, opts.masterKey, opts.masterSalt);
    checkMki(opts.mki);
    const window = opts.replayWindow ?? DEFAULT_REPLAY_WINDOW;
    // RFC 3711 sec. 3.3.2: at least 64; the upper bound keeps the window well inside half the 16-bit sequence space.
    if (!Number.isInteger(window) || window < MIN_REPLAY_WINDOW || window > 32768) {
      throw new SrtpConfigError(`replayWindow must be an integer from ${MIN_REPLAY_WINDOW} (RFC 3711 sec. 3.3.2) to 32768, got ${window}`);
    }
    const lifetime = opts.keyLifetime ?? SRTP_MAX_LIFETIME;
    if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > SRTP_MAX_LIFETIME) {
      throw new SrtpConfigError(`keyLifetime must be an integer from 1 to 2^48 packets (RFC 3711 sec. 9.2), got ${lifetime}`);
    }
    const kdr = opts.kdr ?? 0;
    checkKdr(kdr);
    // Copies, so later changes to the caller's buffers cannot change the keys.
    const masterKey = Buffer.from(opts.masterKey);
    const masterSalt = Buffer.from(opts.masterSalt);
    this.rtpKeys = new KeySchedule(this.profile, masterKey, masterSalt, false, kdr);
    this.rtcpKeys = new KeySchedule(this.profile, masterKey, masterSalt, true, kdr);
    this.mki = opts.mki ? Buffer.from(opts.mki) : undefined;
    this.mkiLen = this.mki ? this.mki.length : 0;
    this.window = window;
    this.rtpLifetime = lifetime;
    this.rtcpLifetime = Math.min(lifetime, SRTCP_MAX_LIFETIME);
    this.encryptRtp = !opts.unencryptedSrtp;
    this.encryptRtcp = !opts.unencryptedSrtcp;
    this.allowRepeatTx = opts.allowRepeatTx ?? false;
    const search = opts.rocSearch ?? 0;
    if (!Number.isInteger(search) || search < 0 || search > MAX_ROC_SEARCH) throw new SrtpConfigError(`rocSearch must be an integer from 0 to ${MAX_ROC_SEARCH}, got ${search}`);
    if (search > 0 && kdr !== 0) throw new SrtpConfigError(`rocSearch needs kdr 0 (got kdr ${kdr}): with a key derivation rate every ROC guess derives session keys`);
    this.rocSearch = search;
  }

  /**
   * Sets the rollover counter of an SSRC in both directions, for joining a
   * stream whose ROC is known out of band (RFC 3711 sec. 3.3.1).
   */
  setRoc(ssrc: number, roc: number): void {
    if (!Number.isInteger(roc) || roc < 0 || roc > MAX_ROC) throw new SrtpConfigError(`ROC must be a 32-bit unsigned integer, got ${roc}`);
    this.initialRoc.set(ssrc >>> 0, roc);
    const tx = this.txRtp.get(ssrc >>> 0);
    if (tx) tx.roc = roc;
    const rx = this.rxRtp.get(ssrc >>> 0);
    if (rx) rx.roc = roc;
  }

  /**
   * Protects a whole RTP packet and returns the SRTP packet (RFC 3711 sec. 3.3).
   * @throws RtpFormatError when `rtp` is not an RTP packet
   * @throws SrtpIndexReuseError when the packet index was already protected
   * @throws SrtpKeyExpiredError when the key lifetime is reached
   */
  protectRtp(rtp: Uint8Array): Buffer {
    const hdrLen = srtpHeaderLength(rtp);
    if (typeof hdrLen !== 'number') throw new RtpFormatError(rtpFormatMessage(hdrLen, rtp.length));
    checkDatagramSize(rtp.length);
    if (this.rtpPackets >= this.rtpLifetime) throw new SrtpKeyExpiredError(`master key lifetime of ${this.rtpLifetime} SRTP packets reached; re-key (RFC 3711 sec. 9.2)`);
    const ssrc = rtpSsrc(rtp);
    const seq = rtpSequence(rtp);
    let st = this.txRtp.get(ssrc);
    if (!st) {
      st = new RtpStreamState(this.initialRoc.get(ssrc) ?? 0, seq, this.window);
      this.txRtp.set(ssrc, st);
    }
    // The sender derives the index from SEQ the same way a receiver would (RFC 3711 sec. 3.3.1), so reordered sends stay consistent.
    const v = estimateRoc(seq, st.sl, st.roc);
    if (v > MAX_ROC) throw new SrtpKeyExpiredError('rollover counter exhausted (2^48 packets); re-key (RFC 3711 sec. 9.2)');
    if (v < 0) throw new SrtpIndexReuseError(`SSRC ${ssrc}: sequence number ${seq} lies before the start of the stream`);
    const index = packetIndex(v, seq);
    if (!this.allowRepeatTx && st.window.check(index) !== 'ok') {
      throw new SrtpIndexReuseError(`SSRC ${ssrc}: packet index ${index} (ROC ${v}, SEQ ${seq}) was already protected or is too far behind; reusing it would reuse keystream (RFC 3711 sec. 9.1)`);
    }
    const out = this.rtpKeys.at(index).sealRtp(rtp, hdrLen, ssrc, v, this.encryptRtp, this.mki);
    st.accept(v, seq);
    this.rtpPackets++;
    this.stats.protected++;
    return out;
  }

  /** Verifies and decrypts an SRTP packet (RFC 3711 sec. 3.3); never throws on bad input. */
  unprotectRtp(srtp: Uint8Array): UnprotectResult {
    const hdrLen = srtpHeaderLength(srtp);
    if (typeof hdrLen !== 'number') return this.fail(hdrLen);
    const tagLen = this.profile.authTagLength;
    const len = srtp.length;
    if (len < hdrLen + tagLen + this.mkiLen) return this.fail('too-short');
    // RFC 3711 sec. 3.1: MKI precedes the tag; RFC 7714 sec. 8: for AEAD it follows the tag.
    if (this.mki && !tagsEqual(this.mki, 0, srtp, this.profile.aead ? len - this.mkiLen : len - tagLen - this.mkiLen, this.mkiLen)) return this.fail('mki-unknown');
    const ssrc = rtpSsrc(srtp);
    const seq = rtpSequence(srtp);
    const st = this.rxRtp.get(ssrc);
    // RFC 3711 sec. 3.3.1: the first packet of a stream sets s_l; ROC starts at 0 unless signalled.
    const v = st ? estimateRoc(seq, st.sl, st.roc) : (this.initialRoc.get(ssrc) ?? 0);
    if (v < 0) return st ? this.resyncOrFail(st, srtp, hdrLen, ssrc, seq, 'too-old') : this.fail('too-old');
    if (v > MAX_ROC) return this.fail('key-expired');
    const index = packetIndex(v, seq);
    // RFC 3711 sec. 3.3.2: replay check before the (costlier) authentication.
    if (st) {
      const c = st.window.check(index);
      if (c !== 'ok') return this.resyncOrFail(st, srtp, hdrLen, ssrc, seq, c);
    }
    if (this.rtpPackets >= this.rtpLifetime) return this.fail('key-expired');
    let packet = this.rtpKeys.at(index).openRtp(srtp, hdrLen, ssrc, v, this.encryptRtp, this.mkiLen);
    if (!packet && st) return this.resyncOrFail(st, srtp, hdrLen, ssrc, seq, 'auth-failed', v);
    let roc = v;
    // A stream joined late: its ROC unknown, guessed upwards (see rocSearch).
    if (!packet && !st && this.rocSearch > 0 && !this.initialRoc.has(ssrc)) {
      for (let r = 1; r <= this.rocSearch && !packet; r++) {
        packet = this.rtpKeys.at(packetIndex(r, seq)).openRtp(srtp, hdrLen, ssrc, r, this.encryptRtp, this.mkiLen);
        roc = r;
      }
    }
    if (!packet) return this.fail('auth-failed');
    if (st) {
      st.accept(roc, seq);
      st.refusals = 0;
    } else {
      // Stream state is created only for authenticated packets, so forged SSRCs cost no memory.
      const fresh = new RtpStreamState(roc, seq, this.window);
      fresh.accept(roc, seq);
      this.rxRtp.set(ssrc, fresh);
    }
    this.rtpPackets++;
    this.stats.unprotected++;
    return { ok: true, packet };
  }

  /**
   * Protects a (compound) RTCP packet and returns the SRTCP packet (RFC 3711 sec. 3.4).
   * @throws RtpFormatError when `rtcp` is not an RTCP packet
   * @throws SrtpKeyExpiredError when the 31-bit SRTCP index or the key lifetime is exhausted
   */
  protectRtcp(rtcp: Uint8Array): Buffer {
    const bad = checkRtcpHeader(rtcp);
    if (bad) throw new RtpFormatError(bad === 'too-short' ? `RTCP packet of ${rtcp.length} octets is shorter than the 8-octet header (RFC 3550 sec. 6.4)` : 'not an RTCP packet: expected version 2 and packet type 192..223 (RFC 3550 sec. 6.4, RFC 5761 sec. 4)');
    checkDatagramSize(rtcp.length);
    if (this.rtcpPackets >= this.rtcpLifetime) throw new SrtpKeyExpiredError(`master key lifetime of ${this.rtcpLifetime} SRTCP packets reached; re-key (RFC 3711 sec. 9.2)`);
    const ssrc = rtcpSenderSsrc(rtcp);
    // RFC 3711 sec. 3.4: the SRTCP index starts at 0 and counts packets per SSRC; 31 bits, never wrapping under one key.
    const index = this.txRtcpIndex.get(ssrc) ?? 0;
    if (index >= SRTCP_MAX_LIFETIME) throw new SrtpKeyExpiredError(`SSRC ${ssrc}: SRTCP index exhausted (2^31 packets); re-key (RFC 3711 sec. 9.2)`);
    const out = this.rtcpKeys.at(index).sealRtcp(rtcp, ssrc, index, this.encryptRtcp, this.mki);
    this.txRtcpIndex.set(ssrc, index + 1);
    this.rtcpPackets++;
    this.stats.protected++;
    return out;
  }

  /** Verifies and decrypts an SRTCP packet (RFC 3711 sec. 3.4, RFC 7714 sec. 9); never throws on bad input. */
  unprotectRtcp(srtcp: Uint8Array): UnprotectResult {
    const bad = checkRtcpHeader(srtcp);
    if (bad) return this.fail(bad);
    const len = srtcp.length;
    const tagLen = this.profile.srtcpAuthTagLength;
    if (len < RTCP_FIXED_HEADER_LENGTH + SRTCP_INDEX_LENGTH + this.mkiLen + tagLen) return this.fail('too-short');
    // MKI: before the tag for HMAC (RFC 3711 sec. 3.4), last for AEAD (RFC 7714 sec. 9).
    if (this.mki && !tagsEqual(this.mki, 0, srtcp, this.profile.aead ? len - this.mkiLen : len - tagLen - this.mkiLen, this.mkiLen)) return this.fail('mki-unknown');
    const ssrc = rtcpSenderSsrc(srtcp);
    // E|index precedes MKI and tag (RFC 3711 sec. 3.4); with AEAD the tag comes before it (RFC 7714 sec. 9).
    const idxOff = len - this.mkiLen - SRTCP_INDEX_LENGTH - (this.profile.aead ? 0 : tagLen);
    const index = readU32(srtcp, idxOff) & 0x7fffffff;
    const window = this.rxRtcp.get(ssrc);
    if (window) {
      const c = window.check(index);
      if (c !== 'ok') return this.fail(c);
    }
    if (this.rtcpPackets >= this.rtcpLifetime) return this.fail('key-expired');
    const packet = this.rtcpKeys.at(index).openRtcp(srtcp, ssrc, this.mkiLen);
    if (!packet) return this.fail('auth-failed');
    if (window) window.update(index);
    else {
      const w = new ReplayWindow(this.window);
      w.update(index);
      this.rxRtcp.set(ssrc, w);
    }
    this.rtcpPackets++;
    this.stats.unprotected++;
    return { ok: true, packet };
  }

  /**
   * A known SSRC's packet was refused for `reason`; with rocSearch, every
   * ROC_RESYNC_AFTER-th refusal in a row tries the ROCs above the stream's
   * (see rocSearch) and, when one authenticates, restarts the stream there.
   * `tried`: a ROC already checked for this packet.
   */
  private resyncOrFail(st: RtpStreamState, srtp: Uint8Array, hdrLen: number, ssrc: number, seq: number, reason: UnprotectFailure, tried?: number): UnprotectResult {
    if (this.rocSearch === 0 || ++st.refusals % ROC_RESYNC_AFTER !== 0 || this.rtpPackets >= this.rtpLifetime) return this.fail(reason);
    for (let r = st.roc + 1; r <= Math.min(st.roc + this.rocSearch, MAX_ROC); r++) {
      if (r === tried) continue;
      const packet = this.rtpKeys.at(packetIndex(r, seq)).openRtp(srtp, hdrLen, ssrc, r, this.encryptRtp, this.mkiLen);
      if (!packet) continue;
      const fresh = new RtpStreamState(r, seq, this.window);
      fresh.accept(r, seq);
      this.rxRtp.set(ssrc, fresh);
      this.rtpPackets++;
      this.stats.unprotected++;
      this.stats.rocResyncs++;
      return { ok: true, packet };
    }
    return this.fail(reason);
  }

  private fail(reason: UnprotectFailure): UnprotectResult {
    switch (reason) {
      case 'auth-failed':
        this.stats.authFailed++;
        break;
      case 'replayed':
      case 'too-old':
        this.stats.replayed++;
        break;
      case 'key-expired':
        this.stats.keyExpired++;
        break;
      default:
        this.stats.malformed++;
    }
    return FAILURES[reason];
  }
}

/** Packets come from and go into UDP datagrams (RFC 768: 16-bit length); larger input is a caller bug. */
function checkDatagramSize(len: number): void {
  if (len > 65535) throw new RtpFormatError(`packet of ${len} octets cannot be carried in a UDP datagram (at most 65535)`);
}

function rtpFormatMessage(reason: 'too-short' | 'not-rtp', len: number): string {
  return reason === 'too-short'
    ? `RTP packet of ${len} octets is shorter than its fixed header, CSRC list and extension (RFC 3550 sec. 5.1, 5.3.1)`
    : 'not an RTP packet: expected version 2 and a second octet outside the RTCP packet types 192..223 (RFC 3550 sec. 5.1, RFC 5761 sec. 4)';
}
