import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import type { FromLauncher, SpawnRequest, ToLauncher } from './protocol.ts';

/**
 * The launcher process: starts the runner's children and keeps their logs.
 *
 * Why a process of its own: fork() copies the parent's page tables, so a
 * spawn costs time in proportion to the parent's memory. The runner holds
 * hundreds of MB (captures, analyses) and each spawn from it blocked its
 * event loop for 40-80 ms (measured: 4 ms at 56 MB RSS, 44 ms at 370 MB,
 * 81 ms at 920 MB); a whole `imslab run all` spent 20 s there. This process
 * stays small.
 *
 * Log rules (the runner once crashed with ERR_STREAM_WRITE_AFTER_END):
 * - the log is ended on the child's `'close'` (every stdio stream closed),
 *   never on `'exit'`;
 * - pipes still open `drainMs` after the exit (a grandchild holds them) are
 *   unpiped and destroyed first, then the log is ended;
 * - every stream has an error handler: failures are reported, never thrown.
 *
 * It ignores Ctrl-C (the runner tears down); when the runner goes away (the
 * IPC channel closes) it kills every process group it started and exits.
 */
const live = new Map<number, number>();

function send(m: FromLauncher): void {
  if (process.connected) process.send!(m);
}

function start(req: SpawnRequest): void {
  const [cmd, ...args] = req.argv;
  const problems: string[] = [];
  const log = createWriteStream(req.logFile, { flags: 'a' });
  log.on('error', (e) => problems.push(`log ${req.logFile}: ${e.message}`));
  // 'closed' is the last word on a process: it is sent after 'exit', even when the log failed first.
  let exitSent = false;
  let logDone = false;
  let closedSent = false;
  const closedIfDone = () => {
    if (closedSent || !exitSent || !logDone) return;
    closedSent = true;
    send({ type: 'closed', id: req.id, problems });
  };
  const exit = (how: number | string) => {
    exitSent = true;
    send({ type: 'exit', id: req.id, how });
    closedIfDone();
  };
  const closed = () => {
    logDone = true;
    closedIfDone();
  };
  log.once('close', closed);
  // A log that failed to open never emits 'close' after 'error' on every Node: settle on either.
  log.once('error', closed);
  if (!cmd) {
    exit('error: empty command');
    log.end();
    return;
  }
  // Own process group (detached): the whole group is signalled on stop, so
  // Kamailio's forked children go with their parent.
  const child = spawn(cmd, args, {
    detached: true,
    stdio: ['ignore', req.streams.includes('stdout') ? 'pipe' : 'ignore', 'pipe'],
    env: req.env,
    cwd: req.cwd,
  });
  const pipes = [child.stdout, child.stderr].filter((s): s is NonNullable<typeof s> => s !== null);
  for (const s of pipes) s.on('error', (e) => problems.push(`pipe of ${cmd}: ${e.message}`));
  if (child.stdout && req.streams.includes('stdout')) child.stdout.pipe(log, { end: false });
  if (child.stderr && req.streams.includes('stderr')) child.stderr.pipe(log, { end: false });
  if (req.watchStderr && child.stderr) child.stderr.on('data', (d: Buffer) => send({ type: 'stderr', id: req.id, data: d.toString() }));
  if (child.pid !== undefined) {
    live.set(req.id, child.pid);
    send({ type: 'spawned', id: req.id, pid: child.pid });
  }

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
  let drainTimer: NodeJS.Timeout | undefined;
  child.once('error', (e) => {
    live.delete(req.id);
    if (!log.writableEnded) log.write(`\n[imslab] could not start ${cmd}: ${e.message}\n`);
    exit(`error: ${e.message}`);
    endLog(true);
  });
  child.once('exit', (code, signal) => {
    live.delete(req.id);
    exit(code ?? signal ?? 'unknown');
    // 'close' normally follows at once; a grandchild holding the pipes delays it for ever.
    drainTimer = setTimeout(() => endLog(true), req.drainMs);
  });
  child.once('close', () => {
    clearTimeout(drainTimer);
    endLog(false);
  });
}

for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => {});
process.on('message', (m: ToLauncher) => {
  if (m.type === 'spawn') start(m);
});
process.on('disconnect', () => {
  for (const pid of live.values()) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
  }
  process.exit(0);
});
