/**
 * The conference bridge as a child process for the bench
 * (`node --import tsx services/conference/src/main.ts --config <tmp json>`),
 * so the bench's members do not share its event loop. Readiness is its
 * GET /health; CPU time comes from /proc/<pid>/stat. Every started bridge is
 * killed by stop(), and by a process 'exit' hook should the caller forget.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConferenceServerConfig } from '../src/config.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

let clockTicks: number | undefined;
/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 nearly everywhere). */
export function clkTck(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a process in seconds (all its threads), or NaN when it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name start at field 3 (state); utime is 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / clkTck();
  } catch {
    return NaN;
  }
}

/** Busy and total CPU time of the whole host in seconds (all cores), from /proc/stat. */
export function hostCpuSeconds(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: (total - idle) / clkTck(), total: total / clkTck() };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

/** Leg counters as GET /status reports them. */
export interface BridgeLegStatus {
  member: string;
  rxPackets: number;
  rxAuthFailed: number;
  txPackets: number;
}

/** Running bridges and their temporary config directories. */
const live = new Map<ChildProcess, string>();
let exitHook = false;

function killAllSync(): void {
  for (const [c, dir] of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  }
  live.clear();
}

/** Kills every bridge this module started and has not stopped yet, removing their configs (for signal handlers). */
export function killAllBridges(): void {
  killAllSync();
}

export class BridgeProcess {
  private stderrTail = '';
  private exited: Promise<void>;
  private exitCode: number | null | undefined;

  private constructor(
    readonly cfg: ConferenceServerConfig,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {
    const keep = (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-4000);
    };
    child.stderr?.on('data', keep);
    child.stdout?.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        live.delete(child);
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get controlUrl(): string {
    return `http://${this.cfg.address}:${this.cfg.controlPort}`;
  }

  /** The last few KB of the bridge's log (stderr), for error messages. */
  get log(): string {
    return this.stderrTail;
  }

  /** Starts the bridge with `cfg` and waits for GET /health (throws with the bridge's log when it does not come up). */
  static async start(cfg: ConferenceServerConfig, timeoutMs = 20_000): Promise<BridgeProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'imslab-conference-bench-'));
    const file = join(dir, 'conference.json');
    writeFileSync(file, JSON.stringify(cfg, null, 2));
    if (!exitHook) {
      exitHook = true;
      process.on('exit', killAllSync);
    }
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--config', file], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    live.set(child, dir);
    const b = new BridgeProcess(cfg, child, dir);
    try {
      await b.waitHealthy(timeoutMs);
    } catch (e) {
      await b.stop();
      throw e;
    }
    return b;
  }

  private async waitHealthy(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (this.exitCode !== undefined) throw new Error(`the conference bridge exited (code ${this.exitCode}) before it was healthy: ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}`);
      try {
        const res = await fetch(`${this.controlUrl}/health`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > end) throw new Error(`the conference bridge was not healthy at ${this.controlUrl}/health after ${timeoutMs} ms: ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  cpuSeconds(): number {
    return processCpuSeconds(this.pid);
  }

  /** The legs of conference `user` (current members only). */
  async legs(user: string): Promise<BridgeLegStatus[]> {
    const res = await fetch(`${this.controlUrl}/status`, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) throw new Error(`GET /status: HTTP ${res.status}`);
    const s = (await res.json()) as { conferences: Array<{ user: string; members: BridgeLegStatus[] }> };
    return s.conferences.find((c) => c.user === user)?.members ?? [];
  }

  /** SIGTERM, SIGKILL after `graceMs`; waits for the exit and removes the temporary config. Idempotent. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exitCode === undefined) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
