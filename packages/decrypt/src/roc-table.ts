/**
 * Rollover counters per SSRC and master key (RFC 3711 sec 3.3.1): the
 * receiver's view of each sender, rebuilt from the packets with the
 * Appendix A estimate, updated only by packets that authenticated.
 */
import { estimateRoc } from '@imslab/rtp';

/** ROC and highest sequence number s_l of one SSRC under one master key. */
export interface RocState {
  roc: number;
  sl: number;
}

/** Highest ROC: it is a 32-bit counter (RFC 3711 sec 3.2.1). */
const MAX_ROC = 0xffffffff;
/** Keys per table: the pair key is `ssrc * KEY_SPACE + key`, exact in a double (2^32 * 2^20 < 2^53). */
const KEY_SPACE = 2 ** 20;

/** See module comment. */
export class RocTable {
  private readonly pairs = new Map<number, RocState>();
  /** The state of each SSRC that last authenticated, under whichever key: what a new key inherits. */
  private readonly latest = new Map<number, RocState>();
  /** Reused guess list, so a guess costs no allocation. */
  private readonly guesses: number[] = [];

  /** The state of `ssrc` under key number `key`, if a packet authenticated under it. */
  get(ssrc: number, key: number): RocState | undefined {
    return this.pairs.get(ssrc * KEY_SPACE + key);
  }

  /** RFC 3711 App. A: the ROC the packet with `seq` most likely has, or -1 when unusable (before ROC 0, past 2^32). */
  estimate(st: RocState, seq: number): number {
    const v = estimateRoc(seq, st.sl, st.roc);
    return v < 0 || v > MAX_ROC ? -1 : v;
  }

  /**
   * ROC guesses for the first packet of `ssrc` under a key not seen on it
   * yet. After a new master key mid-stream (re-keying, e.g. new SDES keys
   * in a re-INVITE) senders differ: some keep the SSRC's ROC, others build a
   * fresh crypto context whose ROC starts at 0 while SEQ carries on (our UE
   * does). Both are tried, the continued one first. A stream never seen
   * starts at ROC 0 (RFC 3711 sec 3.3.1).
   */
  firstGuesses(ssrc: number, seq: number): readonly number[] {
    const g = this.guesses;
    g.length = 0;
    const prev = this.latest.get(ssrc);
    if (prev) {
      const v = this.estimate(prev, seq);
      if (v >= 0) g.push(v);
    }
    if (g[0] !== 0) g.push(0);
    return g;
  }

  /**
   * ROC guesses other than `tried` around a state: its ROC, the next and the
   * previous. For a packet whose estimate failed or was unusable, e.g. after
   * a gap of more than 2^15 packets, where App. A's guess is off by one.
   */
  retryGuesses(st: RocState, tried: number): readonly number[] {
    const g = this.guesses;
    g.length = 0;
    for (const v of [st.roc, st.roc + 1, st.roc - 1]) if (v >= 0 && v <= MAX_ROC && v !== tried) g.push(v);
    return g;
  }

  /** Records an authenticated packet (ROC `v`, sequence `seq`) of `ssrc` under `key`; returns the pair's state. */
  accept(ssrc: number, key: number, v: number, seq: number): RocState {
    let st = this.pairs.get(ssrc * KEY_SPACE + key);
    if (!st) {
      st = { roc: v, sl: seq };
      this.pairs.set(ssrc * KEY_SPACE + key, st);
    } else {
      acceptInto(st, v, seq);
    }
    this.latest.set(ssrc, st);
    return st;
  }
}

/** s_l and ROC move forward only (RFC 3711 sec 3.3.1): a late packet from before a wrap changes neither. */
export function acceptInto(st: RocState, v: number, seq: number): void {
  if (v > st.roc) {
    st.roc = v;
    st.sl = seq;
  } else if (v === st.roc && seq > st.sl) {
    st.sl = seq;
  }
}

/** The most keys a table distinguishes. */
export const MAX_KEYS = KEY_SPACE;
