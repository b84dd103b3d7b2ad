import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@imslab/topology';

/**
 * What is up right now, so that `imslab down` can stop a network that a
 * killed run left behind. One file per running network under `.imslab/state`.
 */
export interface LocalState {
  target: 'local';
  runDir: string;
  /** Process-group ids of every child the run started. */
  pgids: number[];
}

export const STATE_DIR = join(REPO_ROOT, '.imslab', 'state');

export function writeState(id: string, s: LocalState): void {
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(join(STATE_DIR, `${id}.json`), JSON.stringify(s));
}

export function clearState(id: string): void {
  rmSync(join(STATE_DIR, `${id}.json`), { force: true });
}

export function readStates(): Array<{ id: string; state: LocalState }> {
  let names: string[] = [];
  try { names = readdirSync(STATE_DIR); } catch { return []; }
  return names.filter((n) => n.endsWith('.json')).flatMap((n) => {
    try {
      return [{ id: n.slice(0, -5), state: JSON.parse(readFileSync(join(STATE_DIR, n), 'utf8')) as LocalState }];
    } catch {
      return [];
    }
  });
}
