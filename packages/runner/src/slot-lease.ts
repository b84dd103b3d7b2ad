import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrerequisiteError } from './errors.ts';
import { pidAlive } from './state.ts';

/**
 * Loopback slots (slot k: 127.k.x.y) leased machine-wide, so two runs at
 * once (two terminals, two checkouts, a test suite beside `imslab up`) never
 * start elements on the same addresses. Without it each run counted its slots
 * from 0 and the second one's elements died with "address in use".
 *
 * A lease is a file `<slot>.pid` made with O_EXCL holding the leaser's pid; a
 * lease whose process is gone (SIGKILL, a crash) is taken over. Slots stop
 * at 8: 127.9.0.0/16 belongs to the MSRP relay interop test.
 */
export const LOCAL_SLOTS = 9;
const DIR = process.env.IMSLAB_SLOT_DIR ?? join(tmpdir(), 'imslab-slots');
const held = new Set<string>();

export interface SlotLease {
  readonly slot: number;
  release(): void;
}

/** The first free slot from `preferred` on; a clear error naming the holders when every slot is taken. */
export function acquireSlot(preferred = 0): SlotLease {
  mkdirSync(DIR, { recursive: true });
  for (let k = 0; k < LOCAL_SLOTS; k++) {
    const slot = (preferred + k) % LOCAL_SLOTS;
    const file = join(DIR, `${slot}.pid`);
    if (take(file)) {
      held.add(file);
      return { slot, release: () => drop(file) };
    }
  }
  throw new PrerequisiteError(`every loopback slot (127.0-${LOCAL_SLOTS - 1}.x.y) is leased by another imslab process (pids ${holders().join(', ')}); wait for them, or stop them`);
}

/**
 * Makes sure this process holds `slot` before it starts elements there: null
 * when it holds it already (a runner leased it for the plan), a new lease when
 * it was free (a caller that planned slot k by hand, like a benchmark), an
 * error naming the holder when another live process has it.
 */
export function holdSlot(slot: number): SlotLease | null {
  mkdirSync(DIR, { recursive: true });
  const file = join(DIR, `${slot}.pid`);
  if (held.has(file) && Number(read(file)) === process.pid) return null;
  if (take(file)) {
    held.add(file);
    return { slot, release: () => drop(file) };
  }
  throw new PrerequisiteError(`loopback slot ${slot} (127.${slot}.x.y) is in use by imslab process ${read(file)}: plan the network on a free slot (acquireSlot() from @imslab/runner gives one), or wait for that process`);
}

function take(file: string): boolean {
  if (create(file)) return true;
  const holder = Number(read(file));
  if (holder === process.pid || pidAlive(holder)) return false;
  // The holder is gone: take its lease over (a second taker loses at the O_EXCL create).
  try {
    unlinkSync(file);
  } catch {
    /* another process took it over first */
  }
  return create(file) && Number(read(file)) === process.pid;
}

function create(file: string): boolean {
  try {
    writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

function drop(file: string): void {
  if (!held.delete(file)) return;
  if (Number(read(file)) === process.pid) {
    try {
      unlinkSync(file);
    } catch {
      /* already gone */
    }
  }
}

function holders(): string[] {
  try {
    return readdirSync(DIR).filter((f) => f.endsWith('.pid')).map((f) => read(join(DIR, f))).filter(Boolean);
  } catch {
    return [];
  }
}

// Leases end with the process however it ends short of SIGKILL (then the next taker finds the pid gone).
process.on('exit', () => {
  for (const f of [...held]) drop(f);
});
