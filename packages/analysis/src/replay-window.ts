/**
 * The analyser's replay view of one stream (one SSRC under one key, or in the
 * clear): the receiver-side replay list of RFC 3711 sec. 3.3.2, kept as a
 * bitmap of the REPLAY_WINDOW indices below the highest one accepted.
 *
 * An index is accepted once: a packet whose index is already in the window,
 * or older than the window and not a new highest, is a replay, as an SRTP
 * receiver would judge it (libsrtp drops both). The analyser marks an index
 * only for packets that are authentic (the tag verified under the stream's
 * key) or readable plaintext, as a receiver updates its list only after the
 * authentication check: so a forged packet cannot make the genuine packet
 * with the same index look like a replay.
 *
 * Memory is constant per stream: four 32-bit words and the highest index.
 */

/** Indices remembered below the highest: RFC 3711 sec. 3.3.2 asks for at least 64; libsrtp's default is 128. */
export const REPLAY_WINDOW = 128;

export class ReplayWindow {
  /** Highest index accepted, -1 before the first. */
  private max = -1;
  /** Bit (i mod 128) set: index i was accepted (for i in (max - 128, max]). */
  private w0 = 0;
  private w1 = 0;
  private w2 = 0;
  private w3 = 0;

  /** The highest index accepted so far (-1 when none). */
  get highest(): number {
    return this.max;
  }

  /**
   * True, and `index` (RFC 3711 sec. 3.3.1: 2^16 * ROC + SEQ) is marked, when
   * it was not accepted before and is not older than the window; false for a
   * replay.
   */
  accept(index: number): boolean {
    const max = this.max;
    if (index > max) {
      const d = index - max;
      if (max < 0 || d >= REPLAY_WINDOW) {
        this.w0 = this.w1 = this.w2 = this.w3 = 0;
      } else {
        // Forget the slots the window slides over: indices max+1 .. index.
        for (let i = max + 1; i < index; i++) this.clear(i);
      }
      this.max = index;
      this.set(index);
      return true;
    }
    if (max - index >= REPLAY_WINDOW) return false;
    if (this.has(index)) return false;
    this.set(index);
    return true;
  }

  private has(i: number): boolean {
    const bit = 1 << (i & 31);
    switch ((i >>> 5) & 3) {
      case 0: return (this.w0 & bit) !== 0;
      case 1: return (this.w1 & bit) !== 0;
      case 2: return (this.w2 & bit) !== 0;
      default: return (this.w3 & bit) !== 0;
    }
  }

  private set(i: number): void {
    const bit = 1 << (i & 31);
    switch ((i >>> 5) & 3) {
      case 0: this.w0 |= bit; break;
      case 1: this.w1 |= bit; break;
      case 2: this.w2 |= bit; break;
      default: this.w3 |= bit;
    }
  }

  private clear(i: number): void {
    const bit = ~(1 << (i & 31));
    switch ((i >>> 5) & 3) {
      case 0: this.w0 &= bit; break;
      case 1: this.w1 &= bit; break;
      case 2: this.w2 &= bit; break;
      default: this.w3 &= bit;
    }
  }
}
