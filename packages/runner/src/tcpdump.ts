import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { ElementError } from './errors.ts';

/**
 * One tcpdump per link. Readiness is tcpdump's own "listening on" line, so no
 * packet of the scenario is sent before the capture runs.
 */
export class TcpdumpCapture {
  private child: ChildProcess | null = null;

  /** The tcpdump process, once started (for the supervisor). */
  get process(): ChildProcess | null {
    return this.child;
  }
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly link: string,
    readonly file: string,
    private readonly argv: string[],
    private readonly logFile: string,
  ) {}

  start(timeoutMs = 5000): Promise<void> {
    const [cmd, ...args] = this.argv;
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.child = child;
    this.exited = new Promise((r) => child.once('exit', () => { log.end(); r(); }));
    return new Promise((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new ElementError(`capture ${this.link}`, `tcpdump not listening after ${timeoutMs} ms`, this.logFile)), timeoutMs);
      child.stderr!.on('data', (d: Buffer) => {
        log.write(d);
        seen += d.toString();
        if (/listening on/.test(seen)) { clearTimeout(timer); resolve(); }
      });
      child.once('error', (e) => { clearTimeout(timer); reject(new ElementError(`capture ${this.link}`, e.message, this.logFile)); });
      child.once('exit', (code) => { clearTimeout(timer); reject(new ElementError(`capture ${this.link}`, `tcpdump exited (${code}) before listening`, this.logFile)); });
    });
  }

  /** SIGINT makes tcpdump flush and close the file; wait for that. */
  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    try { process.kill(-c.pid!, 'SIGINT'); } catch { /* gone */ }
    const t = setTimeout(() => { try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ } }, 3000);
    await this.exited;
    clearTimeout(t);
  }
}
