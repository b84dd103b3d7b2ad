import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  controlUrlOf, kindOf, leavesOf, listensOf, pkiEntities, readinessOf, renderElement, startStages, deviceNames,
  type ElementPlan,
} from '@imslab/network';
import { REPO_ROOT, ensureKmsSecrets, ensurePki, type ElementPaths, type KmsSecrets, type NetworkPlan, type PlannedElement } from '@imslab/topology';
import { ensureBundleSync, ensureServiceBundle } from '../bundle.ts';
import { downLocal } from '../down.ts';
import type { FaultAction, FaultOptions } from '../faults.ts';
import { blockPorts, cutChainName, cutOff, removeCut } from './local-cut.ts';
import { ElementError } from '../errors.ts';
import { requirePrograms, requireRoot } from '../prerequisites.ts';
import { requireFreePorts } from '../ports.ts';
import { httpHealthy, ngPingOk, sipOptionsOk, waitUntil } from '../probes.ts';
import { startReaper, type Reaper } from '../reaper.ts';
import { holdSlot, type SlotLease } from '../slot-lease.ts';
import { clearState, writeState } from '../state.ts';
import { Supervisor, type Supervised } from '../supervisor.ts';
import { LOOPBACK_TAP, linkCaptures, stopAll, type TcpdumpCapture } from '../tcpdump.ts';
import type { CaptureSet, Target, UpOptions } from './target.ts';

const READY_TIMEOUT_MS = 20_000;

export const PKI_DIR = join(REPO_ROOT, '.imslab', 'pki');

/**
 * How our services start: through cached-start.ts (V8's code cache: compiling
 * a bundle was most of an element's start-up) and without source maps (Node
 * parses a bundle's whole map at start when they are on). The bundles keep
 * their function names and their map beside them
 * (`.imslab/build/<service>.cjs.map`); IMSLAB_SOURCE_MAPS=1 starts them
 * directly with source maps on; IMSLAB_CPU_PROF=<dir> has each write a CPU
 * profile into <dir>.
 */
function nodeCommand(): string[] {
  if (process.env.IMSLAB_SOURCE_MAPS === '1') return [process.execPath, '--enable-source-maps'];
  // IMSLAB_CPU_PROF=<dir>: every service writes a V8 CPU profile there at its exit (where a run's CPU goes; open in Chrome DevTools).
  const profile = process.env.IMSLAB_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.IMSLAB_CPU_PROF}`] : [];
  return [process.execPath, ...profile, ensureBundleSync(fileURLToPath(new URL('../launcher/cached-start.ts', import.meta.url)), 'cached-start')];
}

/** Readiness probe per element, from its kind's declaration. */
export function probeFor(e: PlannedElement): () => Promise<boolean> {
  const r = readinessOf(e);
  switch (r.type) {
    case 'http': return () => httpHealthy(r.url);
    case 'sip-options': return () => sipOptionsOk(r.address, r.port);
    case 'ng-ping': return () => ngPingOk(r.address, r.port);
  }
}

let networks = 0;

/**
 * The local target: every element a child process bound to its own loopback
 * address (slot k of the plan: 127.k.x.y, so several networks run side by
 * side); captures with tcpdump on `lo`, one per link.
 */
export class LocalTarget implements Target {
  readonly name = 'local' as const;
  private supervisor: Supervisor | null = null;
  private procs = new Map<string, Supervised>();
  private plan: NetworkPlan<ElementPlan> | null = null;
  private dir = '';
  private captures: TcpdumpCapture[] = [];
  private stateId = '';
  private reaper: Reaper | null = null;
  /** The slot's lease when up() took it (not when a runner leased it for the plan). */
  private slotLease: SlotLease | null = null;
  private died: string[] = [];
  private kmsSecrets: KmsSecrets | undefined;
  private pkiDir = PKI_DIR;
  private readonly bundles = new Map<string, string>();
  private nodeCommand: string[] | undefined;
  private attachable: UpOptions['attachable'];
  /** Faults in place: frozen process groups, and the iptables chain cutting elements off. */
  private readonly frozen = new Set<Supervised>();
  private cutChain: string | undefined;

  async checkPrerequisites(): Promise<void> {
    requireRoot('the local target');
    requirePrograms(['kamailio', 'rtpengine', 'tcpdump']);
  }

  controlUrl(element: string): string {
    const e = this.plan?.elements.find((x) => x.name === element);
    const url = e ? controlUrlOf(e) : null;
    if (!url) throw new ElementError(element, 'no control API on the running network');
    return url;
  }

  crashed(): string[] {
    return [...this.died];
  }

  async up(plan: NetworkPlan<ElementPlan>, opts: UpOptions): Promise<void> {
    await this.checkPrerequisites();
    // What a crashed run left behind must not make this one fail: its runner is dead, so it goes.
    const cleaned = downLocal({ all: false });
    if (cleaned.length) opts.progress?.(`  stopped what an earlier, crashed run left: ${cleaned.join('; ')}`);
    this.slotLease = holdSlot(plan.slot);
    try {
      await requireFreePorts(plan.elements.flatMap(listensOf));
    } catch (e) {
      this.slotLease?.release();
      this.slotLease = null;
      throw e;
    }
    this.plan = plan;
    this.dir = opts.dir;
    this.attachable = opts.attachable;
    this.stateId = `local-${process.pid}-${plan.slot}-${++networks}`;
    this.died = [];
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
    mkdirSync(join(this.dir, 'keys'), { recursive: true });
    this.pkiDir = ensurePki(PKI_DIR, pkiEntities(plan)).dir;
    this.kmsSecrets = ensureKmsSecrets(PKI_DIR, deviceNames(plan));
    for (const e of plan.elements) {
      const image = kindOf(e.kind).image;
      if ('node' in image && !this.bundles.has(image.node.service)) this.bundles.set(image.node.service, await ensureServiceBundle(image.node.service));
    }
    this.supervisor = new Supervisor((name, how) => {
      this.died.push(`${name} exited (${how})`);
      opts.progress?.(`  ${name} exited on its own (${how})`);
    });
    this.reaper = startReaper(this.stateId);
    for (const elements of startStages(plan)) {
      for (const e of elements) this.startElement(e);
      await this.supervisor.started();
      this.saveState();
      await Promise.all(elements.map((e) => this.waitHealthy(e)));
      opts.progress?.(`  healthy: ${elements.map((e) => e.name).join(', ')}`);
    }
  }

  async fault(element: string, action: FaultAction, opts: FaultOptions = {}): Promise<void> {
    const e = this.plan?.elements.find((x) => x.name === element);
    const p = this.procs.get(element);
    if (!e || !p || !this.supervisor) throw new ElementError(element, `no such element on the running network; elements: ${[...this.procs.keys()].filter((n) => !n.startsWith('capture-')).join(', ')}`);
    if (action === 'kill') {
      await this.supervisor.kill(p);
      this.procs.delete(element);
    } else if (action === 'freeze') {
      this.supervisor.signal(p, 'SIGSTOP');
      this.frozen.add(p);
    } else {
      requirePrograms(['iptables']);
      const control = controlUrlOf(e);
      const keep = control ? [{ address: new URL(control).hostname, port: Number(new URL(control).port) }] : [];
      this.cutChain ??= cutChainName(this.stateId);
      this.saveState();
      const addresses = [...new Set(Object.values(e.addresses))].filter((a): a is string => !!a);
      if (opts.ports?.length) blockPorts(this.cutChain, addresses, opts.ports);
      else cutOff(this.cutChain, addresses, keep);
    }
  }

  async restart(element: string): Promise<void> {
    const e = this.plan?.elements.find((x) => x.name === element);
    const p = this.procs.get(element);
    if (!e || !this.supervisor) throw new ElementError(element, `no such element on the running network; elements: ${[...this.procs.keys()].join(', ')}`);
    // A fault step may have killed it already: then it only starts again.
    if (p) {
      this.frozen.delete(p);
      this.supervisor.signal(p, 'SIGCONT');
      await this.supervisor.stop(p);
    }
    this.startElement(e);
    await this.supervisor.started();
    this.saveState();
    await this.waitHealthy(e);
  }

  private paths(e: PlannedElement): ElementPaths {
    return {
      configDir: join(this.dir, 'config', e.name),
      pkiDir: this.pkiDir,
      runDir: join(this.dir, leavesOf(e)),
      kmsSecrets: this.kmsSecrets!,
      nodeCommand: this.nodeCommand ??= nodeCommand(),
      serviceEntry: (s) => this.bundles.get(s) ?? join(REPO_ROOT, 'services', s, 'src', 'main.ts'),
    };
  }

  private startElement(e: ElementPlan): void {
    const paths = this.paths(e);
    mkdirSync(paths.configDir, { recursive: true });
    const r = renderElement(e, paths);
    for (const [file, content] of Object.entries(r.files)) writeFileSync(join(paths.configDir, file), content);
    const log = join(this.dir, 'logs', `${e.name}.log`);
    this.procs.set(e.name, this.supervisor!.start(e.name, r.command, log, process.env, REPO_ROOT));
  }

  private async waitHealthy(e: PlannedElement): Promise<void> {
    const p = this.procs.get(e.name)!;
    const outcome = await waitUntil(probeFor(e), {
      timeoutMs: READY_TIMEOUT_MS,
      dead: () => (p.hasExited() ? 'exited' : null),
    });
    if (outcome === 'ready') return;
    throw new ElementError(e.name, outcome === 'timeout' ? `not healthy after ${READY_TIMEOUT_MS} ms` : 'exited during start-up', p.logFile);
  }

  private saveState(): void {
    writeState(this.stateId, {
      target: 'local', dir: this.dir, runnerPid: process.pid, pgids: this.supervisor?.pgids() ?? [],
      ...(this.cutChain ? { cutChain: this.cutChain } : {}),
      ...(this.attachable && this.plan ? { attachable: { slot: this.plan.slot, ...this.attachable } } : {}),
    });
  }

  async startCaptures(dir: string): Promise<void> {
    if (!this.plan || !this.supervisor) throw new Error('startCaptures before up');
    if (this.captures.length > 0) throw new Error('captures are running already: stopCaptures() first');
    mkdirSync(dir, { recursive: true });
    this.captures = linkCaptures(this.plan.links, dir, LOOPBACK_TAP);
    const started = Promise.all(this.captures.map((c) => c.start()));
    // Awaited below; until then a capture that fails must not count as an unhandled rejection.
    started.catch(() => {});
    // Ctrl-C and a crash must stop tcpdump as well as the elements.
    for (const c of this.captures) if (c.process) this.procs.set(`capture-${c.link}`, this.supervisor.adopt(`capture-${c.link}`, c.process));
    await this.supervisor.started();
    this.saveState();
    await started;
  }

  async stopCaptures(): Promise<CaptureSet> {
    for (const c of this.captures) {
      const p = this.procs.get(`capture-${c.link}`);
      if (p) this.supervisor?.release(p);
      this.procs.delete(`capture-${c.link}`);
    }
    const set = await stopAll(this.captures);
    this.captures = [];
    return set;
  }

  async collect(dir: string): Promise<void> {
    // Logs and key logs are written in place under the network's directory.
    if (dir !== this.dir) throw new Error(`the local target keeps its evidence in ${this.dir}; collect(${dir}) is not supported`);
  }

  async down(): Promise<void> {
    // Undo faults first: a frozen group cannot act on SIGTERM, and a cut element could not say goodbye.
    for (const p of this.frozen) this.supervisor?.signal(p, 'SIGCONT');
    this.frozen.clear();
    if (this.cutChain) removeCut(this.cutChain);
    this.cutChain = undefined;
    if (this.captures.length) await this.stopCaptures();
    const stopsFirst = new Set(this.plan?.elements.filter((e) => kindOf(e.kind).stopsFirst).map((e) => e.name));
    await this.supervisor?.stopAll(3000, (name) => stopsFirst.has(name));
    this.supervisor?.dispose();
    this.supervisor = null;
    this.procs.clear();
    if (this.stateId) clearState(this.stateId);
    this.reaper?.release();
    this.reaper = null;
    this.slotLease?.release();
    this.slotLease = null;
  }
}
