import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKS, SCENARIO_SCHEMA_FILE, loadAllScenarios, loadScenario, scenarioJsonSchema, selectScenarios } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'imslab-scenario-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OK = `name: x
clause: "4.1.1"
title: t
network:
  servers: [kms]
steps:
  - register: [alice]
  - call: { from: alice, to: "sip:bob@ims.test", security: e2e, as: c1 }
  - hangup: { ue: alice, call: c1 }
expect:
  c1: { verdict: e2e, kmsResolved: [bob-1] }
`;

function load(text: string, name = 'x') {
  mkdirSync(join(dir, '4.1.1'), { recursive: true });
  const f = join(dir, '4.1.1', `${name}.yaml`);
  writeFileSync(f, text);
  return () => loadScenario(f);
}

describe('scenario files', () => {
  it('every scenario in the repository loads, names are unique, and the committed JSON schema is current', () => {
    const all = loadAllScenarios();
    expect(all.length).toBeGreaterThanOrEqual(27);
    expect(new Set(all.map((s) => s.name)).size).toBe(all.length);
    expect(JSON.parse(readFileSync(SCENARIO_SCHEMA_FILE, 'utf8'))).toEqual(JSON.parse(JSON.stringify(scenarioJsonSchema())));
    for (const f of all) expect(readFileSync(f.file, 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=../scenario.schema.json');
  });

  it('loads a good file into typed steps and expectations', () => {
    const s = load(OK)();
    expect(s.network).toEqual({ servers: ['kms'] });
    expect(s.steps[1]).toEqual({ call: { from: 'alice', to: 'sip:bob@ims.test', security: 'e2e', as: 'c1' } });
    expect(s.expect.c1).toEqual({ verdict: 'e2e', kmsResolved: ['bob-1'] });
  });

  it('refuses a misspelt expectation key at its line and column, naming the key it meant', () => {
    expect(load(OK.replace('kmsResolved', 'kmsResolvd'))).toThrow(/x\.yaml:11:23: expect\.c1\.kmsResolvd: unknown key "kmsResolvd" \(did you mean "kmsResolved"\?\); an expectation allows: judge, verdict, /);
  });

  it('refuses unknown and bad keys everywhere: network, steps, values', () => {
    expect(load(OK.replace('servers: [kms]', 'servers: [kms]\n  polcy: { pcscf-a: { e2ae: allow } }'))).toThrow(/x\.yaml:6:3: network\.polcy: unknown key "polcy" \(did you mean "policy"\?\); network allows: servers, forwarding, /);
    expect(load(OK.replace('servers: [kms]', 'attacks: { pcscf-a: eavesdrop }'))).toThrow(/x\.yaml:5:23: network\.attacks\.pcscf-a: Invalid option: expected one of "tamper-key-mgmt"\|"strip-sdes"\|"strip-key-mgmt"\|"replay-key-mgmt"\|"substitute-sdes"\|"strip-mediasec"\|"strip-3ge2ae"/);
    expect(load(OK.replace('- register: [alice]', '- regster: [alice]'))).toThrow(/x\.yaml:7:5: steps\[0\]: a step has exactly one of register, call, .*found "regster" \(did you mean "register"\?\)/);
    expect(load(OK.replace('security: e2e,', 'security: e2e, colour: red,'))).toThrow(/x\.yaml:8:\d+: steps\[1\]\.call\.colour: unknown key "colour"/);
    expect(load(OK.replace('security: e2e,', 'security: safe,'))).toThrow(/steps\[1\]\.call\.security: Invalid option: expected one of "none"\|"e2ae"/);
    expect(load(OK.replace('verdict: e2e', 'verdict: safe'))).toThrow(/expect\.c1\.verdict: must be e2e, e2ae, none, unknown, no-media or e2m2e/);
    expect(load(OK.replace('verdict: e2e,', ''))).toThrow(/expect\.c1\.verdict: Invalid input: expected string, received undefined/);
  });

  it('refuses references to calls that no step defines, and a name that is not the file\'s', () => {
    expect(load(OK.replace('call: c1 }', 'call: c9 }'))).toThrow(/steps\[2\]\.hangup: refers to call "c9" before a call step defines it/);
    expect(load(OK.replace('  c1: {', '  c2: {'))).toThrow(/expect\.c2: no call step defines "c2" \(did you mean "c1"\?\); calls: c1/);
    expect(load(OK, 'y')).toThrow(/y\.yaml:1:7: name: must equal the file name \(y\)/);
  });

  it('PoC floor steps: typed outcomes, calls defined before use, strict keys', () => {
    const poc = OK.replace('security: e2e,', 'security: poc-e2e,').replace('  - hangup:', '  - floor-request: { ue: alice, call: c1, outcome: denied }\n  - talk-without-floor: { ue: alice, call: c1 }\n  - floor-release: { ue: alice, call: c1 }\n  - hangup:');
    expect(load(poc)().steps.slice(2, 5)).toEqual([
      { 'floor-request': { ue: 'alice', call: 'c1', outcome: 'denied' } }, { 'talk-without-floor': { ue: 'alice', call: 'c1' } }, { 'floor-release': { ue: 'alice', call: 'c1' } },
    ]);
    expect(load(poc.replace('outcome: denied', 'outcome: maybe'))).toThrow(/steps\[2\]\.floor-request\.outcome: Invalid option: expected one of "granted"\|"denied"\|"queued"/);
    expect(load(poc.replace('floor-release: { ue: alice, call: c1 }', 'floor-release: { ue: alice, call: c7 }'))).toThrow(/steps\[4\]\.floor-release: refers to call "c7" before a call step defines it/);
    expect(load(poc.replace('kmsResolved: [bob-1]', 'floor: { granted: yes }'))).toThrow(/expect\.c1\.floor\.granted: Invalid input: expected boolean/);
  });

  it('video and text streams: named <as>.video, <as>.text in the steps that count media and the expectations, not in steps on the whole call', () => {
    const av = OK.replace('security: e2e, as: c1 }', 'security: poc-e2e, as: c1, media: [audio, video, text], firstSequence: 65500 }')
      .replace('  - hangup:', '  - wait-probe: { call: c1.video, of: c1.text, packets: 5 }\n  - hangup:');
    const s = load(av)();
    expect(s.steps[1]).toEqual({ call: { from: 'alice', to: 'sip:bob@ims.test', security: 'poc-e2e', as: 'c1', media: ['audio', 'video', 'text'], firstSequence: 65500 } });
    expect(load(av.replace('hangup: { ue: alice, call: c1 }', 'hangup: { ue: alice, call: c1.video }'))).toThrow(/steps\[3\]\.hangup\.call: hangup acts on the whole call: name the call "c1", not its video stream "c1\.video" \(streams are for wait-media, wait-probe, wait-unreadable and the expectations\)/);
    expect(load(av.replace('media: [audio, video, text]', 'media: [audio, text]'))).toThrow(/refers to call "c1\.video" before a call step defines it/);
    // A plain call may be named like a stream: only the call steps' streams are refused.
    expect(load(OK.replace(/c1/g, 'team.video'))().steps[2]).toEqual({ hangup: { ue: 'alice', call: 'team.video' } });
    expect(load(av.replace('firstSequence: 65500', 'firstSequence: 65536'))).toThrow(/steps\[1\]\.call\.firstSequence: Too big: expected number to be <=65535/);
  });

  it('selects by name, suite or all; an unknown name lists the known ones', () => {
    const all = loadAllScenarios();
    expect(selectScenarios(['4.1.4'], all).every((s) => s.clause === '4.1.4')).toBe(true);
    expect(selectScenarios(['all'], all)).toHaveLength(all.length);
    expect(() => selectScenarios(['acess-edge-protection'], all)).toThrow(/unknown scenario or suite "acess-edge-protection" \(did you mean access-edge-protection\?\); scenarios: .*; suites: .*4\.1\.4/);
  });

  it('builds the expectation schema from the check registry, one check per key', () => {
    const props = (scenarioJsonSchema() as { properties: { expect: { additionalProperties: { properties: Record<string, unknown> } } } }).properties.expect.additionalProperties.properties;
    expect(Object.keys(props).sort()).toEqual(['judge', ...CHECKS.map((c) => c.key)].sort());
    expect(new Set(CHECKS.map((c) => c.key)).size).toBe(CHECKS.length);
  });
});
