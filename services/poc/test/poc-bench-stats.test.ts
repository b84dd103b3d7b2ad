import { describe, expect, it } from 'vitest';
import { disturbed, GapTracker, isClean, limitOf, MAX_GAP_P99_MS, percentile, summarise, type GroupSizeRun, type StreamFigures } from '../bench/poc-bench.ts';

/*
 * The statistics behind the PoC bench's figures (services/poc/bench): the
 * percentiles of the floor grant times, the listeners' loss and gap
 * deviation, what counts as a clean group, and which side a failed size
 * blames. No timing here: fixed inputs, exact outputs.
 */

describe('percentile and summarise', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('takes the nearest rank', () => {
    expect([0, 1, 50, 95, 99, 100].map((p) => percentile(hundred, p))).toEqual([1, 1, 50, 95, 99, 100]);
    expect(percentile([7], 95)).toBe(7);
    // 20 samples: p95 is the 19th, not an interpolation.
    expect(percentile(Array.from({ length: 20 }, (_, i) => i * 10), 95)).toBe(180);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile(hundred, 101)).toThrow(RangeError);
  });

  it('summarises samples in any order without sorting the caller\'s array', () => {
    const samples = [9, 1, 5, 3, 7];
    const s = summarise(samples);
    expect(s).toEqual({ n: 5, p50: 5, p95: 9, p99: 9, max: 9, mean: 5 });
    expect(samples).toEqual([9, 1, 5, 3, 7]);
    expect(summarise([])).toMatchObject({ n: 0, p50: NaN, max: NaN });
  });
});

describe('GapTracker: one listener\'s loss and gap deviation', () => {
  const sentAt = [0, 20, 40, 60, 80, 100];

  it('compares each arrival gap with the send gap of the same two packets, across a lost one', () => {
    const devs: number[] = [];
    const g = new GapTracker(sentAt, devs);
    expect(g.add(0, 5)).toBe(true);
    g.add(1, 25); // on time: 0
    g.add(2, 50); // 25 ms after the previous, sent 20 after: 5
    // 3 is lost: 4 arrives 35 ms after 2, which was sent 40 ms before it: 5
    g.add(4, 85);
    g.add(5, 105); // 0
    expect(devs).toEqual([0, 5, 5, 0]);
    expect(g.received).toBe(5);
    expect(g.missing(0, 6)).toBe(1);
    expect(g.missing(4, 6)).toBe(0);
  });

  it('counts a duplicate once, a late packet as reordered (starting no gap), and ignores numbers outside the stream', () => {
    const devs: number[] = [];
    const g = new GapTracker(sentAt, devs);
    g.add(0, 1);
    g.add(2, 41);
    g.add(1, 45); // older than the newest seen
    expect(g.add(2, 46)).toBe(false); // a second copy
    g.add(3, 61);
    expect(g.add(6, 130)).toBe(false);
    expect(g.add(-1, 0)).toBe(false);
    expect(g.add(1.5, 0)).toBe(false);
    expect({ received: g.received, duplicates: g.duplicates, reordered: g.reordered }).toEqual({ received: 4, duplicates: 1, reordered: 1 });
    // 0 -> 2: 40 vs 40; 2 -> 3: 20 vs 20 (the reordered 1 did not break the chain).
    expect(devs).toEqual([0, 0]);
    expect(g.missing(0, 6)).toBe(2); // 4 and 5
  });

  it('shares one deviation list between listeners', () => {
    const devs: number[] = [];
    const a = new GapTracker(sentAt, devs);
    const b = new GapTracker(sentAt, devs);
    a.add(0, 0);
    b.add(0, 3);
    a.add(1, 21);
    b.add(1, 30);
    expect(devs).toEqual([1, 7]);
  });
});

const figures = (o: Partial<StreamFigures> = {}): StreamFigures => ({
  sent: 500, expected: 50_000, received: 50_000, lost: 0, altered: 0, authFailed: 0, duplicates: 0, reordered: 0,
  gapDeviation: summarise([0.2, 0.3, 1]), delay: summarise([1, 2]), maxSendLateMs: 1, serverCpuPct: 20, benchCpuPct: 30, hostBusyPct: 60, otherCpuPct: 10, ...o,
});
const run = (o: Partial<GroupSizeRun> = {}, ref: (Partial<StreamFigures> & { clean?: boolean }) | null = {}): GroupSizeRun => {
  const f = figures(o);
  return {
    ...f, listeners: 100, attempt: 2, toServerLossPct: 0, fromServerLossPct: 0, joinS: 1, clean: isClean(f),
    reference: ref ? { ...figures(ref), clean: ref.clean ?? true } : null, ...o,
  };
};
const p99 = (v: number) => ({ ...summarise([v]), p99: v });

describe('a clean group', () => {
  it('loses nothing, alters nothing, fails no authentication and keeps gap deviation p99 under 5 ms', () => {
    expect(MAX_GAP_P99_MS).toBe(5);
    expect(isClean(figures())).toBe(true);
    expect(isClean(figures({ gapDeviation: p99(4.99) }))).toBe(true);
    expect(isClean(figures({ gapDeviation: p99(5) }))).toBe(false);
    expect(isClean(figures({ gapDeviation: p99(NaN) }))).toBe(false); // nothing arrived: not clean
    expect(isClean(figures({ lost: 1 }))).toBe(false);
    expect(isClean(figures({ altered: 1 }))).toBe(false);
    expect(isClean(figures({ authFailed: 1 }))).toBe(false);
  });
});

describe('limitOf: which side a failed size blames', () => {
  it('none when every size was clean', () => {
    expect(limitOf(undefined, 400, 2)).toMatchObject({ limitedBy: 'none', limitNote: expect.stringContaining('400 listeners') });
  });

  it('the server when it dropped packets or filled a core, the bench when its sockets dropped them, both when both cores were full', () => {
    expect(limitOf(run({ lost: 5, toServerLossPct: 0.1 }), 400, 2).limitedBy).toBe('server');
    expect(limitOf(run({ gapDeviation: p99(9), serverCpuPct: 97 }), 400, 2).limitedBy).toBe('server');
    expect(limitOf(run({ lost: 5, fromServerLossPct: 0.2 }), 400, 2).limitedBy).toBe('bench');
    expect(limitOf(run({ gapDeviation: p99(9), benchCpuPct: 99 }), 400, 2).limitedBy).toBe('bench');
    expect(limitOf(run({ lost: 5, serverCpuPct: 95, benchCpuPct: 101 }), 400, 2).limitedBy).toBe('both');
  });

  it('the host when the bare relay was not clean either; the server when the relay was clean at the same size', () => {
    const host = limitOf(run({ gapDeviation: p99(8) }, { gapDeviation: p99(7), clean: false }), 400, 2);
    expect(host.limitedBy).toBe('host');
    expect(host.limitNote).toContain('bare relay');
    expect(limitOf(run({ gapDeviation: p99(8) }, { clean: true }), 400, 2).limitedBy).toBe('server');
    expect(limitOf(run({ gapDeviation: p99(8), hostBusyPct: 195 }, null), 400, 2).limitedBy).toBe('host');
  });

  it('the host when other work took half a core or more during the window, even with a clean relay before it', () => {
    const r = run({ gapDeviation: p99(8), otherCpuPct: 120 }, { clean: true });
    expect(disturbed(r)).toBe(true);
    expect(limitOf(r, 400, 2)).toMatchObject({ limitedBy: 'host', limitNote: expect.stringContaining('other work on the machine took 120 %') });
    expect(disturbed(run({ otherCpuPct: 49 }))).toBe(false);
  });

  it('a fault, not a capacity limit, when packets were altered or failed authentication', () => {
    expect(limitOf(run({ authFailed: 3, serverCpuPct: 99 }), 400, 2)).toMatchObject({ limitedBy: 'unclear', limitNote: expect.stringContaining('fault') });
  });
});
