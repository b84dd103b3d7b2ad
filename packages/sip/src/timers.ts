/**
 * Every SIP protocol timer in one table (RFC 3261 sec. 17 and table 4 of
 * appendix A; Timers L and M from RFC 6026 sec. 8.11).
 *
 * Timers that exist only on unreliable transports are marked `unreliableOnly`;
 * timers whose value drops to zero on reliable transports are marked
 * `zeroIfReliable`. Nothing else in the package hard-codes a duration.
 */

/** Base timer values; tests and special deployments may override them. */
export interface TimerBase {
  /** RTT estimate, 500 ms (sec. 17.1.1.1). */
  T1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses, 4 s. */
  T2: number;
  /** Maximum duration a message will remain in the network, 5 s. */
  T4: number;
}

/** The defaults of RFC 3261 appendix A. */
export const DEFAULT_TIMER_BASE: TimerBase = Object.freeze({ T1: 500, T2: 4000, T4: 5000 });

export type TimerName = 'A' | 'B' | 'C' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M';

interface TimerSpec {
  /** What the timer does, quoting appendix A. */
  meaning: string;
  /** Duration on an unreliable transport. */
  value: (b: TimerBase) => number;
  /** Started only when the transport is unreliable. */
  unreliableOnly?: boolean;
  /** Zero (fires at once) on a reliable transport. */
  zeroIfReliable?: boolean;
}

/** Appendix A, table 4, plus RFC 6026 Timers L and M. */
export const TIMERS: Readonly<Record<TimerName, TimerSpec>> = Object.freeze({
  A: { meaning: 'INVITE request retransmit interval, for UDP only (initially T1)', value: (b) => b.T1, unreliableOnly: true },
  B: { meaning: 'INVITE transaction timeout timer (64*T1)', value: (b) => 64 * b.T1 },
  C: { meaning: 'proxy INVITE transaction timeout (> 3 min); unused by a UA', value: () => 180_000 },
  D: { meaning: 'Wait time for response retransmits (> 32 s for UDP, 0 s for TCP/SCTP)', value: () => 32_000, zeroIfReliable: true },
  E: { meaning: 'non-INVITE request retransmit interval, UDP only (initially T1)', value: (b) => b.T1, unreliableOnly: true },
  F: { meaning: 'non-INVITE transaction timeout timer (64*T1)', value: (b) => 64 * b.T1 },
  G: { meaning: 'INVITE response retransmit interval (initially T1)', value: (b) => b.T1, unreliableOnly: true },
  H: { meaning: 'Wait time for ACK receipt (64*T1)', value: (b) => 64 * b.T1 },
  I: { meaning: 'Wait time for ACK retransmits (T4 for UDP, 0 s for TCP/SCTP)', value: (b) => b.T4, zeroIfReliable: true },
  J: { meaning: 'Wait time for non-INVITE request retransmits (64*T1 for UDP, 0 s for TCP/SCTP)', value: (b) => 64 * b.T1, zeroIfReliable: true },
  K: { meaning: 'Wait time for response retransmits (T4 for UDP, 0 s for TCP/SCTP)', value: (b) => b.T4, zeroIfReliable: true },
  L: { meaning: 'RFC 6026: wait time for accepted INVITE request retransmits (64*T1)', value: (b) => 64 * b.T1 },
  M: { meaning: 'RFC 6026: wait time for retransmission of 2xx to INVITE or additional 2xx from other branches (64*T1)', value: (b) => 64 * b.T1 },
});

/**
 * Duration of a timer, or null when the timer is not started at all on this
 * kind of transport (A, E, G on reliable transports).
 */
export function timerDuration(name: TimerName, reliable: boolean, base: TimerBase = DEFAULT_TIMER_BASE): number | null {
  const spec = TIMERS[name];
  if (reliable && spec.unreliableOnly) return null;
  if (reliable && spec.zeroIfReliable) return 0;
  return spec.value(base);
}

/**
 * Interval between the retransmissions of a UAS's 2xx to INVITE, which the
 * TU (not the transaction) performs: "starts at T1 seconds and doubles for
 * each retransmission until it reaches T2 seconds" (sec. 13.3.1.4).
 */
export function next2xxRetransmitInterval(current: number, base: TimerBase = DEFAULT_TIMER_BASE): number {
  return Math.min(current * 2, base.T2);
}

/** How long a UAS waits for the ACK of its 2xx before it gives up and sends BYE: 64*T1 (sec. 13.3.1.4). */
export function ackWaitTimeout(base: TimerBase = DEFAULT_TIMER_BASE): number {
  return 64 * base.T1;
}
