/**
 * The call load bench (bench/call-load-bench.ts, `npm run bench load`) at a
 * tiny size: 5 e2ae calls carried by one caller and one callee UE at once,
 * through the real P-CSCFs and IMS-AGWs, held 2 s. Every call must be
 * confirmed, judged e2ae from the captures with its probe at both ends, with
 * no authentication failure or replay at the receivers and nothing dropped
 * by tcpdump: the same conditions the bench steps up to 500 calls with.
 */
import { describe, expect, it } from 'vitest';
import { formatCallStep, runCallLoadBench } from '../bench/call-load-bench.ts';

describe('call load bench, tiny', () => {
  it('5 concurrent e2ae calls on one UE pair: every call confirmed and verified from the captures', async () => {
    // Slot 2: no other test asks for it first (acquireSlot moves on if it is taken).
    const r = await runCallLoadBench({ sizes: [5], security: 'e2ae', holdS: 2, callsPerUe: 5, dropCaptures: true, slot: 2 });
    const s = r.steps[0]!;
    expect(r.pairs).toBe(1);
    expect(s.degraded, formatCallStep(s)).toEqual([]);
    expect(s.confirmed).toBe(5);
    expect(s.lost).toBe(0);
    expect(s.verified).toBe(5);
    expect(s.rxAuthFailed + s.rxReplayed).toBe(0);
    expect(s.captureLoss).toEqual({});
    // The figures are measured: calls set up, the IMS-AGWs relayed media (both ends' probe arrived).
    expect(s.setupPerS).toBeGreaterThan(0);
    expect(s.packets).toBeGreaterThan(0);
    expect(s.usage.processes['ims-agw-a']).toBeGreaterThan(0);
  }, 60_000);
});
