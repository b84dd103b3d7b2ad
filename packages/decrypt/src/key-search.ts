/**
 * Which key opens a packet: per stream (link, addresses, ports, SSRC) the
 * key that opened its last packet is tried first, with the ROC estimated
 * from that key's state for the SSRC (RFC 3711 sec 3.3.1, App. A). When it
 * fails (first packet, a new key mid-stream, or not SRTP at all) every key
 * is tried, the one that last opened this SSRC anywhere first.
 *
 * Why a back-off: plaintext RTP and media under keys nobody logged fail
 * every key, and a failed AES-GCM open costs ~13 µs (node:crypto throws),
 * so trying N keys on every such packet would dominate the run. After
 * EAGER_TRIES packets of a stream failed every key, the packets searched get
 * exponentially sparser (every 2nd, 4th, ... at most every
 * MAX_PROBE_INTERVAL-th), and any packet whose shape changes (payload type,
 * or length after a run of equal lengths: SRTP adds a tag, so switching a
 * call from RTP to SRTP mid-call changes it) is searched at once and restarts
 * the back-off. So what the back-off can miss is a key that starts to open a
 * stream's packets without any change of their shape (e.g. a switch from an
 * unknown key to a known one of the same suite): found within
 * MAX_PROBE_INTERVAL packets at worst, the packets before counted in the
 * stream's report.
 */
import { rtcpSenderSsrc, rtpSequence, rtpSsrc } from '@imslab/rtp';
import type { PreparedKey } from './keys.ts';
import { RocTable, type RocState } from './roc-table.ts';

/** Packets of a stream that may fail every key before the back-off starts. */
export const EAGER_TRIES = 16;
/** The back-off's longest interval between searched packets. */
export const MAX_PROBE_INTERVAL = 256;
/** Equal lengths in a row after which a length change counts as a change of shape. */
const STEADY_LENGTHS = 8;

/** Per-stream search state; the caller keeps one per stream and passes it back. */
export interface SearchState {
  key: PreparedKey | null;
  /** The RTP stream's ROC state under `key` (null for RTCP: SRTCP carries its index, RFC 3711 sec 3.4). */
  roc: RocState | null;
  /** Consecutive packets no key opened. */
  misses: number;
  /** Back-off: `misses` at which the next full search is due, and the current interval. */
  nextSearch: number;
  interval: number;
  lastPt: number;
  lastLen: number;
  steady: number;
}

/** A fresh search state. */
export function newSearchState(): SearchState {
  return { key: null, roc: null, misses: 0, nextSearch: 0, interval: 1, lastPt: -1, lastLen: -1, steady: 0 };
}

/** An opened packet: the plaintext RTP/RTCP, the key, and for RTP the ROC it authenticated under. */
export interface Opened {
  packet: Buffer;
  key: PreparedKey;
  roc: number;
}

/** See module comment. */
export class KeySearch {
  private readonly rocs = new RocTable();
  /** The key that last opened anything of an SSRC (RTP or RTCP: one crypto context per sender, RFC 3711 sec 3.2). */
  private readonly hint = new Map<number, PreparedKey>();
  private readonly one: number[] = [0];
  /** Verification attempts made (each key and ROC list tried on a packet counts once). */
  attempts = 0;

  constructor(readonly keys: readonly PreparedKey[]) {}

  /** Opens an SRTP packet of the stream `s`, or null (no key opens it, or it was not tried: back-off). */
  openRtp(s: SearchState, pkt: Uint8Array): Opened | null {
    const ssrc = rtpSsrc(pkt);
    const seq = rtpSequence(pkt);
    const cur = s.key;
    if (cur !== null && s.roc !== null) {
      const v = this.rocs.estimate(s.roc, seq);
      if (v >= 0) {
        this.one[0] = v;
        this.attempts++;
        const r = cur.verifier.verifyRtp(pkt, this.one);
        if (r !== null) {
          this.rocs.accept(ssrc, cur.index, v, seq);
          opened(s);
          return { packet: r.packet, key: cur, roc: v };
        }
      }
    }
    if (!this.shouldSearch(s, pkt[1]! & 0x7f, pkt.length)) return null;
    const hinted = this.hint.get(ssrc);
    for (let i = -1; i < this.keys.length; i++) {
      const k = i < 0 ? hinted : this.keys[i]!;
      if (k === undefined || k === cur || (i >= 0 && k === hinted)) continue;
      const st = this.rocs.get(ssrc, k.index);
      let guesses: readonly number[];
      if (st) {
        const v = this.rocs.estimate(st, seq);
        if (v >= 0) {
          this.one[0] = v;
          guesses = this.one;
        } else {
          guesses = this.rocs.retryGuesses(st, -1);
        }
      } else {
        guesses = this.rocs.firstGuesses(ssrc, seq);
      }
      const hit = this.tryRtp(s, k, ssrc, seq, pkt, guesses);
      if (hit) return hit;
    }
    // Last, the stream's own key under the other ROCs near its state: the estimate is wrong after more
    // than 2^15 packets of the stream went uncaptured (RFC 3711 App. A assumes less), not the key.
    if (cur !== null && s.roc !== null) {
      const hit = this.tryRtp(s, cur, ssrc, seq, pkt, this.rocs.retryGuesses(s.roc, this.rocs.estimate(s.roc, seq)));
      if (hit) return hit;
    }
    searchFailed(s);
    return null;
  }

  private tryRtp(s: SearchState, k: PreparedKey, ssrc: number, seq: number, pkt: Uint8Array, guesses: readonly number[]): Opened | null {
    if (guesses.length === 0) return null;
    this.attempts++;
    const r = k.verifier.verifyRtp(pkt, guesses);
    if (r === null) return null;
    s.key = k;
    s.roc = this.rocs.accept(ssrc, k.index, r.roc, seq);
    opened(s);
    this.hint.set(ssrc, k);
    return { packet: r.packet, key: k, roc: r.roc };
  }

  /** Opens an SRTCP packet of the stream `s`, or null. */
  openRtcp(s: SearchState, pkt: Uint8Array): Opened | null {
    const cur = s.key;
    if (cur !== null) {
      this.attempts++;
      const r = cur.verifier.verifyRtcp(pkt);
      if (r !== null) {
        opened(s);
        return { packet: r, key: cur, roc: 0 };
      }
    }
    if (!this.shouldSearch(s, pkt[1]!, pkt.length)) return null;
    const ssrc = rtcpSenderSsrc(pkt);
    const hinted = this.hint.get(ssrc);
    for (let i = -1; i < this.keys.length; i++) {
      const k = i < 0 ? hinted : this.keys[i]!;
      if (k === undefined || k === cur || (i >= 0 && k === hinted)) continue;
      this.attempts++;
      const r = k.verifier.verifyRtcp(pkt);
      if (r !== null) {
        s.key = k;
        opened(s);
        this.hint.set(ssrc, k);
        return { packet: r, key: k, roc: 0 };
      }
    }
    searchFailed(s);
    return null;
  }

  /** The back-off of the module comment: whether this packet gets the full search. Also records the packet's shape. */
  private shouldSearch(s: SearchState, pt: number, len: number): boolean {
    const reshaped = pt !== s.lastPt || (s.steady >= STEADY_LENGTHS && len !== s.lastLen);
    s.steady = len === s.lastLen ? s.steady + 1 : 0;
    s.lastPt = pt;
    s.lastLen = len;
    if (reshaped) s.interval = 1;
    if (reshaped || s.misses < EAGER_TRIES || s.misses >= s.nextSearch) return true;
    s.misses++;
    return false;
  }
}

function opened(s: SearchState): void {
  s.misses = 0;
  s.interval = 1;
  s.nextSearch = 0;
}

function searchFailed(s: SearchState): void {
  s.misses++;
  if (s.misses >= EAGER_TRIES) {
    s.interval = Math.min(2 * s.interval, MAX_PROBE_INTERVAL);
    s.nextSearch = s.misses + s.interval - 1;
  }
}
