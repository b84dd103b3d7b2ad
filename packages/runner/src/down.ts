import { readFileSync } from 'node:fs';
import { removeStaleCuts } from './targets/local-cut.ts';
import { clearState, pidAlive, readStates, type RunState } from './state.ts';

/** Is `pid` still one of the network's? Process ids get reused, so never kill on the id alone. */
function isOurs(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    return false;
  }
}

function killGroups(state: RunState): string[] {
  const stopped: string[] = [];
  for (const pgid of state.pgids) {
    if (!isOurs(pgid, state.dir)) continue;
    try {
      process.kill(-pgid, 'SIGKILL');
      stopped.push(`process group ${pgid} (${state.dir})`);
    } catch { /* already gone */ }
  }
  return stopped;
}

/**
 * Stops what local runs left running. `all`: every network, also those of a
 * live runner (`imslab down`); otherwise only those whose runner is dead
 * (what a run does before it starts, so a crashed run never makes the next
 * one fail). Docker leftovers are removed by the docker target by label.
 */
export function downLocal(opts: { all: boolean } = { all: true }): string[] {
  const stopped: string[] = [];
  for (const { id, state } of readStates()) {
    if (!opts.all && pidAlive(state.runnerPid)) continue;
    if (state.target === 'local') stopped.push(...killGroups(state));
    if (state.target === 'local' || opts.all) clearState(id);
  }
  // A fault's iptables chain goes with its network, also when the state file is gone.
  stopped.push(...removeStaleCuts(opts.all));
  return stopped;
}
