import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  REPO_ROOT, controlUrlOf, ensurePki, needsCertificate, readinessOf, renderElement,
  type ElementPlan, type NetworkPlan, type ElementPaths,
} from '@imslab/topology';
import { ElementError } from '../errors.ts';
import { requirePrograms, requireRoot } from '../prerequisites.ts';
import { requireFreePorts } from '../ports.ts';
import { httpHealthy, ngPingOk, sipOptionsOk, waitUntil } from '../probes.ts';
import { Supervisor, type Supervised } from '../supervisor.ts';
import { TcpdumpCapture } from '../tcpdump.ts';
import { ensureServiceBundle } from '../bundle.ts';
import { pkiEntitiesBothTargets } from '@imslab/topology';
import { ensureKmsSecrets, serviceOf, startStages, uesOf, type KmsSecrets } from '@imslab/topology';
import { clearState, writeState } from '../state.ts';
import type { CaptureSet, Target, UpOptions } from './target.ts';

/** Start stages: each waits for the previous one to be healthy. */
// Kamailio probes its rtpengine at start-up (and disables it for a while if
// absent), so the IMS-AGWs come first; UEs do not register until told to,
// so they start alongside the CSCFs.
const READY_TIMEOUT_MS = 20_000;

export const PKI_DIR = join(REPO_ROOT, '.imslab', 'pki');


/** Readiness probe per element, from its kind's declaration (topology/kinds.ts). */
export function probeFor(e: ElementPlan): () => Promise<boolean> {
  const r = readinessOf(e);
  switch (r.type) {
    case 'http': return () => httpHealthy(r.url);
    case 'sip-options': return () => sipOptionsOk(r.address, r.port);
    case 'ng-ping': return () => ngPingOk(r.address, r.port);
  }
}

/**
 * The local target: every element a child process bound to its own loopback
 * address; captures with tcpdump on `lo`, one per link, filtered by the
 * link's /24.
 */
export class LocalTarget implements Target {
  readonly name = 'local' as const;
  private supervisor: Supervisor | null = null;
  private procs = new Map<string, Supervised>();
  private plan: NetworkPlan | null = null;
  private dir = '';
  private captures: TcpdumpCapture[] = [];
  private stateId = `local-${process.pid}`;
  private readonly bundles = new Map<string, string>();
  private kmsSecrets: KmsSecrets | undefined;

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

  async up(plan: NetworkPlan, opts: UpOptions): Promise<void> {
    await this.checkPrerequisites();
    await requireFreePorts(plan.elements);
    this.plan = plan;
    this.dir = opts.dir;
    mkdirSync(this.dir, { recursive: true });
    // Certificates name the element's addresses on both targets, so one PKI serves both.
    const pki = ensurePki(PKI_DIR, pkiEntitiesBothTargets(plan));
    this.kmsSecrets = ensureKmsSecrets(PKI_DIR, uesOf(plan).map((u) => u.name));
    for (const e of plan.elements) {
      const service = serviceOf(e);
      if (service && !this.bundles.has(service)) this.bundles.set(service, await ensureServiceBundle(service));
    }
    this.supervisor = new Supervisor();
    const keysDir = join(this.dir, 'keys');
    mkdirSync(keysDir, { recursive: true });
    for (const elements of startStages(plan)) {
      this.restartWith = { pkiDir: pki.dir, keysDir, opts };
      for (const e of elements) this.startElement(e, pki.dir, keysDir, opts);
      this.saveState();
      await Promise.all(elements.map((e) => this.waitHealthy(e)));
      opts.progress?.(`  healthy: ${elements.map((e) => e.name).join(', ')}`);
    }
  }

  /** What startElement needs again to restart an element. */
  private restartWith: { pkiDir: string; keysDir: string; opts: UpOptions } | undefined;

  async restart(element: string): Promise<void> {
    const e = this.plan?.elements.find((x) => x.name === element);
    const p = this.procs.get(element);
    if (!e || !p || !this.restartWith || !this.supervisor) throw new ElementError(element, 'no such element on the running network');
    await this.supervisor.stop(p);
    const { pkiDir, keysDir, opts } = this.restartWith;
    this.startElement(e, pkiDir, keysDir, opts);
    this.saveState();
    await this.waitHealthy(e);
  }

  private startElement(e: ElementPlan, pkiDir: string, keysDir: string, opts: UpOptions): void {
    const configDir = join(this.dir, 'config', e.name);
    mkdirSync(configDir, { recursive: true });
    const paths: ElementPaths = {
      configDir, pkiDir, runDir: e.kind === 'ue' ? keysDir : join(this.dir, 'logs'),
      kmsSecrets: this.kmsSecrets,
      nodeCommand: [process.execPath, '--enable-source-maps'],
      serviceEntry: (s) => this.bundles.get(s) ?? join(REPO_ROOT, 'services', s, 'src', 'main.ts'),
    };
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
    const r = renderElement(e, paths, opts.ueExtra);
    for (const [file, content] of Object.entries(r.files)) writeFileSync(join(configDir, file), content);
    const log = join(this.dir, 'logs', `${e.name}.log`);
    this.procs.set(e.name, this.supervisor!.start(e.name, r.command, log, process.env, REPO_ROOT));
  }

  private async waitHealthy(e: ElementPlan): Promise<void> {
    const p = this.procs.get(e.name)!;
    const outcome = await waitUntil(probeFor(e), {
      timeoutMs: READY_TIMEOUT_MS,
      dead: () => (p.hasExited() ? 'exited' : null),
    });
    if (outcome === 'ready') return;
    throw new ElementError(e.name, outcome === 'timeout' ? `not healthy after ${READY_TIMEOUT_MS} ms` : 'exited during start-up', p.logFile);
  }

  private saveState(): void {
    const pgids = [...this.procs.values()].map((p) => p.child.pid).filter((x): x is number => x !== undefined);
    writeState(this.stateId, { target: 'local', runDir: this.dir, pgids });
  }

  async startCaptures(dir: string): Promise<void> {
    if (!this.plan) throw new Error('startCaptures before up');
    mkdirSync(dir, { recursive: true });
    this.captures = this.plan.links.map((l) => new TcpdumpCapture(
      l.name, join(dir, `${l.name}.pcap`),
      // Only packets with both ends on the link: that is what crosses it.
      // --immediate-mode: with TPACKET_V3 a short capture can otherwise sit in a
      // partly filled ring block and be lost when tcpdump is interrupted.
      ['tcpdump', '-i', 'lo', '-n', '-s', '0', '--immediate-mode', '-U', '-w', join(dir, `${l.name}.pcap`), `src net ${l.subnet} and dst net ${l.subnet}`],
      join(dir, `capture-${l.name}.log`),
    ));
    const started = Promise.all(this.captures.map((c) => c.start()));
    // Ctrl-C during a capture must stop tcpdump as well as the elements.
    for (const c of this.captures) if (c.process) this.procs.set(`capture-${c.link}`, this.supervisor!.adopt(`capture-${c.link}`, c.process, c.file));
    this.saveState();
    await started;
  }

  async stopCaptures(): Promise<CaptureSet> {
    await Promise.all(this.captures.map((c) => c.stop()));
    const files = Object.fromEntries(this.captures.map((c) => [c.link, c.file]));
    this.captures = [];
    return { files };
  }

  async collect(dir: string): Promise<void> {
    // Logs and key logs are written in place under the network's directory.
    if (dir === this.dir) return;
    for (const sub of ['logs', 'keys']) {
      const from = join(this.dir, sub);
      if (!existsSync(from)) continue;
      mkdirSync(join(dir, sub), { recursive: true });
      for (const f of readdirSync(from)) copyFileSync(join(from, f), join(dir, sub, f));
    }
  }

  async down(): Promise<void> {
    await Promise.all(this.captures.map((c) => c.stop()));
    this.captures = [];
    await this.supervisor?.stopAll();
    this.supervisor?.dispose();
    this.supervisor = null;
    this.procs.clear();
    clearState(this.stateId);
  }
}
