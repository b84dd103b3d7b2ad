/**
 * Where a benchmark's CPU went, for figures that are bound by the machine's
 * cores rather than by waiting (`imslab run all` on two cores).
 * - machineCpu: busy CPU-seconds of the whole machine between two reads of
 *   /proc/stat (proc(5): user, nice, system, irq, softirq, steal count as busy;
 *   idle and iowait do not), and the busy fraction of all cores.
 * - accounted: the CPU-seconds of every process that ended while BSD process
 *   accounting (acct(5), Debian package `acct`) was on, summed per command
 *   name. Short-lived processes (tshark, every element of every scenario)
 *   are counted too, which sampling tools miss. Needs root and `accton`;
 *   without them it says why and the caller prints the machine figure alone.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** USER_HZ: the unit of /proc/stat and of acct(5) times on Linux (sysconf(_SC_CLK_TCK) is 100 on every Debian architecture). */
const TICKS = 100;

interface CpuSample { busy: number; total: number }

function readStat(): CpuSample {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** Starts counting the machine's busy time; the returned function gives CPU-seconds and the busy fraction since. */
export function machineCpu(): () => { cpuSeconds: number; busyFraction: number } {
  const a = readStat();
  return () => {
    const b = readStat();
    return { cpuSeconds: (b.busy - a.busy) / TICKS, busyFraction: (b.busy - a.busy) / Math.max(1, b.total - a.total) };
  };
}

/** CPU-seconds per command name, largest first. */
export type CommandCpu = Array<{ command: string; processes: number; cpuSeconds: number }>;

/**
 * Runs `body` with process accounting on and returns its result with the CPU
 * of every process that ended meanwhile, per command; `split` is a reason
 * instead when accounting could not be used. Accounting is turned off again
 * whatever `body` does.
 */
export async function withProcessAccounting<T>(body: () => Promise<T>): Promise<{ result: T; split: CommandCpu | string }> {
  if (process.getuid?.() !== 0) return { result: await body(), split: 'process accounting needs root' };
  const dir = mkdtempSync(join(tmpdir(), 'imslab-acct-'));
  const file = join(dir, 'pacct');
  try {
    writeFileSync(file, '');
    try {
      execFileSync('accton', [file], { stdio: 'ignore' });
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'accton not installed (apt-get install acct)' : `accton failed: ${(e as Error).message.split('\n')[0]}`;
      return { result: await body(), split: why };
    }
    let result: T;
    try {
      result = await body();
    } finally {
      execFileSync('accton', ['off'], { stdio: 'ignore' });
    }
    return { result, split: perCommand(execFileSync('dump-acct', [file], { encoding: 'utf8', maxBuffer: 256 << 20 })) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sums dump-acct(8) lines (`comm|version|utime|stime|...`, times in ticks) per command. */
export function perCommand(dump: string): CommandCpu {
  const by = new Map<string, { processes: number; ticks: number }>();
  for (const line of dump.split('\n')) {
    const f = line.split('|');
    if (f.length < 4) continue;
    const command = f[0]!.trim();
    const ticks = Number(f[2]) + Number(f[3]);
    if (!command || !Number.isFinite(ticks)) continue;
    const e = by.get(command) ?? { processes: 0, ticks: 0 };
    e.processes++;
    e.ticks += ticks;
    by.set(command, e);
  }
  return [...by].map(([command, e]) => ({ command, processes: e.processes, cpuSeconds: e.ticks / TICKS })).sort((a, b) => b.cpuSeconds - a.cpuSeconds);
}
