import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import {
  COMPOSE_RUN, CONTAINER_CONFIG_DIR, CONTAINER_RUN_DIR, DOCKER_NETWORKS, LABEL, LABEL_ELEMENT, LABEL_KIND, LABEL_RUN,
  containerName, controlUrlOf, endpointsOf, gatewayOf, imageOf, kindOf, leavesOf, pkiEntities, startStages, deviceNames, volumeName, volumesOf,
  writeContainerConfig, type ElementPlan,
} from '@imslab/network';
import { REPO_ROOT, ensureKmsSecrets, ensurePki, type LinkPlan, type NetworkPlan } from '@imslab/topology';
import { ElementError, PrerequisiteError } from '../errors.ts';
import type { FaultAction, FaultOptions } from '../faults.ts';
import { blockPortsInNamespace } from './local-cut.ts';
import { requirePrograms, requireRoot } from '../prerequisites.ts';
import { waitUntil } from '../probes.ts';
import { startReaper, type Reaper } from '../reaper.ts';
import { clearState, pidAlive, readStates, writeState } from '../state.ts';
import { BRIDGE_TAP, linkCaptures, stopAll, type TcpdumpCapture } from '../tcpdump.ts';
import { collectLogs, copyOut } from './docker-collect.ts';
import { connectDocker, engineMessage, followDeaths, listByLabel, removeByLabel, statusOf, withTimeout } from './docker-engine.ts';
import { PKI_DIR, probeFor } from './local.ts';
import type { CaptureSet, Target, UpOptions } from './target.ts';

const READY_TIMEOUT_MS = 30_000;
const ENGINE_TIMEOUT_MS = 5_000;

/** Where the image build stages contexts and leaves its stamps. */
const DOCKER_BUILD_DIR = join(REPO_ROOT, '.imslab', 'docker-build');

export const ENGINE_DOWN = 'Docker engine not running: run scripts/docker-engine.sh (installs docker.io and starts dockerd)';
export const COMPOSE_UP = 'a network started by docker compose is up: run scenarios against it with `imslab run --attach`, or take it down first (docker compose --profile all down -v)';

/**
 * The docker target: one container per element on three Docker networks
 * (access-a, core, access-b: 198.18.{1,2,3}.0/24, internal, so nothing leaves
 * the machine), created with dockerode from the images `imslab compose`
 * builds. Configuration is rendered per run into `<dir>/config/<element>/`
 * and bind-mounted read-only; each element's run directory (key logs) is
 * `<dir>/run/<element>/` on the host. Readiness is probed from the host over
 * the bridges with the same probes as the local target; captures are
 * tcpdump on each network's host bridge. Everything it creates carries the
 * run's own label, and only that is removed: a network `docker compose`
 * started is never touched.
 */
export class DockerTarget implements Target {
  readonly name = 'docker' as const;
  private readonly docker: Docker;
  private plan: NetworkPlan<ElementPlan> | null = null;
  private dir = '';
  private runId = '';
  private captures: TcpdumpCapture[] = [];
  private died = new Map<string, string>();
  private restarting = new Set<string>();
  /** Containers a fault paused: unpaused before they are removed. */
  private paused = new Set<string>();
  private stopFollowing: (() => void) | null = null;
  private reaper: Reaper | null = null;

  constructor(docker?: Docker) {
    this.docker = docker ?? connectDocker();
  }

  /** Engine reachable, tcpdump present, and the images of the plan's kinds (default: every network's) built. */
  async checkPrerequisites(plan?: NetworkPlan<ElementPlan>): Promise<void> {
    requireRoot('the docker target');
    requirePrograms(['tcpdump']);
    try {
      await withTimeout(this.docker.ping(), ENGINE_TIMEOUT_MS, 'ping');
    } catch {
      throw new PrerequisiteError(ENGINE_DOWN);
    }
    const images = [...new Set((plan?.elements ?? []).map((e) => imageOf(e.kind)))];
    const missing: string[] = [];
    for (const image of images) {
      try {
        await this.docker.getImage(image).inspect();
      } catch (e) {
        if (statusOf(e) === 404) missing.push(image);
        else throw new PrerequisiteError(`${ENGINE_DOWN} (${engineMessage(e)})`);
      }
    }
    if (missing.length) throw new PrerequisiteError(`images not built (${missing.join(', ')}): run ./bin/imslab compose (or scripts/build-images.sh)`);
  }

  controlUrl(element: string): string {
    // The containers' addresses are the plan's: the host reaches them over the bridges.
    const e = this.plan?.elements.find((x) => x.name === element);
    const url = e ? controlUrlOf(e) : null;
    if (!url) throw new ElementError(element, 'no control API on the running network');
    return url;
  }

  crashed(): string[] {
    return [...this.died].map(([e, code]) => `${e} exited (code ${code})`);
  }

  async up(plan: NetworkPlan<ElementPlan>, opts: UpOptions): Promise<void> {
    if (plan.target !== 'docker') throw new Error(`the docker target needs a plan for 'docker', not '${plan.target}'`);
    const progress = opts.progress ?? (() => {});
    const started = Date.now();
    await this.checkPrerequisites(plan);
    await this.clearTheWay(progress);
    this.warnIfStale(plan, progress);
    this.plan = plan;
    this.dir = opts.dir;
    this.runId = `${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${process.pid}`;
    this.died.clear();
    this.restarting.clear();
    writeState(this.stateId(), { target: 'docker', dir: this.dir, runnerPid: process.pid, pgids: [], dockerRun: this.runId });
    this.reaper = startReaper(this.stateId());
    try {
      for (const sub of ['config', 'run', 'logs', 'keys']) mkdirSync(join(this.dir, sub), { recursive: true });
      const pki = ensurePki(PKI_DIR, pkiEntities(plan));
      const secrets = ensureKmsSecrets(PKI_DIR, deviceNames(plan));
      const commands = new Map(plan.elements.map((e) => {
        mkdirSync(join(this.dir, 'run', e.name), { recursive: true });
        return [e.name, writeContainerConfig(e, join(this.dir, 'config', e.name), pki, secrets)];
      }));
      await Promise.all(plan.links.map((l) => this.createNetwork(l)));
      this.stopFollowing = await followDeaths(this.docker, `${LABEL_RUN}=${this.runId}`, (d) => {
        if (!this.restarting.has(d.element)) this.died.set(d.element, d.exitCode);
      }, LABEL_ELEMENT);
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
      await collectLogs(this.docker, this.runId, this.dir).catch(() => {});
      await this.down().catch(() => {});
      throw e;
    }
  }

  private stateId(): string {
    return `docker-${this.runId}`;
  }

  /**
   * A compose-started network holds the subnets: use it (--attach), never
   * delete it. What an earlier run left whose runner is dead is removed; a
   * live run on the docker target is waited for by nobody: it is an error.
   */
  private async clearTheWay(progress: (l: string) => void): Promise<void> {
    const all = await this.docker.listNetworks({ filters: { label: [`${LABEL}=1`] } });
    if (all.some((n) => n.Labels?.[LABEL_RUN] === COMPOSE_RUN)) throw new PrerequisiteError(COMPOSE_UP);
    const live = new Set(readStates().filter((s) => s.state.dockerRun && pidAlive(s.state.runnerPid)).map((s) => s.state.dockerRun));
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL}=1`] } });
    const runs = new Set([...all.map((n) => n.Labels?.[LABEL_RUN]), ...containers.map((c) => c.Labels[LABEL_RUN])].filter((r): r is string => !!r));
    for (const run of runs) {
      if (live.has(run)) throw new PrerequisiteError(`another imslab run (${run}) is using the docker target; wait for it, or 'imslab down --target docker'`);
      const left = await removeByLabel(this.docker, `${LABEL_RUN}=${run}`, 1);
      progress(`  removed what an earlier docker run left: ${[...left.containers, ...left.networks].join(', ')}`);
    }
    for (const s of readStates()) if (s.state.dockerRun && !pidAlive(s.state.runnerPid)) clearState(s.id);
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
        throw new PrerequisiteError(`the subnet ${l.subnet} of ${l.name} is taken by another Docker network (docker network ls; if it is imslab's compose network: ${COMPOSE_UP})`);
      }
      throw new Error(`creating network ${n.name} failed: ${msg}`);
    }
  }

  private async createContainer(e: ElementPlan, command: string[]): Promise<Docker.Container> {
    const [first, ...more] = endpointsOf(e);
    if (!first) throw new ElementError(e.name, 'has no address on any network');
    const volumes = volumesOf(e).map((v) => ({ name: volumeName(e.name, v.name, this.runId), target: `${CONTAINER_RUN_DIR}/${v.path}` }));
    for (const v of volumes) await this.docker.createVolume({ Name: v.name, Labels: this.labels({ [LABEL_ELEMENT]: e.name }) });
    const container = await this.docker.createContainer({
      name: containerName(e.name),
      Image: imageOf(e.kind),
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

  async fault(element: string, action: FaultAction, opts: FaultOptions = {}): Promise<void> {
    const e = this.plan?.elements.find((x) => x.name === element);
    if (!e) throw new ElementError(element, `no such element on the running network; elements: ${this.plan?.elements.map((x) => x.name).join(', ')}`);
    const c = this.docker.getContainer(containerName(e.name));
    const failed = (err: unknown): never => { throw new ElementError(element, `docker could not ${action} it: ${engineMessage(err)}`); };
    if (action === 'kill') {
      // Its death is the scenario's doing, not a crash.
      this.restarting.add(element);
      await c.kill().catch(failed);
      await c.wait().catch(() => {});
    } else if (action === 'freeze') {
      await c.pause().catch(failed);
      this.paused.add(element);
    } else if (opts.ports?.length) {
      // Inside the container's own network namespace: the rules go with the container.
      const info = await c.inspect().catch(failed);
      blockPortsInNamespace(info.State.Pid, opts.ports);
    } else {
      const info = await c.inspect().catch(failed);
      // One network at a time: concurrent forced disconnects of one container
      // can leave the engine (20.10) a stale endpoint that blocks the
      // network's removal at teardown.
      for (const n of Object.keys(info.NetworkSettings.Networks ?? {})) await this.docker.getNetwork(n).disconnect({ Container: info.Id, Force: true }).catch(failed);
    }
  }

  async restart(element: string): Promise<void> {
    const e = this.plan?.elements.find((x) => x.name === element);
    if (!e) throw new ElementError(element, `no such element on the running network; elements: ${this.plan?.elements.map((x) => x.name).join(', ')}`);
    // The run directory (logs, key logs) is a host directory and a store a volume: both survive.
    this.restarting.add(element);
    try {
      await this.docker.getContainer(containerName(e.name)).restart({ t: 3 }).catch((err: unknown) => {
        throw new ElementError(element, `container did not restart: ${engineMessage(err)}`);
      });
    } finally {
      this.restarting.delete(element);
    }
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

  /** A note, not an error: an image's sources changed since it was built. */
  private warnIfStale(plan: NetworkPlan<ElementPlan>, progress: (l: string) => void): void {
    for (const image of new Set(plan.elements.map((e) => kindOf(e.kind).image.name))) {
      const stamp = join(DOCKER_BUILD_DIR, `${image}.built`);
      const inputs = join(DOCKER_BUILD_DIR, `${image}.inputs.json`);
      if (!existsSync(stamp) || !existsSync(inputs)) continue;
      try {
        const meta = JSON.parse(readFileSync(inputs, 'utf8')) as { inputs?: Record<string, unknown> };
        const built = statSync(stamp).mtimeMs;
        const changed = Object.keys(meta.inputs ?? {}).filter((f) => {
          const p = join(REPO_ROOT, f);
          return !existsSync(p) || statSync(p).mtimeMs > built;
        });
        if (changed.length) progress(`  note: ${changed.length} source file(s) of imslab/${image} changed since it was built (e.g. ${changed[0]}): run ./bin/imslab compose`);
      } catch {
        /* an unreadable metafile only loses the note */
      }
    }
  }

  async startCaptures(dir: string): Promise<void> {
    if (!this.plan) throw new Error('startCaptures before up');
    mkdirSync(dir, { recursive: true });
    this.captures = linkCaptures(this.plan.links, dir, BRIDGE_TAP);
    const started = Promise.all(this.captures.map((c) => c.start()));
    // Awaited below; until then a capture that fails must not count as an unhandled rejection.
    started.catch(() => {});
    await Promise.all(this.captures.map((c) => c.process?.started));
    // The reaper stops the captures too if the runner dies.
    writeState(this.stateId(), { target: 'docker', dir: this.dir, runnerPid: process.pid, pgids: this.captures.map((c) => c.process?.pid).filter((p): p is number => p !== undefined), dockerRun: this.runId });
    await started;
  }

  async stopCaptures(): Promise<CaptureSet> {
    const set = await stopAll(this.captures);
    this.captures = [];
    return set;
  }

  /**
   * As the local target lays them out: container logs into
   * `<dir>/logs/<element>.log`, what each element wrote in its run directory
   * into `<dir>/keys/` (key logs) or `<dir>/logs/` (everything else), and its
   * volumes (stores) copied out of the container.
   */
  async collect(dir: string): Promise<void> {
    await collectLogs(this.docker, this.runId, dir);
    if (!this.plan) return;
    for (const sub of ['keys', 'logs']) mkdirSync(join(dir, sub), { recursive: true });
    for (const e of this.plan.elements) {
      const from = join(this.dir, 'run', e.name);
      const into = join(dir, leavesOf(e));
      for (const f of safeList(from)) {
        const src = join(from, f);
        if (statSync(src).isFile()) copyFileSync(src, join(into, f));
        else if (statSync(src).isDirectory()) cpSync(src, join(into, f), { recursive: true });
      }
      for (const v of volumesOf(e)) await copyOut(this.docker, e.name, `${CONTAINER_RUN_DIR}/${v.path}`, into);
    }
  }

  /** Removes every container, network and volume of this run: safe twice, after a failure, and with nothing up. */
  async down(): Promise<void> {
    for (const name of this.paused) await this.docker.getContainer(containerName(name)).unpause().catch(() => {});
    this.paused.clear();
    await stopAll(this.captures);
    this.captures = [];
    this.stopFollowing?.();
    this.stopFollowing = null;
    if (!this.runId) return;
    try {
      await removeByLabel(this.docker, `${LABEL_RUN}=${this.runId}`);
      const left = await listByLabel(this.docker, `${LABEL_RUN}=${this.runId}`);
      if (left.containers.length + left.networks.length + left.volumes.length > 0) throw new Error(`left behind: ${[...left.containers, ...left.networks, ...left.volumes].join(', ')}`);
    } catch (e) {
      if (!(statusOf(e) === undefined && /ENOENT|ECONNREFUSED/.test(String((e as Error).message)))) throw e; // no engine: nothing to remove
    } finally {
      clearState(this.stateId());
      this.reaper?.release();
      this.reaper = null;
    }
  }
}

function safeList(dir: string): string[] {
  try { return readdirSync(dir); } catch { return []; }
}
