// ENGINE TEST: needs root, a Docker engine and the imslab images, and takes
// minutes the first time (base image + image builds). It runs only with
// IMSLAB_DOCKER_TESTS=1:
//
//   IMSLAB_DOCKER_TESTS=1 npx vitest run packages/runner/test/docker-target.test.ts
//
// beforeAll runs scripts/docker-engine.sh (installs docker.io and starts
// dockerd when needed) and scripts/build-images.sh (which runs
// scripts/base-image.sh and builds what `imslab images` lists); both are
// quick when everything is in place.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NG_PORT, REPO_ROOT, SIP_PORT, loadSubscribers, type NetworkPlan } from '@imslab/topology';
import { planNetwork, type ElementPlan, type PcscfPlan } from '@imslab/network';
import { decodeFrame, readCapture } from '@imslab/capture';
import { DEFAULT_SUBSCRIBERS } from '../src/run.ts';
import { httpHealthy, ngPingOk, sipOptionsOk } from '../src/probes.ts';
import { DockerTarget } from '../src/targets/docker.ts';
import { connectDocker, listByLabel } from '../src/targets/docker-engine.ts';
import { probeFor } from '../src/targets/local.ts';

const ENABLED = process.env.IMSLAB_DOCKER_TESTS === '1';

function fullPlan(): NetworkPlan<ElementPlan> {
  return planNetwork(loadSubscribers(DEFAULT_SUBSCRIBERS), 'docker');
}

async function packetsTo(file: string, dst: string, dstPort: number): Promise<number> {
  let n = 0;
  for await (const p of readCapture(file)) {
    const d = decodeFrame(p.linkType, p.data);
    if (d && d.dst === dst && d.dstPort === dstPort) n++;
  }
  return n;
}

/**
 * What imslab's docker runs left, leaving out what `docker compose up` made:
 * a user's compose network (and its store volume, which a compose run that
 * died before `down -v` keeps) is not ours to remove and must not fail these.
 */
async function leftByRuns(docker: ReturnType<typeof connectDocker>) {
  const [all, compose] = await Promise.all([listByLabel(docker), listByLabel(docker, 'imslab.run=compose')]);
  const not = (of: string[], seen: string[]) => of.filter((x) => !seen.includes(x));
  return { containers: not(all.containers, compose.containers), networks: not(all.networks, compose.networks), volumes: not(all.volumes, compose.volumes) };
}

describe.runIf(ENABLED)('docker target against a Docker engine (IMSLAB_DOCKER_TESTS=1)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'imslab-docker-target-'));
  const docker = connectDocker();

  beforeAll(() => {
    const run = (script: string) => execFileSync('bash', [join(REPO_ROOT, 'scripts', script)], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 900_000 });
    run('docker-engine.sh');
    run('build-images.sh');
  }, 900_000);

  afterAll(async () => {
    await new DockerTarget().down();
    rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  it('brings the whole plan up healthy, captures every link, collects logs and keys, and leaves nothing behind', async () => {
    const plan = fullPlan();
    const dir = join(tmp, 'full');
    const target = new DockerTarget();
    const lines: string[] = [];
    try {
      await target.up(plan, { dir, progress: (l) => lines.push(l) });
      // Every element answers its own probe from the host, over the bridges.
      for (const e of plan.elements) {
        expect(await probeFor(e)(), e.name).toBe(true);
      }
      await target.startCaptures(dir);
      // Traffic on each link: SIP OPTIONS to both P-CSCFs' access sides and the S-CSCF, an ng ping, UE health.
      const pa = plan.elements.find((e) => e.name === 'pcscf-a')!;
      const pb = plan.elements.find((e) => e.name === 'pcscf-b')!;
      const sc = plan.elements.find((e) => e.name === 'scscf')!;
      const agw = plan.elements.find((e) => e.name === 'ims-agw-a')!;
      expect(await sipOptionsOk(pa.addresses['access-a']!, SIP_PORT)).toBe(true);
      expect(await sipOptionsOk(pb.addresses['access-b']!, SIP_PORT)).toBe(true);
      expect(await sipOptionsOk(sc.addresses.core!, SIP_PORT)).toBe(true);
      expect(await ngPingOk(agw.addresses.core!, NG_PORT)).toBe(true);
      expect(await httpHealthy(`${target.controlUrl('alice')}/health`)).toBe(true);
      const { files } = await target.stopCaptures();
      expect(Object.keys(files).sort()).toEqual(['access-a', 'access-b', 'core']);
      for (const f of Object.values(files)) expect(statSync(f).size).toBeGreaterThan(24);
      expect(await packetsTo(files['access-a']!, pa.addresses['access-a']!, SIP_PORT)).toBeGreaterThanOrEqual(1);
      expect(await packetsTo(files['access-b']!, pb.addresses['access-b']!, SIP_PORT)).toBeGreaterThanOrEqual(1);
      expect(await packetsTo(files.core!, sc.addresses.core!, SIP_PORT)).toBeGreaterThanOrEqual(1);
      expect(await packetsTo(files['access-a']!, plan.elements.find((e) => e.name === 'alice')!.addresses['access-a']!, 8000)).toBeGreaterThanOrEqual(1);

      await target.collect(dir);
      for (const e of plan.elements) expect(existsSync(join(dir, 'logs', `${e.name}.log`)), e.name).toBe(true);
      expect(readFileSync(join(dir, 'logs', 'ims-agw-a.log'), 'utf8')).toMatch(/Startup complete/);
      expect(existsSync(join(dir, 'keys'))).toBe(true);
    } finally {
      await target.down();
    }
    expect(await leftByRuns(docker)).toEqual({ containers: [], networks: [], volumes: [] });
    expect(lines.some((l) => /healthy: ims-agw-a, ims-agw-b/.test(l))).toBe(true);
  }, 180_000);

  it('comes up again right after down, and down is safe to call twice', async () => {
    const plan = fullPlan();
    const small = { ...plan, elements: plan.elements.filter((e) => e.kind === 'ims-agw' || e.kind === 'scscf') };
    const target = new DockerTarget();
    await target.up(small, { dir: join(tmp, 'again') });
    await target.down();
    await target.down();
    expect(await leftByRuns(docker)).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('removes what an earlier run left behind before starting', async () => {
    // What a killed run leaves: a labelled network in the way, with a container on it.
    const net = await docker.createNetwork({
      Name: 'imslab-core', Driver: 'bridge', Internal: true, Labels: { imslab: '1', 'imslab.run': 'killed' },
      IPAM: { Driver: 'default', Config: [{ Subnet: '198.18.2.0/24', Gateway: '198.18.2.1' }] },
      Options: { 'com.docker.network.bridge.name': 'ims-core' },
    });
    await docker.createContainer({
      name: 'imslab-leftover', Image: 'imslab/ims-agw:dev', Cmd: ['sleep', '600'], Labels: { imslab: '1', 'imslab.run': 'killed' },
      HostConfig: { NetworkMode: net.id, Init: true },
    }).then((c) => c.start());
    const plan = fullPlan();
    const small = { ...plan, elements: plan.elements.filter((e) => e.kind === 'ims-agw') };
    const lines: string[] = [];
    const target = new DockerTarget();
    await target.up(small, { dir: join(tmp, 'left'), progress: (l) => lines.push(l) });
    expect(lines.some((l) => /removed what an earlier docker run left: imslab-leftover, imslab-core/.test(l))).toBe(true);
    await target.down();
    expect(await leftByRuns(docker)).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('fails up() naming an element that exits during start-up, keeps its log, and cleans up', async () => {
    const plan = fullPlan();
    // Kamailio told to listen on an address its container does not have: it cannot bind, and exits.
    const broken = plan.elements.flatMap((e): ElementPlan[] => (e.kind === 'ims-agw' ? [e] : e.name === 'pcscf-a' ? [{ ...(e as PcscfPlan), accessAddress: '198.18.1.99' }] : []));
    const dir = join(tmp, 'failing');
    const target = new DockerTarget();
    try {
      const err = await target.up({ ...plan, elements: broken }, { dir }).then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(/^pcscf-a: exited \(code \d+\) during start-up/);
      expect(readFileSync(join(dir, 'logs', 'pcscf-a.log'), 'utf8')).toMatch(/198\.18\.1\.99/);
    } finally {
      await target.down();
    }
    expect(await leftByRuns(docker)).toEqual({ containers: [], networks: [], volumes: [] });
  }, 120_000);

  it('leaves a network started by docker compose alone, and says to attach to it', async () => {
    const net = await docker.createNetwork({
      Name: 'imslab-core', Driver: 'bridge', Internal: true, Labels: { imslab: '1', 'imslab.run': 'compose' },
      IPAM: { Driver: 'default', Config: [{ Subnet: '198.18.2.0/24', Gateway: '198.18.2.1' }] },
      Options: { 'com.docker.network.bridge.name': 'ims-core' },
    });
    try {
      const plan = fullPlan();
      const err = await new DockerTarget().up({ ...plan, elements: plan.elements.filter((e) => e.kind === 'ims-agw') }, { dir: join(tmp, 'compose') }).then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(/a network started by docker compose is up: run scenarios against it with `imslab run --attach`/);
      expect((await docker.listNetworks({ filters: { label: ['imslab.run=compose'] } })).length).toBe(1);
    } finally {
      await net.remove();
    }
  }, 60_000);
});

