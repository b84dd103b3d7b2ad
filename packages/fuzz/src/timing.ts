/**
 * The time one fuzz input took, in ms. Over `boundMs` the input is run twice
 * more and the fastest time kept: a GC pause or a busy machine is not taken
 * for a hang, while a path that is really slow stays slow.
 */
export function timedRun(f: () => unknown, boundMs: number): number {
  let t0 = performance.now();
  f();
  let ms = performance.now() - t0;
  for (let k = 0; k < 2 && ms >= boundMs; k++) {
    t0 = performance.now();
    f();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}
