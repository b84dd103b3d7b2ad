/**
 * The floor request queue of a floor control server (TS 24.380 clause
 * 6.3.5, "queued floor requests"): ordered by floor priority, highest first,
 * and by arrival among equal priorities.
 */

/** One queued request. */
export interface QueuedRequest {
  ssrc: number;
  priority: number;
  /** Arrival order, to keep equal priorities first come, first served. */
  arrival: number;
}

/** Priority queue of floor requests, one entry per participant. */
export class FloorQueue {
  private readonly entries: QueuedRequest[] = [];
  private arrivals = 0;

  get size(): number {
    return this.entries.length;
  }

  /** SSRCs in grant order. */
  order(): number[] {
    return this.entries.map((e) => e.ssrc);
  }

  has(ssrc: number): boolean {
    return this.entries.some((e) => e.ssrc === ssrc);
  }

  /** 1-based position of a participant, or undefined when it is not queued. */
  position(ssrc: number): number | undefined {
    const i = this.entries.findIndex((e) => e.ssrc === ssrc);
    return i < 0 ? undefined : i + 1;
  }

  priorityOf(ssrc: number): number | undefined {
    return this.entries.find((e) => e.ssrc === ssrc)?.priority;
  }

  /** Queues a request behind every request of the same or higher priority; returns its position. */
  add(ssrc: number, priority: number): number {
    this.remove(ssrc);
    const entry: QueuedRequest = { ssrc, priority, arrival: this.arrivals++ };
    let i = this.entries.findIndex((e) => e.priority < priority);
    if (i < 0) i = this.entries.length;
    this.entries.splice(i, 0, entry);
    return i + 1;
  }

  remove(ssrc: number): boolean {
    const i = this.entries.findIndex((e) => e.ssrc === ssrc);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    return true;
  }

  /** Takes the head of the queue (the next to be granted). */
  shift(): QueuedRequest | undefined {
    return this.entries.shift();
  }
}
