import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnLogged } from '../src/logged-child.ts';
import { Supervisor } from '../src/supervisor.ts';

/**
 * Regression tests for the crash that ended `imslab run` with
 * ERR_STREAM_WRITE_AFTER_END: the element logs were ended on the child's
 * 'exit', while its output (or a grandchild's) was still arriving.
 */
const dir = mkdtempSync(join(tmpdir(), 'imslab-supervisor-'));
const strays: number[] = [];
afterAll(() => {
  for (const pid of strays) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  rmSync(dir, { recursive: true, force: true });
});

/** Running (a zombie waiting for a reaper counts as gone: it runs nothing and holds no port). */
function pidAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('a logged child', () => {
  it('keeps output that drains after the exit (1 MB written just before exiting)', async () => {
    const log = join(dir, 'burst.log');
    const p = spawnLogged([process.execPath, '-e', "process.stdout.write('x'.repeat(1_000_000)); process.exitCode = 0"], log);
    expect(await p.exited).toBe(0);
    await p.logClosed;
    expect(statSync(log).size).toBe(1_000_000);
    expect(p.problems).toEqual([]);
  });

  it('keeps what a grandchild writes after its parent exited, and closes the log when the grandchild is done', async () => {
    const log = join(dir, 'grandchild.log');
    const p = spawnLogged(['sh', '-c', 'echo parent; (sleep 0.3; echo late from the grandchild) & exit 0'], log);
    expect(await p.exited).toBe(0);
    await p.logClosed;
    expect(readFileSync(log, 'utf8')).toBe('parent\nlate from the grandchild\n');
    expect(p.problems).toEqual([]);
  });

  it('cuts the pipes of a grandchild that keeps them for ever, then closes the log without a write after its end', async () => {
    const log = join(dir, 'holder.log');
    const pidFile = join(dir, 'holder.pid');
    // setsid: the grandchild leaves the process group, so stopping the group does not reach it.
    const p = spawnLogged(['sh', '-c', `echo parent; setsid sh -c 'echo $$ > ${pidFile}; while :; do echo tick; sleep 0.05; done' & sleep 0.2; exit 0`], log, { drainMs: 300 });
    expect(await p.exited).toBe(0);
    const started = Date.now();
    await p.logClosed;
    expect(Date.now() - started).toBeLessThan(2000);
    const holder = Number(readFileSync(pidFile, 'utf8'));
    strays.push(holder);
    // Still ticking into a cut pipe: its writes fail there, not in the runner.
    await new Promise((r) => setTimeout(r, 200));
    expect(readFileSync(log, 'utf8')).toMatch(/^parent\n(tick\n)+$/);
    expect(p.problems).toEqual([]);
  });

  it('records a log that cannot be written instead of throwing', async () => {
    const p = spawnLogged(['sh', '-c', 'echo lost'], join(dir, 'no-such-dir', 'x.log'));
    expect(await p.exited).toBe(0);
    await p.logClosed;
    expect(p.problems.join()).toMatch(/ENOENT/);
  });

  it('reports a program that does not exist as an exit, not an exception', async () => {
    const p = spawnLogged(['/nonexistent/imslab-element'], join(dir, 'missing.log'));
    expect(String(await p.exited)).toMatch(/^error: .*ENOENT/);
    await p.logClosed;
    expect(readFileSync(join(dir, 'missing.log'), 'utf8')).toMatch(/could not start/);
  });
});

describe('the supervisor', () => {
  it('reports an element that exits by itself, and not one it stopped', async () => {
    const exits: string[] = [];
    const s = new Supervisor((name, how) => exits.push(`${name}:${how}`));
    const crasher = s.start('crasher', ['sh', '-c', 'exit 3'], join(dir, 'crasher.log'));
    const steady = s.start('steady', ['sleep', '30'], join(dir, 'steady.log'));
    await crasher.exited;
    await s.stop(steady);
    await new Promise((r) => setImmediate(r));
    expect(exits).toEqual(['crasher:3']);
    s.dispose();
  });

  it('stops a whole process group, children included', async () => {
    const s = new Supervisor();
    const pidFile = join(dir, 'child.pid');
    const p = s.start('group', ['sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`], join(dir, 'group.log'));
    for (let i = 0; i < 100 && !existsNonEmpty(pidFile); i++) await new Promise((r) => setTimeout(r, 20));
    const child = Number(readFileSync(pidFile, 'utf8'));
    expect(pidAlive(child)).toBe(true);
    await s.started();
    expect(s.pgids()).toEqual([p.pid]);
    await s.stopAll(500);
    await new Promise((r) => setTimeout(r, 50));
    expect(pidAlive(child)).toBe(false);
    expect(s.pgids()).toEqual([]);
    s.dispose();
  });
});

function existsNonEmpty(f: string): boolean {
  try {
    return statSync(f).size > 0;
  } catch {
    return false;
  }
}

describe('the launcher', () => {
  it('starts children from a process of its own, and reports them lost if it dies', async () => {
    const p = spawnLogged(['sleep', '30'], join(dir, 'launched.log'));
    const pid = await p.started;
    expect(pid).toBeGreaterThan(0);
    strays.push(pid!);
    // The parent is the launcher, not this (large) process: fork() here would copy its page tables.
    const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]);
    expect(ppid).not.toBe(process.pid);
    expect(readFileSync(`/proc/${ppid}/cmdline`, 'utf8')).toMatch(/launcher\.mjs/);
    process.kill(ppid, 'SIGKILL');
    expect(String(await p.exited)).toMatch(/^error: the launcher exited/);
    await p.logClosed;
    expect(p.problems.join()).toMatch(/launcher exited/);
    // The next process gets a new launcher.
    const q = spawnLogged(['sh', '-c', 'echo again'], join(dir, 'again.log'));
    expect(await q.exited).toBe(0);
    await q.logClosed;
    expect(readFileSync(join(dir, 'again.log'), 'utf8')).toBe('again\n');
  });
});
