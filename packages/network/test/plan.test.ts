import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, loadSubscribers, type ElementPaths, type PlannedElement } from '@imslab/topology';
import {
  KINDS, NetworkOverridesSchema, OVERRIDE_OWNER, addressOwner, deviceNames, elementByName, kindOf, listensOf, pkiEntities, planNetwork, readinessOf, renderElement, startStages,
} from '../src/index.ts';

const subs = loadSubscribers(join(REPO_ROOT, 'config', 'subscribers.yaml'));
const SECRETS = { masterKey: 'ab'.repeat(32), devices: { alice: '01'.repeat(32), 'bob-1': '02'.repeat(32), 'bob-2': '03'.repeat(32), carol: '04'.repeat(32), dave: '05'.repeat(32), poc: '06'.repeat(32) } };
const paths: ElementPaths = { configDir: '/c', pkiDir: '/p', runDir: '/r', nodeCommand: ['node'], serviceEntry: (s) => `${s}.mjs`, kmsSecrets: SECRETS };
const cfg = (e: PlannedElement, file: string) => renderElement(e, paths).files[file]!;
const ALL_SERVERS = { servers: ['kms', 'transcoder', 'voicemail', 'conference', 'poc', 'msrp-relay'] };

describe('the registry', () => {
  it('has one kind per folder, each declaring what targets need', () => {
    expect(KINDS.map((k) => k.kind)).toEqual(['ims-agw', 'transcoder', 'voicemail', 'conference', 'poc', 'im', 'chat', 'msrp-relay', 'attacker', 'kms', 'scscf', 'pcscf', 'ue']);
    for (const k of KINDS) {
      expect(k.summary.length).toBeGreaterThan(10);
      expect(['always', 'on-demand']).toContain(k.presence);
      expect(k.image.name).toMatch(/^[a-z-]+$/);
    }
    expect(() => kindOf('no-such-kind')).toThrow(/unknown element kind; kinds: ims-agw, transcoder/);
  });

  it('gives every scenario network key exactly one owner', () => {
    expect(OVERRIDE_OWNER).toEqual({ transcode: 'transcoder', voicemail: 'voicemail', conferences: 'conference', policy: 'pcscf', relay: 'pcscf', attacks: 'pcscf', ues: 'ue', kms: 'kms' });
    expect(NetworkOverridesSchema.safeParse({ polcy: {} }).success).toBe(false);
  });
});

describe('the network plan', () => {
  for (const [target, slot] of [['local', 0], ['local', 5], ['docker', 0]] as const) {
    it(`gives every element unique addresses inside its links (${target}, slot ${slot})`, () => {
      const plan = planNetwork(subs, target, ALL_SERVERS, slot);
      const all = plan.elements.flatMap((e) => Object.values(e.addresses));
      expect(new Set(all).size).toBe(all.length);
      for (const e of plan.elements) {
        for (const [net, addr] of Object.entries(e.addresses)) {
          expect(addr!.startsWith(plan.links.find((l) => l.name === net)!.prefix + '.')).toBe(true);
        }
      }
      expect(all.every((a) => (target === 'docker' ? /^198\.18\./ : new RegExp(`^127\\.${slot}\\.`)).test(a!))).toBe(true);
    });
  }

  it('has the always-present kinds by default, servers only when asked, and parts next to their whole', () => {
    expect(planNetwork(subs, 'local').elements.map((e) => e.name)).toEqual(['ims-agw-a', 'ims-agw-b', 'scscf', 'pcscf-a', 'pcscf-b', 'alice', 'bob-1', 'bob-2', 'carol']);
    const plan = planNetwork(subs, 'local', { servers: ['transcoder'], transcode: ['bob'] });
    expect(plan.elements.map((e) => e.name).slice(0, 4)).toEqual(['ims-agw-a', 'ims-agw-b', 'transcoder-media', 'transcoder']);
    expect(elementByName(plan, 'transcoder-media').partOf).toBe('transcoder');
    // Media gateways (the transcoder's too) start first, with what needs none; the Kamailio elements that
    // drive one start once it answers (Kamailio probes its rtpengine at start-up).
    const [first, second] = startStages(plan).map((s) => s.map((e) => e.name));
    expect(first).toEqual(expect.arrayContaining(['ims-agw-a', 'ims-agw-b', 'transcoder-media', 'scscf', 'alice']));
    expect(second).toEqual(['transcoder', 'pcscf-a', 'pcscf-b']);
  });

  it('plans a UA of the user\'s own (external device) with its address, but gives the targets nothing to start', () => {
    const plan = planNetwork(subs, 'local', { servers: ['kms'] });
    expect(plan.elements.map((e) => e.name)).not.toContain('dave');
    expect(plan.external.map((e) => [e.name, e.addresses])).toEqual([['dave', { 'access-a': '127.0.1.150' }]]);
    expect(addressOwner(plan)('127.0.1.150')).toEqual({ name: 'dave', kind: 'ue' });
    expect(deviceNames(plan)).toEqual(['alice', 'bob-1', 'bob-2', 'carol', 'dave']);
    // The PoC server holds SAKKE keys of its own: a device of the KMS too.
    expect(deviceNames(planNetwork(subs, 'local', { servers: ['kms', 'poc'] }))).toEqual(['poc', 'alice', 'bob-1', 'bob-2', 'carol', 'dave']);
    // Its user is known to the S-CSCF and the KMS like any other.
    expect(cfg(elementByName(plan, 'scscf'), 'kamailio.cfg')).toContain('$sht(cred=>dave) = "dave-testbed-pw";');
    expect(JSON.parse(cfg(elementByName(plan, 'kms'), 'kms.json')).users.map((u: { user: string }) => u.user)).toContain('dave');
  });

  it('applies a scenario override to the element it names only', () => {
    const plan = planNetwork(subs, 'local', { policy: { 'pcscf-b': { e2ae: 'forbid' } }, attacks: { 'pcscf-a': 'tamper-key-mgmt' }, ues: { 'bob-2': { busy: true } } });
    expect(cfg(elementByName(plan, 'pcscf-a'), 'kamailio.cfg')).toContain('$sht(policy=>e2ae) = "allow";');
    expect(cfg(elementByName(plan, 'pcscf-b'), 'kamailio.cfg')).toContain('$sht(policy=>e2ae) = "forbid";');
    expect(cfg(elementByName(plan, 'pcscf-a'), 'kamailio.cfg')).toContain('ATTACK: tampered');
    expect(cfg(elementByName(plan, 'pcscf-b'), 'kamailio.cfg')).not.toContain('ATTACK: tampered');
    expect(JSON.parse(cfg(elementByName(plan, 'bob-2'), 'ue.json'))).toMatchObject({ busy: true, autoAnswer: false });
    expect(JSON.parse(cfg(elementByName(plan, 'bob-1'), 'ue.json'))).toMatchObject({ autoAnswer: true });
    expect(JSON.parse(cfg(elementByName(plan, 'bob-1'), 'ue.json')).busy).toBeUndefined();
  });

  it('refuses overrides that cannot be built, naming what exists', () => {
    expect(() => planNetwork(subs, 'local', { forwarding: { erin: {} } })).toThrow(/network\.forwarding\.erin: forwarding for unknown user; users: alice, bob, carol, dave/);
    expect(() => planNetwork(subs, 'local', { conferences: [{ user: 'conf-x', mode: 'e2e', members: ['alice'] }] })).toThrow(/network\.conferences: needs the conference \(network\.servers: \[conference\]\)/);
    expect(() => planNetwork(subs, 'local', { servers: ['conference'], conferences: [{ user: 'team', mode: 'e2e', members: ['alice'] }] })).toThrow(/conf-<name>/);
    expect(() => planNetwork(subs, 'local', { servers: ['conference'], conferences: [{ user: 'conf-x', mode: 'e2e', members: ['erin'] }] })).toThrow(/not a subscriber/);
    expect(() => planNetwork(subs, 'local', { servers: ['transcoder'], transcode: ['erin'] })).toThrow(/transcode for unknown user/);
    expect(() => planNetwork(subs, 'local', { ues: { erin: { busy: true } } })).toThrow(/network\.ues\.erin: no such UE; UEs: alice, bob-1, bob-2, carol, dave/);
    expect(() => planNetwork(subs, 'local', { servers: ['no-such-server'] })).toThrow(/servers\[0\]: Invalid option/);
    expect(() => elementByName(planNetwork(subs, 'local'), 'erin')).toThrow(/known: ims-agw-a, ims-agw-b, scscf/);
  });

  it('declares listening ports and a readiness probe per element', () => {
    const plan = planNetwork(subs, 'local', ALL_SERVERS);
    expect(listensOf(elementByName(plan, 'pcscf-a')).map((l) => `${l.address}:${l.port}/${l.protocol}`)).toEqual(['127.0.1.10:5060/udp', '127.0.1.10:5060/tcp', '127.0.1.10:5061/tcp', '127.0.2.10:5060/udp']);
    expect(readinessOf(elementByName(plan, 'ims-agw-a'))).toEqual({ type: 'ng-ping', address: '127.0.2.11', port: 2223 });
    expect(readinessOf(elementByName(plan, 'alice'))).toEqual({ type: 'http', url: 'http://127.0.1.100:8000/health' });
    // The MSRP relay: MSRPS on the core and on each access network (where the UEs reach it), SIP OPTIONS on the core.
    expect(listensOf(elementByName(plan, 'msrp-relay')).map((l) => `${l.address}:${l.port}/${l.protocol}`)).toEqual(['127.0.2.45:2855/tcp', '127.0.1.45:2855/tcp', '127.0.3.45:2855/tcp', '127.0.2.45:5060/udp']);
    expect(readinessOf(elementByName(plan, 'msrp-relay'))).toEqual({ type: 'sip-options', address: '127.0.2.45', port: 5060 });
  });

  it('asks for certificates naming an element\'s addresses on every target and slot, so none regenerates the shared PKI', () => {
    const byName = Object.fromEntries(pkiEntities(planNetwork(subs, 'docker', ALL_SERVERS)).map((x) => [x.name, x.ips]));
    expect(Object.keys(byName).sort()).toEqual(['alice', 'bob-1', 'bob-2', 'carol', 'kms', 'msrp-relay', 'pcscf-a', 'pcscf-b']);
    for (let slot = 0; slot < 8; slot++) {
      for (const e of planNetwork(subs, 'local', ALL_SERVERS, slot).elements) {
        for (const ip of Object.values(e.addresses)) if (byName[e.name]) expect(byName[e.name]).toContain(ip);
      }
    }
  });
});

describe('configuration rendering', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imslab-render-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders Kamailio configurations that Kamailio itself accepts (kamailio -c)', () => {
    const plan = planNetwork(subs, 'local', { ...ALL_SERVERS, transcode: ['bob'], policy: { 'pcscf-b': { e2ae: 'forbid' } }, conferences: [{ user: 'conf-team', mode: 'e2e', members: ['alice', 'bob'] }] });
    for (const e of plan.elements.filter((x) => kindOf(x.kind).image.name === 'kamailio')) {
      const configDir = join(dir, e.name);
      mkdirSync(configDir, { recursive: true });
      const r = renderElement(e, { ...paths, configDir, pkiDir: join(dir, 'pki'), runDir: dir });
      for (const [f, c] of Object.entries(r.files)) writeFileSync(join(configDir, f), c);
      // -c checks the configuration and exits; the TLS files are only read at start-up.
      execFileSync('kamailio', ['-c', '-f', join(configDir, 'kamailio.cfg')], { stdio: ['ignore', 'pipe', 'pipe'] });
    }
  });

  it('renders forwarding rules, credentials and application-server routes into the S-CSCF', () => {
    const plan = planNetwork(subs, 'local', { ...ALL_SERVERS, forwarding: { bob: { noAnswer: { to: 'sip:carol@ims.test', seconds: 4 }, busy: 'sip:carol@ims.test' } }, conferences: [{ user: 'conf-team', mode: 'e2e', members: ['alice', 'bob'] }] });
    const s = cfg(elementByName(plan, 'scscf'), 'kamailio.cfg');
    expect(s).toContain('$sht(cred=>alice) = "alice-testbed-pw";');
    expect(s).toContain('$sht(cfnr=>bob) = "sip:carol@ims.test";');
    expect(s).toContain('$sht(cfnrms=>bob) = 4000;');
    expect(s).toContain('$sht(cfb=>bob) = "sip:carol@ims.test";');
    expect(s).not.toMatch(/\$sht\(cfu=>\w+\) = /);
    expect(s).toContain('$sht(as=>voicemail) = "127.0.2.60:5060";');
    expect(s).toContain('$sht(as=>conf-team) = "127.0.2.70:5060";');
    expect(s).toContain('$sht(as=>conference-factory) = "127.0.2.70:5060";');
    // PoC groups of the subscriber file route to the PoC server by their poc-<group> user.
    expect(s).toContain('$sht(as=>poc-team) = "127.0.2.80:5060";');
    expect(s).toContain('$sht(as=>poc-ops) = "127.0.2.80:5060";');
  });

  it('renders the MSRP relay with every address, the testbed certificate and the subscribers\' credentials (realm: the domain)', () => {
    const r = renderElement(elementByName(planNetwork(subs, 'docker', { servers: ['msrp-relay'] }), 'msrp-relay'), paths);
    const k = r.files['kamailio.cfg']!;
    for (const a of ['198.18.2.45', '198.18.1.45', '198.18.3.45']) expect(k).toContain(`listen=tls:${a}:2855\n`);
    expect(k).toContain('listen=udp:198.18.2.45:5060\n');
    expect(k).toContain('$sht(cred=>alice) = "alice-testbed-pw";');
    expect(k).toContain('$sht(cred=>dave) = "dave-testbed-pw";');
    expect(k).toContain('pv_www_authenticate("ims.test", ');
    expect(r.files['tls.cfg']).toContain('private_key = /p/msrp-relay.key\ncertificate = /p/msrp-relay.pem\nca_list = /p/ca.pem\n');
    expect(r.command).toEqual(['kamailio', '-DD', '-E', '-f', '/c/kamailio.cfg', '-P', '/r/msrp-relay.pid', '-m', '256', '-M', '8']);
  });

  it('renders our services\' JSON with the schema the service reads it with', () => {
    const plan = planNetwork(subs, 'local', { ...ALL_SERVERS, voicemail: { mailboxAccess: 'open' }, conferences: [{ user: 'conf-team', mode: 'e2e', members: ['alice', 'bob'] }, { user: 'conf-mix', mode: 'e2m2e', members: ['carol'] }] });
    const vm = renderElement(elementByName(plan, 'voicemail'), paths);
    expect(JSON.parse(vm.files['voicemail.json']!)).toMatchObject({ storeDir: '/r/voicemail-store', mailboxAccess: 'open', sipPort: 5060 });
    expect(vm.command).toEqual(['node', 'voicemail.mjs', '--config', '/c/voicemail.json']);
    expect(JSON.parse(cfg(elementByName(plan, 'conference'), 'conference.json')).conferences).toEqual([
      { user: 'conf-team', mode: 'e2e', members: ['sip:alice@ims.test', 'sip:bob@ims.test'] },
      { user: 'conf-mix', mode: 'e2m2e', members: ['sip:carol@ims.test'] },
    ]);
    const members = ['sip:alice@ims.test', 'sip:bob@ims.test', 'sip:carol@ims.test'];
    expect(JSON.parse(cfg(elementByName(plan, 'poc'), 'poc.json')).groups).toEqual([
      // e2e groups: the box finds each packet's key id (GMK-ID || GUK-ID) 8 octets before the 10-octet tag.
      { user: 'poc-team', mode: 'e2e', contention: 'deny', members, mkiBytes: 8, tagBytes: 10 },
      { user: 'poc-ops', mode: 'e2m2e', contention: 'queue', members },
      { user: 'poc-pair', mode: 'e2e', contention: 'deny', members: members.slice(0, 2), mkiBytes: 8, tagBytes: 10 },
    ]);
    // Only e2e conferences (group tickets) and e2e PoC groups (GMKs by MIKEY-SAKKE) have a group key.
    expect(JSON.parse(cfg(elementByName(plan, 'kms'), 'kms.json')).groups).toEqual([
      { uri: 'sip:conf-team@ims.test', members: ['sip:alice@ims.test', 'sip:bob@ims.test'], keying: 'ticket' },
      { uri: 'sip:poc-team@ims.test', members, keying: 'sakke' },
      { uri: 'sip:poc-pair@ims.test', members: members.slice(0, 2), keying: 'sakke' },
    ]);
    expect(JSON.parse(cfg(elementByName(plan, 'alice'), 'ue.json'))).toMatchObject({ kms: { secret: '01'.repeat(32), url: 'https://127.0.1.40:8443' } });
    // The PoC server is a KMS client of its own (its SAKKE key opens the members' CSKs, TS 33.180 7.3): a device like a UE's.
    expect(JSON.parse(cfg(elementByName(plan, 'poc'), 'poc.json')).kms).toEqual({ url: 'https://127.0.2.40:8443', identity: 'sip:poc@ims.test', device: 'poc', secret: '06'.repeat(32), caFile: '/p/ca.pem' });
    expect(JSON.parse(cfg(elementByName(plan, 'kms'), 'kms.json')).users.at(-1)).toEqual({ uri: 'sip:poc@ims.test', user: 'poc', forwarding: {}, devices: [{ name: 'poc', secret: '06'.repeat(32) }] });
  });

  it('refuses to render a configuration its element would refuse', () => {
    const plan = planNetwork(subs, 'local', { servers: ['kms'] });
    expect(() => renderElement(elementByName(plan, 'kms'), { ...paths, kmsSecrets: { masterKey: 'ab'.repeat(32), devices: {} } })).toThrow(/no KMS secret for this device/);
    expect(() => renderElement(elementByName(plan, 'kms'), { ...paths, kmsSecrets: { ...SECRETS, masterKey: 'xyz' } })).toThrow(/kms\.json: masterKey: must be 64 hex digits/);
  });
});
