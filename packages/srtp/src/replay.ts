/**
 * Replay protection and rollover-counter bookkeeping for one SSRC
 * (RFC 3711 sec. 3.3.1, 3.3.2); the ROC guess itself (appendix A) is
 * @imslab/rtp's `estimateRoc`.
 */
import { packetIndex } from '@imslab/rtp';

/** Result of checking an index against the replay window. */
export type ReplayCheck = 'ok' | 'replayed' | 'too-old';

/**
 * Sliding window over packet indices (48-bit SRTP index or 31-bit SRTCP
 * index). A circular bitmap: advancing by d clears only d slots, so the
 * common in-order case touches one bit.
 */
export class ReplayWindow {
  private readonly bits: Uint32Array;
  private readonly slots: number;
  /** Highest authenticated index, -1 before the first packet. */
  private top = -1;

  /** @param size window in packets; RFC 3711 sec. 3.3.2 requires >= 64 (checked by the caller). */
  constructor(readonly size: number) {
    this.slots = Math.ceil(size / 32) * 32;
    this.bits = new Uint32Array(this.slots / 32);
  }

  /** Highest index accepted so far, or -1. */
  get highest(): number {
    return this.top;
  }

  /** Whether `index` may be accepted; does not change state (the packet is not authenticated yet). */
  check(index: number): ReplayCheck {
    if (index > this.top) return 'ok';
    if (this.top - index >= this.size) return 'too-old';
    const slot = index % this.slots;
    return this.bits[slot >>> 5]! & (1 << (slot & 31)) ? 'replayed' : 'ok';
  }

  /** Records an authenticated index (RFC 3711 sec. 3.3.2: update only after authentication). */
  update(index: number): void {
    if (index > this.top) {
      const advance = this.top < 0 ? this.slots : index - this.top;
      if (advance >= this.slots) {
        this.bits.fill(0);
      } else {
        for (let i = this.top + 1; i <= index; i++) {
          const s = i % this.slots;
          this.bits[s >>> 5]! &= ~(1 << (s & 31));
        }
      }
      this.top = index;
    }
    const slot = index % this.slots;
    this.bits[slot >>> 5]! |= 1 << (slot & 31);
  }
}

/** Per-SSRC SRTP state: rollover counter, highest sequence number, replay window. */
export class RtpStreamState {
  readonly window: ReplayWindow;
  /** Packets of this SSRC refused in a row since the last one accepted (ROC re-synchronisation counts them). */
  refusals = 0;
  constructor(public roc: number, public sl: number, windowSize: number) {
    this.window = new ReplayWindow(windowSize);
  }

  /**
   * Records an authenticated packet with guessed ROC `v` (RFC 3711 sec. 3.3.1:
   * ROC and s_l are only updated after authentication).
   */
  accept(v: number, seq: number): void {
    if (v > this.roc) {
      this.roc = v;
      this.sl = seq;
    } else if (v === this.roc && seq > this.sl) {
      this.sl = seq;
    }
    this.window.update(packetIndex(v, seq));
  }
}
