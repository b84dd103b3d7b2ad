import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@imslab/topology';

/**
 * What is up right now, one file per running network under `.imslab/state`:
 * the runner that owns it, the process groups it started (local target) or
 * its Docker run label. The runner's reaper (reaper.ts) and `imslab down`
 * take down what a dead runner left; a file whose runner is alive belongs to
 * a run in progress and is left alone.
 */
export interface RunState {
  target: 'local' | 'docker';
  /** The network's directory: every element's command line names it, which is how a process is known to be ours. */
  dir: string;
  /** The runner process that owns the network. */
  runnerPid: number;
  /** Process-group ids of every child the run started (local target). */
  pgids: number[];
  /** The iptables chain cutting elements off (a fault step, local target): removed with the network. */
  cutChain?: string;
  /** The `imslab.run` label of its containers, networks and volumes (docker target). */
  dockerRun?: string;
  /** `imslab up` keeps a network up for others to attach to: its plan's inputs. */
  attachable?: { slot: number; subscribers: string; servers: string[] };
}

export const STATE_DIR = join(REPO_ROOT, '.imslab', 'state');

export function stateFile(id: string): string {
  return join(STATE_DIR, `${id}.json`);
}

export function writeState(id: string, s: RunState): void {
  mkdirSync(STATE_DIR, { recursive: true });
  const tmp = `${stateFile(id)}.tmp`;
  writeFileSync(tmp, JSON.stringify(s));
  // Atomic: the reaper never reads half a file.
  renameSync(tmp, stateFile(id));
}

export function clearState(id: string): void {
  rmSync(stateFile(id), { force: true });
}

export function readStates(): Array<{ id: string; state: RunState }> {
  let names: string[] = [];
  try { names = readdirSync(STATE_DIR); } catch { return []; }
  return names.filter((n) => n.endsWith('.json')).flatMap((n) => {
    try {
      return [{ id: n.slice(0, -5), state: JSON.parse(readFileSync(join(STATE_DIR, n), 'utf8')) as RunState }];
    } catch {
      return [{ id: n.slice(0, -5), state: { target: 'local', dir: '?', runnerPid: 0, pgids: [] } as RunState }];
    }
  });
}

export function pidAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie runs nothing.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
