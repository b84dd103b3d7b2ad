import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyse, type AddressOwner, type Analysis } from '@imslab/analysis';
import { mergeCaptures } from '@imslab/capture';
import { addressOwner, planNetwork, type ElementPlan } from '@imslab/network';
import { markerFor, type ProbeDirection } from '@imslab/probe';
import { DEFAULT_SUBSCRIBERS, LocalTarget, PKI_DIR, RunSession, UeClient, acquireSlot, newRunDir, type ScenarioResult } from '@imslab/runner';
import { issueCertificate, loadSubscribers, type NetworkPlan } from '@imslab/topology';
import type { CallStatus } from '@imslab/ue/contract';
import { Baresip, baresipBinary, writeBaresipHome, writeToneWav, type BaresipEvent } from '../interop/baresip.ts';

/**
 * Bring your own UA: Debian's baresip (baresip-core 1.0.0) attached to the
 * testbed as docs/connect-your-own-ua.md describes. It registers as user
 * `dave` over TLS through P-CSCF-A from dave's address on access-a, and
 * makes an SDES-SRTP call to our UE bob-1, then takes one from it; each call
 * is judged from the captures of every link.
 *
 * The network runs on a loopback slot leased like a run's (slot 7, 127.7.x.y,
 * unless another process holds it), so it never meets the networks of other
 * runs. dave is the subscriber config/subscribers.yaml
 * keeps for a UA of one's own: his one device is `external` (planned, so the
 * S-CSCF has his credentials and the analyser names 127.7.1.150 "dave", but
 * started by nothing): baresip takes its address.
 */

const LEASE = acquireSlot(7); // released in afterAll (a killed test worker runs no exit handler)
const SLOT = LEASE.slot;
const BIN = baresipBinary();
const DAVE = { user: 'dave', password: 'dave-testbed-pw', device: 'dave', host: 150 } as const;
const DAVE_AOR = 'sip:dave@ims.test';
const MEDIA_PACKETS = 50;

async function pollUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs)); // polling interval of a state check
  }
}

interface Net {
  run: RunSession;
  /** The network's directory: element configs, logs/, keys/ (our UEs' SRTP and TLS key logs). */
  dir: string;
  /** Every element, baresip's (external) device included: the analyser names addresses from it. */
  plan: NetworkPlan<ElementPlan>;
  /** What runs (the same plan: nothing starts an external device). */
  running: NetworkPlan<ElementPlan>;
  target: LocalTarget;
  bob: UeClient;
  baresip: Baresip;
  address: string;
  pcscf: string;
  timings: Record<string, number>;
}

let net: Net | undefined;
let capturing = false;

async function startNetwork(): Promise<Net> {
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const run = new RunSession(newRunDir(), 'local', ['baresip-calls-ue', 'ue-calls-baresip']);
  const dir = join(run.dir, 'network');
  mkdirSync(dir, { recursive: true });
  const plan = planNetwork(loadSubscribers(DEFAULT_SUBSCRIBERS), 'local', {}, SLOT);
  const device = plan.external.find((e) => e.name === DAVE.device)!;
  expect(device, 'config/subscribers.yaml keeps dave as an external device').toBeDefined();
  // The targets start nothing of an external device: the plan runs as it is.
  const running = plan;
  const address = device.addresses['access-a']!;
  const pcscf = plan.elements.find((e) => e.name === 'pcscf-a')!.addresses['access-a']!;
  const target = new LocalTarget();
  // From here on afterAll takes down whatever started.
  net = { run, dir, plan, running, target, bob: undefined as never, baresip: undefined as never, address, pcscf, timings };
  await target.up(running, { dir });
  timings['network up'] = Date.now() - t0;

  // What `imslab cert dave --ip <address>` does: a certificate from the testbed CA naming baresip's address.
  const ua = join(run.dir, 'ua');
  const cert = issueCertificate(PKI_DIR, 'dave', [address], join(ua, 'cert'));
  const home = writeBaresipHome(join(ua, 'home'), {
    user: DAVE.user, domain: plan.domain, password: DAVE.password, displayName: 'Dave', address, pcscf,
    certFile: cert.cert, keyFile: cert.key, caFile: cert.ca, answerMode: 'auto',
    audioFile: writeToneWav(join(ua, 'tone.wav'), 120, 440),
    // On no link (127.k.9.x is never captured): the test's control traffic stays out of the captures.
    ctrl: `127.${SLOT}.9.${DAVE.host}:4444`,
  });
  net.baresip = new Baresip(home, `127.${SLOT}.9.${DAVE.host}:4444`, join(ua, 'baresip.log'));
  net.bob = new UeClient('bob-1', target.controlUrl('bob-1'));
  return net;
}

/** Captures into the case's directory until `stopCapturing`. */
async function startCapturing(n: Net, name: string): Promise<string> {
  const dir = join(n.run.dir, name);
  mkdirSync(dir, { recursive: true });
  await n.target.startCaptures(dir);
  capturing = true;
  return dir;
}

async function stopCapturing(n: Net): Promise<Record<string, string>> {
  capturing = false;
  return (await n.target.stopCaptures()).files;
}

/**
 * The analysis of one case's captures with the key logs the network left:
 * analyseCaptures of @imslab/runner does the same but reads the key logs
 * from the capture directory and can judge the caller's direction only
 * (`judge: Record<alias, 'orig'>`), while the call baresip places has our
 * probe in the callee's direction: hence analyse() itself.
 */
async function judge(n: Net, dir: string | null, captures: Record<string, string>, calls: Array<{ alias: string; callId: string; directions: ProbeDirection[] }>, opts: { srtpKeyLogs: boolean } = { srtpKeyLogs: true }): Promise<Analysis> {
  const keyDir = join(n.dir, 'keys');
  const keys = readdirSync(keyDir);
  const analysis = await analyse({
    captures,
    keyLogs: opts.srtpKeyLogs ? keys.filter((f) => f.endsWith('.srtp-keys.jsonl')).map((f) => join(keyDir, f)) : [],
    tlsKeyLogs: keys.filter((f) => f.endsWith('.tls-keys.log')).map((f) => join(keyDir, f)),
    owner: withBaresip(n),
    calls,
  });
  if (!dir) return analysis;
  await mergeCaptures(Object.entries(captures).map(([name, path]) => ({ name, path })), join(dir, 'all-links.pcapng'));
  writeFileSync(join(dir, 'analysis.json'), JSON.stringify(analysis, null, 2) + '\n');
  return analysis;
}

/**
 * The plan's owners, plus baresip as a user agent: the verdict needs the
 * probe seen arriving at an end, and baresip is that end. It answers at its
 * own address, but Debian's baresip 1.0 leaves its RTP socket unbound, so on
 * loopback it sends from 127.0.0.1 and the IMS-AGW (symmetric RTP) sends back
 * there: both addresses are baresip's in this test.
 */
function withBaresip(n: Net): AddressOwner {
  const plan = addressOwner(n.plan);
  return (address) => (address === n.address || address === '127.0.0.1' ? { name: 'baresip', kind: 'ue' } : plan(address));
}

/** bob-1's SDES keys of a call from its key log (base64 key||salt): what it sent with, and what it received under (baresip's). */
function bobKeys(n: Net, callId: string): { tx: string; rx: string } {
  const lines = readFileSync(join(n.dir, 'keys', 'bob-1.srtp-keys.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { callId: string; dir: 'tx' | 'rx'; keySalt: string });
  const of = (d: 'tx' | 'rx') => lines.find((e) => e.callId === callId && e.dir === d)?.keySalt;
  return { tx: of('tx')!, rx: of('rx')! };
}

async function bobCall(n: Net, callId: string, pred: (c: CallStatus) => boolean, what: string, timeoutMs = 15_000): Promise<CallStatus> {
  return pollUntil(`bob-1: ${what}`, async () => (await n.bob.calls()).find((c) => c.callId === callId && pred(c)), timeoutMs);
}

function linkOf(a: Analysis, name: string) {
  const l = a.links.find((x) => x.link === name);
  if (!l) throw new Error(`no capture of ${name}`);
  return l;
}

/**
 * What both cases show, whoever called:
 * - access-a carries baresip's SIP only inside TLS (no plaintext SIP at all
 *   on the link: alice is not registered): on baresip's connection to the
 *   P-CSCF (what baresip sends: its REGISTER, its INVITE; `uaSent`) and on
 *   the P-CSCF's connection to baresip's TLS listener (what is sent to
 *   baresip: bob's INVITE and BYE; baresip sends no ;alias, so the P-CSCF
 *   connects back and checks baresip's certificate against the testbed CA);
 * - no probe marker in the clear, no unmarked audio in the clear, and no RTP
 *   under a key nobody logged, on any link;
 * - baresip's media (a tone, no marker) is SRTP under baresip's SDES key on
 *   every link (bob-1 logged it as its rx key), from baresip's own address;
 * - our probe's direction is `e2e`: one key (bob-1's) on every link;
 *   conditional on the SIP hops, since SDES keys cross the core in
 *   plaintext UDP SIP (which is also how the analyser could have found
 *   baresip's key had bob-1 not logged it; baresip logs no keys and its TLS
 *   connection to the P-CSCF has no key log, so nothing on access-a is read).
 */
function assertProtected(n: Net, a: Analysis, c: { alias: string; callId: string; probe: ProbeDirection; uaSent: boolean }, keys: { tx: string; rx: string }): void {
  const detail = JSON.stringify({ calls: a.calls, problems: a.problems }, null, 1);
  expect(a.problems, detail).toEqual([]);
  const accessA = linkOf(a, 'access-a');
  expect(accessA.signalling.plaintextSip, 'plaintext SIP on access-a').toBe(0);
  expect(accessA.signalling.sipFlows).toEqual([]);
  expect(accessA.signalling.tlsRecords).toBeGreaterThan(0);
  const pcscf = n.pcscf.replace(/\./g, '\\.');
  const ua = n.address.replace(/\./g, '\\.');
  // baresip -> P-CSCF: its own connection (its REGISTER and the requests it sends). Debian's baresip 1.0
  // does not bind it to sip_listen's address: on loopback it comes from 127.0.0.1.
  if (c.uaSent) expect(accessA.signalling.tlsFlows.some((f) => new RegExp(`^tcp (127\\.0\\.0\\.1|${ua}):\\d+ > ${pcscf}:5061$`).test(f)), accessA.signalling.tlsFlows.join('\n')).toBe(true);
  // P-CSCF -> baresip's TLS listener (requests toward baresip: no ;alias).
  expect(accessA.signalling.tlsFlows.some((f) => new RegExp(`^tcp ${pcscf}:\\d+ > ${ua}:5061$`).test(f)), accessA.signalling.tlsFlows.join('\n')).toBe(true);
  // Neither SDES key is readable on access-a; both are on the core (plaintext UDP SIP).
  expect(accessA.signalling.exposedSdesKeys).toEqual([]);
  expect(linkOf(a, 'core').signalling.exposedSdesKeys).toEqual(expect.arrayContaining([keys.tx, keys.rx]));

  const ourMarkers = [markerFor(c.callId, 'orig'), markerFor(c.callId, 'term')];
  for (const l of a.links) {
    for (const f of l.media) {
      expect(f.plaintext, `${l.link} ${f.flow}: marker in the clear`).toBe(0);
      expect(f.plaintextUnmarked, `${l.link} ${f.flow}: audio in the clear`).toBe(0);
      expect(f.unknown, `${l.link} ${f.flow}: RTP under no logged key`).toBe(0);
      for (const m of ourMarkers) expect(f.markers[m]?.plaintext ?? 0).toBe(0);
    }
  }
  // baresip's direction: SRTP under its key on every link. On access-a it comes from the port its SDP
  // announced, but Debian's baresip 1.0 leaves its RTP socket unbound, so on loopback the kernel's source
  // is 127.0.0.1 (the IMS-AGW learns it: symmetric RTP); the capture keeps it (the filter is the link's
  // net, either end).
  const rxKey = a.keys.find((k) => k.callId === c.callId && k.owner === 'bob-1' && k.dir === 'rx')!;
  expect(rxKey, JSON.stringify(a.keys)).toBeDefined();
  for (const l of a.links) {
    const under = l.media.filter((f) => (f.srtp[rxKey.id] ?? 0) > 0);
    expect(under.reduce((s, f) => s + f.srtp[rxKey.id]!, 0), `${l.link}: baresip's SRTP`).toBeGreaterThan(MEDIA_PACKETS);
    if (l.link === 'access-a') expect(under.every((f) => f.src.startsWith(`${n.address}:`) || f.src.startsWith('127.0.0.1:')), under.map((f) => f.flow).join(', ')).toBe(true);
  }

  // Our probe's direction, judged: e2e under bob-1's key on every link, conditional on the SIP hops.
  const call = a.calls.find((x) => x.alias === c.alias)!;
  expect(call.verdict, detail).toBe('e2e');
  const path = call.paths.find((p) => p.direction === c.probe)!;
  const txKey = a.keys.find((k) => k.callId === c.callId && k.owner === 'bob-1' && k.dir === 'tx')!;
  for (const link of ['access-a', 'core', 'access-b']) {
    expect(path.links[link]?.protection, `${link}: ${path.reasons.join('; ')}`).toBe('srtp');
    expect(path.links[link]?.keys).toEqual([txKey.id]);
  }
  expect(call.conditions.some((x) => x.includes(`key ${txKey.id} was readable in plaintext SIP on core`)), call.conditions.join('\n')).toBe(true);
  // baresip sends a tone, not our probe: its direction has no marker to follow, which is why it is not judged.
  const both = a.calls.find((x) => x.alias === `${c.alias}-both-directions`)!;
  const other = both.paths.find((p) => p.direction !== c.probe)!;
  expect(other.verdict).toBe('no-media');
  expect(both.verdict).toBe('no-media');
}

function record(n: Net, scenario: string, title: string, dir: string, started: number, a: Analysis, alias: string): void {
  const c = a.calls.find((x) => x.alias === alias)!;
  const r: ScenarioResult = {
    scenario, clause: 'byo-ua', title, dir, status: c.verdict === 'e2e' ? 'pass' : 'fail', error: null, pass: c.verdict === 'e2e',
    calls: [{ alias, callId: c.callId, expected: 'e2e', observed: c.verdict, pass: c.verdict === 'e2e', mismatches: [], evidence: c.evidence, conditions: c.conditions }],
    durationMs: Date.now() - started,
  };
  writeFileSync(join(n.run.dir, dir, 'verdict.json'), JSON.stringify(r, null, 2) + '\n');
  n.run.record(r);
}

if (!BIN) console.warn('test/scenarios/baresip.test.ts skipped: no baresip binary on PATH (apt-get install baresip-core)');

describe.skipIf(!BIN)(BIN ? 'baresip through P-CSCF-A (TLS, SDES-SRTP), judged from the captures' : 'baresip: skipped, no baresip binary (apt-get install baresip-core)', () => {
  beforeAll(async () => {
    const n = await startNetwork();
    const t0 = Date.now();
    // Capture from before baresip's REGISTER, so its registration is in the first case's captures.
    await startCapturing(n, 'baresip-calls-ue');
    await n.bob.register();
    await n.baresip.start();
    const reg = await n.baresip.waitRegistered(DAVE_AOR);
    n.timings['baresip registered'] = Date.now() - t0;
    expect(reg).toMatch(/OK/);
  });

  afterAll(async () => {
    const n = net;
    try {
      if (!n) return;
      await n.baresip?.stop().catch(() => {});
      if (capturing) await stopCapturing(n).catch(() => {});
      await n.target.down();
      n.run.finish();
      console.log(`baresip test: ${n.run.dir}; timings (ms): ${JSON.stringify(n.timings)}`);
    } finally {
      LEASE.release();
    }
  });

  it('baresip calls bob (SDES-SRTP, srtp-mand); bob-1 answers; media protected on every link', async () => {
    const n = net!;
    const t0 = Date.now();
    const dir = join(n.run.dir, 'baresip-calls-ue');
    let captures: Record<string, string>;
    let callId: string;
    try {
      const from = n.baresip.events.length;
      const dial = await n.baresip.command('dial', 'sip:bob@ims.test');
      expect(dial.ok, dial.data).toBe(true);
      const est = await n.baresip.waitForEvent((e) => n.baresip.events.indexOf(e) >= from && (e.type === 'CALL_ESTABLISHED' || e.type === 'CALL_CLOSED'), 'the call to bob established');
      expect(est.type, JSON.stringify(est)).toBe('CALL_ESTABLISHED');
      callId = est.id!;
      // bob-2 (autoAnswer false) was forked to as well and is cancelled once bob-1 answered.
      const call = await bobCall(n, callId, (c) => c.state === 'confirmed' && c.media.rxPackets > MEDIA_PACKETS, `more than ${MEDIA_PACKETS} packets from baresip`);
      expect(call.direction).toBe('in');
      expect(call.remoteAssertedIdentity).toBe(DAVE_AOR);
      expect(call.sdpProfile).toBe('RTP/SAVP');
      expect(call.keyManagement).toBe('sdes');
      expect(call.securityAchieved).toBe('e2e');
      expect(call.media.rxAuthFailed).toBe(0);
      expect(call.media.rxMarkerPackets).toBe(0); // a tone, not a probe
      n.timings['call 1: dial -> media from baresip'] = Date.now() - t0;
      // bob hangs up: the BYE reaches baresip over the P-CSCF's own TLS connection to baresip's listener.
      await n.bob.hangup(callId);
      await n.baresip.waitForEvent((e: BaresipEvent) => e.type === 'CALL_CLOSED' && e.id === callId, 'the BYE from bob');
    } finally {
      captures = await stopCapturing(n);
    }
    // The verdict: e2e for bob-1's direction (the callee's, `term`: bob-1 answered), conditional. Its probe
    // crosses access-b, the core and access-a as SRTP under bob-1's one SDES key (both IMS-AGWs relay it
    // untouched); that key and baresip's crossed the core in plaintext UDP SIP. baresip's direction carries a
    // tone without a marker, so it cannot be followed: judged too, it would be `no-media` (asserted below).
    const a = await judge(n, dir, captures, [
      { alias: 'c1', callId, directions: ['term'] },
      { alias: 'c1-both-directions', callId, directions: ['orig', 'term'] },
    ]);
    n.timings['call 1: analysis'] = Date.now() - t0;
    record(n, 'baresip-calls-ue', 'baresip calls bob with SDES-SRTP', 'baresip-calls-ue', t0, a, 'c1');
    assertProtected(n, a, { alias: 'c1', callId, probe: 'term', uaSent: true }, bobKeys(n, callId));
    // Its REGISTER came over TLS too (captured from before baresip started): no plaintext SIP from it, ever.
    expect(linkOf(a, 'access-a').signalling.tlsFlows.length).toBeGreaterThan(0);

    // Without any SRTP key log (bob-1's names both keys; baresip logs none, and its TLS has no key log),
    // the analyser still finds both SDES keys in the core's plaintext SIP, tries them on the media it
    // cannot otherwise attribute, and reaches the same verdict under the signalled key.
    const blind = await judge(n, null, captures, [{ alias: 'c1', callId, directions: ['term'] }], { srtpKeyLogs: false });
    const bc = blind.calls[0]!;
    expect(bc.verdict, JSON.stringify(bc.evidence)).toBe('e2e');
    const signalled = bc.paths[0]!.links['core']!.keys;
    expect(signalled).toHaveLength(1);
    expect(signalled[0]).toMatch(/^sdp@core\//);
    for (const l of blind.links) for (const f of l.media) expect(f.unknown, `${l.link} ${f.flow}`).toBe(0);
    expect(bc.conditions.some((x) => x.includes('readable in plaintext SIP on core')), bc.conditions.join('\n')).toBe(true);
  });

  it('bob-1 calls baresip (sip:dave@ims.test, sdes-e2e); baresip answers automatically; media protected on every link', async () => {
    const n = net!;
    const t0 = Date.now();
    const dir = await startCapturing(n, 'ue-calls-baresip');
    let captures: Record<string, string>;
    let callId: string;
    try {
      ({ callId } = await n.bob.call(DAVE_AOR, 'sdes-e2e'));
      const est = await n.baresip.waitForEvent((e) => e.id === callId && (e.type === 'CALL_ESTABLISHED' || e.type === 'CALL_CLOSED'), 'the call from bob answered');
      expect(est.type, JSON.stringify(est)).toBe('CALL_ESTABLISHED');
      expect(est.direction).toBe('incoming');
      const call = await bobCall(n, callId, (c) => c.state === 'confirmed' && c.media.rxPackets > MEDIA_PACKETS, `more than ${MEDIA_PACKETS} packets from baresip`);
      // baresip registered from 127.0.0.1 (its own TLS connection is not bound to its address), and its
      // answer comes back over the connection the P-CSCF opened to baresip's listener (source
      // 127.7.1.150): the P-CSCF keeps the identity the registration proved under both addresses (the
      // REGISTER's source and its Contact's host), so the answer is asserted too.
      expect(call.remoteAssertedIdentity).toBe(DAVE_AOR);
      expect(call.sdpProfile).toBe('RTP/SAVP');
      expect(call.securityAchieved).toBe('e2e');
      expect(call.media.rxAuthFailed).toBe(0);
      n.timings['call 2: call -> media from baresip'] = Date.now() - t0;
      await n.bob.hangup(callId);
      await n.baresip.waitForEvent((e) => e.type === 'CALL_CLOSED' && e.id === callId, 'the BYE from bob');
    } finally {
      captures = await stopCapturing(n);
    }
    // The verdict: e2e for bob-1's direction (the caller's, `orig`: bob-1 called), conditional on the SIP
    // hops as in the first call; baresip's answer direction carries no marker.
    const a = await judge(n, dir, captures, [
      { alias: 'c2', callId, directions: ['orig'] },
      { alias: 'c2-both-directions', callId, directions: ['orig', 'term'] },
    ]);
    n.timings['call 2: analysis'] = Date.now() - t0;
    record(n, 'ue-calls-baresip', 'bob calls baresip with SDES-SRTP', 'ue-calls-baresip', t0, a, 'c2');
    assertProtected(n, a, { alias: 'c2', callId, probe: 'orig', uaSent: false }, bobKeys(n, callId));
  });
});
