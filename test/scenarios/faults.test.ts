import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalTarget, SCENARIO_DIR, loadAllScenarios, makeTarget, readStates, runScenarios, type Target } from '@imslab/runner';
import type { RecordedNetwork } from '@imslab/run-format';

/**
 * Issue 13, faults: every scenario under scenarios/faults/ kills, freezes or
 * cuts off an element during a call. Each runs alone here, and after each
 * the test looks for anything left behind: a process of the run (its
 * command line names the run directory: elements, kamailio children,
 * tcpdump), a socket on one of the network's addresses, an iptables chain
 * of imslab, a state file, and on the docker target a container or network
 * of the run. A fault scenario must also end within FAULT_BOUND_MS (a hang
 * detector, not a speed target: a quiet machine needs about 5 s locally).
 */
const FAULT_BOUND_MS = 60_000;
const faults = loadAllScenarios().filter((s) => relative(SCENARIO_DIR, s.file).startsWith('faults/'));

function processesNaming(dir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(dir) && Number(pid) !== process.pid) out.push(`${pid}: ${cmd.replaceAll('\0', ' ').slice(0, 120)}`);
    } catch { /* gone meanwhile */ }
  }
  return out;
}

function socketsOn(addresses: string[]): string[] {
  const ss = execFileSync('ss', ['-Hanup'], { encoding: 'utf8' });
  return ss.split('\n').filter((l) => addresses.some((a) => l.includes(`${a}:`)));
}

const sh = (cmd: string, args: string[]) => {
  try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return ''; }
};

function leftovers(runDir: string, scenario: string, target: 'local' | 'docker'): string[] {
  const dir = join(runDir, scenario);
  const net = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')) as RecordedNetwork;
  const left = [...processesNaming(dir)];
  if (target === 'local') left.push(...socketsOn(net.elements.filter((e) => !e.external).flatMap((e) => Object.values(e.addresses)).filter((a): a is string => !!a)));
  // This process's networks only: other runs on the machine may hold their own.
  left.push(...sh('iptables', ['-w', '-S']).split('\n').filter((l) => l.startsWith(`-N IMSLAB-${process.pid}-`)));
  left.push(...readStates().filter((s) => s.state.runnerPid === process.pid).map((s) => `state file ${s.id}`));
  if (target === 'docker') {
    left.push(...sh('docker', ['ps', '-aq', '--filter', 'label=imslab.run']).split('\n').filter(Boolean).map((c) => `container ${c}`));
    left.push(...sh('docker', ['network', 'ls', '-q', '--filter', 'label=imslab.run']).split('\n').filter(Boolean).map((n) => `network ${n}`));
  }
  return left;
}

function faultSuite(target: 'local' | 'docker', make: () => Promise<Target>, names: string[]): void {
  for (const s of faults.filter((x) => names.length === 0 || names.includes(x.name))) {
    it(s.name, async () => {
      const { results, session } = await runScenarios(make, [s]);
      const r = results[0]!;
      const detail = JSON.stringify({ error: r.error, calls: r.calls.map((c) => ({ observed: c.observed, mismatches: c.mismatches, evidence: c.evidence.slice(0, 8) })) }, null, 1);
      expect(r.error, detail).toBeNull();
      for (const c of r.calls) {
        expect(c.observed, detail).toBe(c.expected);
        expect(c.mismatches, detail).toEqual([]);
        // A call up at the fault says when it struck; calls before or after it (a deposit, a retrieval) need not.
        if (c.expected.startsWith('fault(')) expect(c.evidence.some((l) => /(killed|frozen|cut off) at /.test(l)), detail).toBe(true);
      }
      expect(r.durationMs).toBeLessThan(FAULT_BOUND_MS);
      expect(leftovers(session.dir, s.name, target)).toEqual([]);
    }, FAULT_BOUND_MS * 2);
  }
}

describe('fault scenarios on the local target, nothing left behind after each', () => {
  faultSuite('local', async () => new LocalTarget(), []);
});

/** The same on the docker target (scripts/test.sh sets IMSLAB_DOCKER_TESTS=1): docker kill, docker pause, networks disconnected. */
describe.runIf(process.env.IMSLAB_DOCKER_TESTS === '1')('fault scenarios on the docker target, nothing left behind after each', () => {
  faultSuite('docker', () => makeTarget('docker'), []);
});
