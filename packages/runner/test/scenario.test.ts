import { describe, expect, it } from 'vitest';
import { loadAllScenarios, selectScenarios, validateScenario } from '../src/scenario.ts';

const ok = {
  name: 'x', clause: '4.1.1', title: 't',
  steps: [{ register: ['alice'] }, { call: { from: 'alice', to: 'sip:bob@ims.test', as: 'c1' } }, { hangup: { ue: 'alice', call: 'c1' } }],
  expect: { c1: { verdict: 'none' } },
};

describe('scenario files', () => {
  it('every scenario in the repository validates, and names are unique', () => {
    const all = loadAllScenarios();
    expect(all.length).toBeGreaterThanOrEqual(8);
    expect(new Set(all.map((s) => s.name)).size).toBe(all.length);
  });
  it('reject what cannot run, saying what is wrong', () => {
    expect(() => validateScenario({ ...ok, name: 'y' }, '/s/x.yaml')).toThrow(/"name" must equal the file name/);
    expect(() => validateScenario({ ...ok, steps: [{ dance: {} }] }, '/s/x.yaml')).toThrow(/steps\[0\] must be one of register, call/);
    expect(() => validateScenario({ ...ok, steps: [{ hangup: { ue: 'alice', call: 'c9' } }] }, '/s/x.yaml')).toThrow(/refers to call "c9" before a call step defines it/);
    expect(() => validateScenario({ ...ok, expect: { c1: { verdict: 'safe' } } }, '/s/x.yaml')).toThrow(/verdict must be e2e, e2ae, none, unknown, no-media or e2m2e/);
    expect(() => validateScenario({ ...ok, expect: { c2: { verdict: 'none' } } }, '/s/x.yaml')).toThrow(/expect.c2: no call step defines "c2"/);
    expect(() => validateScenario({ ...ok, network: { forwarding: { bob: { noAnswer: { to: 'x', seconds: 3 } } } } }, '/s/x.yaml')).toThrow(/noAnswer.to/);
  });
  it('select by name, suite or all; an unknown name lists the known ones', () => {
    const all = loadAllScenarios();
    expect(selectScenarios(['4.1.4'], all).every((s) => s.clause === '4.1.4')).toBe(true);
    expect(selectScenarios(['all'], all)).toHaveLength(all.length);
    expect(() => selectScenarios(['nope'], all)).toThrow(/unknown scenario or suite "nope"; scenarios: .*access-edge-protection.*; suites: .*4\.1\.4/);
  });
});
