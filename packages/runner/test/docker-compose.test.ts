// Unit tests of the docker target's layout and of docker-compose.yml against
// the topology's plan. Fast: no Docker engine needed.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT, ensurePki, loadSubscribers, planNetwork, type ElementPlan } from '@imslab/topology';
import { DEFAULT_SUBSCRIBERS } from '../src/run.ts';
import {
  COMPOSE_DIR, CONTAINER_CONFIG_DIR, CONTAINER_RUN_DIR, DOCKER_NETWORKS, containerName, demuxLogs, endpointsOf,
  gatewayOf, imageFor, pkiEntitiesBothTargets, renderComposeConfigs, writeElementConfig,
} from '../src/targets/docker-layout.ts';

interface ComposeService {
  image: string;
  container_name: string;
  init?: boolean;
  labels: Record<string, string>;
  healthcheck?: { test: string[]; interval: string };
  depends_on?: Record<string, { condition: string }>;
  volumes: string[];
  networks: Record<string, { ipv4_address: string; aliases?: string[] }>;
}
interface ComposeNetwork {
  name: string;
  driver: string;
  internal?: boolean;
  driver_opts: Record<string, string>;
  ipam: { config: Array<{ subnet: string; gateway: string }> };
  labels: Record<string, string>;
}
interface ComposeFile {
  version?: unknown;
  services: Record<string, ComposeService>;
  networks: Record<string, ComposeNetwork>;
}

const composeText = readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
// YAML 1.1 merge keys (<<), as compose v1 (PyYAML) and v2 (go-yaml) read them.
const compose = parse(composeText, { merge: true }) as ComposeFile;
const plan = planNetwork(loadSubscribers(DEFAULT_SUBSCRIBERS), 'docker');

describe('docker-compose.yml', () => {
  it('has no version key (both compose v1 1.29 and v2 accept it without)', () => {
    expect(compose.version).toBeUndefined();
  });

  it('has one service per element of the plan, and no other', () => {
    expect(Object.keys(compose.services).sort()).toEqual(plan.elements.map((e) => e.name).sort());
  });

  it.each(plan.elements.map((e) => [e.name, e] as [string, ElementPlan]))('%s: image, name, labels and static addresses as planned', (name, e) => {
    const s = compose.services[name]!;
    expect(s.image).toBe(imageFor(e.kind).replace(/:[^:]+$/, ':dev'));
    expect(s.container_name).toBe(containerName(name));
    expect(s.labels.imslab).toBe('1');
    expect(s.labels['imslab.element']).toBe(name);
    expect(s.labels['imslab.kind']).toBe(e.kind);
    expect(s.init).toBe(true);
    expect(s.healthcheck?.test).toEqual(['CMD', '/usr/local/bin/docker-entrypoint.sh', 'health']);
    // Low rate: each healthcheck costs CPU (notes/docker-offline.md).
    expect(parseInt(s.healthcheck!.interval, 10)).toBeGreaterThanOrEqual(10);
    const want = Object.fromEntries(endpointsOf(e).map((ep) => [ep.link, ep.address]));
    const have = Object.fromEntries(Object.entries(s.networks).map(([n, v]) => [n, v.ipv4_address]));
    expect(have).toEqual(want);
    for (const v of Object.values(s.networks)) expect(v.aliases).toEqual([name]);
    expect(s.volumes).toEqual([
      `./${COMPOSE_DIR}/${name}/config:${CONTAINER_CONFIG_DIR}:ro`,
      `./${COMPOSE_DIR}/${name}/run:${CONTAINER_RUN_DIR}`,
    ]);
  });

  it('starts each P-CSCF after its IMS-AGW is healthy (Kamailio checks rtpengine once at start-up)', () => {
    for (const e of plan.elements) {
      if (e.kind !== 'pcscf') continue;
      expect(compose.services[e.name]!.depends_on?.[e.agw]).toEqual({ condition: 'service_healthy' });
    }
  });

  it('defines every link as a labelled, internal network with the planned subnet and bridge', () => {
    expect(Object.keys(compose.networks).sort()).toEqual(plan.links.map((l) => l.name).sort());
    for (const l of plan.links) {
      const n = compose.networks[l.name]!;
      expect(n.name).toBe(DOCKER_NETWORKS[l.name].name);
      expect(n.driver).toBe('bridge');
      expect(n.internal).toBe(true);
      expect(n.driver_opts['com.docker.network.bridge.name']).toBe(DOCKER_NETWORKS[l.name].bridge);
      expect(n.ipam.config).toEqual([{ subnet: l.subnet, gateway: gatewayOf(l.prefix) }]);
      expect(n.labels.imslab).toBe('1');
    }
  });

  it('keeps every address inside its network\'s subnet, off the gateway, and unique', () => {
    const seen = new Set<string>();
    for (const s of Object.values(compose.services)) {
      for (const [net, v] of Object.entries(s.networks)) {
        const link = plan.links.find((l) => l.name === net)!;
        expect(v.ipv4_address.startsWith(`${link.prefix}.`)).toBe(true);
        expect(v.ipv4_address).not.toBe(gatewayOf(link.prefix));
        expect(seen.has(v.ipv4_address)).toBe(false);
        seen.add(v.ipv4_address);
      }
    }
  });
});

describe('docker target layout', () => {
  it('names bridges within the kernel limit of 15 characters', () => {
    for (const n of Object.values(DOCKER_NETWORKS)) expect(n.bridge.length).toBeLessThanOrEqual(15);
  });

  it('attaches two-network elements access side first, core second', () => {
    const agw = plan.elements.find((e) => e.name === 'ims-agw-b')!;
    expect(endpointsOf(agw).map((x) => x.link)).toEqual(['access-b', 'core']);
  });

  it('asks for certificates naming both targets\' addresses, so neither target regenerates the shared PKI', () => {
    const byName = Object.fromEntries(pkiEntitiesBothTargets(plan).map((x) => [x.name, x.ips.sort()]));
    expect(byName['pcscf-a']).toEqual(['127.0.1.10', '127.0.2.10', '198.18.1.10', '198.18.2.10']);
    expect(byName.alice).toEqual(['127.0.1.100', '198.18.1.100']);
    expect(byName.scscf).toBeUndefined();
    const local = planNetwork(loadSubscribers(DEFAULT_SUBSCRIBERS), 'local');
    for (const e of local.elements) {
      if (e.kind !== 'pcscf' && e.kind !== 'ue') continue;
      for (const ip of Object.values(e.addresses)) expect(byName[e.name]).toContain(ip);
    }
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

  describe('rendered element configuration', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'imslab-docker-layout-'));
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));
    const tls = plan.elements.filter((e) => e.name === 'pcscf-a' || e.name === 'alice');
    const pki = ensurePki(join(tmp, 'pki'), tls.map((e) => ({ name: e.name, ips: Object.values(e.addresses) as string[] })));

    it('writes argv (one argument per line) and container paths, and only its own key with the CA certificate', () => {
      for (const e of tls) {
        const dir = join(tmp, 'config', e.name);
        const { command } = writeElementConfig(e, dir, pki);
        expect(readFileSync(join(dir, 'argv'), 'utf8')).toBe(command.join('\n') + '\n');
        expect(readdirSync(join(dir, 'pki')).sort()).toEqual(['ca.pem', `${e.name}.key`, `${e.name}.pem`].sort());
        const text = readdirSync(dir).filter((f) => f !== 'pki' && f !== 'argv').map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
        expect(text).toContain(`${CONTAINER_CONFIG_DIR}/pki/`);
        expect(text).not.toContain(tmp);
      }
      const ue = JSON.parse(readFileSync(join(tmp, 'config', 'alice', 'ue.json'), 'utf8')) as { runDir: string; address: string };
      expect(ue.runDir).toBe(CONTAINER_RUN_DIR);
      expect(ue.address).toBe('198.18.1.100');
      const argv = readFileSync(join(tmp, 'config', 'alice', 'argv'), 'utf8').split('\n');
      expect(argv[0]).toBe('node');
      expect(argv).toContain('/opt/imslab/ue.mjs');
    });

    it('re-renders in place and drops files of an earlier render', () => {
      const e = tls[0]!;
      const dir = join(tmp, 'config', e.name);
      writeElementConfig(e, dir, pki);
      rmSync(join(dir, 'argv'));
      writeElementConfig(e, dir, pki);
      expect(readFileSync(join(dir, 'argv'), 'utf8').length).toBeGreaterThan(0);
    });

    it('renders the compose tree for every element of a docker plan, and refuses a local plan', () => {
      const small = { ...plan, elements: tls };
      const out = renderComposeConfigs(small, tmp, pki);
      expect(readdirSync(out).sort()).toEqual(tls.map((e) => e.name).sort());
      expect(readdirSync(join(out, 'alice')).sort()).toEqual(['config', 'run']);
      expect(() => renderComposeConfigs({ ...small, target: 'local' }, tmp, pki)).toThrow(/docker target/);
    });
  });
});
