/**
 * A seeded PRNG for the fuzz and property tests (mulberry32, Tommy Ettinger's
 * 32-bit generator): small and fast, and a failing case replays from its seed.
 * Not for keys or anything secret.
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export * from './mutate.ts';
export { timedRun } from './timing.ts';
export { checkTimed } from './property.ts';
