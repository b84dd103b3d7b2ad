/**
 * The replay of a member's box, on a fake clock: recorded bursts first,
 * byte for byte and paced with their recorded spacing (silence between
 * bursts capped), live packets behind them with their own spacing, each
 * burst reported done once its last packet is out, nothing after stop().
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Replay, type ReplayBurst, type ReplayOptions } from '../src/replay.ts';

beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

const T0 = 1_700_000_000_000_000;
const pkt = (tag: string, atMs: number) => ({ atUs: T0 + atMs * 1000, data: Buffer.from(tag) });

function harness(bursts: ReplayBurst[], o: Partial<ReplayOptions> = {}) {
  const sent: Array<{ at: number; tag: string }> = [];
  const done: string[] = [];
  const start = Date.now();
  let liveUs = T0 + 3_600_000_000; // live traffic arrives an hour after the recording
  const queue = [...bursts];
  const r = new Replay({
    send: (d) => sent.push({ at: Date.now() - start, tag: d.toString() }),
    next: () => queue.shift() ?? null,
    done: (b, s) => done.push(`${b.id}:${s.map((x) => x.toString()).join(',')}`),
    maxGapMs: 500,
    maxQueuedLive: 100,
    now: () => Date.now(),
    nowUs: () => liveUs + (Date.now() - start) * 1000,
    ...o,
  }, bursts.length);
  return { r, sent, done, setLiveClock: (us: number) => { liveUs = us; } };
}

describe('Replay', () => {
  it('sends each burst with its recorded spacing, caps the silence between bursts, and reports each burst once its last packet is out', () => {
    const { r, sent, done } = harness([
      { id: 'b1', packets: [pkt('a', 0), pkt('b', 20), pkt('c', 60)], damage: null },
      // Recorded ten seconds later: replayed 500 ms (maxGapMs) after the previous burst.
      { id: 'b2', packets: [pkt('d', 10_060), pkt('e', 10_080)], damage: null },
    ]);
    r.start();
    expect(r.replaying).toBe(true);
    expect(sent).toEqual([{ at: 0, tag: 'a' }]);
    vi.advanceTimersByTime(19);
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sent.map((s) => s.tag)).toEqual(['a', 'b']);
    vi.advanceTimersByTime(2000);
    expect(sent).toEqual([{ at: 0, tag: 'a' }, { at: 20, tag: 'b' }, { at: 60, tag: 'c' }, { at: 560, tag: 'd' }, { at: 580, tag: 'e' }]);
    expect(done).toEqual(['b1:a,b,c', 'b2:d,e']);
    expect(r.status).toEqual({ bursts: 2, delivered: 2, packets: 5, replaying: false, queuedLive: 0, droppedLive: 0 });
    expect(r.pushLive(Buffer.from('x'))).toBe(false); // done: live goes directly
  });

  it('does not drift when the timer fires late: each send is planned from the previous plan', () => {
    const packets = Array.from({ length: 10 }, (_, i) => pkt(String(i), i * 20));
    const { r, sent } = harness([{ id: 'b', packets, damage: null }]);
    r.start();
    vi.advanceTimersByTime(100); // as if the event loop had been busy: packets due by now all go
    vi.advanceTimersByTime(100);
    expect(sent.map((s) => s.at)).toEqual([0, 20, 40, 60, 80, 100, 120, 140, 160, 180]);
  });

  it('keeps live packets behind the recording, with their own spacing, and then stops queueing', () => {
    const { r, sent } = harness([{ id: 'b', packets: [pkt('r1', 0), pkt('r2', 20), pkt('r3', 40)], damage: null }]);
    r.start();
    expect(r.pushLive(Buffer.from('L1'))).toBe(true); // arrives at 0 ms, while r2 and r3 wait
    vi.advanceTimersByTime(30);
    expect(r.pushLive(Buffer.from('L2'))).toBe(true); // 30 ms after L1
    vi.advanceTimersByTime(1000);
    // r3 at 40, then L1 after the capped gap (the recording is an hour old), then L2 30 ms after L1.
    expect(sent).toEqual([{ at: 0, tag: 'r1' }, { at: 20, tag: 'r2' }, { at: 40, tag: 'r3' }, { at: 540, tag: 'L1' }, { at: 570, tag: 'L2' }]);
    expect(r.status).toMatchObject({ replaying: false, queuedLive: 2, droppedLive: 0 });
    expect(r.pushLive(Buffer.from('L3'))).toBe(false);
  });

  it('bounds the live packets waiting behind it: more are dropped and counted', () => {
    const { r, sent } = harness([{ id: 'b', packets: [pkt('r1', 0), pkt('r2', 1000)], damage: null }], { maxQueuedLive: 2, maxGapMs: 5000 });
    r.start();
    for (const t of ['L1', 'L2', 'L3', 'L4']) expect(r.pushLive(Buffer.from(t))).toBe(true);
    vi.advanceTimersByTime(20_000);
    expect(sent.map((s) => s.tag)).toEqual(['r1', 'r2', 'L1', 'L2']);
    expect(r.status).toMatchObject({ queuedLive: 2, droppedLive: 2 });
  });

  it('stop() sends nothing more and leaves the unfinished burst undelivered', () => {
    const { r, sent, done } = harness([{ id: 'b', packets: [pkt('a', 0), pkt('b', 20), pkt('c', 40)], damage: null }]);
    r.start();
    vi.advanceTimersByTime(20);
    r.stop();
    vi.advanceTimersByTime(1000);
    expect(sent.map((s) => s.tag)).toEqual(['a', 'b']);
    expect(done).toEqual([]);
    expect(r.status).toMatchObject({ delivered: 0, packets: 2, replaying: false });
  });

  it('reports an empty burst (a crash before its first packet) done at once, and goes on to the next', () => {
    const { r, sent, done } = harness([{ id: 'empty', packets: [], damage: null }, { id: 'b', packets: [pkt('a', 0)], damage: null }]);
    r.start();
    expect(sent.map((s) => s.tag)).toEqual(['a']);
    expect(done).toEqual(['empty:', 'b:a']);
  });
});
