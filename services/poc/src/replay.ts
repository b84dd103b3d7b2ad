import type { PocReplayStatus } from './contract.ts';
import type { BoxPacket } from './box-records.ts';

/** A recorded burst on its way to the member. */
export interface ReplayBurst {
  id: string;
  packets: BoxPacket[];
  /** Damage found in its file (the packets are the whole records before it), or null. */
  damage: string | null;
}

export interface ReplayOptions {
  /** Sends one packet as the box keeps it (the leg sends it on: e2e as it is, e2m2e re-encrypted for the leg). */
  send(data: Buffer): void;
  /** The member's next burst, oldest first, or null when no more is waiting. Read when the previous one is done, so one burst is in memory at a time. */
  next(): ReplayBurst | null;
  /** A burst was sent to its last packet: the caller removes it from the box. */
  done(b: ReplayBurst, sent: Buffer[]): void;
  /** Silence between two bursts (or before live traffic) is replayed up to this long: a burst recorded an hour ago does not wait an hour. */
  maxGapMs: number;
  /** Live packets that may wait behind the recording; more are dropped and counted. */
  maxQueuedLive: number;
  /** Monotonic milliseconds (performance.now). */
  now?: () => number;
  /** Microseconds since the epoch on the box's clock, for live arrivals. */
  nowUs?: () => number;
}

export const epochUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

/**
 * Plays a member's box to it when it joins: the recorded bursts first, each
 * packet byte for byte and paced with the spacing it arrived with, then the
 * live packets that arrived meanwhile (they wait behind the recording, with
 * their own spacing), then nothing: the leg sends live traffic directly
 * again. Every send is scheduled from the previous one's planned time, not
 * from when the timer fired, so timer lateness does not add up.
 */
export class Replay {
  readonly status: PocReplayStatus = { bursts: 0, delivered: 0, packets: 0, replaying: false, queuedLive: 0, droppedLive: 0 };
  private current: { burst: ReplayBurst; i: number; sent: Buffer[] } | null = null;
  private exhausted = false;
  private readonly live: BoxPacket[] = [];
  private lastAtUs: number | null = null;
  private lastTarget: number | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly now: () => number;
  private readonly nowUs: () => number;

  constructor(private readonly o: ReplayOptions, bursts: number) {
    this.now = o.now ?? (() => performance.now());
    this.nowUs = o.nowUs ?? epochUs;
    this.status.bursts = bursts;
  }

  get replaying(): boolean {
    return this.status.replaying;
  }

  start(): void {
    this.status.replaying = true;
    this.pump();
  }

  /** A live packet for the member: queued (true) while the recording plays, or false: send it directly. */
  pushLive(data: Buffer): boolean {
    if (!this.status.replaying) return false;
    if (this.live.length >= this.o.maxQueuedLive) {
      this.status.droppedLive++;
      return true;
    }
    this.live.push({ atUs: this.nowUs(), data });
    this.status.queuedLive++;
    return true;
  }

  /** The member left: nothing more is sent; what was not delivered stays in the box. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.status.replaying = false;
    this.current = null;
    this.live.length = 0;
  }

  private peek(): { p: BoxPacket; recorded: boolean } | null {
    while (!this.exhausted && (!this.current || this.current.i >= this.current.burst.packets.length)) {
      if (this.current) this.finishBurst();
      const b = this.o.next();
      if (!b) this.exhausted = true;
      else this.current = { burst: b, i: 0, sent: [] };
    }
    if (this.current) return { p: this.current.burst.packets[this.current.i]!, recorded: true };
    const l = this.live[0];
    return l ? { p: l, recorded: false } : null;
  }

  private finishBurst(): void {
    const c = this.current!;
    this.current = null;
    this.status.delivered++;
    this.o.done(c.burst, c.sent);
  }

  private pump(): void {
    this.timer = undefined;
    for (;;) {
      if (!this.status.replaying) return;
      const next = this.peek();
      if (!next) {
        this.status.replaying = false;
        return;
      }
      const now = this.now();
      const gap = this.lastAtUs === null ? 0 : Math.min(Math.max(0, (next.p.atUs - this.lastAtUs) / 1000), this.o.maxGapMs);
      const target = this.lastTarget === null ? now : this.lastTarget + gap;
      if (target > now) {
        this.timer = setTimeout(() => this.pump(), target - now);
        return;
      }
      if (next.recorded) {
        const c = this.current!;
        c.i++;
        c.sent.push(next.p.data);
        this.status.packets++;
      } else {
        this.live.shift();
      }
      this.lastTarget = target;
      this.lastAtUs = next.p.atUs;
      this.o.send(next.p.data);
    }
  }
}
