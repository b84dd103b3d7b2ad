import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

// The lease directory is read when the module loads: point it at a directory of this test's own first.
const dir = mkdtempSync(join(tmpdir(), 'imslab-slot-lease-'));
process.env.IMSLAB_SLOT_DIR = dir;
let lease: typeof import('../src/slot-lease.ts');
beforeAll(async () => {
  lease = await import('../src/slot-lease.ts');
});

/** A pid that is certainly gone: a child that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

describe('loopback slot leases', () => {
  it('hands out different slots to different leases, from the preferred one on, and frees them on release', () => {
    const a = lease.acquireSlot(0);
    const b = lease.acquireSlot(0);
    const c = lease.acquireSlot(4);
    expect([a.slot, b.slot, c.slot]).toEqual([0, 1, 4]);
    expect(readFileSync(join(dir, '0.pid'), 'utf8').trim()).toBe(String(process.pid));
    a.release();
    expect(readdirSync(dir).sort()).toEqual(['1.pid', '4.pid']);
    expect(lease.acquireSlot(0).slot).toBe(0);
  });

  it('takes over a lease whose process is gone, never one whose process lives', () => {
    for (const f of readdirSync(dir)) writeFileSync(join(dir, f), '');
    const live = spawnSync('sh', ['-c', 'echo $PPID']).stdout.toString().trim(); // this test's own pid, alive
    writeFileSync(join(dir, '2.pid'), `${deadPid()}\n`);
    writeFileSync(join(dir, '3.pid'), `${live}\n`);
    const got = lease.acquireSlot(2);
    expect(got.slot).toBe(2);
    expect(readFileSync(join(dir, '3.pid'), 'utf8').trim()).toBe(live);
  });

  it('says who holds the slots when every one is taken', () => {
    const holder = spawnSync('sh', ['-c', 'echo $PPID']).stdout.toString().trim();
    for (let k = 0; k < lease.LOCAL_SLOTS; k++) writeFileSync(join(dir, `${k}.pid`), `${holder}\n`);
    let message = '';
    try {
      lease.acquireSlot(0);
    } catch (e) {
      message = `${(e as Error).name}: ${(e as Error).message}`;
    }
    expect(message).toMatch(/^PrerequisiteError: every loopback slot \(127\.0-8\.x\.y\) is leased by another imslab process \(pids [\d, ]+\); wait for them, or stop them$/);
  });
});
