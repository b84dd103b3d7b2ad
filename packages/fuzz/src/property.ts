import fc from 'fast-check';
import { timedRun } from './timing.ts';

/**
 * Checks a fast-check property with a fixed seed (a failure replays from it),
 * timing every run as {@link timedRun} does; returns the worst time in ms.
 */
export function checkTimed<T>(arb: fc.Arbitrary<T>, o: { numRuns: number; seed: number; boundMs: number }, body: (v: T) => void): number {
  let worst = 0;
  fc.assert(
    fc.property(arb, (v) => {
      worst = Math.max(worst, timedRun(() => body(v), o.boundMs));
    }),
    { numRuns: o.numRuns, seed: o.seed },
  );
  return worst;
}
