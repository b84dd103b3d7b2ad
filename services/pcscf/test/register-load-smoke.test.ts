/**
 * The REGISTER load bench (bench/register-load-bench.ts, `npm run bench
 * load`) at a tiny size: SIPp sends 50 REGISTERs (50/s for 1 s) to
 * P-CSCF-A over UDP, each challenged by the S-CSCF and answered with the
 * digest of a user from the bench's subscriber file; every one must end in
 * 200, with no SIPp failure.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatRegisterStep, runRegisterLoadBench } from '../bench/register-load-bench.ts';

function haveSipp(): boolean {
  try {
    execFileSync('sipp', ['-v'], { stdio: 'ignore' });
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT'; // sipp -v exits 99
  }
  return true;
}

describe('register load bench, tiny', () => {
  it.skipIf(!haveSipp())('50 REGISTERs with digest through P-CSCF-A: every one 200', async () => {
    // Slot 5: no other test asks for it first (acquireSlot moves on if it is taken).
    const r = await runRegisterLoadBench({ rates: [50], seconds: 1, users: 20, slot: 5 });
    const s = r.steps[0]!;
    expect(s.failed, formatRegisterStep(s)).toBe(0);
    expect(s.attempted).toBe(50);
    expect(s.succeeded).toBe(50);
    expect(r.maxCleanRate).toBe(50);
    expect(s.usage.processes['pcscf-a']).toBeGreaterThan(0);
    expect(s.usage.processes.scscf).toBeGreaterThan(0);
  }, 60_000);
});
