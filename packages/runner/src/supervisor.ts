import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { ElementError } from './errors.ts';

/** One child process started by the runner, with its output kept in a log file. */
export interface Supervised {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  hasExited(): boolean;
}

/**
 * Starts processes in their own process groups and stops them all, in reverse
 * order, on request, on the runner's exit and on SIGINT/SIGTERM. Nothing the
 * runner starts outlives it.
 */
export class Supervisor {
  private readonly procs: Supervised[] = [];
  private readonly onSignal = (sig: NodeJS.Signals) => {
    void this.stopAll().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  private readonly onExit = () => {
    for (const p of this.procs) if (!p.hasExited()) killGroup(p.child, 'SIGKILL');
  };

  constructor() {
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
    process.on('exit', this.onExit);
  }

  start(name: string, argv: string[], logFile: string, env: NodeJS.ProcessEnv = process.env, cwd?: string): Supervised {
    const [cmd, ...args] = argv;
    if (!cmd) throw new ElementError(name, 'empty command');
    const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env, cwd });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    let done = false;
    const exited = new Promise<number | string>((resolve) => {
      child.once('error', (e) => {
        done = true;
        log.write(`\n[imslab] could not start ${cmd}: ${e.message}\n`);
        resolve(`error: ${e.message}`);
      });
      child.once('exit', (code, signal) => {
        done = true;
        resolve(code ?? signal ?? 'unknown');
        // Give the pipes a moment to drain before closing the log.
        setImmediate(() => log.end());
      });
    });
    const s: Supervised = { name, child, logFile, exited, hasExited: () => done };
    this.procs.push(s);
    return s;
  }

  /** Takes over a child started elsewhere (a capture), so signals and stopAll reach it too. */
  adopt(name: string, child: ChildProcess, logFile: string): Supervised {
    let done = child.exitCode !== null || child.signalCode !== null;
    const exited = done
      ? Promise.resolve<number | string>(child.exitCode ?? child.signalCode ?? 'unknown')
      : new Promise<number | string>((resolve) => child.once('exit', (code, signal) => { done = true; resolve(code ?? signal ?? 'unknown'); }));
    const s: Supervised = { name, child, logFile, exited, hasExited: () => done };
    this.procs.push(s);
    return s;
  }

  /** Stops one process (SIGTERM, then SIGKILL after `graceMs`) and forgets it. */
  async stop(p: Supervised, graceMs = 3000): Promise<void> {
    const i = this.procs.indexOf(p);
    if (i >= 0) this.procs.splice(i, 1);
    await stopOne(p, graceMs);
  }

  /** Stops every process (reverse start order): SIGTERM, then SIGKILL after `graceMs`. */
  async stopAll(graceMs = 3000): Promise<void> {
    const procs = this.procs.splice(0).reverse();
    await Promise.all(procs.map((p) => stopOne(p, graceMs)));
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    process.off('exit', this.onExit);
  }
}

function killGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    try { child.kill(sig); } catch { /* already gone */ }
  }
}

async function stopOne(p: Supervised, graceMs: number): Promise<void> {
  if (p.hasExited()) return;
  killGroup(p.child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(p.child, 'SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
  // Kamailio's children share the group; make sure none is left.
  killGroup(p.child, 'SIGKILL');
}
