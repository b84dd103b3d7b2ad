import { describe, expect, it } from 'vitest';
import type { Analysis, CallReport } from '@imslab/analysis';
import { planNetwork } from '@imslab/network';
import { markerFor } from '@imslab/probe';
import { REPO_ROOT, loadSubscribers, type EvidenceTypes } from '@imslab/topology';
import type { CallStatus, FloorStatus } from '@imslab/ue/contract';
import { checkCall } from '../src/expect.ts';
import type { CallRecord } from '../src/checks/index.ts';

/**
 * The PoC checks (TR 33.828 4.2) against evidence made by hand: floor
 * (what the member's UE received), pocForwarded (its probe leaving the PoC
 * server, by flow and byte for byte) and floorControlInClear. Missing
 * evidence fails, never passes.
 */
const subs = loadSubscribers(`${REPO_ROOT}/config/subscribers.yaml`);
const plan = planNetwork(subs, 'local', { servers: ['kms', 'poc'] });
const POC = '127.0.2.80';
const CALL_ID = 'poc-check@127.0.3.100';
const call: CallRecord = { alias: 'c2', callId: CALL_ID, from: 'bob-1' };
const report: CallReport = { alias: 'c2', callId: CALL_ID, verdict: 'e2e', paths: [], evidence: [], conditions: [] };
const emptyAnalysis: Analysis = { links: [], calls: [report], keys: [], problems: [], tls: {}, keyExposure: [], stores: [] };
const MARKER = markerFor(CALL_ID, 'orig');

function floorStatus(received: Record<string, number>, rejected = 0, keyManagement: FloorStatus['keyManagement'] = 'mikey-sakke'): FloorStatus {
  return { state: 'has-no-permission', talking: false, ignoringFloor: false, holder: null, queuePosition: null, lastRejectCause: null, received, sent: {}, rejected, keyManagement };
}

function status(floor?: FloorStatus): CallStatus {
  return {
    callId: CALL_ID, direction: 'out', state: 'confirmed', localIdentity: 'sip:bob@ims.test', remoteIdentity: 'sip:poc-team@ims.test', remoteAssertedIdentity: null,
    remoteClaimedIdentity: 'sip:poc-team@ims.test', kmsAuthenticatedPeer: null, securityRequested: 'poc-e2e', policy: null, sdpProfile: 'RTP/SAVP', suite: null,
    keyManagement: 'mikey-ticket', securityAchieved: 'e2e', securityHistory: [], e2ae: null, peerE2ae: null, markers: { tx: MARKER, expectedRx: 'x' },
    media: { local: null, remote: null, txPackets: 0, rxPackets: 0, rxMarkerPackets: 0, rxMarkersSeen: [], rxAuthFailed: 0, rxReplayed: 0, rxMalformed: 0, rxUnknownKey: 0, rxFrom: null },
    startedAt: new Date().toISOString(), ...(floor ? { floor } : {}),
  };
}

type Flow = Analysis['links'][number]['media'][number];
function flow(src: string, dst: string): Flow {
  return {
    flow: `udp ${src} > ${dst}`, src, dst, ssrcs: [1], packets: 12, plaintext: 0, srtp: { k: 12 }, srtpVerified: 12, srtpDecrypted: 12,
    replayed: 0, replayedPlaintext: 0, unknown: 0, unauthenticated: 0,
    markers: { [MARKER]: { plaintext: 0, srtp: { k: 12 }, plaintextSpan: null, srtpSpan: [1, 2] } },
    plaintextUnmarked: 0, unknownEntropy: null, lost: 0, rtcp: 0, srtcp: {}, rtcpPlain: 0, srtcpUnknown: 0, floorControlClear: 0, firstUs: 1, lastUs: 2,
  };
}
const signalling = { plaintextSip: 0, tlsRecords: 0, exposedSdesKeys: [], sdesOffers: [], e2aeIndicators: [], mikeyOffers: 0, sdpEndpoints: [], plaintextMsrp: 0, msrpFlows: [], sipFlows: [], tlsFlows: [] } as unknown as Analysis['links'][number]['signalling'];
const core = (...media: Flow[]): Analysis => ({ ...emptyAnalysis, links: [{ link: 'core', file: 'x', packets: 12, signalling, media }] });

async function judge(exp: Record<string, unknown>, opts: { ueCalls?: Record<string, CallStatus[]>; evidence?: Partial<EvidenceTypes>; analysis?: Analysis } = {}) {
  const o = await checkCall('c2', { verdict: 'e2e', ...exp }, {
    calls: new Map([['c2', call]]), analysis: opts.analysis ?? emptyAnalysis, ueCalls: opts.ueCalls ?? { 'bob-1': [status()] }, captures: {}, plan,
    evidence: (name) => (opts.evidence as Record<string, unknown> | undefined)?.[name] as never,
  });
  // The verdict and the always-on checks are not under test here.
  return o.mismatches.filter((m) => !/verdict|ueCounters|rxAuthFailed|mediaIntegrity/.test(m));
}

describe('floor', () => {
  it('compares what the member received with the expectation, message by message', async () => {
    const ueCalls = { 'bob-1': [status(floorStatus({ 'floor-deny': 1, 'floor-taken': 1 }))] };
    expect(await judge({ floor: { denied: true, taken: true, granted: false } }, { ueCalls })).toEqual([]);
    expect(await judge({ floor: { granted: true } }, { ueCalls })).toEqual(['[UE reports] bob-1 received 0 floor-granted, expected at least one']);
    expect(await judge({ floor: { taken: false } }, { ueCalls })).toEqual(['[UE reports] bob-1 received 1 floor-taken, expected none']);
  });

  it('fails on refused RTCP, and without evidence: no floor report, no record of the call', async () => {
    expect(await judge({ floor: { denied: true } }, { ueCalls: { 'bob-1': [status(floorStatus({ 'floor-deny': 1 }, 2))] } })).toEqual(['[UE reports] bob-1 refused 2 RTCP datagram(s) (authentication or format)']);
    expect((await judge({ floor: { denied: false } }, { ueCalls: { 'bob-1': [status()] } })).join()).toMatch(/no evidence: bob-1 reports no floor control/);
    expect((await judge({ floor: { denied: false } }, { ueCalls: { 'bob-1': [] } })).join()).toMatch(/no evidence: bob-1 has no record of the call/);
  });

  it('clientServerKey: how the UE got the key, and SRTCP under the key it logged on a link', async () => {
    const ueCalls = { 'bob-1': [status(floorStatus({ 'floor-taken': 1 }))] };
    const keys: Analysis['keys'] = [{ id: 'bob-1/floor/poc-chec', owner: 'bob-1', dir: 'tx', suite: 'AES_CM_128_HMAC_SHA1_80', callId: CALL_ID, purpose: 'floor-control' }];
    const withSrtcp = { ...core({ ...flow(POC + ':36001', '127.0.3.100:40001'), srtcp: { 'bob-1/floor/poc-chec': 3 } }), keys };
    expect(await judge({ floor: { taken: true, clientServerKey: 'mikey-sakke' } }, { ueCalls, analysis: withSrtcp })).toEqual([]);
    expect(await judge({ floor: { clientServerKey: 'sdes' } }, { ueCalls, analysis: withSrtcp })).toEqual(['[UE reports] bob-1\'s client-server key came by mikey-sakke, expected sdes']);
    // The UE says so, but no packet on any link was floor control under its key.
    expect(await judge({ floor: { clientServerKey: 'mikey-sakke' } }, { ueCalls, analysis: { ...core(flow(POC + ':36001', '127.0.3.100:40001')), keys } }))
      .toEqual(['[UE reports] packets: no SRTCP under bob-1\'s floor control key on any link']);
    expect(await judge({ floor: { clientServerKey: 'mikey-sakke' } }, { ueCalls, analysis: core() }))
      .toEqual(['[UE reports] packets: no SRTCP under bob-1\'s floor control key on any link (its key log names none)']);
  });
});

describe('pocForwarded', () => {
  const agwA = '127.0.2.11:30000';
  const agwB = '127.0.2.31:32010';
  const inbound = flow(agwB, `${POC}:36004`);

  it('not forwarded: the probe only reached the server, and none of its bytes left it', async () => {
    const evidence = { 'poc-replication': { element: 'poc', legs: [{ at: `${POC}:36004`, from: agwB, packets: 12, forwardedTo: {} }], sent: 0, sentIdentical: 0 } };
    expect(await judge({ pocForwarded: false }, { analysis: core(inbound), evidence })).toEqual([]);
    expect(await judge({ pocForwarded: true }, { analysis: core(inbound), evidence })).toEqual([
      "[packets] bob-1's probe never left the PoC server toward another member",
      "[packets] none of bob-1's 12 packets left the PoC server byte-identical",
    ]);
  });

  it('forwarded: flows leave the server and its bytes reappear; a packet the server made up fails it', async () => {
    const out = flow(`${POC}:36000`, agwA);
    const evidence = { 'poc-replication': { element: 'poc', legs: [{ at: `${POC}:36004`, from: agwB, packets: 12, forwardedTo: { [agwA]: 12 } }], sent: 12, sentIdentical: 12 } };
    expect(await judge({ pocForwarded: true }, { analysis: core(inbound, out), evidence })).toEqual([]);
    expect((await judge({ pocForwarded: false }, { analysis: core(inbound, out), evidence })).join('\n')).toMatch(/bob-1's probe was forwarded: core udp 127\.0\.2\.80:36000/);
    const altered = { 'poc-replication': { ...evidence['poc-replication'], sent: 13 } };
    expect((await judge({ pocForwarded: true }, { analysis: core(inbound, out), evidence: altered })).join()).toMatch(/sent 1 of 13 RTP packets that never reached it/);
  });

  it('fails without evidence: no replication report, or no PoC server in the network', async () => {
    expect((await judge({ pocForwarded: false }, { analysis: core(inbound) })).join()).toMatch(/\[packets\] no evidence: the PoC server's replication report/);
    const noPoc = await checkCall('c2', { verdict: 'e2e', pocForwarded: false }, {
      calls: new Map([['c2', call]]), analysis: emptyAnalysis, ueCalls: {}, captures: {}, plan: planNetwork(subs, 'local', { servers: ['kms'] }), evidence: () => undefined as never,
    });
    expect(noPoc.mismatches.join()).toMatch(/no evidence: this network has no PoC server/);
  });
});

describe('floorControlInClear', () => {
  it('passes on encrypted floor control, fails on any readable, and without the scan', async () => {
    const none = { 'floor-control-on-links': { appPackets: { core: 4 }, clear: [], clearTotal: 0 } };
    expect(await judge({ floorControlInClear: false }, { evidence: none })).toEqual([]);
    const found = { 'floor-control-on-links': { appPackets: { core: 4 }, clear: [{ link: 'core', flow: 'a > b', messages: ['floor-request'] }], clearTotal: 1 } };
    expect(await judge({ floorControlInClear: false }, { evidence: found })).toEqual(['[packets] floor control readable in the clear in 1 datagram(s): core a > b: floor-request']);
    expect(await judge({ floorControlInClear: true }, { evidence: found })).toEqual([]);
    expect((await judge({ floorControlInClear: false })).join()).toMatch(/no evidence: floor control was not scanned/);
  });

  it('mediaIntegrity (every call) fails on the call\'s floor control readable in the clear, as the link scan counted it', async () => {
    const rtcp = { ...flow('127.0.2.31:32011', `${POC}:36005`), markers: {}, packets: 0, srtp: {}, srtpVerified: 0, srtpDecrypted: 0, rtcp: 2, rtcpPlain: 2, floorControlClear: 2, foundBy: { how: 'sdp' as const, callId: CALL_ID } };
    const o = await checkCall('c2', { verdict: 'e2e' }, { calls: new Map([['c2', call]]), analysis: core(flow('127.0.2.31:32010', `${POC}:36004`), rtcp), ueCalls: {}, captures: {}, plan, evidence: () => undefined as never });
    expect(o.mismatches.join('\n')).toMatch(/\[packets\] floorControlClear: 2 \(core udp 127\.0\.2\.31:32011 > 127\.0\.2\.80:36005: 2\), expected 0: PoC floor control \(RTCP APP MCPT\) readable without a key/);
  });

  it('says when the encrypted floor control is under keys anyone could read in plaintext SDP', async () => {
    const rtcp = { ...flow('127.0.2.31:32011', `${POC}:36005`), markers: {}, packets: 0, srtp: {}, rtcp: 2, srtcp: { 'sdp@core/AbCdEf': 2 } };
    const o = await checkCall('c2', { verdict: 'e2e', floorControlInClear: false }, {
      calls: new Map([['c2', call]]), analysis: core(rtcp), ueCalls: {}, captures: {}, plan,
      evidence: (name) => (name === 'floor-control-on-links' ? { appPackets: { core: 2 }, clear: [], clearTotal: 0 } : undefined) as never,
    });
    expect(o.evidence).toContain('[packets] but RTCP (floor control) is under 1 key(s) read from SDP in plaintext SIP (sdp@core/AbCdEf): readable by anyone on those links and by every SIP hop');
  });
});
