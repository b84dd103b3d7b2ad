import { ElementError } from './errors.ts';
import { killGroup, spawnLogged, type LoggedChild } from './logged-child.ts';

/**
 * One tcpdump per link. Readiness is tcpdump's own "listening on" line, so no
 * packet of the scenario is sent before the capture runs.
 */
export class TcpdumpCapture {
  private proc: LoggedChild | null = null;

  constructor(
    readonly link: string,
    readonly file: string,
    private readonly argv: string[],
    private readonly logFile: string,
  ) {}

  /** The running tcpdump, once started (for the supervisor). */
  get process(): LoggedChild | null {
    return this.proc;
  }

  start(timeoutMs = 5000): Promise<void> {
    let seen = '';
    let listening: () => void = () => {};
    const ready = new Promise<void>((r) => { listening = r; });
    const p = spawnLogged(this.argv, this.logFile, {
      streams: ['stderr'],
      onStderr: (d) => {
        seen += d.toString();
        if (/listening on/.test(seen)) listening();
      },
    });
    this.proc = p;
    return new Promise((resolve, reject) => {
      const fail = (why: string) => reject(new ElementError(`capture ${this.link}`, why, this.logFile));
      const timer = setTimeout(() => fail(`tcpdump not listening after ${timeoutMs} ms`), timeoutMs);
      void ready.then(() => { clearTimeout(timer); resolve(); });
      void p.exited.then((how) => { clearTimeout(timer); fail(`tcpdump exited (${how}) before listening`); });
    });
  }

  /** SIGINT makes tcpdump flush and close the file; wait for that (and for its log). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    if (!p.hasExited()) {
      killGroup(p.child, 'SIGINT');
      const t = setTimeout(() => killGroup(p.child, 'SIGKILL'), 3000);
      await p.exited;
      clearTimeout(t);
    }
    await p.logClosed;
  }
}
