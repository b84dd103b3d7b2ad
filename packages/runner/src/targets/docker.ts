import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type Docker from 'dockerode';
import {
  REPO_ROOT, controlUrlOf, ensureKmsSecrets, ensurePki, startStages, uesOf,
  type ElementKind, type ElementPlan, type KmsSecrets, type LinkPlan, type NetworkPlan, type PkiFiles,
} from '@imslab/topology';
import { ElementError, PrerequisiteError } from '../errors.ts';
import { requirePrograms, requireRoot } from '../prerequisites.ts';
import { waitUntil } from '../probes.ts';
import { TcpdumpCapture } from '../tcpdump.ts';
import { PKI_DIR, probeFor } from './local.ts';
import type { CaptureSet, Target, UpOptions } from './target.ts';
import {
  connectDocker, engineMessage, followDeaths, isDone, removeByLabel, statusOf, withTimeout,
} from './docker-engine.ts';
import {
  BASE_KINDS, CONTAINER_CONFIG_DIR, CONTAINER_RUN_DIR, DOCKER_NETWORKS, LABEL, LABEL_ELEMENT, LABEL_KIND, LABEL_RUN, volumesOf,
  collectedInto, containerName, demuxLogs, endpointsOf, gatewayOf, imageFor, pkiEntitiesBothTargets, renderComposeConfigs, writeElementConfig,
} from './docker-layout.ts';

/**
 * Start stages, as on the local target: each waits for the previous one to be
 * healthy. Kamailio checks its rtpengine once at start-up, so the IMS-AGWs
 * come first; UEs register only when told to, so they start with the CSCFs.
 */
const READY_TIMEOUT_MS = 30_000;
const ENGINE_TIMEOUT_MS = 5_000;

/** Where scripts/build-images.sh stages contexts and leaves its stamps. */
const DOCKER_BUILD_DIR = join(REPO_ROOT, '.imslab', 'docker-build');

const ENGINE_DOWN = 'Docker engine not running: run scripts/docker-engine.sh (installs docker.io and starts dockerd)';

/**
 * The docker target: one container per element on three Docker networks
 * (access-a, core, access-b: 198.18.{1,2,3}.0/24, internal, so nothing leaves
 * the machine), created with dockerode from the images of
 * scripts/build-images.sh. Configuration is rendered per run into
 * `<dir>/config/<element>/` and bind-mounted read-only; each element's run
 * directory (key logs) is `<dir>/run/<element>/` on the host. Readiness is
 * probed from the host over the bridges with the same probes as the local
 * target; captures are tcpdump on each network's host bridge.
 */
export class DockerTarget implements Target {
  readonly name = 'docker' as const;
  private readonly docker: Docker;
  private plan: NetworkPlan | null = null;
  private dir = '';
  private runId = '';
  private captures: TcpdumpCapture[] = [];
  private died = new Map<string, string>();
  private stopFollowing: (() => void) | null = null;
  private signalHandler: ((sig: NodeJS.Signals) => void) | null = null;

  constructor(docker?: Docker) {
    this.docker = docker ?? connectDocker();
  }

  /** Engine reachable, tcpdump present, and the images of `kinds` (default: those every network has) built. */
  async checkPrerequisites(kinds: readonly ElementKind[] = BASE_KINDS): Promise<void> {
    requireRoot('the docker target');
    requirePrograms(['tcpdump']);
    try {
      await withTimeout(this.docker.ping(), ENGINE_TIMEOUT_MS, 'ping');
    } catch {
      throw new PrerequisiteError(ENGINE_DOWN);
    }
    const missing: string[] = [];
    for (const kind of kinds) {
      try {
        await this.docker.getImage(imageFor(kind)).inspect();
      } catch (e) {
        if (statusOf(e) === 404) missing.push(imageFor(kind));
        else throw new PrerequisiteError(`${ENGINE_DOWN} (${engineMessage(e)})`);
      }
    }
    if (missing.length) throw new PrerequisiteError(`images not built (${missing.join(', ')}): run scripts/build-images.sh`);
  }

  controlUrl(element: string): string {
    // The containers' addresses are the plan's: the host reaches them over the bridges.
    const e = this.plan?.elements.find((x) => x.name === element);
    const url = e ? controlUrlOf(e) : null;
    if (!url) throw new ElementError(element, 'no control API on the running network');
    return url;
  }

  async up(plan: NetworkPlan, opts: UpOptions): Promise<void> {
    if (plan.target !== 'docker') throw new Error(`the docker target needs a plan for 'docker', not '${plan.target}'`);
    const progress = opts.progress ?? (() => {});
    const started = Date.now();
    const kinds = [...new Set(plan.elements.map((e) => e.kind))];
    await this.checkPrerequisites(kinds);
    this.warnIfStale(kinds, progress);
    this.plan = plan;
    this.dir = opts.dir;
    this.runId = `${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${process.pid}`;
    this.died.clear();
    this.catchSignals();
    try {
      const left = await removeByLabel(this.docker, `${LABEL}=1`, 1);
      if (left.containers.length || left.networks.length) {
        progress(`  removed what an earlier docker network left: ${[...left.containers, ...left.networks].join(', ')}`);
      }
      for (const sub of ['config', 'run', 'logs', 'keys']) mkdirSync(join(this.dir, sub), { recursive: true });
      const pki = ensurePki(PKI_DIR, pkiEntitiesBothTargets(plan));
      const secrets = ensureKmsSecrets(PKI_DIR, uesOf(plan).map((u) => u.name));
      // What docker-compose.yml mounts: the configuration of the network last brought up.
      renderComposeConfigs(plan, REPO_ROOT, pki, opts.ueExtra, secrets);
      const commands = new Map(plan.elements.map((e) => [e.name, this.render(e, pki, opts.ueExtra, secrets)]));
      await Promise.all(plan.links.map((l) => this.createNetwork(l)));
      this.stopFollowing = await followDeaths(this.docker, `${LABEL_RUN}=${this.runId}`,
        (d) => this.died.set(d.element, d.exitCode), LABEL_ELEMENT);
      const containers = new Map<string, Docker.Container>();
      await Promise.all(plan.elements.map(async (e) => containers.set(e.name, await this.createContainer(e, commands.get(e.name)!))));
      progress(`  created ${plan.links.length} networks and ${plan.elements.length} containers (${Date.now() - started} ms)`);
      for (const elements of startStages(plan)) {
        await Promise.all(elements.map((e) => containers.get(e.name)!.start().catch((err: unknown) => {
          throw new ElementError(e.name, `container did not start: ${engineMessage(err)}`);
        })));
        await Promise.all(elements.map((e) => this.waitHealthy(e)));
        progress(`  healthy: ${elements.map((e) => e.name).join(', ')} (${Date.now() - started} ms)`);
      }
    } catch (e) {
      // Keep the evidence, then leave nothing behind (the caller may call down() again: harmless).
      await this.collectLogs(this.dir).catch(() => {});
      await this.down().catch(() => {});
      throw e;
    } finally {
      this.stopFollowing?.();
      this.stopFollowing = null;
    }
  }

  /** Renders one element's configuration into `<dir>/config/<element>/` and returns its argv. */
  private render(e: ElementPlan, pki: PkiFiles, ueExtra: Record<string, Record<string, unknown>> | undefined, secrets: KmsSecrets): string[] {
    mkdirSync(join(this.dir, 'run', e.name), { recursive: true });
    return writeElementConfig(e, join(this.dir, 'config', e.name), pki, ueExtra, secrets).command;
  }

  private labels(extra: Record<string, string> = {}): Record<string, string> {
    return { [LABEL]: '1', [LABEL_RUN]: this.runId, ...extra };
  }

  private async createNetwork(l: LinkPlan): Promise<void> {
    const n = DOCKER_NETWORKS[l.name];
    try {
      await this.docker.createNetwork({
        Name: n.name,
        Driver: 'bridge',
        CheckDuplicate: true,
        // Internal: no route off the machine; the host still reaches every container over the bridge.
        Internal: true,
        IPAM: { Driver: 'default', Config: [{ Subnet: l.subnet, Gateway: gatewayOf(l.prefix) }] },
        Options: { 'com.docker.network.bridge.name': n.bridge },
        Labels: this.labels({ 'imslab.link': l.name }),
      });
    } catch (e) {
      const msg = engineMessage(e);
      if (/overlap/i.test(msg)) {
        throw new PrerequisiteError(`the subnet ${l.subnet} of ${l.name} is taken by another Docker network (docker network ls; if it is a compose network of imslab: docker compose down, or imslab down --target docker)`);
      }
      throw new Error(`creating network ${n.name} failed: ${msg}`);
    }
  }

  private async createContainer(e: ElementPlan, command: string[]): Promise<Docker.Container> {
    const [first, ...more] = endpointsOf(e);
    if (!first) throw new ElementError(e.name, 'has no address on any network');
    const name = containerName(e.name);
    const volumes = volumesOf(e, this.runId);
    for (const v of volumes) await this.docker.createVolume({ Name: v.name, Labels: this.labels({ [LABEL_ELEMENT]: e.name }) });
    const container = await this.docker.createContainer({
      name,
      Image: imageFor(e.kind),
      Cmd: command,
      Hostname: e.name,
      Labels: this.labels({ [LABEL_ELEMENT]: e.name, [LABEL_KIND]: e.kind }),
      StopTimeout: 3,
      HostConfig: {
        Binds: [
          `${join(this.dir, 'config', e.name)}:${CONTAINER_CONFIG_DIR}:ro`,
          `${join(this.dir, 'run', e.name)}:${CONTAINER_RUN_DIR}`,
        ],
        Mounts: volumes.map((v) => ({ Type: 'volume' as const, Source: v.name, Target: v.target })),
        // tini as PID 1: signals reach the element, zombies are reaped.
        Init: true,
        NetworkMode: first.network,
        RestartPolicy: { Name: 'no' },
      },
      NetworkingConfig: {
        EndpointsConfig: { [first.network]: { IPAMConfig: { IPv4Address: first.address }, Aliases: [e.name] } },
      },
    }).catch((err: unknown) => {
      throw new ElementError(e.name, `container could not be created: ${engineMessage(err)}`);
    });
    // API 1.41 takes one network at creation; the others are connected before start,
    // always with an explicit address and alias (else a random one, and no alias).
    for (const ep of more) {
      await this.docker.getNetwork(ep.network).connect({
        Container: container.id,
        EndpointConfig: { IPAMConfig: { IPv4Address: ep.address }, Aliases: [e.name] },
      });
    }
    return container;
  }

  async restart(element: string): Promise<void> {
    const e = this.plan?.elements.find((x) => x.name === element);
    if (!e) throw new ElementError(element, 'no such element on the running network');
    // The run directory (logs, key logs) is a host directory and the voicemail store a volume: both survive.
    this.died.delete(element);
    await this.docker.getContainer(containerName(e.name)).restart({ t: 3 }).catch((err: unknown) => {
      throw new ElementError(element, `container did not restart: ${engineMessage(err)}`);
    });
    await this.waitHealthy(e);
  }

  private async waitHealthy(e: ElementPlan): Promise<void> {
    const outcome = await waitUntil(probeFor(e), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 100,
      dead: () => {
        const code = this.died.get(e.name);
        return code === undefined ? null : `exited (code ${code}) during start-up`;
      },
    });
    if (outcome === 'ready') return;
    throw new ElementError(e.name, outcome === 'timeout' ? `not healthy after ${READY_TIMEOUT_MS} ms` : outcome, join(this.dir, 'logs', `${e.name}.log`));
  }

  /** A note, not an error: a service's sources changed since scripts/build-images.sh built its image. */
  private warnIfStale(kinds: ElementKind[], progress: (l: string) => void): void {
    for (const kind of kinds) {
      const stamp = join(DOCKER_BUILD_DIR, `${kind}.built`);
      const inputs = join(DOCKER_BUILD_DIR, `${kind}.inputs.json`);
      if (!existsSync(stamp) || !existsSync(inputs)) continue;
      try {
        const meta = JSON.parse(readFileSync(inputs, 'utf8')) as { inputs?: Record<string, unknown> };
        const built = statSync(stamp).mtimeMs;
        const changed = Object.keys(meta.inputs ?? {}).filter((f) => {
          const p = join(REPO_ROOT, f);
          return !existsSync(p) || statSync(p).mtimeMs > built;
        });
        if (changed.length) progress(`  note: ${changed.length} source file(s) of ${imageFor(kind)} changed since it was built (e.g. ${changed[0]}): run scripts/build-images.sh`);
      } catch {
        /* an unreadable metafile only loses the note */
      }
    }
  }

  async startCaptures(dir: string): Promise<void> {
    if (!this.plan) throw new Error('startCaptures before up');
    mkdirSync(dir, { recursive: true });
    this.captures = this.plan.links.map((l) => {
      const file = join(dir, `${l.name}.pcap`);
      return new TcpdumpCapture(
        l.name, file,
        // The network's own bridge on the host sees everything between its containers.
        // Same filter as the local target: packets with both ends on the link.
        // --immediate-mode: without it, packets of the last ~second sit in the kernel's
        // ring buffer block and are lost when tcpdump stops.
        ['tcpdump', '-i', DOCKER_NETWORKS[l.name].bridge, '-n', '-s', '0', '--immediate-mode', '-U', '-w', file, `src net ${l.subnet} and dst net ${l.subnet}`],
        join(dir, `capture-${l.name}.log`),
      );
    });
    await Promise.all(this.captures.map((c) => c.start()));
  }

  async stopCaptures(): Promise<CaptureSet> {
    await Promise.all(this.captures.map((c) => c.stop()));
    const files = Object.fromEntries(this.captures.map((c) => [c.link, c.file]));
    this.captures = [];
    return { files };
  }

  /**
   * As the local target lays them out: container logs into
   * `<dir>/logs/<element>.log`, what each UE wrote in its run directory (key
   * logs) into `<dir>/keys/`, what other elements wrote into `<dir>/logs/`.
   */
  async collect(dir: string): Promise<void> {
    await this.collectLogs(dir);
    if (!this.plan) return;
    for (const sub of ['keys', 'logs']) mkdirSync(join(dir, sub), { recursive: true });
    for (const e of this.plan.elements) {
      const from = join(this.dir, 'run', e.name);
      for (const f of safeList(from)) {
        const src = join(from, f);
        // Directories too: the voicemail's message store is evidence (scanned for plaintext and keys).
        if (statSync(src).isFile()) copyFileSync(src, join(dir, collectedInto(e.kind), f));
        else if (statSync(src).isDirectory()) cpSync(src, join(dir, collectedInto(e.kind), f), { recursive: true });
      }
      for (const v of volumesOf(e, this.runId)) await this.copyOut(e, v.target, join(dir, collectedInto(e.kind)));
    }
  }

  /** Copies a directory out of an element's container (a volume's content) into `into`, with the engine's archive API and tar. */
  private async copyOut(e: ElementPlan, path: string, into: string): Promise<void> {
    const archive = await this.docker.getContainer(containerName(e.name)).getArchive({ path }).catch((err: unknown) => {
      throw new ElementError(e.name, `cannot read ${path} from its container: ${engineMessage(err)}`);
    });
    mkdirSync(into, { recursive: true });
    await new Promise<void>((resolve, reject) => {
      const tar = spawn('tar', ['-x', '-C', into], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      tar.stderr.on('data', (d: Buffer) => (err += d.toString()));
      tar.on('error', reject);
      tar.on('exit', (code) => (code === 0 ? resolve() : reject(new ElementError(e.name, `extracting ${path} failed: ${err.trim() || `tar exit ${code}`}`))));
      archive.pipe(tar.stdin);
    });
  }

  private async collectLogs(dir: string): Promise<void> {
    if (!this.runId) return;
    const logs = join(dir, 'logs');
    mkdirSync(logs, { recursive: true });
    const list = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL_RUN}=${this.runId}`] } });
    await Promise.all(list.map(async (c) => {
      const element = c.Labels[LABEL_ELEMENT] ?? c.Id.slice(0, 12);
      try {
        const buf = await this.docker.getContainer(c.Id).logs({ stdout: true, stderr: true, follow: false });
        writeFileSync(join(logs, `${element}.log`), demuxLogs(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf))));
      } catch (e) {
        if (!isDone(e)) throw e;
      }
    }));
  }

  /** Removes every container, network and volume labelled imslab=1: safe twice, after a failure, and with nothing up. */
  async down(): Promise<void> {
    await Promise.all(this.captures.map((c) => c.stop()));
    this.captures = [];
    this.stopFollowing?.();
    this.stopFollowing = null;
    try {
      await removeByLabel(this.docker);
    } catch (e) {
      if (statusOf(e) === undefined && /ENOENT|ECONNREFUSED/.test(String((e as Error).message))) return; // no engine: nothing to remove
      throw e;
    } finally {
      this.releaseSignals();
    }
  }

  /** Ctrl-C (or SIGTERM) while the network is coming up or in use: tear it down, then exit. */
  private catchSignals(): void {
    if (this.signalHandler) return;
    this.signalHandler = (sig) => {
      process.stderr.write(`imslab: ${sig}: removing the docker network\n`);
      void this.down().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    };
    process.once('SIGINT', this.signalHandler);
    process.once('SIGTERM', this.signalHandler);
  }

  private releaseSignals(): void {
    if (!this.signalHandler) return;
    process.removeListener('SIGINT', this.signalHandler);
    process.removeListener('SIGTERM', this.signalHandler);
    this.signalHandler = null;
  }
}

/** The plan's elements in start stages; a kind no stage names starts last. */

function safeList(dir: string): string[] {
  try { return readdirSync(dir); } catch { return []; }
}
