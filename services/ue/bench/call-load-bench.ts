/**
 * Concurrent protected calls through the P-CSCFs and the IMS-AGWs (issue 13,
 * point 4), every call's media verified from the captures, not a sample.
 *
 * The local network runs a subscriber file made for the bench: `pairs`
 * callers `la-<i>` on access-a and callees `lb-<i>` on access-b, every UE
 * e2aeCapable, e2ae allowed at both P-CSCFs. Several calls per UE
 * (`callsPerUe`, default 40; a UE's media range holds 1000 calls).
 *
 * One network for every step, captures per step. A step of N calls: captures
 * on, N calls placed (caller i mod pairs -> callee i mod pairs, at most
 * `placeConcurrency` POST /call in flight), wait until every call is answered
 * or failed, hold `holdS` seconds with the probe both ways, hang up, captures
 * off, then `analyse` with every answered call. Counted per step:
 * - lost calls: placed but not confirmed, or no longer confirmed at the end of the hold;
 * - per call the verdict from the packets (every call must be `e2ae`, or
 *   `e2e` for sdes-e2e) and the probe received at both ends;
 * - receivers' rxAuthFailed / rxReplayed / rxMalformed (the UEs' counters);
 * - tcpdump's dropped packets: a capture that lost packets cannot vouch for the calls;
 * - set-up rate: calls confirmed per second, first INVITE to last 200, from the
 *   callers' own timestamps; set-up time p50/p95 per call;
 * - CPU seconds and peak memory per element over the step (element-usage.ts).
 * The first step with any of these wrong is where it degrades.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyse } from '@imslab/analysis';
import { imsAgw } from '@imslab/ims-agw/element';
import { addressOwner, elementsOf, planNetwork } from '@imslab/network';
import { LocalTarget, UeClient, acquireSlot, captureLosses, newRunDir } from '@imslab/runner';
import { loadSubscribers } from '@imslab/topology';
import type { CallStatus } from '@imslab/ue/contract';
import { ElementUsage, type UsageFigures } from '../../pcscf/bench/element-usage.ts';
import { UE_MEDIA_PORTS } from '../element.ts';

export type LoadSecurity = 'e2ae' | 'sdes-e2e';
const EXPECTED_VERDICT: Record<LoadSecurity, string> = { e2ae: 'e2ae', 'sdes-e2e': 'e2e' };
const CORE_ELEMENTS = ['pcscf-a', 'pcscf-b', 'scscf', 'ims-agw-a', 'ims-agw-b'];

export interface CallStep {
  security: LoadSecurity;
  size: number;
  placed: number;
  confirmed: number;
  /** Placed but not confirmed, or confirmed and gone before the hang-up. */
  lost: number;
  /** Why calls were lost, by reason. */
  lostReasons: Record<string, number>;
  setupPerS: number;
  setupP50Ms: number;
  setupP95Ms: number;
  /** Calls whose verdict from the packets was the expected one and whose probe arrived at both ends. */
  verified: number;
  /** Verdicts other than the expected one, by verdict (a call the analysis did not report counts as `unreported`). */
  otherVerdicts: Record<string, number>;
  /** Calls whose probe one end never received (the UE's rxMarkerPackets). */
  noProbe: number;
  rxAuthFailed: number;
  rxReplayed: number;
  rxMalformed: number;
  /** tcpdump's packets dropped per link. */
  captureLoss: Record<string, number>;
  problems: string[];
  packets: number;
  analysisS: number;
  /** Captures on to captures off: what the CPU seconds were spent in. */
  wallS: number;
  usage: UsageFigures;
  /** What went wrong (empty: every call verified). */
  degraded: string[];
}

export interface CallLoadBench {
  security: LoadSecurity;
  pairs: number;
  callsPerUe: number;
  upS: number;
  /**
   * Calls an IMS-AGW can hold at once: rtpengine keeps a port pool per
   * interface and an e2ae or relayed call takes an RTP+RTCP pair on each of
   * its two interfaces, so half its port range (measured: 100 ports, 50 sessions).
   */
  agwSessionLimit: number;
  steps: CallStep[];
  /** Largest step with nothing wrong, and the first with something wrong. */
  maxClean: number | null;
  firstDegraded: CallStep | null;
  runDir: string;
}

export interface CallLoadOptions {
  sizes?: number[];
  security?: LoadSecurity;
  holdS?: number;
  callsPerUe?: number;
  placeConcurrency?: number;
  /** Stop after the first degraded step (default true: bigger steps only degrade further). */
  stopWhenDegraded?: boolean;
  onStep?: (s: CallStep) => void;
  /** Where the network's directory goes (default: a new run directory under runs/). */
  runDir?: string;
  /** Delete the step captures once analysed (default: keep them beside analysis.json). */
  dropCaptures?: boolean;
  /** Loopback slot to try first (acquireSlot; a test picks one no other test uses). */
  slot?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : NaN);
const bump = (m: Record<string, number>, k: string, n = 1) => { m[k] = (m[k] ?? 0) + n; };

/** Runs `fn(i)` for i < n with at most `limit` at once. */
async function pool(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, n) }, async () => {
    while (next < n) await fn(next++);
  }));
}

/** The bench's subscriber file: callers on access-a, callees on access-b, one device each. */
export function callSubscriberFile(pairs: number): string {
  if (pairs < 1 || pairs > 150) throw new Error('pairs: 1..150 (device hosts 100-249)');
  const lines = ['domain: ims.test', 'policy: { pcscf-a: { e2ae: allow }, pcscf-b: { e2ae: allow } }', 'subscribers:'];
  for (let i = 1; i <= pairs; i++) {
    for (const [side, network] of [['a', 'access-a'], ['b', 'access-b']] as const) {
      lines.push(`  - { user: l${side}-${i}, password: l${side}-${i}-testbed-pw, network: ${network}, devices: [{ name: l${side}-${i}, host: ${99 + i} }] }`);
    }
  }
  return lines.join('\n') + '\n';
}


export async function runCallLoadBench(opts: CallLoadOptions = {}): Promise<CallLoadBench> {
  const security = opts.security ?? 'e2ae';
  const sizes = opts.sizes ?? [50, 100, 200, 500];
  const holdS = opts.holdS ?? 5;
  const perUe = opts.callsPerUe ?? 40;
  const portsPerUe = (UE_MEDIA_PORTS.portMax - UE_MEDIA_PORTS.portMin) / 2 + 1;
  if (perUe > portsPerUe) throw new Error(`callsPerUe ${perUe}: a UE has ${portsPerUe} RTP ports (UE_MEDIA_PORTS)`);
  const pairs = Math.ceil(Math.max(...sizes) / perUe);
  const runDir = opts.runDir ?? join(newRunDir(), `bench-call-load-${security}`);
  const callers = Array.from({ length: pairs }, (_, i) => `la-${i + 1}`);
  const callees = Array.from({ length: pairs }, (_, i) => `lb-${i + 1}`);
  const ueNames = [...callers, ...callees];
  const lease = acquireSlot(opts.slot ?? 0);
  const tmp = mkdtempSync(join(tmpdir(), 'imslab-call-load-'));
  const target = new LocalTarget();
  const steps: CallStep[] = [];
  let upS = 0;
  let agwSessionLimit = 0;
  try {
    writeFileSync(join(tmp, 'subscribers.yaml'), callSubscriberFile(pairs));
    const plan = planNetwork(loadSubscribers(join(tmp, 'subscribers.yaml')), 'local', { ues: Object.fromEntries(ueNames.map((n) => [n, { e2aeCapable: true }])) }, lease.slot);
    const t0 = performance.now();
    await target.up(plan, { dir: runDir });
    upS = (performance.now() - t0) / 1000;
    const ue = new Map(ueNames.map((n) => [n, new UeClient(n, target.controlUrl(n))]));
    await pool(ueNames.length, 8, async (i) => {
      const r = await ue.get(ueNames[i]!)!.register();
      if (!r.registered) throw new Error(`${ueNames[i]} did not register`);
    });
    const owner = addressOwner(plan);
    agwSessionLimit = Math.min(...elementsOf(plan, imsAgw).map((agw) => Math.floor((agw.portMax - agw.portMin + 1) / 2)));
    for (const size of sizes) {
      const step = await runStep({ size, security, holdS, pairs, callers, callees, ue, runDir, owner, target, placeConcurrency: opts.placeConcurrency ?? 16, dropCaptures: opts.dropCaptures ?? false });
      steps.push(step);
      opts.onStep?.(step);
      if (step.degraded.length && (opts.stopWhenDegraded ?? true)) break;
    }
  } finally {
    await target.down();
    lease.release();
    rmSync(tmp, { recursive: true, force: true });
  }
  const clean = steps.filter((s) => s.degraded.length === 0).map((s) => s.size);
  return { security, pairs, callsPerUe: perUe, upS, agwSessionLimit, steps, maxClean: clean.length ? Math.max(...clean) : null, firstDegraded: steps.find((s) => s.degraded.length) ?? null, runDir };
}

interface StepContext {
  size: number;
  security: LoadSecurity;
  holdS: number;
  pairs: number;
  callers: string[];
  callees: string[];
  ue: Map<string, UeClient>;
  runDir: string;
  owner: ReturnType<typeof addressOwner>;
  target: LocalTarget;
  placeConcurrency: number;
  dropCaptures: boolean;
}

/** Every call of these UEs by Call-ID (both ends of a call share it: the P-CSCFs and the S-CSCF are proxies). */
async function statuses(ue: Map<string, UeClient>, names: string[]): Promise<Map<string, CallStatus>> {
  const out = new Map<string, CallStatus>();
  await pool(names.length, 8, async (i) => {
    for (const c of await ue.get(names[i]!)!.calls()) out.set(`${names[i]} ${c.callId}`, c);
  });
  return out;
}

async function runStep(x: StepContext): Promise<CallStep> {
  const dir = join(x.runDir, `${x.security}-${x.size}`);
  await x.target.startCaptures(dir);
  const w0 = performance.now();
  const usage = new ElementUsage(x.runDir, [...CORE_ELEMENTS, ...x.callers, ...x.callees], { tcpdump: `${dir}/` });
  usage.start(1000);
  const calls: Array<{ caller: string; callee: string; callId?: string; failure?: string }> = Array.from({ length: x.size }, (_, i) => ({ caller: x.callers[i % x.pairs]!, callee: x.callees[i % x.pairs]! }));
  const lostReasons: Record<string, number> = {};
  let done = false;
  try {
    await pool(x.size, x.placeConcurrency, async (i) => {
      const c = calls[i]!;
      try {
        c.callId = (await x.ue.get(c.caller)!.call(`sip:${c.callee}@ims.test`, x.security)).callId;
      } catch (e) {
        c.failure = `POST /call: ${(e as Error).message.slice(0, 80)}`;
      }
    });
    // Until every call is answered or failed (Timer B is 32 s: the UE gives up by then).
    const deadline = Date.now() + 40_000;
    let st = new Map<string, CallStatus>();
    for (;;) {
      st = await statuses(x.ue, x.callers);
      const pending = calls.filter((c) => c.callId && ['calling', 'ringing', 'early'].includes(st.get(`${c.caller} ${c.callId}`)?.state ?? 'calling'));
      if (pending.length === 0 || Date.now() > deadline) break;
      await sleep(250);
    }
    const answered = calls.filter((c) => st.get(`${c.caller} ${c.callId}`)?.state === 'confirmed');
    const setup = answered.map((c) => st.get(`${c.caller} ${c.callId}`)!);
    const first = Math.min(...setup.map((s) => Date.parse(s.startedAt)));
    const last = Math.max(...setup.map((s) => Date.parse(s.answeredAt ?? s.startedAt)));
    const times = setup.map((s) => Date.parse(s.answeredAt!) - Date.parse(s.startedAt)).sort((a, b) => a - b);
    await sleep(x.holdS * 1000);
    const held = await statuses(x.ue, x.callers);
    await pool(answered.length, x.placeConcurrency, async (i) => {
      await x.ue.get(answered[i]!.caller)!.hangup(answered[i]!.callId!).catch(() => {});
    });
    // The BYEs cross both P-CSCFs and the last probe packets arrive before the captures stop.
    await sleep(1000);
    done = true;
    const caps = await x.target.stopCaptures();
    const usageFigures = usage.stop();
    const wallS = (performance.now() - w0) / 1000;
    const ends = await statuses(x.ue, [...x.callers, ...x.callees]);
    let confirmedAtEnd = 0;
    for (const c of calls) {
      const s = c.callId ? held.get(`${c.caller} ${c.callId}`) : undefined;
      if (s?.state === 'confirmed') confirmedAtEnd++;
      else bump(lostReasons, c.failure ?? (s ? `${s.state}${s.failure ? `: ${s.failure.status ?? ''} ${s.failure.reason}` : ''}` : 'no status'));
    }
    // Every call answered is judged, even one that dropped during the hold: its packets say what it carried.
    const keyDir = join(x.runDir, 'keys');
    const keys = readdirSync(keyDir);
    const a0 = performance.now();
    const analysis = await analyse({
      captures: caps.files,
      keyLogs: keys.filter((f) => f.endsWith('.srtp-keys.jsonl')).map((f) => join(keyDir, f)),
      tlsKeyLogs: keys.filter((f) => f.endsWith('.tls-keys.log')).map((f) => join(keyDir, f)),
      owner: x.owner,
      calls: answered.map((c, i) => ({ alias: `c${i}`, callId: c.callId! })),
    });
    const analysisS = (performance.now() - a0) / 1000;
    writeFileSync(join(dir, 'analysis.json'), JSON.stringify(analysis));
    const byCallId = new Map(analysis.calls.map((r) => [r.callId, r]));
    const otherVerdicts: Record<string, number> = {};
    let verified = 0;
    let noProbe = 0;
    let rxAuthFailed = 0;
    let rxReplayed = 0;
    let rxMalformed = 0;
    for (const c of answered) {
      const report = byCallId.get(c.callId!);
      const sides = [ends.get(`${c.caller} ${c.callId}`), ends.get(`${c.callee} ${c.callId}`)];
      for (const s of sides) {
        rxAuthFailed += s?.media.rxAuthFailed ?? 0;
        rxReplayed += s?.media.rxReplayed ?? 0;
        rxMalformed += s?.media.rxMalformed ?? 0;
      }
      const probeBothWays = sides.every((s) => (s?.media.rxMarkerPackets ?? 0) > 0);
      if (!probeBothWays) noProbe++;
      const verdict = report?.verdict ?? 'unreported';
      if (verdict !== EXPECTED_VERDICT[x.security]) bump(otherVerdicts, verdict);
      else if (probeBothWays) verified++;
    }
    const loss = captureLosses(dir, Object.keys(caps.files));
    const packets = analysis.links.reduce((n, l) => n + l.media.reduce((m, f) => m + f.packets, 0), 0);
    const lost = x.size - confirmedAtEnd;
    const degraded = [
      ...(lost ? [`${lost} lost call(s)`] : []),
      ...(verified < x.size ? [`${x.size - verified} call(s) not verified`] : []),
      ...(rxAuthFailed ? [`${rxAuthFailed} authentication failure(s) at the receivers`] : []),
      ...(rxReplayed ? [`${rxReplayed} replayed packet(s) at the receivers`] : []),
      ...(Object.keys(loss).length ? [`capture lost packets (${Object.entries(loss).map(([l, n]) => `${l} ${n}`).join(', ')})`] : []),
      // As in a scenario run: a problem the analysis reports (a key log it could not read, a link it could not scan) leaves calls unvouched for.
      ...(analysis.problems.length ? [`the analysis reported ${analysis.problems.length} problem(s)`] : []),
    ];
    if (x.dropCaptures) for (const f of Object.values(caps.files)) rmSync(f, { force: true });
    return {
      security: x.security, size: x.size, placed: calls.filter((c) => c.callId).length, confirmed: answered.length, lost, lostReasons,
      setupPerS: answered.length > 1 ? answered.length / Math.max(0.001, (last - first) / 1000) : NaN,
      setupP50Ms: pct(times, 0.5), setupP95Ms: pct(times, 0.95),
      verified, otherVerdicts, noProbe, rxAuthFailed, rxReplayed, rxMalformed, captureLoss: loss,
      problems: analysis.problems, packets, analysisS, wallS, usage: usageFigures, degraded,
    };
  } finally {
    // A step that failed part-way still ends its calls and its captures (the network comes down in the caller).
    if (!done) {
      await pool(calls.length, x.placeConcurrency, async (i) => {
        const c = calls[i]!;
        if (c.callId) await x.ue.get(c.caller)!.hangup(c.callId).catch(() => {});
      }).catch(() => {});
      await x.target.stopCaptures().catch(() => {});
      usage.stop();
    }
  }
}

/** Per element: CPU seconds (and % of one core over `wallS`) / peak MiB; the UEs summed (and the busiest one). */
export function formatUsage(u: UsageFigures, wallS: number): string {
  const cpu = (s: number) => `${s.toFixed(1)} s (${Math.round((100 * s) / wallS)} %)`;
  const one = (n: string) => `${n} ${cpu(u.cpuS[n] ?? 0)}/${(u.peakMiB[n] ?? 0).toFixed(0)} MiB`;
  const ues = Object.keys(u.cpuS).filter((n) => /^l[ab]-\d+$/.test(n));
  const ueCpu = ues.reduce((s, n) => s + u.cpuS[n]!, 0);
  const ueMem = ues.reduce((s, n) => s + (u.peakMiB[n] ?? 0), 0);
  const busiest = ues.sort((a, b) => u.cpuS[b]! - u.cpuS[a]!)[0];
  return [...CORE_ELEMENTS.map(one), `${ues.length} UEs ${cpu(ueCpu)}/${ueMem.toFixed(0)} MiB (busiest ${busiest ? one(busiest) : '-'})`, one('tcpdump')].join(', ');
}

export function formatCallStep(s: CallStep): string {
  const other = Object.entries(s.otherVerdicts).map(([v, n]) => `${v} ${n}`).join(', ');
  const lost = Object.entries(s.lostReasons).map(([r, n]) => `${r} ${n}`).join('; ');
  return [
    `  ${s.security} ${s.size} calls: ${s.confirmed}/${s.size} confirmed, ${s.lost} lost${lost ? ` (${lost})` : ''}; set-up ${s.setupPerS.toFixed(1)} calls/s, p50 ${s.setupP50Ms} ms, p95 ${s.setupP95Ms} ms;`,
    `verified ${s.verified}/${s.size}${other ? ` (other verdicts: ${other})` : ''}${s.noProbe ? `, ${s.noProbe} without the probe at one end` : ''}; receivers: ${s.rxAuthFailed} auth failed, ${s.rxReplayed} replayed, ${s.rxMalformed} malformed;`,
    `capture loss ${Object.keys(s.captureLoss).length ? JSON.stringify(s.captureLoss) : 'none'}; ${s.packets} media packets analysed in ${s.analysisS.toFixed(1)} s${s.problems.length ? `; ${s.problems.length} problem(s): ${s.problems.slice(0, 2).join(' | ').slice(0, 300)}` : ''}`,
    `\n    CPU s (% of a core over ${s.wallS.toFixed(1)} s)/peak memory: ${formatUsage(s.usage, s.wallS)}`,
    s.degraded.length ? `\n    DEGRADED: ${s.degraded.join('; ')}` : '',
  ].join(' ');
}

/** `steps: false`: only the heading and the conclusion (the steps were printed as they ended). */
export function formatCallLoadBench(r: CallLoadBench, opts: { steps?: boolean } = {}): string {
  const verdict = (r.maxClean ?? 0) >= 500 ? 'met' : r.steps.some((s) => s.size >= 500) ? 'NOT MET' : 'not tried in this run';
  const goal = r.security === 'e2ae' ? `; goal >= 500 concurrent e2ae calls clean: ${verdict}` : '';
  return [
    `call load ${r.security} (${r.pairs} caller and ${r.pairs} callee UEs, up to ${r.callsPerUe} calls each; an IMS-AGW's port range holds ${r.agwSessionLimit} calls; network up in ${r.upS.toFixed(1)} s):`,
    ...(opts.steps === false ? [] : r.steps.map(formatCallStep)),
    `  largest clean step: ${r.maxClean ?? 'none'}${r.firstDegraded ? `; degrades at ${r.firstDegraded.size}: ${r.firstDegraded.degraded.join('; ')}` : '; no step degraded'}${goal}`,
  ].join('\n');
}
