import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wiresharkMediaOptions, type DecryptResult } from '@imslab/decrypt';
import { LocalTarget, SCENARIO_DIR, loadAllScenarios, readStates, runScenarios, type ScenarioResult } from '@imslab/runner';

/**
 * The whole network on the local target: real Kamailio, rtpengine and
 * tcpdump, our UEs and servers, verdicts from the captures. Every scenario
 * on a network of its own, three side by side (each on its own loopback
 * range), as `imslab run all` does.
 */
// The fault scenarios run one at a time in faults.test.ts, each followed by a search for leftovers.
const scenarios = loadAllScenarios().filter((s) => !relative(SCENARIO_DIR, s.file).startsWith('faults/'));
const results = new Map<string, ScenarioResult>();
let runDir = '';

beforeAll(async () => {
  const { results: rs, session } = await runScenarios(async () => new LocalTarget(), scenarios, { jobs: 3 });
  for (const r of rs) results.set(r.scenario, r);
  runDir = session.dir;
}, 600_000);

describe('scenarios on the local target', () => {
  it.each(scenarios.map((s) => [`${s.clause} ${s.name}`, s.name] as const))('%s', (_label, name) => {
    const r = results.get(name);
    expect(r, `${name} did not run`).toBeDefined();
    const detail = JSON.stringify({ error: r!.error, calls: r!.calls.map((c) => ({ alias: c.alias, observed: c.observed, mismatches: c.mismatches })) }, null, 1);
    expect(r!.error, detail).toBeNull();
    expect(r!.calls.length, detail).toBeGreaterThan(0);
    for (const c of r!.calls) {
      expect(c.observed, detail).toBe(c.expected);
      expect(c.mismatches, detail).toEqual([]);
    }
  });
});

/** tshark's fields, one array per packet. */
const tshark = (file: string, ...args: string[]) =>
  execFileSync('tshark', ['-r', file, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 }).trim().split('\n').filter(Boolean).map((l) => l.split('\t'));

describe('the evidence files of a run, opened by tshark', () => {
  const dirOf = (name: string) => join(runDir, results.get(name)!.dir);

  it('all-links.pcapng carries the TLS secrets: tshark reads the SIP inside TLS on the access links with no key-log option', () => {
    const sip = tshark(join(dirOf('sdes-e2e-call'), 'all-links.pcapng'), '-Y', 'sip', '-T', 'fields', '-e', 'frame.interface_name', '-e', 'tls.record.content_type');
    const links = new Set(sip.map(([link]) => link));
    expect([...links].sort()).toEqual(['access-a', 'access-b', 'core']);
    // The access links carry SIP only inside TLS (content type 23: application data).
    expect(sip.filter(([link]) => link !== 'core').every(([, ct]) => ct?.split(',').includes('23'))).toBe(true);
  });

  it('decrypted.pcapng holds the RTP inside the SRTP: the same payload, packet for packet, on every link of an e2e call', () => {
    const dir = dirOf('sdes-e2e-call');
    // The options `imslab inspect` prints: the file's SDP says SRTP, and Wireshark would take the plaintext for SRTP.
    const opts = wiresharkMediaOptions((JSON.parse(readFileSync(join(dir, 'decrypted.json'), 'utf8')) as DecryptResult).streams);
    // Not ICMP: an RTP packet that arrives after its receiver closed the socket (the far end's last packet
    // racing the hangup) comes back quoted in a port-unreachable, still encrypted, as the captures show it.
    const rows = tshark(join(dir, 'decrypted.pcapng'), ...opts, '-Y', 'rtp && !icmp', '-T', 'fields', '-e', 'frame.interface_name', '-e', 'rtp.ssrc', '-e', 'rtp.seq', '-e', 'rtp.payload');
    const bySeq = new Map<string, Map<string, string>>();
    for (const [link, ssrc, seq, payload] of rows) {
      const k = `${ssrc}/${seq}`;
      if (!bySeq.has(k)) bySeq.set(k, new Map());
      bySeq.get(k)!.set(link!, payload!);
    }
    const seenOnAll = [...bySeq.values()].filter((m) => m.size === 3);
    expect(seenOnAll.length).toBeGreaterThan(40);
    for (const m of seenOnAll) {
      expect([...m.values()].every((p) => p !== undefined && p.length > 0)).toBe(true);
      expect(new Set(m.values()).size).toBe(1);
    }
    // tshark's own RTP analysis finds the streams (6: two directions on three links) with nothing lost in them.
    const streams = execFileSync('tshark', ['-r', join(dir, 'decrypted.pcapng'), ...opts, '-q', '-z', 'rtp,streams'], { encoding: 'utf8' });
    expect(streams.match(/ g711[UA] /g)?.length).toBe(6);
    expect(streams).not.toMatch(/SRTP/);
    expect(existsSync(join(dir, 'audio'))).toBe(true);
  });

  it('report.html is written for the run and names every scenario', () => {
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    for (const s of scenarios) expect(html).toContain(s.name);
  });
});

afterAll(() => {
  // Nothing left running after the runs: no state file of a network of this process.
  expect(readStates().filter((s) => s.state.runnerPid === process.pid)).toEqual([]);
});
