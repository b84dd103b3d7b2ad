/**
 * 16-bit RTP sequence-number arithmetic: signed distance across the wrap,
 * and the SRTP packet index (RFC 3711 sec. 3.3.1) with the rollover-counter
 * guess of RFC 3711 Appendix A.
 */
import { randomInt } from 'node:crypto';

/** Sequence numbers are 16 bits (RFC 3550 sec. 5.1): they wrap modulo 2^16. */
export const RTP_SEQ_MOD = 0x10000;
const HALF = 0x8000;

/**
 * A first sequence number for a new RTP stream: random, as RFC 3550 sec. 5.1
 * asks, but below 2^15. Under SRTP a receiver that joins a stream late has
 * to know the sender's rollover counter (RFC 3711 sec. 3.3.1); a stream that
 * starts in the lower half runs at least 2^15 packets (11 minutes of 20 ms
 * audio) before its first rollover, so a member who joins a relayed group
 * within that time starts right at ROC 0. libwebrtc bounds its initial
 * sequence numbers the same way. `draw(n)` returns an integer in [0, n).
 */
export function initialSequenceNumber(draw: (n: number) => number = randomInt): number {
  return draw(HALF) & (HALF - 1);
}

/**
 * Signed distance from sequence number `from` to `to`, in -32768..32767:
 * positive when `to` is newer, taking the shorter way round the wrap
 * (65535 -> 2 is +3, 2 -> 65535 is -3). Serial-number arithmetic on 16 bits
 * in the sense of RFC 1982 sec. 3.
 */
export function seqDistance(from: number, to: number): number {
  return ((to - from + HALF) & 0xffff) - HALF;
}

/** The SRTP packet index i = 2^16 * ROC + SEQ (RFC 3711 sec. 3.3.1); up to 2^48 - 1, exact in a double. */
export function packetIndex(roc: number, seq: number): number {
  return roc * RTP_SEQ_MOD + seq;
}

/**
 * The receiver's guess `v` of the rollover counter for a packet with
 * sequence number `seq`, given the highest sequence number `sl` received so
 * far under rollover counter `roc` (RFC 3711 sec. 3.3.1, Appendix A): of
 * ROC-1, ROC and ROC+1, the one putting the packet index closest to
 * 2^16 * ROC + s_l. So a late packet from before a wrap gets ROC-1 and the
 * first packets after a wrap get ROC+1.
 *
 * May return -1 (a packet from before the stream's first rollover counter)
 * or 2^32 (the counter is exhausted); callers treat both as unusable.
 */
export function estimateRoc(seq: number, sl: number, roc: number): number {
  if (sl < HALF) {
    return seq - sl > HALF ? roc - 1 : roc;
  }
  return sl - HALF > seq ? roc + 1 : roc;
}
