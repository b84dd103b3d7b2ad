/**
 * Messages between the runner and its launcher process (launcher-main.ts),
 * over the Node IPC channel. One `id` per started process.
 */
export interface SpawnRequest {
  type: 'spawn';
  id: number;
  argv: string[];
  logFile: string;
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Which of stdout/stderr go to the log. */
  streams: Array<'stdout' | 'stderr'>;
  /** Forward every stderr chunk to the runner (readiness lines). */
  watchStderr: boolean;
  /** How long the pipes may stay open after the exit before they are cut. */
  drainMs: number;
}

export type ToLauncher = SpawnRequest;

export type FromLauncher =
  /** The process runs (its pid is its process group: it is started detached). */
  | { type: 'spawned'; id: number; pid: number }
  | { type: 'stderr'; id: number; data: string }
  /** Exit code, or signal name, or `error: ...` when it could not start. */
  | { type: 'exit'; id: number; how: number | string }
  /** The log is flushed and closed; what went wrong writing it. */
  | { type: 'closed'; id: number; problems: string[] };
