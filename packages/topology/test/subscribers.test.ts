import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TopologyError, addressing, everyAddressOf, fillTemplate, loadSubscribers, networkPrefix } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'imslab-subs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(text: string) {
  const f = join(dir, 'subscribers.yaml');
  writeFileSync(f, text);
  return () => loadSubscribers(f, dir);
}

const ONE = 'domain: x.test\nsubscribers:\n  - user: a\n    password: p\n    network: access-a\n    devices: [{ name: a, host: 100 }]\n';

describe('the subscriber file', () => {
  it('loads the repository file, with defaults filled in', () => {
    const subs = loadSubscribers(join(REPO_ROOT, 'config', 'subscribers.yaml'));
    expect(subs.domain).toBe('ims.test');
    expect(subs.subscribers.map((s) => s.user)).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect(subs.subscribers[1]!.devices).toEqual([{ name: 'bob-1', host: 100, autoAnswer: true, external: false }, { name: 'bob-2', host: 101, autoAnswer: false, external: false }]);
    expect(subs.subscribers[3]!.devices[0]!.external).toBe(true);
    expect(subs.policy['pcscf-a'].e2ae).toBe('allow');
    expect(subs.pocGroups).toEqual([
      { name: 'team', mode: 'e2e', members: ['alice', 'bob', 'carol'], contention: 'deny' },
      { name: 'ops', mode: 'e2m2e', members: ['alice', 'bob', 'carol'], contention: 'queue' },
      { name: 'pair', mode: 'e2e', members: ['alice', 'bob'], contention: 'deny' },
    ]);
    expect(load(ONE)().pocGroups).toEqual([]);
    expect(load(ONE)().subscribers[0]).toMatchObject({ displayName: 'a', forwarding: {} });
  });

  it('refuses what cannot be built, at its line and column, saying what is allowed', () => {
    // PoC groups (TR 33.828 4.2): members are subscribers, names unique, a mode the server has.
    expect(load(ONE + 'pocGroups:\n  - { name: g, mode: e2e, members: [a, erin] }\n')).toThrow(/pocGroups\[0\]\.members\[1\]: "erin" is not a subscriber; users: a/);
    expect(load(ONE + 'pocGroups:\n  - { name: g, mode: e2e, members: [a] }\n  - { name: g, mode: e2e, members: [a] }\n')).toThrow(/pocGroups\[1\]\.name: PoC group "g" is listed twice/);
    expect(load(ONE + 'pocGroups:\n  - { name: g, mode: e2ae, members: [a] }\n')).toThrow(/pocGroups\[0\]\.mode: Invalid option: expected one of "e2e"\|"e2m2e"/);
    expect(load(ONE.replace('access-a', 'core'))).toThrow(/subscribers\.yaml:5:14: subscribers\[0\]\.network: Invalid option: expected one of "access-a"\|"access-b"/);
    expect(load(ONE.replace('host: 100', 'host: 10'))).toThrow(/subscribers\.yaml:6:32: subscribers\[0\]\.devices\[0\]\.host: .*>=50/);
    expect(load(ONE.replace('password: p', 'pasword: p'))).toThrow(/subscribers\.yaml:4:5: subscribers\[0\]\.pasword: unknown key "pasword" \(did you mean "password"\?\)/);
    expect(load(ONE + 'policy: { pcscf-a: { e2ae: maybe } }\n')).toThrow(/policy\.pcscf-a\.e2ae: Invalid option: expected one of "allow"\|"forbid"/);
    expect(load(ONE.replace('{ name: a, host: 100 }', '{ name: a, host: 100 }, { name: a, host: 101 }'))).toThrow(/devices\[1\]\.name: device name "a" is used twice/);
    expect(load('domain: x.test\nsubscribers: []\n')).toThrow(/subscribers: expected a non-empty list/);
    expect(() => loadSubscribers(join(dir, 'missing.yaml'), dir)).toThrow(/missing\.yaml: cannot read it \(ENOENT\)/);
  });

  it('checks forwarding targets and timers', () => {
    const fwd = (f: string) => load(ONE.replace('    devices:', `    forwarding: ${f}\n    devices:`));
    expect(fwd('{ noAnswer: { to: "sip:b@x.test", seconds: 4 } }')().subscribers[0]!.forwarding).toEqual({ noAnswer: { to: 'sip:b@x.test', seconds: 4 } });
    expect(fwd('{ noAnswer: { to: carol, seconds: 4 } }')).toThrow(/forwarding\.noAnswer\.to: expected a SIP URI/);
    expect(fwd('{ noAnswer: { to: "sip:b@x", seconds: 0 } }')).toThrow(/forwarding\.noAnswer\.seconds/);
    expect(fwd('{ sometimes: "sip:b@x" }')).toThrow(/unknown key "sometimes"; forwarding allows: unconditional, noAnswer, busy/);
  });
});

describe('addresses', () => {
  it('gives each local slot a loopback range of its own and the docker target 198.18.0.0/15', () => {
    expect(networkPrefix('local', 'access-a')).toBe('127.0.1');
    expect(networkPrefix('local', 'core', 3)).toBe('127.3.2');
    expect(networkPrefix('docker', 'access-b')).toBe('198.18.3');
    expect(() => networkPrefix('docker', 'core', 1)).toThrow(TopologyError);
    expect(() => networkPrefix('local', 'core', 8)).toThrow(/a local slot is 0\.\.7/);
    const a = addressing('local', 2);
    expect(a.at('core', 20)).toBe('127.2.2.20');
    expect(a.inner(51)).toBe('127.2.9.51');
    expect(addressing('docker').inner(51)).toBe('127.0.0.1');
    expect(a.links.map((l) => l.subnet)).toEqual(['127.2.1.0/24', '127.2.2.0/24', '127.2.3.0/24']);
    expect(everyAddressOf('access-a', 10)).toEqual(['198.18.1.10', ...Array.from({ length: 8 }, (_, s) => `127.${s}.1.10`)]);
  });
});

describe('templates', () => {
  it('refuse a placeholder without a value and a value without a placeholder', () => {
    expect(fillTemplate('a {{X}} b', { X: '1' }, 't')).toBe('a 1 b');
    expect(() => fillTemplate('a {{X}} b', {}, 't')).toThrow(/\{\{X\}\} has no value/);
    expect(() => fillTemplate('a {{X}} b', { X: '1', Y: '2' }, 't')).toThrow(/values without a placeholder in the template: Y/);
  });
});
