import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureBundleSync } from '../bundle.ts';
import type { FromLauncher, SpawnRequest } from './protocol.ts';

/** What the runner hears about one process started by the launcher. */
export interface LaunchEvents {
  spawned(pid: number): void;
  stderr(data: string): void;
  exit(how: number | string): void;
  closed(problems: string[]): void;
}

const MAIN = fileURLToPath(new URL('./launcher-main.ts', import.meta.url));

/**
 * The runner's side of the launcher process (launcher-main.ts says why it
 * exists). Started on first use, one per runner process; restarted if it
 * dies. Its IPC channel holds the runner's event loop only while processes
 * it started are running.
 */
class Launcher {
  private proc: ChildProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, LaunchEvents>();
  /** Processes whose 'closed' has not come yet. */
  private running = 0;

  spawn(req: Omit<SpawnRequest, 'type' | 'id'>, events: LaunchEvents): void {
    const proc = this.ensure();
    const id = this.nextId++;
    this.pending.set(id, events);
    if (this.running++ === 0) this.ref(true);
    proc.send({ type: 'spawn', id, ...req } satisfies SpawnRequest);
  }

  private ensure(): ChildProcess {
    if (this.proc) return this.proc;
    // A bundle, not the TypeScript source: it starts in plain Node under any loader (tsx, vitest).
    const entry = ensureBundleSync(MAIN, 'launcher');
    const proc = fork(entry, [], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
    proc.on('message', (m: FromLauncher) => this.dispatch(m));
    proc.on('error', () => { /* reported through 'exit' */ });
    proc.on('exit', (code, signal) => {
      if (this.proc === proc) this.proc = null;
      // Whatever it was still watching is lost with it: say so instead of waiting for ever.
      for (const [id, ev] of this.pending) {
        ev.exit(`error: the launcher exited (${code ?? signal})`);
        ev.closed([`the launcher exited (${code ?? signal}) before this log was closed`]);
        this.pending.delete(id);
      }
      this.running = 0;
    });
    this.proc = proc;
    this.ref(false);
    return proc;
  }

  private dispatch(m: FromLauncher): void {
    const ev = this.pending.get(m.id);
    if (!ev) return;
    switch (m.type) {
      case 'spawned': ev.spawned(m.pid); break;
      case 'stderr': ev.stderr(m.data); break;
      case 'exit': ev.exit(m.how); break;
      case 'closed':
        this.pending.delete(m.id);
        ev.closed(m.problems);
        if (--this.running === 0) this.ref(false);
        break;
    }
  }

  private ref(on: boolean): void {
    const p = this.proc;
    if (!p) return;
    const channel = p.channel as { ref(): void; unref(): void } | undefined;
    if (on) {
      p.ref();
      channel?.ref();
    } else {
      p.unref();
      channel?.unref();
    }
  }
}

let launcher: Launcher | null = null;

/** Starts a process through the runner's launcher. */
export function launch(req: Omit<SpawnRequest, 'type' | 'id'>, events: LaunchEvents): void {
  launcher ??= new Launcher();
  launcher.spawn(req, events);
}
