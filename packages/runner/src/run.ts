import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyse, type Analysis } from '@imslab/analysis';
import { mergeCaptures } from '@imslab/capture';
import { loadSubscribers, planNetwork, REPO_ROOT, type NetworkPlan, type SubscriberFile } from '@imslab/topology';
import { queryAgws, type AgwStreamReport } from './agw-evidence.ts';
import { checkCall, type CallOutcome, type KmsAuditEntry } from './expect.ts';
import { mediaToAfter, storeAndForwardEvidence, voicemailStoreAtRest } from './playback-evidence.ts';
import type { Scenario } from './scenario.ts';
import { makeContext, runSteps, snapshotCalls } from './steps.ts';
import type { Target } from './targets/target.ts';
import type { UeCallStatus } from './ue-client.ts';

export interface ScenarioResult {
  scenario: string;
  clause: string;
  title: string;
  dir: string;
  /** Set when the scenario could not run to the end (an element failed, a step failed). */
  error: string | null;
  calls: CallOutcome[];
  pass: boolean;
  durationMs: number;
}

export const DEFAULT_SUBSCRIBERS = join(REPO_ROOT, 'config', 'subscribers.yaml');

export function newRunDir(root = join(REPO_ROOT, 'runs')): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(root, stamp);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Maps addresses to elements so the analyser can name the middle of a path. */
export function addressOwner(plan: NetworkPlan) {
  const map = new Map<string, { name: string; kind: string }>();
  for (const e of plan.elements) for (const a of Object.values(e.addresses)) if (a) map.set(a, { name: e.partOf ?? e.name, kind: e.kind });
  return (address: string) => map.get(address);
}

/**
 * Runs one scenario on its own freshly started network: up, capture, drive
 * the steps, stop, collect, analyse, compare. The network always comes down,
 * whatever failed.
 */
export async function runScenario(target: Target, scenario: Scenario, runDir: string, subs: SubscriberFile, progress: (l: string) => void): Promise<ScenarioResult> {
  const started = Date.now();
  const dir = join(runDir, scenario.name);
  mkdirSync(dir, { recursive: true });
  const n = scenario.network;
  const plan = planNetwork(subs, target.name, { policy: n.policy, forwarding: n.forwarding, servers: n.servers, transcode: n.transcode, relay: n.relay, attacks: n.attacks, voicemail: n.voicemail, conferences: n.conferences });
  let error: string | null = null;
  let ueCalls: Record<string, UeCallStatus[]> = {};
  let captures: Record<string, string> = {};
  const ctxRef: { ctx?: ReturnType<typeof makeContext> } = {};
  const agwReports: Record<string, AgwStreamReport[]> = {};
  try {
    progress(`${scenario.name}: starting the network (${target.name})`);
    await target.up(plan, { dir, ueExtra: scenario.network.ues, progress });
    await target.startCaptures(dir);
    progress(`${scenario.name}: capturing ${plan.links.map((l) => l.name).join(', ')}`);
    ctxRef.ctx = makeContext(plan, (n) => target.controlUrl(n), progress);
    ctxRef.ctx.restart = (element) => target.restart(element);
    ctxRef.ctx.onMediaFlowing = async (c) => {
      agwReports[c.alias] = await queryAgws(plan, c.callId);
    };
    await runSteps(ctxRef.ctx, scenario);
  } catch (e) {
    error = (e as Error).message;
    progress(`${scenario.name}: ${error}`);
  } finally {
    if (ctxRef.ctx) ueCalls = await snapshotCalls(ctxRef.ctx);
    try {
      captures = (await target.stopCaptures()).files;
      await target.collect(dir);
    } catch (e) {
      error ??= `collecting evidence failed: ${(e as Error).message}`;
    }
    await target.down();
  }
  writeFileSync(join(dir, 'ue-calls.json'), JSON.stringify(ueCalls, null, 2));
  writeFileSync(join(dir, 'agw-streams.json'), JSON.stringify(agwReports, null, 2));
  const calls = [...(ctxRef.ctx?.calls.values() ?? [])];
  let analysis: Analysis | null = null;
  if (Object.keys(captures).length > 0) {
    progress(`${scenario.name}: analysing captures`);
    const keyDir = join(dir, 'keys');
    const keyLogs = safeList(keyDir).filter((f) => f.endsWith('.srtp-keys.jsonl')).map((f) => join(keyDir, f));
    const tlsKeyLogs = safeList(keyDir).filter((f) => f.endsWith('.tls-keys.log')).map((f) => join(keyDir, f));
    analysis = await analyse({
      captures, keyLogs, tlsKeyLogs, owner: addressOwner(plan),
      calls: calls.map((c) => ({ alias: c.alias, callId: c.callId, ...(scenario.expect[c.alias]?.judge ? { directions: [scenario.expect[c.alias]!.judge!] } : {}) })),
      // Element logs and stores; the UEs' key logs are where keys belong, so they are not scanned.
      stores: { dirs: [join(dir, 'logs')], base: dir },
    });
    await mergeCaptures(Object.entries(captures).map(([name, path]) => ({ name, path })), join(dir, 'all-links.pcapng'));
    writeFileSync(join(dir, 'analysis.json'), JSON.stringify(analysis, null, 2));
  }
  const kmsAudit = readJsonLines<KmsAuditEntry>(join(dir, 'logs', 'kms-audit.jsonl'));
  const vm = plan.elements.find((e) => e.kind === 'voicemail');
  const storeAndForward = vm && 'address' in vm && captures.core ? await storeAndForwardEvidence(captures.core, vm.name, vm.address) : null;
  const storeAtRest = vm ? voicemailStoreAtRest(dir, analysis?.stores ?? []) : null;
  if (storeAndForward) writeFileSync(join(dir, 'store-and-forward.json'), JSON.stringify(storeAndForward, null, 2));
  const afterLeave: Record<string, { packets: number; links: string[] }> = {};
  for (const [alias, exp] of Object.entries(scenario.expect)) {
    const c = calls.find((x) => x.alias === alias);
    const u = c && plan.elements.find((e) => e.name === c.from);
    if (!exp.noMediaAfterHangup || !c?.hungUpAt || !u || !('address' in u)) continue;
    // Until the same UE starts another call (a member rejoining), whose media is legitimately sent to it.
    const next = (ueCalls[c.from] ?? []).map((s) => Date.parse(s.startedAt ?? '')).filter((t) => t > c.hungUpAt!).sort((a, b) => a - b)[0];
    afterLeave[alias] = await mediaToAfter(captures, u.address, (c.hungUpAt + 200) * 1000, next !== undefined ? next * 1000 : Infinity);
  }
  const outcomes = Object.entries(scenario.expect).map(([alias, exp]) =>
    checkCall(alias, exp, calls.find((c) => c.alias === alias), analysis, ueCalls, kmsAudit, { calls: ctxRef.ctx?.calls, storeAndForward, storeAtRest, afterLeave: afterLeave[alias] }));
  const result: ScenarioResult = {
    scenario: scenario.name, clause: scenario.clause, title: scenario.title, dir, error,
    calls: outcomes, pass: error === null && outcomes.every((o) => o.pass), durationMs: Date.now() - started,
  };
  writeFileSync(join(dir, 'verdict.json'), JSON.stringify(result, null, 2));
  return result;
}

function readJsonLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).flatMap((l) => {
    try {
      return [JSON.parse(l) as T];
    } catch {
      return [];
    }
  });
}

function safeList(dir: string): string[] {
  try { return readdirSync(dir); } catch { return []; }
}

export async function runScenarios(target: Target, scenarios: Scenario[], opts: { subscribers?: string; runsRoot?: string; progress: (l: string) => void }): Promise<{ runDir: string; results: ScenarioResult[] }> {
  const subs = loadSubscribers(opts.subscribers ?? DEFAULT_SUBSCRIBERS);
  await target.checkPrerequisites();
  const runDir = newRunDir(opts.runsRoot);
  const results: ScenarioResult[] = [];
  for (const s of scenarios) results.push(await runScenario(target, s, runDir, subs, opts.progress));
  writeFileSync(join(runDir, 'summary.json'), JSON.stringify(results, null, 2));
  return { runDir, results };
}
