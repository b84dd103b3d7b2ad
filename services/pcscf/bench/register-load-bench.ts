/**
 * REGISTER load with digest through the P-CSCF (issue 13, point 4): SIPp
 * (Debian `sip-tester`) sends REGISTER over UDP to P-CSCF-A's access address
 * at a stepped rate; each registration is challenged by the S-CSCF (401
 * through the P-CSCF) and answered with the digest (200). Users and passwords
 * come from a subscriber file made for the bench (the S-CSCF seeds its
 * credentials from it) and an injection CSV made from the same file; both
 * live in a temp dir. Every device is `external`: no UE is started, the
 * network is the P-CSCFs, the S-CSCF and the IMS-AGWs.
 *
 * Per step: registrations that got their 200 per second of the SIPp run,
 * failures (SIPp's failed calls: timeouts after its UDP retransmissions,
 * unexpected answers) and retransmissions; CPU and memory of the P-CSCF,
 * the S-CSCF and SIPp itself. The figure to read is the highest rate with 0
 * failures. The Kamailio workers (children=1 per UDP socket at the P-CSCF,
 * 2 at the S-CSCF) bound it; the CPU seconds per element say which one.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { elementByName, planNetwork } from '@imslab/network';
import { LocalTarget, acquireSlot, newRunDir } from '@imslab/runner';
import { loadSubscribers } from '@imslab/topology';
import { ElementUsage, type UsageFigures } from './element-usage.ts';

const SCENARIO = join(dirname(fileURLToPath(import.meta.url)), 'sipp', 'register-digest.xml');
/** Device hosts a subscriber may have on one access network (topology: 50-250). */
const HOSTS_PER_NETWORK = 200;

export interface RegisterStep {
  /** Registrations per second asked of SIPp. */
  rate: number;
  attempted: number;
  succeeded: number;
  failed: number;
  retransmissions: number;
  /** Failures by SIPp's reason (FailedTimeoutOnRecv, FailedMaxUDPRetrans, FailedUnexpectedMessage, ...), only those > 0. */
  failures: Record<string, number>;
  /** Wall time of the SIPp run, first REGISTER to its exit after the last answer. */
  wallS: number;
  succeededPerS: number;
  usage: UsageFigures;
}

export interface RegisterLoadBench {
  users: number;
  steps: RegisterStep[];
  /** Highest rate whose every registration succeeded (null: none did). */
  maxCleanRate: number | null;
  runDir: string;
}

export interface RegisterLoadOptions {
  rates?: number[];
  /** Seconds per step. */
  seconds?: number;
  /** Subscribers to register as (at most 400: 200 device hosts per access network). */
  users?: number;
  onStep?: (s: RegisterStep) => void;
  /** Stop stepping up after the first step with a failure. */
  stopWhenDegraded?: boolean;
  /** Loopback slot to try first (acquireSlot; a test picks one no other test uses). */
  slot?: number;
}

/** A subscriber file of `users` bench users (`reg-1`...), each with one external device, split over both access networks. */
export function registerSubscriberFile(users: number): { yaml: string; csv: string } {
  if (users < 1 || users > 2 * HOSTS_PER_NETWORK) throw new Error(`users: 1..${2 * HOSTS_PER_NETWORK} (device hosts 50-249 on each access network)`);
  const lines = ['domain: ims.test', 'policy: { pcscf-a: { e2ae: allow }, pcscf-b: { e2ae: allow } }', 'subscribers:'];
  const csv = ['SEQUENTIAL'];
  for (let i = 0; i < users; i++) {
    const user = `reg-${i + 1}`;
    const password = `reg-${i + 1}-testbed-pw`;
    const network = i < HOSTS_PER_NETWORK ? 'access-a' : 'access-b';
    lines.push(`  - { user: ${user}, password: ${password}, network: ${network}, devices: [{ name: ${user}, host: ${50 + (i % HOSTS_PER_NETWORK)}, external: true }] }`);
    csv.push(`${user};${password};ims.test;[authentication username=${user}@ims.test password=${password}]`);
  }
  return { yaml: lines.join('\n') + '\n', csv: csv.join('\n') + '\n' };
}

/** SIPp's statistics file (-trace_stat): `;`-separated, a header line, one line per period and a last one at the end. */
function lastStats(file: string): Record<string, string> {
  const rows = readFileSync(file, 'utf8').trim().split('\n');
  const head = rows[0]!.split(';');
  const last = rows[rows.length - 1]!.split(';');
  return Object.fromEntries(head.map((h, i) => [h, last[i] ?? '']));
}

function runSipp(args: string[], cwd: string, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const p = spawn('sipp', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    // Ours alone: killed by its pid, whatever else runs on the machine.
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.once('error', (e) => { clearTimeout(t); reject(e); });
    p.once('exit', (code) => {
      clearTimeout(t);
      // 0: every call succeeded, 1: some failed; anything else is SIPp failing to run.
      if (code !== 0 && code !== 1) reject(new Error(`sipp exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
      else resolve(code);
    });
  });
}

export async function runRegisterLoadBench(opts: RegisterLoadOptions = {}): Promise<RegisterLoadBench> {
  const rates = opts.rates ?? [200, 500, 1000, 1500];
  const seconds = opts.seconds ?? 5;
  const users = opts.users ?? 2 * HOSTS_PER_NETWORK;
  const lease = acquireSlot(opts.slot ?? 0);
  const tmp = mkdtempSync(join(tmpdir(), 'imslab-register-load-'));
  const target = new LocalTarget();
  const runDir = join(newRunDir(), 'bench-register-load');
  const steps: RegisterStep[] = [];
  try {
    const files = registerSubscriberFile(users);
    writeFileSync(join(tmp, 'subscribers.yaml'), files.yaml);
    writeFileSync(join(tmp, 'users.csv'), files.csv);
    const plan = planNetwork(loadSubscribers(join(tmp, 'subscribers.yaml')), 'local', {}, lease.slot);
    const pcscf = elementByName(plan, 'pcscf-a').addresses['access-a']!;
    // SIPp on a host of access-a that no element uses (device hosts stop at 249).
    const local = pcscf.replace(/\.\d+$/, '.251');
    await target.up(plan, { dir: runDir });
    for (const rate of rates) {
      const count = rate * seconds;
      const stat = join(tmp, `stat-${rate}.csv`);
      const usage = new ElementUsage(runDir, ['pcscf-a', 'scscf'], { sipp: SCENARIO });
      usage.start(500);
      const t0 = performance.now();
      const run = runSipp([
        `${pcscf}:5060`, '-sf', SCENARIO, '-inf', join(tmp, 'users.csv'), '-i', local, '-p', '15060', '-t', 'u1',
        '-r', String(rate), '-rp', '1000', '-m', String(count), '-nostdin',
        '-trace_stat', '-stf', stat, '-fd', '1', '-timeout', `${seconds + 30}s`,
        // What SIPp did not expect, kept with the run: the messages themselves say why a registration failed.
        '-trace_err', '-error_file', join(runDir, `sipp-errors-${rate}.log`),
      ], tmp, (seconds + 40) * 1000);
      // SIPp is counted from its start: found once it runs.
      setTimeout(() => usage.rescan(), 200).unref();
      await run;
      const wallS = (performance.now() - t0) / 1000;
      const s = lastStats(stat);
      const n = (k: string) => Number(s[k] ?? 0);
      const failures = Object.fromEntries(Object.entries(s).filter(([k, v]) => /^Failed.*\(C\)$/.test(k) && k !== 'FailedCall(C)' && Number(v) > 0).map(([k, v]) => [k.replace('(C)', ''), Number(v)]));
      const step: RegisterStep = {
        rate, attempted: n('TotalCallCreated'), succeeded: n('SuccessfulCall(C)'), failed: n('FailedCall(C)'),
        retransmissions: n('Retransmissions(C)'), failures, wallS, succeededPerS: n('SuccessfulCall(C)') / wallS, usage: usage.stop(),
      };
      // Not a success unless every REGISTER asked for got its 200.
      if (step.attempted < count) step.failures.notSent = count - step.attempted;
      steps.push(step);
      opts.onStep?.(step);
      if (opts.stopWhenDegraded && !clean(step, count)) break;
      // Let retransmissions and the S-CSCF's transactions drain before the next step.
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await target.down();
    lease.release();
    rmSync(tmp, { recursive: true, force: true });
  }
  const ok = steps.filter((s) => clean(s, s.rate * seconds)).map((s) => s.rate);
  return { users, steps, maxCleanRate: ok.length ? Math.max(...ok) : null, runDir };
}

const clean = (s: RegisterStep, asked: number) => s.failed === 0 && s.succeeded === asked;

/** CPU seconds, the busiest process's share of the wall time (a worker near 100 % is the limit), peak memory. */
const cpu = (u: UsageFigures, n: string, wallS: number) =>
  `${n} ${(u.cpuS[n] ?? 0).toFixed(1)} CPU-s (busiest process ${Math.round((100 * (u.busiestProcessCpuS[n] ?? 0)) / wallS)} % of a core) ${(u.peakMiB[n] ?? 0).toFixed(0)} MiB`;

export function formatRegisterStep(s: RegisterStep): string {
  const why = Object.entries(s.failures).map(([k, v]) => `${k} ${v}`).join(', ');
  return `  ${s.rate}/s asked: ${s.succeeded}/${s.rate > 0 ? s.attempted : 0} registered, ${s.succeededPerS.toFixed(0)}/s over ${s.wallS.toFixed(1)} s; ${s.failed} failed${why ? ` (${why})` : ''}, ${s.retransmissions} retransmissions; ${['pcscf-a', 'scscf', 'sipp'].map((n) => cpu(s.usage, n, s.wallS)).join(', ')}`;
}

export function formatRegisterLoadBench(r: RegisterLoadBench): string {
  const goal = (r.maxCleanRate ?? 0) >= 1000 ? 'met' : r.steps.some((s) => s.rate >= 1000) ? 'NOT MET' : 'not tried in this run';
  return [
    `register load (SIPp, REGISTER + 401 + REGISTER with digest + 200 over UDP to P-CSCF-A, ${r.users} users; Kamailio workers: P-CSCF children=1 per UDP socket, S-CSCF children=2):`,
    ...r.steps.map(formatRegisterStep),
    `  highest rate with every registration successful: ${r.maxCleanRate === null ? 'none' : `${r.maxCleanRate}/s`} (goal >= 1000/s: ${goal})`,
  ].join('\n');
}
