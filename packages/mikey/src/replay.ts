/**
 * Freshness (RFC 3830 sec. 5.4): a message is accepted only when its
 * timestamp lies within an allowed clock skew of local time and it was not
 * seen before within that window. The replay cache is bounded in size and
 * forgets entries once their timestamp has left the window.
 */
import { MikeyProtocolError, MikeyReplayError, MikeyTimestampError } from './errors.ts';
import type { TPayload } from './payloads/types.ts';
import { msFromTimestamp } from './payloads/timestamp.ts';

/** Default allowed clock skew (either direction). */
export const DEFAULT_WINDOW_MS = 5 * 60_000;
/** Default replay cache capacity. */
export const DEFAULT_REPLAY_CAPACITY = 100_000;

/**
 * Checks a T payload against local time; returns the message time in ms.
 * COUNTER timestamps have no wall-clock meaning and are refused here.
 */
export function checkTimestamp(t: TPayload, nowMs: number, windowMs = DEFAULT_WINDOW_MS): number {
  const ms = msFromTimestamp(t.tsType, t.value);
  if (ms === undefined) throw new MikeyProtocolError('unsupported-parameter', `TS type ${t.tsType} cannot be checked against a clock`, 1);
  const skew = ms - nowMs;
  if (Math.abs(skew) > windowMs) throw new MikeyTimestampError(skew, windowMs);
  return ms;
}

/** Options of {@link ReplayCache}. */
export interface ReplayCacheOptions {
  /** Allowed clock skew; entries are kept until message time + window. */
  windowMs?: number;
  /** Maximum number of remembered messages. */
  capacity?: number;
}

/** Bounded, time-based replay cache keyed by a message identifier (e.g. its MAC). */
export class ReplayCache {
  readonly windowMs: number;
  readonly capacity: number;
  private readonly seen = new Map<string, number>();

  constructor(o: ReplayCacheOptions = {}) {
    this.windowMs = o.windowMs ?? DEFAULT_WINDOW_MS;
    this.capacity = o.capacity ?? DEFAULT_REPLAY_CAPACITY;
  }

  /** Number of remembered messages. */
  get size(): number {
    return this.seen.size;
  }

  private purge(nowMs: number): void {
    for (const [k, exp] of this.seen) if (exp < nowMs) this.seen.delete(k);
  }

  /**
   * Records a message; throws {@link MikeyReplayError} if it was seen within
   * the window, or if the cache is full of live entries (fails closed).
   *
   * @param id unique message identifier (e.g. data type and MAC value)
   * @param messageMs the message's timestamp in ms
   */
  check(id: string, messageMs: number, nowMs: number): void {
    const exp = this.seen.get(id);
    if (exp !== undefined && exp >= nowMs) throw new MikeyReplayError('replayed', 'message already received within the replay window');
    if (this.seen.size >= this.capacity) {
      this.purge(nowMs);
      if (this.seen.size >= this.capacity) throw new MikeyReplayError('cache-full', `replay cache holds ${this.capacity} live entries`);
    }
    this.seen.delete(id);
    this.seen.set(id, Math.max(messageMs, nowMs) + this.windowMs);
  }
}
