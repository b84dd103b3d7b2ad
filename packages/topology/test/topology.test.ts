import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  REPO_ROOT, TopologyError, fillTemplate, loadSubscribers, planNetwork, renderElement, validateSubscribers, validateForwarding, elementByName,
  type PcscfPlan,
} from '../src/index.ts';

const subs = loadSubscribers(join(REPO_ROOT, 'config', 'subscribers.yaml'));

describe('subscriber file', () => {
  it('loads the repository file', () => {
    expect(subs.domain).toBe('ims.test');
    expect(subs.subscribers.map((s) => s.user)).toEqual(['alice', 'bob', 'carol']);
    expect(subs.subscribers[1]!.devices.map((d) => d.name)).toEqual(['bob-1', 'bob-2']);
  });
  it('names the field and what is expected when something is wrong', () => {
    const bad = (raw: unknown) => () => validateSubscribers(raw, 'f');
    expect(bad({ domain: 'x', subscribers: [] })).toThrow(/f.subscribers: expected a non-empty list/);
    expect(bad({ domain: 'x', subscribers: [{ user: 'a', password: 'p', network: 'core', devices: [{ name: 'a', host: 100 }] }] }))
      .toThrow(/is not an access network; use one of access-a, access-b/);
    expect(bad({ domain: 'x', subscribers: [{ user: 'a', password: 'p', network: 'access-a', devices: [{ name: 'a', host: 10 }] }] }))
      .toThrow(/devices\[0\]\.host: expected an integer 50\.\.250/);
    expect(bad({ domain: 'x', subscribers: [{ user: 'a', password: 'p', network: 'access-a', devices: [{ name: 'a', host: 100 }, { name: 'a', host: 101 }] }] }))
      .toThrow(/used twice/);
    expect(bad({ domain: 'x', subscribers: [{ user: 'a', password: 'p', network: 'access-a', devices: [{ name: 'a', host: 100 }] }], policy: { 'pcscf-a': { e2ae: 'maybe' } } }))
      .toThrow(/policy.pcscf-a.e2ae: "maybe" is not allow or forbid/);
  });
});

describe('network plan', () => {
  for (const target of ['local', 'docker'] as const) {
    it(`gives every element unique addresses on its networks (${target})`, () => {
      const plan = planNetwork(subs, target);
      const all = plan.elements.flatMap((e) => Object.values(e.addresses));
      expect(new Set(all).size).toBe(all.length);
      for (const e of plan.elements) {
        for (const [net, addr] of Object.entries(e.addresses)) {
          const link = plan.links.find((l) => l.name === net)!;
          expect(addr!.startsWith(link.prefix + '.')).toBe(true);
        }
      }
      expect(plan.elements.map((e) => e.kind)).toEqual(['ims-agw', 'ims-agw', 'scscf', 'pcscf', 'pcscf', 'ue', 'ue', 'ue', 'ue']);
    });
  }
  it('keeps local addresses on loopback and docker ones in 198.18.0.0/15', () => {
    const all = (t: 'local' | 'docker') => planNetwork(subs, t).elements.flatMap((e) => Object.values(e.addresses) as string[]);
    expect(all('local').every((a) => a.startsWith('127.'))).toBe(true);
    expect(all('docker').every((a) => /^198\.1[89]\./.test(a))).toBe(true);
  });
  it('applies a scenario policy override to one P-CSCF only', () => {
    const plan = planNetwork(subs, 'local', { policy: { 'pcscf-b': { e2ae: 'forbid' } } });
    expect((elementByName(plan, 'pcscf-a') as PcscfPlan).e2ae).toBe('allow');
    expect((elementByName(plan, 'pcscf-b') as PcscfPlan).e2ae).toBe('forbid');
  });
  it('lists the known elements for an unknown name', () => {
    expect(() => elementByName(planNetwork(subs, 'local'), 'dave')).toThrow(/known: ims-agw-a, ims-agw-b, scscf/);
  });
});

describe('configuration rendering', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imslab-render-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a placeholder without a value', () => {
    expect(() => fillTemplate('a {{X}} b', {}, 't')).toThrow(TopologyError);
    expect(fillTemplate('a {{X}} b', { X: '1' }, 't')).toBe('a 1 b');
  });

  it('renders Kamailio configurations that Kamailio itself accepts (kamailio -c)', () => {
    const plan = planNetwork(subs, 'local', { policy: { 'pcscf-b': { e2ae: 'forbid' } }, servers: ['voicemail', 'conference'], conferences: [{ user: 'conf-team', mode: 'e2e', members: ['alice', 'bob'] }] });
    for (const e of plan.elements.filter((x) => x.kind === 'pcscf' || x.kind === 'scscf')) {
      const configDir = join(dir, e.name);
      const r = renderElement(e, { configDir, pkiDir: join(dir, 'pki'), runDir: dir, nodeCommand: ['node'], serviceEntry: (s) => s });
      execFileSync('mkdir', ['-p', configDir]);
      for (const [f, c] of Object.entries(r.files)) {
        expect(c).not.toMatch(/\{\{/);
        writeFileSync(join(configDir, f), c);
      }
      if (e.kind === 'scscf') expect(r.files['kamailio.cfg']).toContain('$sht(cred=>alice) = "alice-testbed-pw";');
      if (e.name === 'pcscf-b') expect(r.files['kamailio.cfg']).toContain('$sht(policy=>e2ae) = "forbid";');
      // -c checks the configuration and exits; the TLS files are only read at start-up.
      const out = execFileSync('kamailio', ['-c', '-f', join(configDir, 'kamailio.cfg')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out + '').toBeDefined();
    }
  });
});

describe('forwarding rules', () => {
  it('validate targets and timers, and render into the S-CSCF', () => {
    const plan = planNetwork(subs, 'local', { forwarding: { bob: { noAnswer: { to: 'sip:carol@ims.test', seconds: 4 }, busy: 'sip:carol@ims.test' } } });
    const scscf = elementByName(plan, 'scscf');
    const cfg = renderElement(scscf, { configDir: '/x', pkiDir: '/p', runDir: '/r', nodeCommand: ['node'], serviceEntry: (s) => s }).files['kamailio.cfg']!;
    expect(cfg).toContain('$sht(cfnr=>bob) = "sip:carol@ims.test";');
    expect(cfg).toContain('$sht(cfnrms=>bob) = 4000;');
    expect(cfg).toContain('$sht(cfb=>bob) = "sip:carol@ims.test";');
    expect(cfg).not.toMatch(/\$sht\(cfu=>\w+\) = /);
    expect(() => planNetwork(subs, 'local', { forwarding: { dave: {} } })).toThrow(/forwarding for unknown user; users: alice, bob, carol/);
    expect(() => validateForwarding({ noAnswer: { to: 'carol', seconds: 4 } }, 'f')).toThrow(/f.noAnswer.to/);
    expect(() => validateForwarding({ noAnswer: { to: 'sip:carol@x', seconds: 0 } }, 'f')).toThrow(/seconds 1..120/);
    expect(() => validateForwarding({ sometimes: 'sip:x@y' }, 'f')).toThrow(/unknown rule/);
  });
});

describe('application servers (voicemail, conference)', () => {
  const plan = planNetwork(subs, 'local', {
    servers: ['kms', 'voicemail', 'conference'], voicemail: { mailboxAccess: 'open' },
    conferences: [{ user: 'conf-team', mode: 'e2e', members: ['alice', 'bob'] }, { user: 'conf-mix', mode: 'e2m2e', members: ['carol'] }],
  });
  const paths = { configDir: '/c', pkiDir: '/p', runDir: '/r', nodeCommand: ['node'], serviceEntry: (s: string) => `${s}.mjs` };

  it('sit in the core; the S-CSCF routes their URIs (and the factory and ad-hoc conferences) to them', () => {
    const vm = elementByName(plan, 'voicemail');
    const conf = elementByName(plan, 'conference');
    expect(Object.keys(vm.addresses)).toEqual(['core']);
    expect(Object.keys(conf.addresses)).toEqual(['core']);
    const cfg = renderElement(elementByName(plan, 'scscf'), paths).files['kamailio.cfg']!;
    expect(cfg).toContain(`$sht(as=>voicemail) = "${vm.addresses.core}:5060";`);
    expect(cfg).toContain(`$sht(as=>conf-team) = "${conf.addresses.core}:5060";`);
    expect(cfg).toContain(`$sht(as=>conference-factory) = "${conf.addresses.core}:5060";`);
    expect(cfg).toContain('"conf-adhoc-"');
  });

  it('get their configuration: the voicemail store in the run directory, conference members as URIs, e2e groups at the KMS', () => {
    const vm = renderElement(elementByName(plan, 'voicemail'), paths);
    const vcfg = JSON.parse(vm.files['voicemail.json']!);
    expect(vcfg).toMatchObject({ storeDir: '/r/voicemail-store', mailboxAccess: 'open', sipPort: 5060 });
    expect(vm.command).toEqual(['node', 'voicemail.mjs', '--config', '/c/voicemail.json']);
    const ccfg = JSON.parse(renderElement(elementByName(plan, 'conference'), paths).files['conference.json']!);
    expect(ccfg.conferences).toEqual([
      { user: 'conf-team', mode: 'e2e', members: ['sip:alice@ims.test', 'sip:bob@ims.test'] },
      { user: 'conf-mix', mode: 'e2m2e', members: ['sip:carol@ims.test'] },
    ]);
    const kms = JSON.parse(renderElement(elementByName(plan, 'kms'), { ...paths, kmsSecrets: undefined }).files['kms.json']!);
    // Only e2e conferences have a group key.
    expect(kms.groups).toEqual([{ uri: 'sip:conf-team@ims.test', members: ['sip:alice@ims.test', 'sip:bob@ims.test'] }]);
  });

  it('refuse conferences without the server, bad names and unknown members', () => {
    expect(() => planNetwork(subs, 'local', { conferences: [{ user: 'conf-x', mode: 'e2e', members: ['alice'] }] })).toThrow(/need the conference server/);
    expect(() => planNetwork(subs, 'local', { servers: ['conference'], conferences: [{ user: 'team', mode: 'e2e', members: ['alice'] }] })).toThrow(/conf-<name>/);
    expect(() => planNetwork(subs, 'local', { servers: ['conference'], conferences: [{ user: 'conf-x', mode: 'e2e', members: ['dave'] }] })).toThrow(/not a subscriber/);
  });
});
