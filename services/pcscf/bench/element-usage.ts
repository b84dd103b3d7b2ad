/**
 * CPU and memory per element of a local network, read from /proc (the load
 * benches: `register-load-bench.ts`, `services/ue/bench/call-load-bench.ts`).
 * The LocalTarget keeps its processes to itself, so an element's processes
 * are found by their command line, which names the network's directory: the
 * config file (`<dir>/config/<name>/...`: Kamailio, the UEs) or the pid file
 * (`<dir>/logs/<name>.pid`: rtpengine). Kamailio forks its workers from one
 * command line, so every worker counts. Anything else naming `extra` paths
 * (tcpdump's capture files, sipp's scenario) is grouped under that label.
 *
 * Memory is PSS (smaps_rollup), summed over an element's processes and
 * sampled: Kamailio's workers map the same shared memory, so summing their
 * RSS would count it once per worker.
 */
import { readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_S = 100; // CLK_TCK on Linux (getconf CLK_TCK)

export interface UsageFigures {
  /** CPU seconds (user + system) used between start() and stop(), per element. */
  cpuS: Record<string, number>;
  /** Highest sampled PSS per element, MiB. */
  peakMiB: Record<string, number>;
  /** Processes counted per element. */
  processes: Record<string, number>;
  /** CPU seconds of the element's busiest process (a Kamailio worker near the wall time is the bottleneck). */
  busiestProcessCpuS: Record<string, number>;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** utime + stime of a process, in ticks (fields 14 and 15 of /proc/<pid>/stat; the name in field 2 may hold spaces). */
function cpuTicks(pid: number): number | null {
  const s = read(`/proc/${pid}/stat`);
  if (!s) return null;
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function pssKiB(pid: number): number {
  const m = /^Pss:\s+(\d+) kB/m.exec(read(`/proc/${pid}/smaps_rollup`) ?? '');
  return m ? Number(m[1]) : 0;
}

export class ElementUsage {
  private pids = new Map<string, number[]>();
  private cpu0 = new Map<number, number>();
  private peak = new Map<string, number>();
  /** The last CPU reading per process, for one that exits before stop(). */
  private lastTicks = new Map<number, number>();
  private timer: ReturnType<typeof setInterval> | undefined;

  /**
   * `dir`: the network's directory; `names`: its elements; `extra`: label ->
   * a path fragment that the command lines of other processes to count hold.
   */
  constructor(private readonly dir: string, private readonly names: string[], private readonly extra: Record<string, string> = {}) {}

  /** Finds the processes (again: a step may start sipp or tcpdump), takes the CPU baseline, samples memory every `everyMs`. */
  start(everyMs = 1000): void {
    this.pids.clear();
    this.scan();
    this.cpu0.clear();
    for (const pid of [...this.pids.values()].flat()) this.cpu0.set(pid, cpuTicks(pid) ?? 0);
    this.peak.clear();
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  /** Call when a process named by `extra` has started after start() (sipp): it is counted from its start. */
  rescan(): void {
    this.scan();
  }

  stop(): UsageFigures {
    clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    const cpuS: Record<string, number> = {};
    const processes: Record<string, number> = {};
    const busiestProcessCpuS: Record<string, number> = {};
    for (const [name, pids] of this.pids) {
      let ticks = 0;
      let most = 0;
      for (const pid of pids) {
        // A process gone before stop() (sipp after its run) is counted by the last sample's reading.
        const used = (cpuTicks(pid) ?? this.lastTicks.get(pid) ?? 0) - (this.cpu0.get(pid) ?? 0);
        ticks += used;
        most = Math.max(most, used);
      }
      cpuS[name] = ticks / TICKS_PER_S;
      busiestProcessCpuS[name] = most / TICKS_PER_S;
      processes[name] = pids.length;
    }
    const peakMiB = Object.fromEntries([...this.peak].map(([n, kib]) => [n, kib / 1024]));
    return { cpuS, peakMiB, processes, busiestProcessCpuS };
  }

  private sample(): void {
    for (const [name, pids] of this.pids) {
      let kib = 0;
      for (const pid of pids) {
        kib += pssKiB(pid);
        const t = cpuTicks(pid);
        if (t !== null) this.lastTicks.set(pid, t);
      }
      this.peak.set(name, Math.max(this.peak.get(name) ?? 0, kib));
    }
  }

  private scan(): void {
    const found = new Map<string, number[]>();
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || pid === process.pid) continue;
      const cmd = read(`/proc/${pid}/cmdline`)?.replace(/\0/g, ' ');
      if (!cmd) continue;
      let owner: string | undefined;
      if (cmd.includes(this.dir)) {
        owner = this.names.find((n) => cmd.includes(`${this.dir}/config/${n}/`) || cmd.includes(`${this.dir}/logs/${n}.pid`));
      }
      owner ??= Object.entries(this.extra).find(([, frag]) => cmd.includes(frag))?.[0];
      if (!owner) continue;
      found.set(owner, [...(found.get(owner) ?? []), pid]);
    }
    for (const [name, pids] of found) {
      // A process first seen by rescan() started after start(): all its CPU is this run's.
      if (this.timer) for (const pid of pids) if (!this.cpu0.has(pid)) this.cpu0.set(pid, 0);
      // Keep a process seen earlier: it may have exited since, and its CPU still counts.
      this.pids.set(name, [...new Set([...(this.pids.get(name) ?? []), ...pids])]);
    }
  }
}
