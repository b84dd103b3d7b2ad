import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Analysis, CallReport, PathLink, PathReport } from '@imslab/analysis';
import { planNetwork } from '@imslab/network';
import { REPO_ROOT, loadSubscribers } from '@imslab/topology';
import { checkCall } from '../src/expect.ts';
import type { CallRecord } from '../src/checks/index.ts';
import { hasProgram } from '../src/prerequisites.ts';
import { cutOff, removeCut, removeStaleCuts } from '../src/targets/local-cut.ts';

/**
 * A call a fault step hit: judged fault(<element>) whatever the packets
 * say, with what was seen as evidence; afterFault reads, per direction,
 * whether the media still reached the receiving end on its own link.
 */
const plan = planNetwork(loadSubscribers(`${REPO_ROOT}/config/subscribers.yaml`), 'local', {});
const CALL_ID = 'fault-test@127.0.1.100';
const AT = 1_800_000_000_000; // ms
const addr = (n: string, net: 'access-a' | 'core' | 'access-b') => plan.elements.find((e) => e.name === n)!.addresses[net]!;

/** One direction's path: alice -> AGW-A on access-a, AGW-A -> AGW-B in the core, AGW-B -> bob-1 on access-b; `lastUs` per link. */
function path(direction: 'orig' | 'term', last: Record<'access-a' | 'core' | 'access-b', number>): PathReport {
  const [ue, agwOnUeSide] = direction === 'orig' ? [addr('bob-1', 'access-b'), addr('ims-agw-b', 'access-b')] : [addr('alice', 'access-a'), addr('ims-agw-a', 'access-a')];
  const link = (lastUs: number, hop: { src: string; dst: string }): PathLink => ({ protection: 'srtp', packets: 100, unknown: 0, unmarked: 0, keys: ['k'], flows: ['f'], hops: [{ ...hop, keys: ['k'] }], firstUs: AT * 1000 - 2e6, lastUs });
  const toUeLink = direction === 'orig' ? 'access-b' : 'access-a';
  const links: Record<string, PathLink> = {};
  for (const name of ['access-a', 'core', 'access-b'] as const) {
    links[name] = link(last[name], name === toUeLink ? { src: `${agwOnUeSide}:30000`, dst: `${ue}:40000` } : { src: '127.0.2.11:30002', dst: '127.0.2.31:30004' });
  }
  return { direction, marker: 'm', links, verdict: 'e2e', reasons: [] };
}

const after = (s: number) => AT * 1000 + s * 1e6;

async function judge(paths: PathReport[], exp: Record<string, unknown>, faulted = true) {
  const report: CallReport = { alias: 'c1', callId: CALL_ID, verdict: 'e2e', paths, evidence: [], conditions: [] };
  const analysis: Analysis = { links: [], calls: [report], keys: [], problems: [], tls: {}, keyExposure: [], stores: [] };
  const call: CallRecord = { alias: 'c1', callId: CALL_ID, from: 'alice', ...(faulted ? { faults: [{ element: 'ims-agw-a', action: 'kill' as const, at: AT }] } : {}) };
  return checkCall('c1', exp as never, { calls: new Map([['c1', call]]), analysis, ueCalls: {}, captures: {}, plan, evidence: () => undefined });
}

describe('the verdict of a call a fault hit', () => {
  it('is fault(<element>), and the packets\' own verdict is kept in the evidence', async () => {
    const o = await judge([path('orig', { 'access-a': after(2), core: after(-0.5), 'access-b': after(-0.5) })], { verdict: 'fault(ims-agw-a)' });
    expect(o.observed).toBe('fault(ims-agw-a)');
    expect(o.pass).toBe(true);
    expect(o.evidence.join('\n')).toMatch(/ims-agw-a killed at 2027-/);
    expect(o.evidence.join('\n')).toMatch(/the packets alone say: e2e/);
    expect(o.evidence.join('\n')).toMatch(/orig: no longer reached the receiving end; access-a: srtp for 2\.0 s after the fault; core: nothing after the fault; access-b \(to bob-1\): nothing after the fault/);
  });

  it('a scenario expecting the packets\' verdict fails when a fault hit the call', async () => {
    const o = await judge([path('orig', { 'access-a': after(2), core: after(2), 'access-b': after(2) })], { verdict: 'e2e' });
    expect(o.pass).toBe(false);
    expect(o.mismatches.join()).toMatch(/verdict fault\(ims-agw-a\), expected e2e/);
  });
});

describe('afterFault', () => {
  const stopped = [path('orig', { 'access-a': after(2), core: after(0.1), 'access-b': after(0.1) }), path('term', { 'access-a': after(0.1), core: after(2), 'access-b': after(2) })];
  const continued = [path('orig', { 'access-a': after(2), core: after(2), 'access-b': after(2) }), path('term', { 'access-a': after(2), core: after(2), 'access-b': after(2) })];
  const oneWay = [stopped[0]!, continued[1]!];

  it('stopped: neither direction reached its UE later than packets in flight (the UE kept sending into the dead element)', async () => {
    expect((await judge(stopped, { verdict: 'fault(ims-agw-a)', afterFault: 'stopped' })).mismatches).toEqual([]);
    expect((await judge(stopped, { verdict: 'fault(ims-agw-a)', afterFault: 'continued' })).mismatches.join()).toMatch(/media stopped, expected continued/);
  });

  it('continued: both directions still reached their UEs', async () => {
    expect((await judge(continued, { verdict: 'fault(ims-agw-a)', afterFault: 'continued' })).mismatches).toEqual([]);
    expect((await judge(continued, { verdict: 'fault(ims-agw-a)', afterFault: 'stopped' })).mismatches.join()).toMatch(/media continued, expected stopped/);
  });

  it('one direction only is neither', async () => {
    for (const want of ['stopped', 'continued']) {
      expect((await judge(oneWay, { verdict: 'fault(ims-agw-a)', afterFault: want })).mismatches.join()).toMatch(/media continued term only/);
    }
  });

  it('without a fault step there is nothing to judge', async () => {
    expect((await judge(continued, { verdict: 'e2e', afterFault: 'continued' }, false)).mismatches.join()).toMatch(/no fault step hit this call/);
  });
});

describe.runIf(hasProgram('iptables') && process.getuid?.() === 0)('the iptables chain of a cut', () => {
  it('is removed with its dead runner by the next run (downLocal), a live runner\'s is kept', () => {
    const dead = 'IMSLAB-4194300-7-1'; // above any pid_max: no such process
    const live = `IMSLAB-${process.pid}-7-99`;
    try {
      cutOff(dead, ['127.7.9.9'], []);
      cutOff(live, ['127.7.9.8'], [{ address: '127.7.9.8', port: 8080 }]);
      const rules = execFileSync('iptables', ['-w', '-S'], { encoding: 'utf8' });
      expect(rules).toContain(`-A OUTPUT -j ${dead}`);
      expect(rules).toContain(`-A ${live} -d 127.7.9.8/32 -p tcp -m tcp --dport 8080 -j RETURN`);
      expect(removeStaleCuts(false)).toEqual([`iptables chain ${dead}`]);
      const after = execFileSync('iptables', ['-w', '-S'], { encoding: 'utf8' });
      expect(after).not.toContain(dead);
      expect(after).toContain(live);
    } finally {
      removeCut(dead);
      removeCut(live);
    }
  });
});
