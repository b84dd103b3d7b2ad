/**
 * Per-SSRC RTP sequence tracking after RFC 3550 appendix A.1 (update_seq)
 * and A.3 (expected / lost). Differences from the appendix, on purpose:
 * no probation (a recorded flow is already classified as RTP, and the first
 * packets must count), and loss from an SSRC's earlier incarnation is kept
 * when a restart is detected instead of being forgotten.
 */
import { RTP_SEQ_MOD } from './sequence.ts';

/** RFC 3550 A.1 defaults. */
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;

/** Sequence state of one SSRC. */
export class RtpSequenceState {
  /** SSRC, unsigned. */
  readonly ssrc: number;
  /** RTP packets seen with this SSRC, including duplicates and rejected jumps. */
  packets = 0;
  /** Packets accepted by update_seq (the RFC's `received`). */
  received = 0;
  /** First sequence number seen. */
  readonly firstSeq: number;
  /** Most recent sequence number seen. */
  lastSeq: number;
  /** Cumulative packets lost; duplicates never make it negative. Kept up to date by `update` (read per packet by the capture flow table). */
  lost = 0;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private badSeq = RTP_SEQ_MOD + 1;
  private lostBefore = 0;

  constructor(ssrc: number, seq: number) {
    this.ssrc = ssrc >>> 0;
    this.firstSeq = seq;
    this.lastSeq = seq;
    this.initSeq(seq);
  }

  private initSeq(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = RTP_SEQ_MOD + 1;
    this.cycles = 0;
    this.received = 0;
  }

  /** Highest extended sequence number (cycles * 2^16 + max_seq). */
  get extendedMax(): number {
    return this.cycles + this.maxSeq;
  }

  /** Packets expected since the (last) base sequence number (RFC 3550 A.3). */
  get expected(): number {
    return this.extendedMax - this.baseSeq + 1;
  }

  /** Feeds one sequence number (update_seq of RFC 3550 A.1). */
  update(seq: number): void {
    this.packets++;
    this.lastSeq = seq;
    if (this.packets === 1) {
      this.received = 1;
      return;
    }
    const udelta = (seq - this.maxSeq) & 0xffff;
    if (udelta < MAX_DROPOUT) {
      // In order, with a permissible gap; a smaller number means a wrap.
      if (seq < this.maxSeq) this.cycles += RTP_SEQ_MOD;
      this.maxSeq = seq;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      // A very large jump: accept only when the next packet confirms it (the sender restarted).
      if (seq !== this.badSeq) {
        this.badSeq = (seq + 1) & 0xffff;
        return;
      }
      this.lostBefore = this.lost;
      this.initSeq(seq);
    }
    // else: duplicate or reordered packet, counted as received like the RFC does.
    this.received++;
    const missing = this.cycles + this.maxSeq - this.baseSeq + 1 - this.received;
    this.lost = (missing > 0 ? missing : 0) + this.lostBefore;
  }
}
