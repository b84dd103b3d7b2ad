import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createSocket, type Socket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@imslab/topology';
import { readStates, type RunSummary } from '../src/index.ts';

/**
 * The CLI as CI and people use it: exit codes, one line per scenario, JSON
 * and JUnit output, and what happens when a run is interrupted or killed:
 * its networks come down, its summary says so, and the next run is not
 * bothered. Whole networks on the local target: needs root, Kamailio,
 * rtpengine, tcpdump (scripts/setup.sh).
 */
const BIN = join(REPO_ROOT, 'bin', 'imslab');
const tmp = mkdtempSync(join(tmpdir(), 'imslab-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A scenario folder of the test's own: a quick scenario as it is, and one whose expectation is wrong. */
const scenarios = join(tmp, 'scenarios');
mkdirSync(join(scenarios, '4.1.1'), { recursive: true });
const QUICK = readFileSync(join(REPO_ROOT, 'scenarios', '4.1.1', 'e2e-kms-unreachable.yaml'), 'utf8');
writeFileSync(join(scenarios, '4.1.1', 'e2e-kms-unreachable.yaml'), QUICK);
writeFileSync(join(scenarios, '4.1.1', 'wrong-expectation.yaml'), QUICK.replace('name: e2e-kms-unreachable', 'name: wrong-expectation').replace('verdict: no-media', 'verdict: e2e'));

interface Ran { code: number | null; signal: string | null; out: string; err: string }

function start(args: string[]): { child: ChildProcess; done: Promise<Ran> } {
  const child = spawn(BIN, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<Ran>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, out, err })));
  return { child, done };
}
const run = (args: string[]) => start(args).done;

/** The run directory a CLI run announced (`run: <dir>`). */
function runDirOf(r: Ran): string {
  const m = /run: (\S+)/.exec(r.out + r.err);
  if (!m) throw new Error(`no run directory in:\n${r.out}\n${r.err}`);
  return m[1]!;
}

/** Processes whose command line names `dir` (elements of a network in that directory). */
function processesIn(dir: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((p) => {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      return cmd.includes(dir) && !/^\d+ \(.*\) Z/.test(stat) ? [Number(p)] : [];
    } catch {
      return [];
    }
  });
}

async function until<T>(what: string, probe: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('exit codes', () => {
  it('2 for a usage error: unknown verb, flag, scenario; a scenario file that does not load', async () => {
    expect((await run(['dance'])).code).toBe(2);
    expect((await run(['run', '--bogus'])).code).toBe(2);
    expect((await run(['run', '--jobs', '0'])).code).toBe(2);
    const r = await run(['run', 'acess-edge-protection']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown scenario or suite "acess-edge-protection" \(did you mean access-edge-protection\?\)/);
    const bad = join(tmp, 'bad');
    mkdirSync(join(bad, '4.1.1'), { recursive: true });
    writeFileSync(join(bad, '4.1.1', 'e2e-kms-unreachable.yaml'), QUICK.replace('noMediaAt:', 'noMediaAtt:'));
    const b = await run(['run', '--scenarios', bad]);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/e2e-kms-unreachable\.yaml:\d+:\d+: expect\.c1\.noMediaAtt: unknown key "noMediaAtt" \(did you mean "noMediaAt"\?\)/);
    // Five CLI starts (tsx loads the runner each time): seconds each on a loaded 2-core machine.
  }, 90_000);

  it('0 when every scenario matches, 1 on a mismatch; one line per scenario; --json and --junit', async () => {
    const junit = join(tmp, 'run.xml');
    const r = await run(['run', '--scenarios', scenarios, '--json', '--junit', junit]);
    expect(r.code, r.err).toBe(1);
    const lines = r.err.split('\n').filter((l) => l.startsWith('['));
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/^\[[12]\/2\] (e2e-kms-unreachable|wrong-expectation) +(pass|FAIL) +no-media +\d+\.\d+s/);
    expect(lines.find((l) => l.includes('wrong-expectation'))).toMatch(/FAIL .*verdict no-media, expected e2e/);
    const summary = JSON.parse(r.out) as RunSummary;
    expect(summary.results.map((x) => [x.scenario, x.status]).sort()).toEqual([['e2e-kms-unreachable', 'pass'], ['wrong-expectation', 'fail']]);
    // Paths in the summary are relative to the run directory: a copied run still inspects.
    expect(summary.results.every((x) => x.dir === x.scenario)).toBe(true);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuites name="imslab" tests="2" failures="1" errors="0"/);
    expect(xml).toMatch(/<testcase classname="imslab\.4\.1\.1" name="wrong-expectation"[^>]*>\s*<failure message="c1: \[packets\] verdict no-media, expected e2e"/);
    expect(xml).toMatch(/<system-out>[^<]*c1: expected no-media, observed no-media/);
    const one = await run(['run', '--scenarios', scenarios, 'e2e-kms-unreachable']);
    expect(one.code, one.err).toBe(0);
    expect(one.out).toMatch(/^\[1\/1\] e2e-kms-unreachable +pass +no-media +\d+\.\d+s$/m);
  }, 120_000);

  it('4 when the testbed fails: an element cannot start (its port is taken)', async () => {
    // Something else holds the S-CSCF's SIP port of slot 0.
    const squatter: Socket = createSocket('udp4');
    await new Promise<void>((r) => squatter.bind(5060, '127.0.2.20', r));
    try {
      const r = await run(['run', '--scenarios', scenarios, 'e2e-kms-unreachable', '--jobs', '1']);
      expect(r.code, r.out + r.err).toBe(4);
      expect(r.out).toMatch(/ERROR .*port in use: 127\.0\.2\.20:5060\/udp \(scscf\)/);
    } finally {
      squatter.close();
    }
  }, 60_000);
});

describe('a run that is stopped', () => {
  it('on Ctrl-C takes its network down, writes its summary (aborted) and exits 130', async () => {
    const { child, done } = start(['run', '--scenarios', scenarios, 'e2e-kms-unreachable', '--verbose']);
    // Interrupt while the network is up (its state file names its process groups).
    const state = await until('a network up', () => readStates().find((s) => s.state.runnerPid !== process.pid && s.state.pgids.length > 5 && s.state.dir.includes('e2e-kms-unreachable')));
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.err).toBe(130);
    const summary = JSON.parse(readFileSync(join(runDirOf(r), 'summary.json'), 'utf8')) as RunSummary;
    expect(summary.aborted).toBe('SIGINT');
    expect(summary.results[0]?.status).toBe('error');
    expect(summary.results[0]?.error?.kind).toBe('aborted');
    expect(processesIn(state.state.dir)).toEqual([]);
    expect(readStates().find((s) => s.id === state.id)).toBeUndefined();
  }, 60_000);

  it('when killed (SIGKILL) still takes its network down: its reaper does', async () => {
    const { child, done } = start(['run', '--scenarios', scenarios, 'e2e-kms-unreachable']);
    const state = await until('a network up', () => readStates().find((s) => s.state.runnerPid === child.pid && s.state.pgids.length > 5));
    expect(processesIn(state.state.dir).length).toBeGreaterThan(5);
    child.kill('SIGKILL');
    await done;
    await until('the elements gone', () => (processesIn(state.state.dir).length === 0 ? true : undefined), 10_000);
    await until('the state file gone', () => (existsSync(join(REPO_ROOT, '.imslab', 'state', `${state.id}.json`)) ? undefined : true), 10_000);
    // The next run is not bothered by anything the killed one left.
    const next = await run(['run', '--scenarios', scenarios, 'e2e-kms-unreachable']);
    expect(next.code, next.out + next.err).toBe(0);
  }, 90_000);
});
