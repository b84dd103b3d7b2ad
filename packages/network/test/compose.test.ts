import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT, ensurePki, loadSubscribers } from '@imslab/topology';
import {
  COMPOSE_DIR, CONTAINER_CONFIG_DIR, CONTAINER_RUN_DIR, DOCKER_NETWORKS, ON_DEMAND_KINDS, composeYaml, containerName, demuxLogs, endpointsOf,
  gatewayOf, imageOf, kindOf, planNetwork, readinessOf, renderComposeConfigs, writeContainerConfig,
} from '../src/index.ts';

interface ComposeService {
  image: string;
  pull_policy: string;
  container_name: string;
  init?: boolean;
  restart: string;
  profiles?: string[];
  labels: Record<string, string>;
  healthcheck?: { test: string[]; interval: string };
  depends_on?: Record<string, { condition: string }>;
  volumes: string[];
  networks: Record<string, { ipv4_address: string; aliases?: string[] }>;
}
interface ComposeFile {
  version?: unknown;
  name?: unknown;
  services: Record<string, ComposeService>;
  networks: Record<string, { name: string; driver: string; internal?: boolean; driver_opts: Record<string, string>; ipam: { config: Array<{ subnet: string; gateway: string }> }; labels: Record<string, string> }>;
  volumes?: Record<string, { name: string; labels: Record<string, string> }>;
}

const plan = planNetwork(loadSubscribers(join(REPO_ROOT, 'config', 'subscribers.yaml')), 'docker', { servers: [...ON_DEMAND_KINDS] });
const committed = readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
// YAML 1.1, as compose v1 (PyYAML) reads it: "no" would be a boolean there.
const compose = parse(committed, { version: '1.1' }) as ComposeFile;

describe('docker-compose.yml', () => {
  it('is what the element kinds and config/subscribers.yaml generate today (./bin/imslab compose --no-build rewrites it)', () => {
    expect(committed).toBe(composeYaml(plan));
  });

  it('has no version or name key (compose v1 1.29 and v2 both accept it without)', () => {
    expect(compose.version).toBeUndefined();
    expect(compose.name).toBeUndefined();
  });

  it('has one service per element, on-demand kinds (and their parts) behind their profile and `all`', () => {
    expect(Object.keys(compose.services).sort()).toEqual(plan.elements.map((e) => e.name).sort());
    for (const e of plan.elements) {
      const whole = e.partOf ? plan.elements.find((x) => x.name === e.partOf)! : e;
      const s = compose.services[e.name]!;
      if (kindOf(whole.kind).presence === 'on-demand') expect(s.profiles).toEqual([whole.kind, 'all']);
      else expect(s.profiles).toBeUndefined();
    }
    expect(compose.services['transcoder-media']!.profiles).toEqual(['transcoder', 'all']);
  });

  it.each(plan.elements.map((e) => [e.name, e] as const))('%s: its image (never pulled), name, labels, healthcheck, mounts and static addresses', (name, e) => {
    const s = compose.services[name]!;
    expect(s.image).toBe(imageOf(e.kind));
    expect(s.pull_policy).toBe('never');
    expect(s.container_name).toBe(containerName(name));
    expect(s.restart).toBe('no');
    expect(s.labels).toMatchObject({ imslab: '1', 'imslab.run': 'compose', 'imslab.element': name, 'imslab.kind': e.kind });
    expect(s.init).toBe(true);
    const r = readinessOf(e);
    expect(s.healthcheck!.test.slice(0, 5)).toEqual(['CMD', '/usr/local/bin/docker-entrypoint.sh', 'health', r.type, r.type === 'http' ? r.url : r.address]);
    // Low rate: each healthcheck costs CPU (docs/docker.md).
    expect(parseInt(s.healthcheck!.interval, 10)).toBeGreaterThanOrEqual(10);
    expect(Object.fromEntries(Object.entries(s.networks).map(([n, v]) => [n, v.ipv4_address]))).toEqual(Object.fromEntries(endpointsOf(e).map((ep) => [ep.link, ep.address])));
    for (const v of Object.values(s.networks)) expect(v.aliases).toEqual([name]);
    expect(s.volumes.slice(0, 2)).toEqual([`./${COMPOSE_DIR}/${name}/config:${CONTAINER_CONFIG_DIR}:ro`, `./${COMPOSE_DIR}/${name}/run:${CONTAINER_RUN_DIR}`]);
  });

  it('starts each P-CSCF after its IMS-AGW is healthy (Kamailio checks rtpengine once at start-up), and nothing on a profile it lacks', () => {
    expect(compose.services['pcscf-a']!.depends_on?.['ims-agw-a']).toEqual({ condition: 'service_healthy' });
    expect(compose.services.transcoder!.depends_on?.['transcoder-media']).toEqual({ condition: 'service_healthy' });
    for (const s of Object.values(compose.services)) {
      for (const dep of Object.keys(s.depends_on ?? {})) {
        for (const p of compose.services[dep]!.profiles ?? []) expect(s.profiles ?? []).toContain(p);
      }
    }
  });

  it('keeps the voicemail store in a labelled named volume', () => {
    expect(compose.services.voicemail!.volumes[2]).toBe(`imslab-voicemail-store:${CONTAINER_RUN_DIR}/voicemail-store`);
    expect(compose.volumes?.['imslab-voicemail-store']).toMatchObject({ name: 'imslab-voicemail-store', labels: { imslab: '1' } });
  });

  it('defines every link as a labelled, internal network with the planned subnet and bridge', () => {
    expect(Object.keys(compose.networks).sort()).toEqual(plan.links.map((l) => l.name).sort());
    for (const l of plan.links) {
      const n = compose.networks[l.name]!;
      expect(n).toMatchObject({ name: DOCKER_NETWORKS[l.name].name, driver: 'bridge', internal: true });
      expect(n.driver_opts['com.docker.network.bridge.name']).toBe(DOCKER_NETWORKS[l.name].bridge);
      expect(n.ipam.config).toEqual([{ subnet: l.subnet, gateway: gatewayOf(l.prefix) }]);
      expect(n.labels.imslab).toBe('1');
    }
  });
});

describe('docker layout', () => {
  it('names bridges within the kernel limit of 15 characters', () => {
    for (const n of Object.values(DOCKER_NETWORKS)) expect(n.bridge.length).toBeLessThanOrEqual(15);
  });

  it('attaches two-network elements access side first, core second', () => {
    expect(endpointsOf(plan.elements.find((e) => e.name === 'ims-agw-b')!).map((x) => x.link)).toEqual(['access-b', 'core']);
  });

  it('demultiplexes docker log frames and leaves other bytes alone', () => {
    const frame = (stream: number, s: string) => {
      const p = Buffer.from(s);
      const h = Buffer.alloc(8);
      h[0] = stream;
      h.writeUInt32BE(p.length, 4);
      return Buffer.concat([h, p]);
    };
    expect(demuxLogs(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')])).toString()).toBe('out\nerr\n');
    expect(demuxLogs(Buffer.from('plain text log\n')).toString()).toBe('plain text log\n');
    expect(demuxLogs(Buffer.alloc(0)).length).toBe(0);
  });

  describe('an element\'s configuration for a container', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'imslab-docker-layout-'));
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));
    const tls = plan.elements.filter((e) => e.name === 'pcscf-a' || e.name === 'alice');
    const pki = ensurePki(join(tmp, 'pki'), tls.map((e) => ({ name: e.name, ips: Object.values(e.addresses) as string[] })));
    const secrets = { masterKey: 'ab'.repeat(32), devices: { alice: '01'.repeat(32) } };

    it('holds argv (one argument per line), container paths, and only its own key with the CA certificate', () => {
      for (const e of tls) {
        const dir = join(tmp, 'config', e.name);
        const command = writeContainerConfig(e, dir, pki, secrets);
        expect(readFileSync(join(dir, 'argv'), 'utf8')).toBe(command.join('\n') + '\n');
        expect(readdirSync(join(dir, 'pki')).sort()).toEqual(['ca.pem', `${e.name}.key`, `${e.name}.pem`].sort());
        const text = readdirSync(dir).filter((f) => f !== 'pki' && f !== 'argv').map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
        expect(text).toContain(`${CONTAINER_CONFIG_DIR}/pki/`);
        expect(text).not.toContain(tmp);
      }
      const ue = JSON.parse(readFileSync(join(tmp, 'config', 'alice', 'ue.json'), 'utf8')) as { runDir: string; address: string };
      expect(ue).toMatchObject({ runDir: CONTAINER_RUN_DIR, address: '198.18.1.100' });
      const argv = readFileSync(join(tmp, 'config', 'alice', 'argv'), 'utf8').split('\n');
      expect(argv.slice(0, 3)).toEqual(['node', '--enable-source-maps', '/opt/imslab/ue.mjs']);
    });

    it('renders the compose tree for every element of a docker plan, drops what left the plan, and refuses a local plan', () => {
      const small = { ...plan, elements: tls };
      const out = renderComposeConfigs(small, tmp, pki, secrets);
      expect(readdirSync(out).sort()).toEqual(['alice', 'pcscf-a']);
      expect(readdirSync(join(out, 'alice')).sort()).toEqual(['config', 'run']);
      renderComposeConfigs({ ...small, elements: [tls[1]!] }, tmp, pki, secrets);
      expect(readdirSync(out)).toEqual([tls[1]!.name]);
      expect(() => composeYaml({ ...small, target: 'local' })).toThrow(/docker target/);
    });
  });
});
