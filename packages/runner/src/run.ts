import { appendFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { analyse, type Analysis } from '@imslab/analysis';
import type { ProbeDirection } from '@imslab/probe';
import { captureLosses } from './tcpdump.ts';
import { writeEvidenceCaptures } from './evidence-captures.ts';
import { analyseScenarioMessages } from './message-evidence.ts';
import { acquireSlot } from './slot-lease.ts';
import { withoutIdleUes } from './idle-ues.ts';
import { reportLine } from './report-page.ts';
import type { RecordedElement, RecordedNetwork } from '@imslab/run-format';
import { addressOwner, controllable, kindOf, planNetwork, type ElementPlan } from '@imslab/network';
import { REPO_ROOT, loadSubscribers, type AfterRunContext, type EvidenceName, type EvidenceTypes, type NetworkPlan, type SubscriberFile } from '@imslab/topology';
import type { CallStatus } from '@imslab/ue/contract';
import type { CallRecord } from './checks/index.ts';
import { ElementError, PrerequisiteError, StepError } from './errors.ts';
import { checkCall, sortProblems, type CallOutcome } from './expect.ts';
import { RunSession, newRunDir, type RunError, type ScenarioResult } from './run-session.ts';
import type { Scenario } from './scenario.ts';
import { makeContext, runSteps, snapshotCalls, type StepContext } from './steps.ts';
import type { Target } from './targets/target.ts';

export const DEFAULT_SUBSCRIBERS = join(REPO_ROOT, 'config', 'subscribers.yaml');

export interface RunOptions {
  /** Subscriber file (default config/subscribers.yaml). */
  subscribers?: string;
  /** Where run directories go (default runs/). */
  runsRoot?: string;
  /** Scenarios side by side, each on its own network (local target: its own loopback slot). Default 1. */
  jobs?: number;
  /** Progress lines (what each step did); each scenario also keeps them in its run.log. */
  progress?: (line: string) => void;
  /** Called as each scenario ends, with its place in the run. */
  onResult?: (r: ScenarioResult, done: number, total: number) => void;
  /** A session made by the caller (the CLI, which aborts it on Ctrl-C). */
  session?: RunSession;
}

type Evidence = Partial<{ [N in EvidenceName]: EvidenceTypes[N] }>;

function classify(e: unknown): RunError {
  const err = e as Error;
  const infra = err instanceof ElementError || err instanceof PrerequisiteError || err.name === 'TopologyError' || err.name === 'FileError';
  return { kind: infra ? 'infrastructure' : 'step', message: err.message };
}

function writeJson(dir: string, file: string, data: unknown): void {
  writeFileSync(join(dir, file), JSON.stringify(data, null, 2) + '\n');
}

function safeList(dir: string): string[] {
  try { return readdirSync(dir); } catch { return []; }
}

/**
 * Runs one scenario on its own freshly started network: up, capture, drive
 * the steps, stop, collect, analyse, compare. The network always comes down,
 * whatever failed; an element that died on its own makes the result an
 * infrastructure error, whatever the verdicts say.
 */
export async function runScenario(target: Target, scenario: Scenario, session: RunSession, subs: SubscriberFile, opts: { slot?: number; progress?: (l: string) => void } = {}): Promise<ScenarioResult> {
  const started = Date.now();
  const dir = join(session.dir, scenario.name);
  mkdirSync(dir, { recursive: true });
  const progress = (line: string) => {
    appendFileSync(join(dir, 'run.log'), `${new Date().toISOString()} ${line}\n`);
    opts.progress?.(`${scenario.name}: ${line.trimStart()}`);
  };
  let error: RunError | null = null;
  let ueCalls: Record<string, CallStatus[]> = {};
  let captures: Record<string, string> = {};
  let ctx: StepContext | undefined;
  let plan: NetworkPlan<ElementPlan> | undefined;
  const evidence: Evidence = {};
  session.using(target);
  try {
    plan = withoutIdleUes(planNetwork(subs, target.name, scenario.network, opts.slot ?? 0), scenario);
    writeJson(dir, 'network.json', recordNetwork(plan));
    progress(`starting the network (${target.name}${plan.slot ? `, slot ${plan.slot}` : ''})`);
    await target.up(plan, { dir, progress });
    await target.startCaptures(dir);
    progress(`capturing ${plan.links.map((l) => l.name).join(', ')}`);
    ctx = makeContext(controllable(plan).filter((e) => e.kind === 'ue').map((e) => ({ name: e.name, url: target.controlUrl(e.name) })), progress);
    // An element and its parts (the transcoder and its media relay) are one network function: they fail and restart as one.
    const withParts = (element: string) => [element, ...plan!.elements.filter((e) => e.partOf === element).map((e) => e.name)];
    ctx.restart = async (element) => {
      for (const e of withParts(element)) await target.restart(e);
    };
    ctx.fault = async (element, action, opts) => {
      for (const e of withParts(element)) await target.fault(e, action, opts);
    };
    ctx.controlUrl = (element) => target.controlUrl(element);
    ctx.addressOf = (element) => {
      const e = plan!.elements.find((x) => x.name === element);
      const a = e ? Object.values(e.addresses).find(Boolean) : undefined;
      if (!a) throw new StepError(`no element "${element}" with an address on this network`);
      return a;
    };
    ctx.captureDir = dir;
    ctx.aborted = () => session.aborted !== null;
    const p = plan;
    ctx.onMediaFlowing = async (c) => {
      for (const e of p.elements) {
        const hook = kindOf(e.kind).evidence?.duringCall;
        if (!hook) continue;
        const byCall = ((evidence as Record<string, Record<string, unknown[]>>)[hook.name] ??= {});
        byCall[c.alias] = [...(byCall[c.alias] ?? []), ...(await hook.collect(e, c.callId))];
      }
    };
    await runSteps(ctx, scenario.steps);
  } catch (e) {
    error = classify(e);
    progress(error.message);
  } finally {
    if (ctx) ueCalls = await snapshotCalls(ctx);
    try {
      captures = (await target.stopCaptures()).files;
      await target.collect(dir);
    } catch (e) {
      error ??= { kind: 'infrastructure', message: `collecting evidence failed: ${(e as Error).message}` };
    }
    const crashed = target.crashed();
    await target.down().catch((e: Error) => { error ??= { kind: 'infrastructure', message: `taking the network down failed: ${e.message}` }; });
    session.done(target);
    // An element that died while the scenario ran is the testbed failing, whatever the steps saw.
    if (crashed.length) error = { kind: 'infrastructure', message: `${crashed.join('; ')} while the scenario ran (see logs/)` };
  }
  if (session.aborted) error = { kind: 'aborted', message: session.aborted };
  writeJson(dir, 'ue-calls.json', ueCalls);
  const calls = new Map<string, CallRecord>([...(ctx?.calls ?? new Map<string, CallRecord>())]);
  let analysis: Analysis | null = null;
  let outcomes: CallOutcome[] = [];
  if (plan && !session.aborted && Object.keys(captures).length > 0) {
    progress('analysing captures');
    const judge = Object.fromEntries(Object.entries(scenario.expect).filter(([, e]) => e.judge).map(([a, e]) => [a, e.judge!]));
    analysis = await analyseCaptures(dir, plan, captures, [...calls.values()], judge);
    const storeFindings = analysis.stores;
    const after: AfterRunContext = { dir, captures, storeFindings };
    for (const e of plan.elements) {
      for (const hook of kindOf(e.kind).evidence?.afterRun ?? []) {
        try {
          (evidence as Record<string, unknown>)[hook.name] = await hook.collect(e, after);
        } catch (err) {
          progress(`evidence ${hook.name} of ${e.name} could not be collected: ${(err as Error).message}`);
        }
      }
    }
    for (const [name, data] of Object.entries(evidence)) writeJson(dir, `${name}.json`, data);
    const messages = await analyseScenarioMessages(dir, plan, captures, [...calls.values()]);
    if (messages) {
      writeJson(dir, 'messages.json', messages);
      analysis.problems.push(...messages.problems.map((p) => `messages: ${p}`));
    }
    const base = {
      calls, analysis, ueCalls, captures, plan, dir, keyDir: join(dir, 'keys'), messages,
      evidence: <N extends EvidenceName>(name: N) => evidence[name] as EvidenceTypes[N] | undefined,
    };
    for (const [alias, exp] of Object.entries(scenario.expect)) outcomes.push(await checkCall(alias, exp, base));
  } else {
    outcomes = Object.entries(scenario.expect).map(([alias, exp]) => ({
      alias, callId: calls.get(alias)?.callId ?? null, expected: exp.verdict, observed: 'no-call', pass: false,
      mismatches: [error ? `not judged: ${error.message}` : 'no evidence: no capture was made'], evidence: [], conditions: [],
    }));
  }
  const problems = sortProblems(analysis?.problems ?? [], scenario.problems);
  const pass = error === null && outcomes.every((o) => o.pass) && problems.unexpected.length === 0;
  const result: ScenarioResult = {
    scenario: scenario.name, clause: scenario.clause, title: scenario.title, dir: scenario.name,
    status: error ? 'error' : pass ? 'pass' : 'fail', error, calls: outcomes,
    ...(problems.expected.length + problems.unexpected.length > 0 ? { problems } : {}),
    pass, durationMs: Date.now() - started,
  };
  writeJson(dir, 'verdict.json', result);
  return result;
}

/**
 * Analyses a network's captures with the key logs it left (`<dir>/keys`, or
 * `keyDir`) and the stores and logs it left (`<dir>/logs`), merges the
 * captures into one pcapng, and writes analysis.json. `judge` names the
 * directions to judge of calls that are not judged both ways (a deposit; a
 * call with a UA of one's own, whose direction carries no probe).
 */
export async function analyseCaptures(dir: string, plan: NetworkPlan<ElementPlan>, captures: Record<string, string>, calls: CallRecord[], judge: Record<string, ProbeDirection | readonly ProbeDirection[]>, keyDir = join(dir, 'keys')): Promise<Analysis> {
  const keys = safeList(keyDir);
  const analysis = await analyse({
    captures,
    keyLogs: keys.filter((f) => f.endsWith('.srtp-keys.jsonl')).map((f) => join(keyDir, f)),
    tlsKeyLogs: keys.filter((f) => f.endsWith('.tls-keys.log')).map((f) => join(keyDir, f)),
    owner: addressOwner(plan),
    calls: calls.map((c) => {
      const j = judge[c.alias];
      return { alias: c.alias, callId: c.callId, ...(c.media ? { media: c.media } : {}), ...(j ? { directions: typeof j === 'string' ? [j] : [...j] } : {}) };
    }),
    // Element logs and stores; the UEs' key logs are where keys belong, so they are not scanned.
    stores: { dirs: [join(dir, 'logs')], base: dir },
  });
  for (const [link, lost] of Object.entries(captureLosses(dir, Object.keys(captures)))) {
    analysis.problems.push(`the capture of ${link} lost ${lost} packet(s) (tcpdump: dropped by the kernel, see capture-${link}.log): what was in them cannot be judged; run the scenario again on a less busy machine`);
  }
  analysis.problems.push(...await writeEvidenceCaptures(dir, captures, keys.map((f) => join(keyDir, f)), analysis));
  writeJson(dir, 'analysis.json', analysis);
  return analysis;
}

/**
 * Scenarios side by side when --jobs is not given: two per core, at most 8
 * (the loopback slots). A scenario spends much of its time waiting (media
 * counted, fault windows), so two per core keep the cores busy: 111 scenarios
 * on 2 cores took 145 s with 3, 125 s with 4 (85 % busy), 113 s with 5
 * (2026-12-04, every verdict as expected in each).
 */
export const DEFAULT_JOBS = Math.min(8, Math.max(1, 2 * availableParallelism()));

/**
 * Runs scenarios, each on a network of its own, `jobs` at a time (each
 * worker on its own target, on the local target its own loopback slot).
 * Results come back in the order asked; the summary is written after each.
 */
export async function runScenarios(makeTarget: () => Promise<Target>, scenarios: Scenario[], opts: RunOptions = {}): Promise<{ session: RunSession; results: ScenarioResult[]; report: string }> {
  const subs = loadSubscribers(opts.subscribers ?? DEFAULT_SUBSCRIBERS, REPO_ROOT);
  const first = await makeTarget();
  await first.checkPrerequisites();
  const session = opts.session ?? new RunSession(newRunDir(opts.runsRoot), first.name, scenarios.map((s) => s.name));
  const jobs = first.name === 'docker' ? 1 : Math.max(1, Math.min(opts.jobs ?? 1, scenarios.length));
  const results: ScenarioResult[] = new Array(scenarios.length);
  let next = 0;
  let done = 0;
  const worker = async (index: number, target: Target) => {
    // Local networks run on loopback slots leased machine-wide (another run may hold some); docker networks are the engine's.
    const lease = target.name === 'local' ? acquireSlot(index) : null;
    try {
      while (next < scenarios.length && !session.aborted) {
        const i = next++;
        const s = scenarios[i]!;
        const r = s.targets.includes(target.name as 'local' | 'docker')
          ? await runScenario(target, s, session, subs, { slot: lease?.slot ?? index, progress: opts.progress })
          : skippedResult(s, `runs on ${s.targets.join(', ')} only (the scenario file says why)`);
        results[i] = r;
        session.record(r);
        opts.onResult?.(r, ++done, scenarios.length);
      }
    } finally {
      lease?.release();
    }
  };
  const targets = [first, ...(await Promise.all(Array.from({ length: jobs - 1 }, () => makeTarget())))];
  await Promise.all(targets.map((t, slot) => worker(slot, t)));
  session.finish();
  return { session, results: results.filter((r) => r !== undefined), report: await reportLine(session.dir) };
}

/** The result of a scenario that does not run here. */
export function skippedResult(s: Scenario, why: string): ScenarioResult {
  return { scenario: s.name, clause: s.clause, title: s.title, dir: s.name, status: 'skipped', skipped: why, error: null, calls: [], pass: false, durationMs: 0 };
}

/** What the report draws: names, kinds and addresses (the plan itself holds passwords and keys). */
function recordNetwork(plan: NetworkPlan<ElementPlan>): RecordedNetwork {
  const pick = ({ name, kind, partOf, addresses }: { name: string; kind: string; partOf?: string; addresses: RecordedElement['addresses'] }, external?: true): RecordedElement =>
    ({ name, kind, ...(partOf ? { partOf } : {}), addresses, ...(external ? { external } : {}) });
  return { target: plan.target, slot: plan.slot, elements: [...plan.elements.map((e) => pick(e)), ...plan.external.map((e) => pick(e, true))] };
}
