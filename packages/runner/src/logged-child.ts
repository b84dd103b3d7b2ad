import { launch } from './launcher/launcher.ts';

/**
 * A child process whose output goes to a log file, and whose log survives
 * the child: output that arrives after `'exit'` and a grandchild that keeps
 * the pipes must never write into a closed log, nor leave it open for ever.
 * The process is started, and its log written, by the runner's launcher
 * process (launcher/launcher-main.ts: why, and the log rules); here the
 * runner learns its pid, its exit and when its log is closed.
 */
export interface LoggedChild {
  /** The process (and process group) id once it runs; undefined before, or when it could not start. */
  readonly pid: number | undefined;
  /** Resolves once the process runs (with its pid) or could not start (undefined). */
  started: Promise<number | undefined>;
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
  /** Called with the child's stderr as it comes (readiness lines, e.g. tcpdump's "listening on"). */
  onStderr?: (chunk: string) => void;
  /** How long the pipes may stay open after the exit before they are cut (default 2000 ms). */
  drainMs?: number;
}

export function spawnLogged(argv: string[], logFile: string, opts: LoggedChildOptions = {}): LoggedChild {
  if (!argv[0]) throw new Error(`empty command for ${logFile}`);
  const problems: string[] = [];
  let pid: number | undefined;
  let done = false;
  let onStarted!: (pid: number | undefined) => void;
  let onExit!: (how: number | string) => void;
  let onClosed!: () => void;
  const started = new Promise<number | undefined>((r) => { onStarted = r; });
  const exited = new Promise<number | string>((r) => { onExit = r; });
  const logClosed = new Promise<void>((r) => { onClosed = r; });
  launch({
    argv, logFile, env: opts.env ?? process.env, ...(opts.cwd ? { cwd: opts.cwd } : {}),
    streams: opts.streams ?? ['stdout', 'stderr'], watchStderr: opts.onStderr !== undefined, drainMs: opts.drainMs ?? 2000,
  }, {
    spawned: (p) => { pid = p; onStarted(p); },
    stderr: (d) => opts.onStderr?.(d),
    exit: (how) => { done = true; onStarted(pid); onExit(how); },
    closed: (ps) => { problems.push(...ps); onClosed(); },
  });
  return { get pid() { return pid; }, started, logFile, exited, logClosed, hasExited: () => done, problems };
}

/** Signals a process group (a LoggedChild's pid); falls back to the process alone. Never throws. */
export function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    try { process.kill(pid, sig); } catch { /* already gone */ }
  }
}
