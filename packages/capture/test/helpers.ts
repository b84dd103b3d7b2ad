/**
 * Test helpers: external tools (tshark, tcpdump) and temp directories.
 * A missing tool fails the test with the Debian package to install; it
 * never turns into a silent skip.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FIXTURE_DIR } from '../scripts/make-fixtures.ts';
import { prng } from '@imslab/fuzz';

export { prng };

const execFileP = promisify(execFile);

/** Absolute path of a committed fixture. */
export const fixture = (name: string): string => join(FIXTURE_DIR, name);

/** Debian packages of the tools the tests run. */
const PACKAGE_OF: Record<string, string> = { tshark: 'tshark', tcpdump: 'tcpdump', editcap: 'wireshark-common' };

/** Returns the tool's path or throws naming the Debian package that provides it. */
export function requireTool(tool: string): string {
  const pkg = PACKAGE_OF[tool] ?? tool;
  for (const dir of ['/usr/bin', '/usr/sbin', '/bin', '/sbin', '/usr/local/bin']) {
    const p = join(dir, tool);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // try the next directory
    }
  }
  throw new Error(`${tool} is required by this test but not installed: apt-get install ${pkg} (Debian package "${pkg}")`);
}

/** Runs a tool and returns stdout (stderr is tshark's "running as root" chatter, ignored). */
export async function run(tool: 'tshark' | 'tcpdump' | 'editcap', args: string[]): Promise<string> {
  const { stdout } = await execFileP(requireTool(tool), args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** A fresh temp directory and its removal. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'imslab-capture-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Collects an async iterable. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

