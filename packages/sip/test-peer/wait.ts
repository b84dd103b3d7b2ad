export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `f` until it returns a truthy value and returns it; throws naming `what` after `timeoutMs`. */
export async function until<T>(f: () => T | undefined | null | false, what: string, timeoutMs = 3000): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v) return v;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms (${what})`);
    await sleep(5);
  }
}
