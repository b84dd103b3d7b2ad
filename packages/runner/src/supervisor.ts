import { killGroup, spawnLogged, type LoggedChild } from './logged-child.ts';

/** One child process started by the runner, with its output kept in a log file. */
export interface Supervised extends LoggedChild {
  name: string;
}

/**
 * Starts processes in their own process groups and stops them all, in reverse
 * order, on request and on the runner's exit. An element that exits while
 * nobody asked it to is reported through `onUnexpectedExit` (a crash in the
 * middle of a scenario is an infrastructure failure, not a verdict).
 *
 * Signals (Ctrl-C) are not handled here: the CLI's abort path tears every
 * target down and writes the summary (run-session.ts). If the runner itself
 * is killed, its reaper (reaper.ts) kills the groups recorded in its state
 * file.
 */
export class Supervisor {
  private procs: Supervised[] = [];
  private readonly stopping = new Set<Supervised>();
  private readonly onExit = () => {
    for (const p of this.procs) if (!p.hasExited()) killGroup(p.pid, 'SIGKILL');
  };

  constructor(private readonly onUnexpectedExit: (name: string, how: number | string) => void = () => {}) {
    process.on('exit', this.onExit);
  }

  start(name: string, argv: string[], logFile: string, env: NodeJS.ProcessEnv = process.env, cwd?: string): Supervised {
    // Object.assign keeps the child's pid getter (a spread would copy the pid before the process runs).
    const s: Supervised = Object.assign(spawnLogged(argv, logFile, { env, cwd }), { name });
    this.watch(s);
    return s;
  }

  /** Takes over a child started elsewhere (a capture), so stopAll and the exit hook reach it too. */
  adopt(name: string, c: LoggedChild): Supervised {
    const s: Supervised = Object.assign(c, { name });
    this.watch(s);
    return s;
  }

  private watch(s: Supervised): void {
    this.procs.push(s);
    void s.exited.then((how) => {
      if (!this.stopping.has(s) && this.procs.includes(s)) this.onUnexpectedExit(s.name, how);
    });
  }

  /** Forgets a child that is about to be stopped by its owner (a capture stopped with SIGINT): its exit is no crash. */
  release(p: Supervised): void {
    this.stopping.add(p);
    const i = this.procs.indexOf(p);
    if (i >= 0) this.procs.splice(i, 1);
  }

  /** Kills one process group at once (SIGKILL: a fault the scenario asked for) and forgets it, so its exit is no crash. */
  async kill(p: Supervised): Promise<void> {
    this.release(p);
    await p.started;
    killGroup(p.pid, 'SIGKILL');
    await p.exited;
    await p.logClosed;
  }

  /** Stops (SIGSTOP) or resumes (SIGCONT) one process group: a frozen element. */
  signal(p: Supervised, sig: 'SIGSTOP' | 'SIGCONT'): void {
    killGroup(p.pid, sig);
  }

  /** Process-group ids of every running child (for the state file and the reaper); `started` first. */
  pgids(): number[] {
    return this.procs.filter((p) => !p.hasExited()).map((p) => p.pid).filter((x): x is number => x !== undefined);
  }

  /** Resolves once every child started so far runs (or could not start): their pids are known. */
  async started(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.started));
  }

  /** Stops one process (SIGTERM, then SIGKILL after `graceMs`) and forgets it. */
  async stop(p: Supervised, graceMs = 3000): Promise<void> {
    this.stopping.add(p);
    const i = this.procs.indexOf(p);
    if (i >= 0) this.procs.splice(i, 1);
    await stopOne(p, graceMs);
    this.stopping.delete(p);
  }

  /**
   * Stops every process: first those `first` names (together), then the rest
   * (together): SIGTERM, then SIGKILL after `graceMs`; resolves once their
   * logs are closed.
   */
  async stopAll(graceMs = 3000, first: (name: string) => boolean = () => false): Promise<void> {
    const early = this.procs.filter((p) => first(p.name));
    if (early.length) {
      for (const p of early) this.stopping.add(p);
      this.procs = this.procs.filter((p) => !early.includes(p));
      await Promise.all(early.map((p) => stopOne(p, graceMs)));
      for (const p of early) this.stopping.delete(p);
    }
    const procs = this.procs.splice(0).reverse();
    for (const p of procs) this.stopping.add(p);
    await Promise.all(procs.map((p) => stopOne(p, graceMs)));
    for (const p of procs) this.stopping.delete(p);
  }

  dispose(): void {
    process.off('exit', this.onExit);
  }
}

async function stopOne(p: LoggedChild, graceMs: number): Promise<void> {
  await p.started;
  if (!p.hasExited()) {
    killGroup(p.pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(p.pid, 'SIGKILL'), graceMs);
    await p.exited;
    clearTimeout(timer);
  }
  // Kamailio's children share the group; make sure none is left.
  killGroup(p.pid, 'SIGKILL');
  await p.logClosed;
}
