/**
 * PoC server figures (issue 11, "Figures"):
 *
 * 1. Floor request to grant at the requesting UE ({@link runFloorGrantBench}):
 *    the local target (real Kamailio P-CSCFs and S-CSCF, rtpengine, the KMS,
 *    our UEs and the PoC server, each a process); alice, bob and carol join
 *    the e2e group team (`sip:poc-team@ims.test`, security poc-e2e; or the
 *    e2m2e group ops: floor control is the same SRTCP in both), then
 *    alice presses PTT, holds the floor a moment, releases it and waits for
 *    Floor Idle, `requests` times. The time of each grant is alice's UE's own
 *    (FloorStatus.requestToGrantMs: PTT pressed, i.e. the first Floor Request
 *    sent, to Floor Granted received, on its performance.now()), so the
 *    bench's polling of the control API adds nothing to it. Anchor: TS 22.179
 *    asks MCPTT access time <= 300 ms for 95 % of requests; goal <= 30 ms.
 *
 * 2. Largest group replicated cleanly in e2e mode ({@link runGroupSizeBench}):
 *    the PoC server as a child process (services/poc/src/main.ts, one per
 *    group size, its own event loop) with one e2e group of 1 talker + N
 *    listeners; the members are raw SIP peers in this process on loopback
 *    (127.0.18.x upwards), joining with an INVITE as the S-CSCF would deliver
 *    it (P-Asserted-Identity) and speaking floor control as SRTCP under their
 *    client-server keys. The talker takes the floor and sends real SRTP
 *    (AES_CM_128_HMAC_SHA1_80 under a group key the server never sees) every
 *    20 ms on a drift-free schedule; the server forwards each packet to every
 *    listener. After 1 s of warm-up, `seconds` are counted. Each listener
 *    checks every packet byte-identical to what the talker sent (the first
 *    also decrypts each under the group key, with its replay window: the same
 *    bytes authenticate at every listener), and times it:
 *     - loss: counted packets that never arrived (until 150 ms of quiet after
 *       the last send, at most 5 s);
 *     - gap deviation: for consecutive packets k' < k at one listener,
 *       |(arrival_k - arrival_k') - (sent_k - sent_k')| with the talker's
 *       actual send times, so lateness of the bench's own sender cancels out
 *       and what remains is the jitter the server and the receive path add.
 *    A size is clean with no loss, no authentication failure, nothing altered
 *    and gap deviation p99 < 5 ms. Sizes grow until one is not clean; an
 *    unclean size is run once more (the machine is shared), and only a second
 *    failure ends the sweep. The server's and the bench's CPU over the
 *    counted window and the server's leg counters (GET /status) against the
 *    members' say which side limited the group. The reference, measured the
 *    same way just before each size: the same stream through a bare Node.js
 *    UDP replicator (one socket.send per listener, nothing else) in its own
 *    process. On this 2-core VM scheduling alone puts a few ms of jitter on
 *    a hop through another process; when the bare relay is not clean either,
 *    the host limited the group, not the PoC server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { planNetwork } from '@imslab/network';
import { markerFor, probePayload, SAMPLES_PER_PACKET } from '@imslab/probe';
import { buildRtp, demuxRtpRtcp, rtpSequence } from '@imslab/rtp';
import { LocalTarget, newRunDir, UeClient } from '@imslab/runner';
import { generateKeySalt, splitKeySalt, SrtpContext } from '@imslab/srtp';
import { loadSubscribers, REPO_ROOT } from '@imslab/topology';
import type { CallStatus } from '@imslab/ue/contract';
import { hostCpuSeconds, processCpuSeconds } from '../../conference/bench/bridge-process.ts';
import type { PocConfigInput } from '../src/config.ts';
import type { PocStatus } from '../src/contract.ts';
import { SUITE, TestMember } from '../test/member.ts';

// ---------------------------------------------------------------- statistics

/** Nearest-rank percentile (p in 0..100) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be 0..100, got ${p}`);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** p50, p95, p99, max and mean of some samples (any order; not modified). */
export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarise(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s.length ? s[s.length - 1]! : NaN, mean };
}

/**
 * One listener's view of a stream whose packets are numbered 0, 1, 2, ...
 * and were sent at `sentAt[k]`: it counts each packet once (a second copy is
 * a duplicate), and for each packet that follows an earlier one it adds the
 * gap deviation |(arrival - previous arrival) - (sent - previous sent)| to
 * `deviations` (shared by all listeners of a run). A packet older than the
 * newest seen is counted as reordered and starts no gap.
 */
export class GapTracker {
  private readonly seen: Uint8Array;
  private prevK = -1;
  private prevAt = 0;
  received = 0;
  duplicates = 0;
  reordered = 0;

  constructor(private readonly sentAt: ArrayLike<number>, private readonly deviations: number[]) {
    this.seen = new Uint8Array(sentAt.length);
  }

  /** Packet `k` arrived at `at` (same clock as sentAt). Returns false for a duplicate or a number outside the stream. */
  add(k: number, at: number): boolean {
    if (!Number.isInteger(k) || k < 0 || k >= this.seen.length) return false;
    if (this.seen[k]) {
      this.duplicates++;
      return false;
    }
    this.seen[k] = 1;
    this.received++;
    if (k < this.prevK) {
      this.reordered++;
      return true;
    }
    if (this.prevK >= 0) this.deviations.push(Math.abs(at - this.prevAt - (this.sentAt[k]! - this.sentAt[this.prevK]!)));
    this.prevK = k;
    this.prevAt = at;
    return true;
  }

  /** Packets of [from, to) never received. */
  missing(from: number, to: number): number {
    let n = 0;
    for (let k = Math.max(0, from); k < Math.min(to, this.seen.length); k++) if (!this.seen[k]) n++;
    return n;
  }
}

/** Clean: nothing lost, altered or refused, and gap deviation p99 under the bound. */
export function isClean(r: { lost: number; authFailed: number; altered: number; gapDeviation: { p99: number } }, maxGapP99Ms = MAX_GAP_P99_MS): boolean {
  return r.lost === 0 && r.authFailed === 0 && r.altered === 0 && Number.isFinite(r.gapDeviation.p99) && r.gapDeviation.p99 < maxGapP99Ms;
}

// ---------------------------------------------------------------- 1. floor grant on the local target

/** The pre-arranged groups of config/subscribers.yaml the figure can be taken in, and the security their members ask for. */
export const FLOOR_GROUPS = { team: 'poc-e2e', ops: 'poc-e2m2e' } as const;
export type FloorGroup = keyof typeof FLOOR_GROUPS;

export interface FloorGrantBenchOptions {
  /** The group (default team: e2e, media under the group key from the KMS; ops: e2m2e, the server re-encrypts per listener). Floor control is the same SRTCP under each member's client-server key in both. */
  group?: FloorGroup;
  /** Floor requests (default 100, at least 50 for the figure). */
  requests?: number;
  /** How long alice talks once granted (default 60 ms: three probe packets). */
  holdMs?: number;
  onProgress?: (line: string) => void;
}

export interface FloorGrantBenchResult {
  group: FloorGroup;
  requests: number;
  /** PTT -> Floor Granted at alice's UE, ms. */
  grant: Summary;
  /** Every grant time, in request order. */
  samples: number[];
  /** Floor Requests alice sent: more than `requests` means T101 repeated some (a lost or slow answer). */
  floorRequestsSent: number;
  /** Floor Taken messages bob and carol received (each grant tells them). */
  takenAtListeners: number;
  /** alice's probe packets bob received (the floor holder is forwarded). */
  listenerRxPackets: number;
  /** Up -> the three members joined (s). */
  setupS: number;
  loadBefore: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function pollCall(ue: UeClient, callId: string, what: string, done: (s: CallStatus) => boolean, timeoutMs = 5000, everyMs = 10): Promise<CallStatus> {
  const end = performance.now() + timeoutMs;
  let last: CallStatus | undefined;
  for (;;) {
    last = (await ue.calls()).find((c) => c.callId === callId);
    if (last && (last.state === 'failed' || last.state === 'terminated')) throw new Error(`${ue.name}: call ${callId} ${last.state} while waiting for ${what}: ${last.failure?.reason ?? ''}`);
    if (last && done(last)) return last;
    if (performance.now() > end) throw new Error(`${ue.name}: ${what} not within ${timeoutMs} ms (call ${last?.state ?? 'unknown'}, floor ${last?.floor?.state ?? 'none'})`);
    await sleep(everyMs);
  }
}

/**
 * Floor request to grant on the local target, measured at alice's UE.
 * The network is always taken down, also on failure.
 */
export async function runFloorGrantBench(o: FloorGrantBenchOptions = {}): Promise<FloorGrantBenchResult> {
  const requests = o.requests ?? 100;
  const group = o.group ?? 'team';
  const holdMs = o.holdMs ?? 60;
  if (!Number.isInteger(requests) || requests < 1) throw new Error(`requests must be a whole number >= 1, got ${requests}`);
  const loadBefore = loadavg()[0] ?? NaN;
  const subs = loadSubscribers(join(REPO_ROOT, 'config', 'subscribers.yaml'));
  const target = new LocalTarget();
  const plan = planNetwork(subs, 'local', { servers: ['kms', 'poc'] });
  try {
    const t0 = performance.now();
    await target.up(plan, { dir: join(newRunDir(), `bench-poc-floor-${group}`) });
    const ues = ['alice', 'bob-1', 'carol'].map((n) => new UeClient(n, target.controlUrl(n)));
    await Promise.all(ues.map((u) => u.register()));
    const calls: string[] = [];
    for (const u of ues) calls.push((await u.call(`sip:poc-${group}@ims.test`, FLOOR_GROUPS[group])).callId);
    // Joined: the server says Floor Idle (or Taken) once the member's ACK arrived.
    await Promise.all(ues.map((u, i) => pollCall(u, calls[i]!, `joining poc-${group}`, (s) => {
      const r = s.floor?.received ?? {};
      return (r['floor-idle'] ?? 0) + (r['floor-taken'] ?? 0) > 0;
    }, 15_000)));
    const setupS = (performance.now() - t0) / 1000;
    const [alice, bob, carol] = ues as [UeClient, UeClient, UeClient];
    const c = calls[0]!;
    for (let i = 0; i < requests; i++) {
      await alice.floor(c, 'request');
      // alice's UE times the grant itself; polling only says when to go on.
      await sleep(5);
      await pollCall(alice, c, `floor granted (request ${i + 1})`, (s) => s.floor?.state === 'has-permission');
      await sleep(holdMs);
      await alice.floor(c, 'release');
      await pollCall(alice, c, `floor released (request ${i + 1})`, (s) => s.floor?.state === 'has-no-permission');
      // Requests spread over the 20 ms media clock, as a user's would be.
      await sleep(20 + Math.random() * 40);
      if ((i + 1) % 25 === 0) o.onProgress?.(`  floor: ${i + 1}/${requests} requests granted`);
    }
    const a = (await alice.calls()).find((x) => x.callId === c);
    const samples = a?.floor?.requestToGrantMs ?? [];
    if (samples.length !== requests) throw new Error(`alice's UE reports ${samples.length} grant times for ${requests} granted requests (requestToGrantMs missing or cut?)`);
    const listeners = await Promise.all([bob.calls(), carol.calls()]);
    const lc = listeners.map((l, i) => l.find((x) => x.callId === calls[i + 1]));
    return {
      group,
      requests,
      grant: summarise(samples),
      samples,
      floorRequestsSent: a?.floor?.sent['floor-request'] ?? 0,
      takenAtListeners: lc.reduce((n, s) => n + (s?.floor?.received['floor-taken'] ?? 0), 0),
      listenerRxPackets: lc[0]?.media.rxPackets ?? 0,
      setupS,
      loadBefore,
    };
  } finally {
    await target.down();
  }
}

// ---------------------------------------------------------------- 2. largest clean e2e group

/** Gap deviation p99 at the listeners must stay below this (ms). */
export const MAX_GAP_P99_MS = 5;
const DOMAIN = 'ims.test';
const SERVER = '127.0.18.1';
const SIP_PORT = 5060;
const CONTROL_PORT = 18082;
const RTP_PORT_MIN = 30000;
/** The reference relay's port on SERVER, and the port its talker and listeners use on theirs (the PoC members use 40000/40001). */
const RELAY_PORT = 29990;
const RELAY_MEMBER_PORT = 40010;
const GROUP = 'poc-bench';
const PTIME_MS = 20;
const PACKETS_PER_SECOND = 1000 / PTIME_MS;
const WARMUP_S = 1;
/** Members bind 127.0.(18 + floor(i / 250)).(2 + i % 250): at most 1000 (talker included). */
const MAX_MEMBERS = 1000;
const MEMBER_RCVBUF = 4 * 1024 * 1024;
const DEFAULT_SIZES = [25, 50, 100, 150, 200, 300, 400, 600, 800, 999];
const SATURATED_PCT = 85;

const memberAddress = (i: number) => `127.0.${18 + Math.floor(i / 250)}.${2 + (i % 250)}`;
const memberUri = (i: number) => (i === 0 ? `sip:talker@${DOMAIN}` : `sip:l${i}@${DOMAIN}`);

export interface GroupSizeBenchOptions {
  /** Listener counts to try, ascending (default 25, 50, 100, 150, 200, 300, 400, 600, 800, 999). */
  sizes?: number[];
  /** Counted seconds per size after 1 s of warm-up (default 10). */
  seconds?: number;
  /**
   * Rerun an unclean size once before ending the sweep, and a third time when
   * the second was disturbed by other work on the host (default true).
   */
  confirm?: boolean;
  /** Measure the reference relay at each size too (default true). */
  reference?: boolean;
  onRun?: (r: GroupSizeRun) => void;
}

/** What the listeners saw of one stream (the window only), and what it cost. */
export interface StreamFigures {
  /** Packets the talker sent in the window. */
  sent: number;
  /** listeners x sent. */
  expected: number;
  received: number;
  lost: number;
  /** Arrived, but not byte-identical to what the talker sent. */
  altered: number;
  /** SRTP authentication failures under the group key (at the first listener, which decrypts every packet; the others check bytes: `altered`). */
  authFailed: number;
  duplicates: number;
  reordered: number;
  /** |arrival gap - send gap| at the listeners, ms. */
  gapDeviation: Summary;
  /** Talker's send -> listener's receipt, ms. */
  delay: Summary;
  /** Worst lateness of the talker's sends against the 20 ms schedule (ms): the bench's own jitter, cancelled out of the gap deviation. */
  maxSendLateMs: number;
  /** The forwarding process's CPU over the window, % of one core. */
  serverCpuPct: number;
  /** Bench process (talker and listeners) CPU, % of one core. */
  benchCpuPct: number;
  /** All processes on the host, % of one core (up to 100 x cores). */
  hostBusyPct: number;
  /** The host's busy time less the forwarder's and the bench's: other work on the machine (another engineer's tests), % of one core. */
  otherCpuPct: number;
}

/** One group size (one run): the PoC server, and the reference relay just before it. */
export interface GroupSizeRun extends StreamFigures {
  listeners: number;
  /** Which attempt at this size (2: the rerun of an unclean first). */
  attempt: number;
  /** Whole run (warm-up included): packets the talker sent the server did not count (its socket dropped them), %. */
  toServerLossPct: number;
  /** Whole run: packets the server sent the listeners that never reached them (the bench's sockets dropped them), %. */
  fromServerLossPct: number;
  /** INVITE -> 200 -> ACK of every member, s. */
  joinS: number;
  clean: boolean;
  /**
   * The same stream through a bare Node.js UDP replicator (no SIP, no SRTP,
   * no floor control: a loop of socket.send) in its own process, measured
   * the same way just before: the jitter this host adds to any forwarding
   * process. Null when not measured.
   */
  reference: (StreamFigures & { clean: boolean }) | null;
}

export interface GroupSizeBenchResult {
  /** Largest listener count that ran clean (0 if none). */
  maxCleanListeners: number;
  limitedBy: 'server' | 'bench' | 'both' | 'host' | 'none' | 'unclear';
  limitNote: string;
  /** Listener count at which the server would need a whole core, extrapolated from its CPU per forwarded packet in the largest clean run (a reference, not a measurement). */
  serverCoreAtListeners: number | null;
  runs: GroupSizeRun[];
  seconds: number;
  cores: number;
  loadBefore: number;
}

/** A forwarding process of the bench (the PoC server, or the reference relay); killed by stop() or, should the caller forget, at this process's exit. */
class ChildServer {
  private static live = new Set<ChildServer>();
  private static hooked = false;
  private tail = '';
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess, private readonly dir: string | undefined, readonly what: string) {
    const keep = (d: Buffer) => {
      this.tail = (this.tail + d.toString('utf8')).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      this.exitCode = code ?? (signal ? -1 : null);
      ChildServer.live.delete(this);
      resolve();
    }));
  }

  static killAll(): void {
    for (const p of ChildServer.live) {
      try {
        p.child.kill('SIGKILL');
      } catch {
        // gone
      }
      if (p.dir) rmSync(p.dir, { recursive: true, force: true });
    }
    ChildServer.live.clear();
  }

  private static spawn(args: string[], dir: string | undefined, what: string): ChildServer {
    if (!ChildServer.hooked) {
      ChildServer.hooked = true;
      process.on('exit', () => ChildServer.killAll());
    }
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new ChildServer(child, dir, what);
    ChildServer.live.add(p);
    return p;
  }

  /** The PoC server (services/poc/src/main.ts) with `cfg`, once its GET /health answers. */
  static async poc(cfg: PocConfigInput): Promise<ChildServer> {
    const dir = mkdtempSync(join(tmpdir(), 'imslab-poc-bench-'));
    const file = join(dir, 'poc.json');
    writeFileSync(file, JSON.stringify(cfg, null, 2));
    const p = ChildServer.spawn(['--import', 'tsx', fileURLToPath(new URL('../src/main.ts', import.meta.url)), '--config', file], dir, 'the PoC server');
    return p.ready(async () => {
      try {
        return (await fetch(`http://${SERVER}:${CONTROL_PORT}/health`, { signal: AbortSignal.timeout(1000) })).ok;
      } catch {
        return false;
      }
    });
  }

  /** The reference: a bare UDP replicator on SERVER:RELAY_PORT sending every datagram to each of `to` (port RELAY_MEMBER_PORT), once it printed "ready". */
  static async relay(to: string[]): Promise<ChildServer> {
    const src = [
      "const dgram = require('node:dgram');",
      'const [address, port, list] = process.argv.slice(1);',
      "const to = list.split(',');",
      "const s = dgram.createSocket('udp4');",
      `s.on('message', (m) => { for (const a of to) s.send(m, ${RELAY_MEMBER_PORT}, a, () => undefined); });`,
      "s.on('error', () => undefined);",
      "s.bind(Number(port), address, () => process.stdout.write('ready\\n'));",
      "process.on('SIGTERM', () => process.exit(0));",
    ].join('\n');
    const p = ChildServer.spawn(['-e', src, SERVER, String(RELAY_PORT), to.join(',')], undefined, 'the reference relay');
    return p.ready(async () => p.tail.includes('ready'));
  }

  private async ready(up: () => Promise<boolean>): Promise<ChildServer> {
    try {
      const end = Date.now() + 20_000;
      for (;;) {
        if (this.exitCode !== undefined) throw new Error(`${this.what} exited (code ${this.exitCode}) before it was ready: ${this.lastLines()}`);
        if (await up()) return this;
        if (Date.now() > end) throw new Error(`${this.what} was not ready after 20 s: ${this.lastLines()}`);
        await sleep(50);
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  lastLines(): string {
    return this.tail.trim().split('\n').slice(-3).join(' | ');
  }

  cpuSeconds(): number {
    return this.child.pid ? processCpuSeconds(this.child.pid) : NaN;
  }

  async pocStatus(): Promise<PocStatus> {
    const res = await fetch(`http://${SERVER}:${CONTROL_PORT}/status`, { signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new Error(`GET /status: HTTP ${res.status}`);
    return (await res.json()) as PocStatus;
  }

  /** SIGTERM, SIGKILL after 3 s; waits for the exit and removes the config. Idempotent. */
  async stop(): Promise<void> {
    if (this.exitCode === undefined) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(t);
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

interface Snap {
  t: number;
  bench: NodeJS.CpuUsage;
  server: number;
  host: { busy: number; total: number };
}

/**
 * Sends one talk burst of SRTP under a fresh group key through `send` on a
 * drift-free 20 ms schedule (1 s warm-up + `seconds`) and measures it at
 * every listener socket: byte-identical to what was sent, authenticated
 * under the group key (each listener its own replay window), timed. Returns
 * after 150 ms without a datagram (at most 5 s after the last send).
 */
async function streamThrough(send: (pkt: Buffer) => void, sockets: Socket[], seconds: number, serverCpu: () => number): Promise<StreamFigures & { datagrams: number; total: number }> {
  const timers: Array<ReturnType<typeof setTimeout>> = [];
  try {
    const key = splitKeySalt(SUITE, generateKeySalt(SUITE));
    const tx = new SrtpContext({ profile: SUITE, ...key });
    const warm = WARMUP_S * PACKETS_PER_SECOND;
    const counted = seconds * PACKETS_PER_SECOND;
    const total = warm + counted;
    const sentAt = new Float64Array(total);
    const sentPkts: Buffer[] = new Array<Buffer>(total);
    const seq0 = Math.floor(Math.random() * 0x8000);
    const ts0 = Math.floor(Math.random() * 0x10000000);
    const ssrc = (Math.floor(Math.random() * 0xfffffffe) + 1) >>> 0;
    const payload = probePayload(markerFor(`poc-bench-${ssrc}`, 'orig'), 0);
    for (let k = 0; k < total; k++) sentPkts[k] = tx.protectRtp(buildRtp({ payloadType: 0, sequence: (seq0 + k) & 0xffff, timestamp: (ts0 + k * SAMPLES_PER_PACKET) >>> 0, ssrc }, payload));

    const deviations: number[] = [];
    const delays: number[] = [];
    let lastRx = performance.now();
    // The first listener authenticates every packet under the group key; the others check each byte for byte
    // against the talker's SRTP packet (equivalent: the same bytes authenticate), which keeps the bench's
    // per-packet work and garbage, and so its own pauses, small.
    const listeners = sockets.map((socket, i) => {
      const l = { rx: i === 0 ? new SrtpContext({ profile: SUITE, ...key }) : undefined, gaps: new GapTracker(sentAt, deviations), datagrams: 0, altered: 0, authFailed: 0 };
      socket.removeAllListeners('message');
      socket.setRecvBufferSize(MEMBER_RCVBUF);
      socket.on('message', (data: Buffer) => {
        const now = performance.now();
        lastRx = now;
        l.datagrams++;
        if (demuxRtpRtcp(data) !== 'rtp') {
          l.altered++;
          return;
        }
        const k = (rtpSequence(data) - seq0) & 0xffff;
        if (k >= total || !data.equals(sentPkts[k]!)) {
          l.altered++;
          if (!l.rx) return;
        }
        if (l.rx) {
          const r = l.rx.unprotectRtp(data);
          if (!r.ok) {
            if (r.reason === 'auth-failed') l.authFailed++;
            return;
          }
        }
        if (k < warm || k >= total) return;
        if (l.gaps.add(k, now)) delays.push(now - sentAt[k]!);
      });
      return l;
    });

    const t0 = performance.now() + 50;
    const wStart = t0 + WARMUP_S * 1000;
    const wEnd = wStart + seconds * 1000;
    let start: Snap | undefined;
    let end: Snap | undefined;
    const snap = (): Snap => ({ t: performance.now(), bench: process.cpuUsage(), server: serverCpu(), host: hostCpuSeconds() });
    timers.push(setTimeout(() => (start = snap()), wStart - performance.now()));
    timers.push(setTimeout(() => (end = snap()), wEnd - performance.now()));
    let maxLate = 0;
    await new Promise<void>((resolve, reject) => {
      let k = 0;
      const loop = () => {
        try {
          const now = performance.now();
          while (k < total && t0 + k * PTIME_MS <= now) {
            const late = now - (t0 + k * PTIME_MS);
            if (k >= warm && late > maxLate) maxLate = late;
            sentAt[k] = performance.now();
            send(sentPkts[k]!);
            k++;
          }
          if (k < total) timers.push(setTimeout(loop, Math.max(0, t0 + k * PTIME_MS - performance.now())));
          else resolve();
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      };
      timers.push(setTimeout(loop, Math.max(0, t0 - performance.now())));
    });
    while (!end) await sleep(Math.max(1, wEnd - performance.now()));
    const settleEnd = performance.now() + 5000;
    await sleep(150);
    while (performance.now() - lastRx < 150 && performance.now() < settleEnd) await sleep(50);
    if (!start) throw new Error('the window start snapshot was not taken');
    for (const s of sockets) s.removeAllListeners('message');

    const f = { received: 0, lost: 0, altered: 0, authFailed: 0, duplicates: 0, reordered: 0, datagrams: 0 };
    for (const l of listeners) {
      f.received += l.gaps.received;
      f.lost += l.gaps.missing(warm, total);
      f.altered += l.altered;
      f.authFailed += l.authFailed;
      f.duplicates += l.gaps.duplicates;
      f.reordered += l.gaps.reordered;
      f.datagrams += l.datagrams;
    }
    const wall = (end.t - start.t) / 1000;
    return {
      sent: counted,
      expected: sockets.length * counted,
      ...f,
      gapDeviation: summarise(deviations),
      delay: summarise(delays),
      maxSendLateMs: maxLate,
      serverCpuPct: (100 * (end.server - start.server)) / wall,
      benchCpuPct: (100 * (end.bench.user - start.bench.user + end.bench.system - start.bench.system)) / 1e6 / wall,
      hostBusyPct: (100 * (end.host.busy - start.host.busy)) / wall,
      otherCpuPct: Math.max(0, (100 * (end.host.busy - start.host.busy - (end.server - start.server))) / wall - (100 * (end.bench.user - start.bench.user + end.bench.system - start.bench.system)) / 1e6 / wall),
      total,
    };
  } finally {
    for (const t of timers) clearTimeout(t);
  }
}

function bindUdp(address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(port, address, () => {
      s.removeAllListeners('error');
      s.on('error', () => undefined);
      resolve(s);
    });
  });
}

function closeUdp(s: Socket): Promise<void> {
  return new Promise((r) => {
    try {
      s.close(() => r());
    } catch {
      r(); // already closed
    }
  });
}

/** The reference: the same stream to `n` listeners through the bare relay. */
async function runReferenceOnce(n: number, seconds: number): Promise<StreamFigures & { clean: boolean }> {
  const sockets: Socket[] = [];
  let relay: ChildServer | undefined;
  try {
    for (let i = 0; i <= n; i++) sockets.push(await bindUdp(memberAddress(i), RELAY_MEMBER_PORT));
    relay = await ChildServer.relay(Array.from({ length: n }, (_, i) => memberAddress(i + 1)));
    const talker = sockets[0]!;
    const { datagrams: _d, total: _t, ...f } = await streamThrough((p) => talker.send(p, RELAY_PORT, SERVER), sockets.slice(1), seconds, () => relay!.cpuSeconds());
    return { ...f, clean: isClean(f) };
  } finally {
    await Promise.all(sockets.map(closeUdp));
    await relay?.stop();
  }
}

/** One group of 1 talker + `n` listeners against a fresh PoC server process. Everything opened is closed, also on failure. */
async function runPocOnce(n: number, seconds: number): Promise<Omit<GroupSizeRun, 'attempt' | 'reference'>> {
  const members = n + 1;
  const server = await ChildServer.poc({
    name: 'poc-bench', address: SERVER, sipPort: SIP_PORT, controlPort: CONTROL_PORT, domain: DOMAIN,
    rtpPortMin: RTP_PORT_MIN, rtpPortMax: RTP_PORT_MIN + 2 * members + 20,
    groups: [{ user: GROUP, mode: 'e2e', contention: 'deny', members: Array.from({ length: members }, (_, i) => memberUri(i)) }],
    // The talker talks for the whole run: no stop-talking revoke (T2 is 30 s by default).
    floorTimers: { t2StopTalkingMs: 3_600_000 },
  });
  const opened: TestMember[] = [];
  try {
    // Join: the talker first, then the listeners in batches (each INVITE, 200, ACK).
    const tj = performance.now();
    const uri = `sip:${GROUP}@${DOMAIN}`;
    const joinOne = async (i: number): Promise<TestMember> => {
      const m = await TestMember.open(memberAddress(i), { address: SERVER, port: SIP_PORT });
      opened.push(m);
      const call = await m.join(uri, memberUri(i));
      if (call.response.status !== 200) throw new Error(`${memberUri(i)} could not join ${GROUP}: ${call.response.status} ${call.response.reason}`);
      return m;
    };
    const talker = await joinOne(0);
    const ls: TestMember[] = [];
    const BATCH = 8;
    for (let i = 1; i <= n; i += BATCH) ls.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, n + 1 - i) }, (_, j) => joinOne(i + j)))));
    const joinS = (performance.now() - tj) / 1000;

    // The floor: Floor Idle once joined, then Request -> Granted (SRTCP under the talker's client-server key).
    const floorSeen = (type: string) => (talker.floorMessages(), talker.seen.some((x) => x.type === type));
    await waitFor(() => floorSeen('floor-idle') || floorSeen('floor-taken'), 'Floor Idle at the talker', 5000);
    await talker.sendFloor({ type: 'floor-request', fields: {} });
    await waitFor(() => floorSeen('floor-granted'), 'Floor Granted at the talker', 5000);
    talker.rtp.removeAllListeners('message');

    const media = talker.call!.answer!;
    const { datagrams, total, ...f } = await streamThrough((p) => talker.rtp.send(p, media.port, media.address), ls.map((m) => m.rtp), seconds, () => server.cpuSeconds());

    const st = (await server.pocStatus()).groups.find((g) => g.user === GROUP);
    const tUri = memberUri(0);
    const serverRx = st?.members.find((m) => m.member === tUri)?.rxPackets ?? 0;
    const serverTx = (st?.members ?? []).filter((m) => m.member !== tUri).reduce((a, m) => a + m.txPackets, 0);
    return {
      listeners: n,
      ...f,
      toServerLossPct: (100 * Math.max(0, total - serverRx)) / total,
      fromServerLossPct: serverTx > 0 ? (100 * Math.max(0, serverTx - datagrams)) / serverTx : 0,
      joinS,
      clean: isClean(f),
    };
  } finally {
    await Promise.all(opened.map((m) => m.close().catch(() => undefined)));
    await server.stop();
  }
}

async function runGroupOnce(n: number, seconds: number, attempt: number, reference: boolean): Promise<GroupSizeRun> {
  const ref = reference ? await runReferenceOnce(n, seconds) : null;
  return { ...(await runPocOnce(n, seconds)), attempt, reference: ref };
}

async function waitFor(f: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!f()) {
    if (performance.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(5);
  }
}

/** Other work on the host took at least half a core during the window. */
export const disturbed = (r: StreamFigures) => r.otherCpuPct >= DISTURBED_PCT;
const DISTURBED_PCT = 50;

/** Which side limited the group, from the first unclean run (its confirmation if there was one). */
export function limitOf(bad: GroupSizeRun | undefined, lastSize: number, cores = cpus().length): Pick<GroupSizeBenchResult, 'limitedBy' | 'limitNote'> {
  if (!bad) return { limitedBy: 'none', limitNote: `clean up to the largest size tried (${lastSize} listeners)` };
  const ref = bad.reference;
  const refNote = ref ? `; the bare relay at the same size: lost ${ref.lost}, gap deviation p99 ${ref.gapDeviation.p99.toFixed(2)} ms, relay CPU ${ref.serverCpuPct.toFixed(0)} %` : '';
  const why =
    `${bad.listeners} listeners: lost ${bad.lost}/${bad.expected} (to the server ${bad.toServerLossPct.toFixed(2)} %, from it ${bad.fromServerLossPct.toFixed(2)} %), ` +
    `gap deviation p99 ${bad.gapDeviation.p99.toFixed(2)} ms, ${bad.authFailed} auth failures, ${bad.altered} altered; ` +
    `server CPU ${bad.serverCpuPct.toFixed(0)} %, bench CPU ${bad.benchCpuPct.toFixed(0)} % of a core, other work ${bad.otherCpuPct.toFixed(0)} % (host ${bad.hostBusyPct.toFixed(0)} % of ${100 * cores})${refNote}`;
  if (bad.authFailed > 0 || bad.altered > 0) return { limitedBy: 'unclear', limitNote: `${why}: altered or unauthenticated packets are a fault, not a capacity limit` };
  const serverSat = bad.serverCpuPct >= SATURATED_PCT;
  const benchSat = bad.benchCpuPct >= SATURATED_PCT;
  if (serverSat && benchSat) return { limitedBy: 'both', limitNote: `${why}: the server and the bench each filled a core (the host has ${cores})` };
  if (bad.toServerLossPct > 0 || serverSat) return { limitedBy: 'server', limitNote: `${why}: the server could not keep up` };
  if (bad.fromServerLossPct > 0 || benchSat) return { limitedBy: 'bench', limitNote: `${why}: the bench's listeners could not keep up` };
  if (disturbed(bad)) return { limitedBy: 'host', limitNote: `${why}: other work on the machine took ${bad.otherCpuPct.toFixed(0)} % of a core (rerun on a quiet machine)` };
  if (ref && !ref.clean) return { limitedBy: 'host', limitNote: `${why}: the bare relay was not clean either: the host's scheduling, not the PoC server` };
  if (bad.hostBusyPct >= SATURATED_PCT * cores) return { limitedBy: 'host', limitNote: `${why}: the host's cores were full` };
  return { limitedBy: 'server', limitNote: `${why}: the bare relay was clean at this size, so the PoC server's own work added the jitter` };
}

/**
 * Runs the group size sweep; prints nothing. Uses 127.0.18.1 (server: SIP
 * 5060, control 18082, RTP 30000+; reference relay 29990) and 127.0.18.2..
 * (members). Every child process is stopped and every socket closed, also on
 * failure.
 */
export async function runGroupSizeBench(o: GroupSizeBenchOptions = {}): Promise<GroupSizeBenchResult> {
  const sizes = o.sizes ?? DEFAULT_SIZES;
  const seconds = o.seconds ?? 10;
  const confirm = o.confirm ?? true;
  const reference = o.reference ?? true;
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`seconds must be a whole number >= 1, got ${seconds}`);
  for (const n of sizes) if (!Number.isInteger(n) || n < 1 || n + 1 > MAX_MEMBERS) throw new Error(`a group size is 1..${MAX_MEMBERS - 1} listeners, got ${n}`);
  const loadBefore = loadavg()[0] ?? NaN;
  const runs: GroupSizeRun[] = [];
  let maxCleanListeners = 0;
  let bad: GroupSizeRun | undefined;
  let lastClean: GroupSizeRun | undefined;
  for (const n of sizes) {
    let r = await runGroupOnce(n, seconds, 1, reference);
    runs.push(r);
    o.onRun?.(r);
    while (confirm && !r.clean && (r.attempt === 1 || (r.attempt === 2 && disturbed(r)))) {
      r = await runGroupOnce(n, seconds, r.attempt + 1, reference);
      runs.push(r);
      o.onRun?.(r);
    }
    if (!r.clean) {
      bad = r;
      break;
    }
    maxCleanListeners = n;
    lastClean = r;
  }
  // Server CPU grows with the packets it forwards (listeners x 50/s): where would one core be full?
  let serverCoreAtListeners: number | null = null;
  if (lastClean && lastClean.serverCpuPct > 0) serverCoreAtListeners = Math.floor((lastClean.listeners * 100) / lastClean.serverCpuPct);
  return { maxCleanListeners, ...limitOf(bad, sizes[sizes.length - 1] ?? 0), serverCoreAtListeners, runs, seconds, cores: cpus().length, loadBefore };
}

/** Stops every PoC server and reference relay this module started (for signal handlers). */
export function killPocServers(): void {
  ChildServer.killAll();
}

// ---------------------------------------------------------------- output

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');

export function formatFloorGrant(r: FloorGrantBenchResult): string {
  const g = r.grant;
  return `poc floor (group ${r.group}, ${FLOOR_GROUPS[r.group]}): request -> grant at alice's UE over the local network (${r.requests} requests): p50 ${f2(g.p50)} ms, p95 ${f2(g.p95)} ms (max ${f2(g.max)}, mean ${f2(g.mean)}); ` +
    `goal p95 <= 30 ms: ${g.p95 <= 30 ? 'met' : 'NOT MET'}; TS 22.179 access time <= 300 ms for 95 %: ${g.p95 <= 300 ? 'met' : 'NOT MET'} (${(300 / g.p95).toFixed(0)}x margin); ` +
    `${r.floorRequestsSent} Floor Requests sent, ${r.takenAtListeners} Floor Taken at bob and carol, bob received ${r.listenerRxPackets} probe packets`;
}

export function formatGroupRunHeader(): string {
  return 'listeners try forwarder   sent expected received lost altered authFail gapDev p50/p99/max ms delay p50/p99/max ms sendLate ms >server% >listeners% fwdCPU% benchCPU% other% join s clean';
}

function streamColumns(f: StreamFigures): string[] {
  return [
    String(f.sent).padStart(6),
    String(f.expected).padStart(8),
    String(f.received).padStart(8),
    String(f.lost).padStart(4),
    String(f.altered).padStart(7),
    String(f.authFailed).padStart(8),
    `${f2(f.gapDeviation.p50)}/${f2(f.gapDeviation.p99)}/${f2(f.gapDeviation.max)}`.padStart(20),
    `${f2(f.delay.p50)}/${f2(f.delay.p99)}/${f2(f.delay.max)}`.padStart(19),
    f2(f.maxSendLateMs).padStart(11),
  ];
}

/** One line for the PoC server's run, preceded by one for the reference relay's when it was measured. */
export function formatGroupRun(r: GroupSizeRun): string {
  const cpu = (f: StreamFigures) => [f0(f.serverCpuPct).padStart(7), f0(f.benchCpuPct).padStart(9), f0(f.otherCpuPct).padStart(6)];
  const head = [String(r.listeners).padStart(9), String(r.attempt).padStart(3)];
  const poc = [...head, 'poc-server'.padStart(9), ...streamColumns(r), f2(r.toServerLossPct).padStart(8), f2(r.fromServerLossPct).padStart(11), ...cpu(r), r.joinS.toFixed(1).padStart(6), r.clean ? ' yes' : ' NO'].join(' ');
  if (!r.reference) return poc;
  const ref = [...head, 'bare-relay'.padStart(9), ...streamColumns(r.reference), '-'.padStart(8), '-'.padStart(11), ...cpu(r.reference), '-'.padStart(6), r.reference.clean ? ' yes' : ' NO'].join(' ');
  return `${ref}\n${poc}`;
}

export function formatGroupSize(r: GroupSizeBenchResult): string {
  const est = r.serverCoreAtListeners !== null ? `; the server would fill a core at about ${r.serverCoreAtListeners} listeners (extrapolated from its CPU in the largest clean run)` : '';
  const last = [...r.runs].reverse().find((x) => x.clean && x.reference);
  const vs = last?.reference ? `; at ${last.listeners} listeners gap deviation p99 ${f2(last.gapDeviation.p99)} ms vs the bare relay's ${f2(last.reference.gapDeviation.p99)} ms, delay p50 ${f2(last.delay.p50)} vs ${f2(last.reference.delay.p50)} ms` : '';
  return `poc group (e2e, ${r.cores} cores, load before ${r.loadBefore.toFixed(2)}): largest group replicated cleanly (no loss, gap deviation p99 < ${MAX_GAP_P99_MS} ms): ${r.maxCleanListeners} listeners ` +
    `(goal >= 100: ${r.maxCleanListeners >= 100 ? 'met' : 'NOT MET'}); limited by ${r.limitedBy}: ${r.limitNote}${vs}${est}`;
}

// `tsx services/poc/bench/poc-bench.ts [floor|group] [requests|maxListeners] [seconds]` prints the figures (POC_BENCH_GROUP=ops: the floor figure in the e2m2e group).
if (import.meta.url === `file://${process.argv[1]}`) {
  const stop = (sig: string) => {
    killPocServers();
    process.stderr.write(`poc-bench: ${sig}, PoC servers stopped\n`);
    process.exit(130);
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  const what = process.argv[2] ?? 'all';
  const num = (i: number) => (process.argv[i] !== undefined ? Number(process.argv[i]) : undefined);
  try {
    if (what === 'floor' || what === 'all') {
      const group = (process.env.POC_BENCH_GROUP ?? 'team') as FloorGroup;
      if (!(group in FLOOR_GROUPS)) throw new Error(`POC_BENCH_GROUP must be one of ${Object.keys(FLOOR_GROUPS).join(', ')}`);
      console.log(formatFloorGrant(await runFloorGrantBench({ group, requests: what === 'floor' ? num(3) : undefined, onProgress: (l) => console.log(l) })));
    }
    if (what === 'group' || what === 'all') {
      const max = what === 'group' ? num(3) : undefined;
      console.log(formatGroupRunHeader());
      const r = await runGroupSizeBench({
        sizes: max !== undefined ? DEFAULT_SIZES.filter((n) => n < max).concat(max) : undefined,
        seconds: what === 'group' ? num(4) : undefined,
        onRun: (x) => console.log(formatGroupRun(x)),
      });
      console.log(formatGroupSize(r));
    }
  } catch (e) {
    killPocServers();
    console.error(`poc-bench: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  }
}
