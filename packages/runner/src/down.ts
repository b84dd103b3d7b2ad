import { readFileSync } from 'node:fs';
import { clearState, readStates } from './state.ts';

/** Is `pid` still one of ours? Process ids get reused, so never kill on the id alone. */
function isOurs(pid: number, runDir: string): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return cmd.includes(runDir) || /^rtpengine .*--listen-ng=/.test(cmd) || /^tcpdump -i lo .*imslab|^tcpdump .* -w .*runs\//.test(cmd);
  } catch {
    return false;
  }
}

/** Stops whatever a local run left running (a run killed with SIGKILL cannot clean up itself). */
export function downLocal(): string[] {
  const stopped: string[] = [];
  for (const { id, state } of readStates()) {
    for (const pgid of state.pgids) {
      if (!isOurs(pgid, state.runDir)) continue;
      try {
        process.kill(-pgid, 'SIGKILL');
        stopped.push(`process group ${pgid} (${state.runDir})`);
      } catch { /* already gone */ }
    }
    clearState(id);
  }
  return stopped;
}
