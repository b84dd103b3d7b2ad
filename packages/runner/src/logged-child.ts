import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * A child process whose output goes to a log file, and whose log survives
 * the child: output that arrives after `'exit'` (the pipes drain later than
 * the exit is reported) and a grandchild that inherited the pipes and keeps
 * them open must never write into a closed log, nor leave it open for ever.
 *
 * - The log is ended on the child's `'close'` (every stdio stream closed),
 *   never on `'exit'`.
 * - When the pipes are still open `drainMs` after the exit (a grandchild holds
 *   them), the pipes are unpiped and destroyed first, then the log is ended:
 *   nothing can be written after the end.
 * - Every stream has an error handler: a failing log disk or a broken pipe is
 *   recorded in `problems`, never an unhandled `'error'`.
 */
export interface LoggedChild {
  child: ChildProcess;
  logFile: string;
  /** Exit code, or signal name, once the process has exited (or `error: ...` when it could not start). */
  exited: Promise<number | string>;
  /** Resolves once the log file is flushed and closed. */
  logClosed: Promise<void>;
  hasExited(): boolean;
  /** Write errors of the log and the pipes (empty when all went well). */
  problems: string[];
}

export interface LoggedChildOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Which of stdout/stderr go to the log (default both). */
  streams?: Array<'stdout' | 'stderr'>;
  /** Called with every chunk of the child's stderr (readiness lines, e.g. tcpdump's "listening on"). */
  onStderr?: (chunk: Buffer) => void;
  /** How long the pipes may stay open after the exit before they are cut (default 2000 ms). */
  drainMs?: number;
}

export function spawnLogged(argv: string[], logFile: string, opts: LoggedChildOptions = {}): LoggedChild {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error(`empty command for ${logFile}`);
  const problems: string[] = [];
  const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
  log.on('error', (e) => problems.push(`log ${logFile}: ${e.message}`));
  const logClosed = new Promise<void>((resolve) => {
    log.once('close', resolve);
    // A log that failed to open never emits 'close' after 'error' on every Node: settle on either.
    log.once('error', () => resolve());
  });
  const wanted = opts.streams ?? ['stdout', 'stderr'];
  const stdio: StdioOptions = ['ignore', wanted.includes('stdout') ? 'pipe' : 'ignore', 'pipe'];
  // Own process group (detached): the whole group is signalled on stop, so
  // Kamailio's forked children go with their parent.
  const child = spawn(cmd, args, { detached: true, stdio, env: opts.env ?? process.env, cwd: opts.cwd });
  const pipes = [child.stdout, child.stderr].filter((s): s is NonNullable<typeof s> => s !== null);
  for (const s of pipes) s.on('error', (e) => problems.push(`pipe of ${cmd}: ${e.message}`));
  if (child.stdout && wanted.includes('stdout')) child.stdout.pipe(log, { end: false });
  if (child.stderr && wanted.includes('stderr')) child.stderr.pipe(log, { end: false });
  if (opts.onStderr && child.stderr) child.stderr.on('data', opts.onStderr);

  let ended = false;
  const endLog = (cut: boolean) => {
    if (ended) return;
    ended = true;
    for (const s of pipes) {
      s.unpipe(log);
      if (cut) s.destroy();
    }
    log.end();
  };
  let done = false;
  let drainTimer: NodeJS.Timeout | undefined;
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (e) => {
      done = true;
      if (!log.writableEnded) log.write(`\n[imslab] could not start ${cmd}: ${e.message}\n`);
      resolve(`error: ${e.message}`);
      endLog(true);
    });
    child.once('exit', (code, signal) => {
      done = true;
      resolve(code ?? signal ?? 'unknown');
      // 'close' normally follows at once; a grandchild holding the pipes delays it for ever.
      drainTimer = setTimeout(() => endLog(true), opts.drainMs ?? 2000);
      drainTimer.unref();
    });
    child.once('close', () => {
      clearTimeout(drainTimer);
      endLog(false);
    });
  });
  return { child, logFile, exited, logClosed, hasExited: () => done, problems };
}

/** Signals a child's whole process group; falls back to the child alone. Never throws. */
export function killGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    try { child.kill(sig); } catch { /* already gone */ }
  }
}
