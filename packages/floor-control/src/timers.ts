/**
 * Every floor control timer and counter, in one table per machine, named as
 * TS 24.380 Annex F names them (F.1 floor participant, F.2 floor control
 * server). The values are this testbed's defaults (a lab wants short
 * turn-arounds), not the spec's; every one can be overridden, and the
 * machines never read a clock: the caller passes `now` (milliseconds) to
 * each event and calls `tick(now)` at `nextDeadline()`.
 */
import { FloorConfigError } from './errors.ts';

/** Floor control server timers (TS 24.380 Annex F.2). */
export interface ServerTimers {
  /** T1 "end of RTP media": silence from the floor holder this long ends its burst as if it had released. */
  t1EndOfMediaMs: number;
  /** T2 "stop talking": the longest burst; on expiry the floor is revoked. Also sent as Duration (seconds) in Floor Granted. */
  t2StopTalkingMs: number;
  /** T3 "stop talking grace": after Floor Revoke, how long the holder's media is still forwarded before the floor is taken back. */
  t3StopTalkingGraceMs: number;
  /** T7 "Floor Idle": interval of Floor Idle repetitions. */
  t7FloorIdleMs: number;
  /** C7: Floor Idle is sent at most this many times per idle period. */
  c7FloorIdleMax: number;
  /** T20 "Floor Granted": interval of Floor Granted repetitions while its Floor Ack is missing (ack required). */
  t20FloorGrantedMs: number;
  /** C20: Floor Granted is sent at most this many times per grant. */
  c20FloorGrantedMax: number;
}

/** Floor participant timers (TS 24.380 Annex F.1). */
export interface ParticipantTimers {
  /** T100 "Floor Release": Floor Release is repeated at this interval until Floor Idle or Floor Taken arrives. */
  t100FloorReleaseMs: number;
  /** C100: Floor Release is sent at most this many times. */
  c100FloorReleaseMax: number;
  /** T101 "Floor Request": Floor Request is repeated at this interval until the server answers. */
  t101FloorRequestMs: number;
  /** C101: Floor Request is sent at most this many times. */
  c101FloorRequestMax: number;
}

/** Server defaults. */
export const DEFAULT_SERVER_TIMERS: Readonly<ServerTimers> = Object.freeze({
  t1EndOfMediaMs: 4_000,
  t2StopTalkingMs: 30_000,
  t3StopTalkingGraceMs: 1_000,
  t7FloorIdleMs: 1_000,
  c7FloorIdleMax: 3,
  t20FloorGrantedMs: 1_000,
  c20FloorGrantedMax: 3,
});

/** Participant defaults. */
export const DEFAULT_PARTICIPANT_TIMERS: Readonly<ParticipantTimers> = Object.freeze({
  t100FloorReleaseMs: 1_000,
  c100FloorReleaseMax: 3,
  t101FloorRequestMs: 500,
  c101FloorRequestMax: 3,
});

/** Defaults overridden by `given`; every value must be a positive integer. */
export function resolveTimers<T extends object>(defaults: Readonly<T>, given: Partial<T> | undefined): T {
  const out = { ...defaults, ...(given ?? {}) } as T;
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isInteger(v) || (v as number) < 1) throw new FloorConfigError(`timer ${k} must be a positive integer, got ${String(v)}`);
  }
  return out;
}

/**
 * The running timers of one machine: deadlines by name. `due(now)` hands
 * back the earliest expired one, so expiries are processed in time order.
 */
export class Deadlines<N extends string> {
  private readonly at = new Map<N, number>();

  start(name: N, now: number, ms: number): void {
    this.at.set(name, now + ms);
  }

  stop(...names: N[]): void {
    for (const n of names) this.at.delete(n);
  }

  running(name: N): boolean {
    return this.at.has(name);
  }

  /** Earliest deadline, or undefined when no timer runs. */
  next(): number | undefined {
    let min: number | undefined;
    for (const t of this.at.values()) if (min === undefined || t < min) min = t;
    return min;
  }

  /** Removes and returns the earliest timer due at `now`, with its deadline. */
  due(now: number): { name: N; at: number } | undefined {
    let best: { name: N; at: number } | undefined;
    for (const [name, at] of this.at) if (at <= now && (!best || at < best.at)) best = { name, at };
    if (best) this.at.delete(best.name);
    return best;
  }
}
