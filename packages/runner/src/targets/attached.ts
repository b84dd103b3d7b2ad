import { cpSync, existsSync, mkdirSync, openSync, readSync, closeSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  COMPOSE_DIR, COMPOSE_RUN, CONTAINER_PATHS, CONTAINER_RUN_DIR, LABEL, LABEL_ELEMENT, LABEL_RUN, ON_DEMAND_KINDS,
  containerName, controlUrlOf, leavesOf, planNetwork, renderElement, uesOf, volumesOf, type ElementPlan,
} from '@imslab/network';
import { REPO_ROOT, loadSubscribers, type ElementPaths, type KmsSecrets, type NetworkPlan, type PlannedElement, type TargetName } from '@imslab/topology';
import { ElementError, PrerequisiteError } from '../errors.ts';
import { waitUntil } from '../probes.ts';
import { reportLine } from '../report-page.ts';
import { RunSession, newRunDir, type ScenarioResult } from '../run-session.ts';
import { DEFAULT_SUBSCRIBERS, runScenario, skippedResult, type RunOptions } from '../run.ts';
import type { Scenario } from '../scenario.ts';
import { pidAlive, readStates } from '../state.ts';
import { BRIDGE_TAP, LOOPBACK_TAP, linkCaptures, stopAll, type TcpdumpCapture } from '../tcpdump.ts';
import { UeClient } from '../ue-client.ts';
import { collectLogs, copyOut } from './docker-collect.ts';
import { connectDocker, engineMessage } from './docker-engine.ts';
import { probeFor } from './local.ts';
import type { CaptureSet, Target, UpOptions } from './target.ts';

/**
 * A network that is already up (`docker compose up`, or `imslab up` in
 * another terminal): scenarios run against it without starting or stopping
 * any element. A scenario fits when the network it asks for renders to the
 * same configuration as the running one for every element; one that needs
 * a network of its own (a P-CSCF attack, another policy, a server that is
 * not up) is skipped with the reason.
 */
interface Running {
  target: TargetName;
  plan: NetworkPlan<ElementPlan>;
  /** The elements actually up (compose starts on-demand kinds only with their profile). */
  up: Set<string>;
  /** Where each element's run directory (key logs, audit logs) and log are on the host. */
  runDir(e: PlannedElement): string;
  logFile?(e: PlannedElement): string;
  subscribers: string;
}

/** Finds the running network: a compose-started one, else an `imslab up` of a live runner. */
async function findRunning(subscribers: string): Promise<Running> {
  const docker = connectDocker();
  try {
    const containers = await docker.listContainers({ filters: { label: [`${LABEL}=1`, `${LABEL_RUN}=${COMPOSE_RUN}`] } });
    if (containers.length > 0) {
      const plan = planNetwork(loadSubscribers(subscribers, REPO_ROOT), 'docker', { servers: [...ON_DEMAND_KINDS] });
      return {
        target: 'docker', plan, subscribers,
        up: new Set(containers.map((c) => c.Labels[LABEL_ELEMENT]).filter((x): x is string => !!x)),
        runDir: (e) => join(REPO_ROOT, COMPOSE_DIR, e.name, 'run'),
      };
    }
  } catch {
    // No engine: no compose network; look for a local one.
  }
  const local = readStates().find((s) => s.state.attachable && pidAlive(s.state.runnerPid));
  if (local?.state.attachable) {
    const a = local.state.attachable;
    const plan = planNetwork(loadSubscribers(a.subscribers, REPO_ROOT), 'local', { servers: a.servers }, a.slot);
    return {
      target: 'local', plan, subscribers: a.subscribers, up: new Set(plan.elements.map((e) => e.name)),
      runDir: (e) => join(local.state.dir, leavesOf(e)),
      logFile: (e) => join(local.state.dir, 'logs', `${e.name}.log`),
    };
  }
  throw new PrerequisiteError('--attach: no network is up: start one with `docker compose up -d` (after `imslab compose`) or `imslab up`');
}

/** Paths that make renders comparable: the same for both plans, never written anywhere. */
const COMPARE_PATHS: ElementPaths = { ...CONTAINER_PATHS, kmsSecrets: { masterKey: '00'.repeat(32), devices: new Proxy({}, { get: () => '00'.repeat(32) }) as KmsSecrets['devices'] } };

/** Why a scenario does not fit the running network, or null when it does. */
export function misfit(scenario: Scenario, running: Running): string | null {
  if (!scenario.targets.includes(running.target)) return `runs on ${scenario.targets.join(', ')} only (the scenario file says why)`;
  const servers = new Set<string>(running.plan.elements.map((e) => e.kind));
  const missing = (scenario.network.servers ?? []).filter((s) => !servers.has(s));
  if (missing.length) return `needs ${missing.join(', ')}, which this network does not have`;
  // A server that is up changes what a scenario without it shows (a KMS that should be unreachable).
  const wanted = new Set(scenario.network.servers ?? []);
  const extra = [...new Set(running.plan.elements.filter((e) => running.up.has(e.name) && !e.partOf && (ON_DEMAND_KINDS as readonly string[]).includes(e.kind) && !wanted.has(e.kind)).map((e) => e.kind))];
  if (extra.length) return `needs a network without ${extra.join(', ')}${running.target === 'docker' ? ` (docker compose stop ${extra.join(' ')})` : ''}`;
  let mine: NetworkPlan<ElementPlan>;
  try {
    mine = planNetwork(loadSubscribers(running.subscribers, REPO_ROOT), running.plan.target, { ...scenario.network, servers: [...new Set(running.plan.elements.map((e) => e.kind))].filter((k) => (ON_DEMAND_KINDS as readonly string[]).includes(k)) }, running.plan.slot);
  } catch (e) {
    return (e as Error).message;
  }
  const differ = mine.elements.filter((e) => {
    const other = running.plan.elements.find((x) => x.name === e.name);
    return !other || JSON.stringify(renderElement(e, COMPARE_PATHS)) !== JSON.stringify(renderElement(other, COMPARE_PATHS));
  }).map((e) => e.name);
  if (differ.length) {
    const keys = Object.keys(scenario.network).filter((k) => k !== 'servers');
    return `needs a network of its own (${differ.join(', ')} configured differently${keys.length ? ` by network.${keys.join(', network.')}` : ''})`;
  }
  const scenarioElements = planNetwork(loadSubscribers(running.subscribers, REPO_ROOT), running.plan.target, scenario.network, running.plan.slot).elements;
  const down = scenarioElements.filter((e) => !running.up.has(e.name)).map((e) => e.name);
  if (down.length) {
    // Compose profiles are named after the on-demand kind (a part comes with its whole).
    const kinds = new Set(scenarioElements.filter((e) => !running.up.has(e.name)).map((e) => scenarioElements.find((x) => x.name === e.partOf)?.kind ?? e.kind));
    return `needs ${down.join(', ')}, not up${running.target === 'docker' ? ` (docker compose ${[...kinds].map((k) => `--profile ${k}`).join(' ')} up -d)` : ' (imslab up --servers ...)'}`;
  }
  return null;
}

/** Bytes of a file already there when the scenario started: what it appends is the scenario's. */
function sizeOf(file: string): number {
  try { return statSync(file).size; } catch { return 0; }
}

function copyTail(from: string, to: string, offset: number): void {
  const size = sizeOf(from);
  if (size <= offset) return writeFileSync(to, '');
  const buf = Buffer.alloc(size - offset);
  const fd = openSync(from, 'r');
  try { readSync(fd, buf, 0, buf.length, offset); } finally { closeSync(fd); }
  writeFileSync(to, buf);
}

class AttachedTarget implements Target {
  readonly name: TargetName;
  private captures: TcpdumpCapture[] = [];
  private offsets = new Map<string, number>();
  private since = 0;
  private readonly docker = connectDocker();

  constructor(private readonly running: Running) {
    this.name = running.target;
  }

  async checkPrerequisites(): Promise<void> {}

  controlUrl(element: string): string {
    const e = this.running.plan.elements.find((x) => x.name === element);
    const url = e ? controlUrlOf(e) : null;
    if (!url) throw new ElementError(element, 'no control API on the running network');
    return url;
  }

  crashed(): string[] {
    return [];
  }

  /**
   * Nothing is started: every element the scenario uses must answer its
   * readiness probe. Each scenario starts from what a fresh network has: no
   * UE registered (an earlier scenario's registrations would make the S-CSCF
   * fork to devices this one never registered), no call up.
   */
  async up(plan: NetworkPlan<ElementPlan>, _opts: UpOptions): Promise<void> {
    for (const e of plan.elements) {
      const ok = await waitUntil(probeFor(e), { timeoutMs: 5000, intervalMs: 200 });
      if (ok !== 'ready') throw new ElementError(e.name, 'the running network\'s element does not answer its readiness probe');
    }
    await Promise.all(uesOf(plan).map(async (u) => {
      const ue = new UeClient(u.name, this.controlUrl(u.name));
      for (const c of await ue.calls()) if (c.state !== 'terminated' && c.state !== 'failed') await ue.hangup(c.callId).catch(() => {});
      await ue.unregister().catch(() => {});
    }));
    this.since = Math.floor(Date.now() / 1000);
    for (const e of this.running.plan.elements) {
      const dir = this.running.runDir(e);
      for (const f of safeList(dir)) this.offsets.set(join(dir, f), sizeOf(join(dir, f)));
      if (this.running.logFile) this.offsets.set(this.running.logFile(e), sizeOf(this.running.logFile(e)));
    }
  }

  async startCaptures(dir: string): Promise<void> {
    this.captures = linkCaptures(this.running.plan.links, dir, this.running.target === 'local' ? LOOPBACK_TAP : BRIDGE_TAP);
    await Promise.all(this.captures.map((c) => c.start()));
  }

  async stopCaptures(): Promise<CaptureSet> {
    const set = await stopAll(this.captures);
    this.captures = [];
    return set;
  }

  /** What the elements logged and appended since the scenario started; stores as they are. */
  async collect(dir: string): Promise<void> {
    for (const sub of ['keys', 'logs']) mkdirSync(join(dir, sub), { recursive: true });
    if (this.running.target === 'docker') await collectLogs(this.docker, COMPOSE_RUN, dir, this.since);
    for (const e of this.running.plan.elements.filter((x) => this.running.up.has(x.name))) {
      const from = this.running.runDir(e);
      const into = join(dir, leavesOf(e));
      for (const f of safeList(from)) {
        const src = join(from, f);
        if (statSync(src).isDirectory()) cpSync(src, join(into, f), { recursive: true });
        else copyTail(src, join(into, f), this.offsets.get(src) ?? 0);
      }
      if (this.running.logFile && existsSync(this.running.logFile(e))) copyTail(this.running.logFile(e), join(dir, 'logs', `${e.name}.log`), this.offsets.get(this.running.logFile(e)) ?? 0);
      if (this.running.target === 'docker') {
        for (const v of volumesOf(e)) await copyOut(this.docker, e.name, `${CONTAINER_RUN_DIR}/${v.path}`, into).catch(() => {});
      }
    }
  }

  async fault(element: string): Promise<void> {
    // A shared network outlives this run: a fault here would break it for everyone attached.
    throw new ElementError(element, 'cannot inflict a fault on a network imslab up keeps for others: run the scenario on a network of its own');
  }

  async restart(element: string): Promise<void> {
    if (this.running.target !== 'docker') throw new ElementError(element, 'cannot restart an element of a network another imslab process runs (imslab up): use a network of its own');
    const e = this.running.plan.elements.find((x) => x.name === element);
    if (!e) throw new ElementError(element, 'no such element on the running network');
    await this.docker.getContainer(containerName(element)).restart({ t: 3 }).catch((err: unknown) => {
      throw new ElementError(element, `container did not restart: ${engineMessage(err)}`);
    });
    const ok = await waitUntil(probeFor(e), { timeoutMs: 30_000, intervalMs: 100 });
    if (ok !== 'ready') throw new ElementError(element, 'not healthy after its restart');
  }

  /** The network stays up; only the captures stop. */
  async down(): Promise<void> {
    await stopAll(this.captures);
    this.captures = [];
  }
}

function safeList(dir: string): string[] {
  try { return readdirSync(dir); } catch { return []; }
}

/** `imslab run --attach`: every scenario that fits the running network, one after the other; the others skipped. */
export async function attachedRun(scenarios: Scenario[], opts: RunOptions): Promise<{ session: RunSession; results: ScenarioResult[]; report: string }> {
  const running = await findRunning(opts.subscribers ?? DEFAULT_SUBSCRIBERS);
  const session = opts.session ?? new RunSession(newRunDir(opts.runsRoot), 'attached', scenarios.map((s) => s.name));
  const target = new AttachedTarget(running);
  const subs = loadSubscribers(running.subscribers, REPO_ROOT);
  const results: ScenarioResult[] = [];
  for (const [i, s] of scenarios.entries()) {
    if (session.aborted) break;
    const why = misfit(s, running);
    const r: ScenarioResult = why
      ? skippedResult(s, why)
      : await runScenario(target, s, session, subs, { slot: running.plan.slot, progress: opts.progress });
    results.push(r);
    session.record(r);
    opts.onResult?.(r, i + 1, scenarios.length);
  }
  session.finish();
  return { session, results, report: await reportLine(session.dir) };
}

