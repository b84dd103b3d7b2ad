import { describe, expect, it } from 'vitest';
import type { Analysis, CallReport } from '@imslab/analysis';
import { planNetwork } from '@imslab/network';
import { markerFor } from '@imslab/probe';
import { REPO_ROOT, loadSubscribers, type EvidenceTypes } from '@imslab/topology';
import type { CallStatus } from '@imslab/ue/contract';
import { checkCall, sortProblems } from '../src/expect.ts';
import { CHECKS, type CallRecord } from '../src/checks/index.ts';

/**
 * Checks against evidence made by hand: a check whose evidence is missing
 * fails with "no evidence: ...", never passes; identities compare exactly;
 * every line says what it rests on.
 */
const plan = planNetwork(loadSubscribers(`${REPO_ROOT}/config/subscribers.yaml`), 'local', { servers: ['kms'] });
const CALL_ID = 'check-test@127.0.1.100';
const call: CallRecord = { alias: 'c1', callId: CALL_ID, from: 'alice' };
const report: CallReport = { alias: 'c1', callId: CALL_ID, verdict: 'e2e', paths: [], evidence: ['caller->callee: e2e'], conditions: [] };
const emptyAnalysis: Analysis = { links: [], calls: [report], keys: [], problems: [], tls: {}, keyExposure: [], stores: [] };

function status(over: Partial<CallStatus> & { direction: 'out' | 'in' }): CallStatus {
  return {
    callId: CALL_ID, state: 'confirmed', localIdentity: 'sip:alice@ims.test', remoteIdentity: 'sip:bob@ims.test', remoteAssertedIdentity: 'sip:bob@ims.test',
    remoteClaimedIdentity: 'sip:bob@ims.test', kmsAuthenticatedPeer: null, securityRequested: 'e2e', policy: null, sdpProfile: 'RTP/SAVP', suite: null,
    keyManagement: null, securityAchieved: 'e2e', securityHistory: [], e2ae: 'not-requested', peerE2ae: null, markers: { tx: 'a', expectedRx: 'b' },
    media: { local: null, remote: null, txPackets: 50, rxPackets: 50, rxMarkerPackets: 50, rxMarkersSeen: [], rxAuthFailed: 0, rxReplayed: 0, rxMalformed: 0, rxUnknownKey: 0, rxFrom: null },
    startedAt: new Date().toISOString(), answeredAt: new Date().toISOString(),
    ...over,
  } as CallStatus;
}

async function judge(exp: Record<string, unknown>, opts: { ueCalls?: Record<string, CallStatus[]>; evidence?: Partial<EvidenceTypes>; analysis?: Analysis } = {}) {
  return checkCall('c1', { verdict: 'e2e', ...exp }, {
    calls: new Map([['c1', call]]), analysis: opts.analysis ?? emptyAnalysis, ueCalls: opts.ueCalls ?? {}, captures: {}, plan,
    evidence: (name) => (opts.evidence as Record<string, unknown> | undefined)?.[name] as never,
  });
}

describe('checks without their evidence fail, never pass', () => {
  it('KMS audit checks without an audit log', async () => {
    for (const exp of [{ kmsResolved: [] }, { kmsRefused: ['carol'] }, { kmsKeysForked: false }, { kmsDeferredResolved: [] }]) {
      const o = await judge(exp);
      expect(o.pass, JSON.stringify(exp)).toBe(false);
      expect(o.mismatches.join('\n')).toMatch(/\[KMS audit log\] no evidence: the KMS audit log was not collected/);
    }
  });

  it('what a UE decrypted, when the UE has no record of the call or did not report', async () => {
    for (const exp of [{ receivedProbeOf: ['c1'] }, { noProbeOf: ['c1'] }]) {
      const o = await judge(exp, { ueCalls: { alice: [] } });
      expect(o.mismatches.join('\n')).toMatch(/\[UE counters\] no evidence: alice has no record of the call/);
    }
    const o = await judge({ noMediaAt: ['bob-2'] }, { ueCalls: { alice: [] } });
    expect(o.mismatches.join('\n')).toMatch(/no evidence: bob-2 did not report its calls/);
  });

  it('the store and the playback, without a voicemail', async () => {
    expect((await judge({ voicemailStores: 'ciphertext' })).mismatches.join()).toMatch(/\[voicemail store\] no evidence/);
    expect((await judge({ playbackIdentical: true })).mismatches.join()).toMatch(/\[packets\] no evidence/);
  });

  it('KMS-authenticated identities: nobody answered, or the wrong peer', async () => {
    const nobody = await judge({ kmsAuthenticated: true }, { ueCalls: { alice: [status({ direction: 'out', answeredAt: undefined, state: 'failed' })] } });
    expect(nobody.mismatches.join()).toMatch(/no evidence: alice reports no answered call/);
    const wrong = await judge({ kmsAuthenticated: true }, {
      ueCalls: { alice: [status({ direction: 'out', kmsAuthenticatedPeer: 'sip:carol@ims.test' })], 'bob-1': [status({ direction: 'in', kmsAuthenticatedPeer: 'sip:alice@ims.test' })] },
    });
    expect(wrong.mismatches).toEqual(['[UE reports] alice: the KMS authenticated sip:carol@ims.test as its peer, expected sip:bob@ims.test (bob-1)']);
    const right = await judge({ kmsAuthenticated: true }, {
      ueCalls: { alice: [status({ direction: 'out', kmsAuthenticatedPeer: 'sip:bob@ims.test' })], 'bob-1': [status({ direction: 'in', kmsAuthenticatedPeer: 'sip:alice@ims.test' })] },
    });
    expect(right.pass).toBe(true);
  });

  it('displayed identities are the asserted ones, compared exactly: the claimed From/To never counts', async () => {
    const callee = status({ direction: 'in', remoteAssertedIdentity: null, remoteClaimedIdentity: 'sip:alice@ims.test' });
    const o = await judge({ displayed: { atCallee: 'sip:alice@ims.test' } }, { ueCalls: { alice: [status({ direction: 'out' })], 'bob-1': [callee] } });
    expect(o.mismatches).toEqual(['[UE reports] bob-1 was given no asserted identity for its peer (it shows the claimed sip:alice@ims.test), expected sip:alice@ims.test']);
    const longer = await judge({ displayed: { atCaller: 'sip:bob@ims.test' } }, { ueCalls: { alice: [status({ direction: 'out', remoteAssertedIdentity: 'sip:bob@ims.test.evil' })] } });
    expect(longer.pass).toBe(false);
  });
});

const noSignalling = {
  plaintextSip: 0, tlsRecords: 0, exposedSdesKeys: [], sdesOffers: [], e2aeIndicators: [], mikeyOffers: 0,
  sdpEndpoints: [], plaintextMsrp: 0, msrpFlows: [], sipFlows: [], tlsFlows: [],
} as unknown as Analysis['links'][number]['signalling'];

type Flow = Analysis['links'][number]['media'][number];
/** An SRTP flow of the call: 12 packets under key k, the caller's marker read. */
function flow(over: Partial<Flow> = {}): Flow {
  return {
    flow: 'udp x', src: '127.0.3.11:32000', dst: '127.0.3.100:40000', ssrcs: [1], packets: 12, plaintext: 0, srtp: { k: 12 }, srtpVerified: 12, srtpDecrypted: 12,
    replayed: 0, replayedPlaintext: 0, unknown: 0, unauthenticated: 0,
    markers: { [markerFor(CALL_ID, 'orig')]: { plaintext: 0, srtp: { k: 12 }, plaintextSpan: null, srtpSpan: [1, 2] } },
    plaintextUnmarked: 0, unknownEntropy: null, lost: 0, rtcp: 0, srtcp: {}, rtcpPlain: 0, srtcpUnknown: 0, floorControlClear: 0, firstUs: 1, lastUs: 2, ...over,
  };
}
const onLink = (...media: Flow[]): Analysis => ({ ...emptyAnalysis, links: [{ link: 'access-b', file: 'x', packets: 12, signalling: noSignalling, media }] });

describe('checks on packets and counters', () => {
  it('noMediaAt: a flow of the call to the device on any link fails, whatever its counters say', async () => {
    const bob2 = plan.elements.find((e) => e.name === 'bob-2')! as unknown as { address: string };
    const analysis: Analysis = {
      ...emptyAnalysis,
      links: [{
        link: 'access-b', file: 'x', packets: 12, signalling: noSignalling,
        media: [flow({ dst: `${bob2.address}:40000` })],
      }],
    };
    const o = await judge({ noMediaAt: ['bob-2'] }, { analysis, ueCalls: { 'bob-2': [] } });
    expect(o.mismatches.join()).toMatch(/\[packets and UE counters\] bob-2: 12 packets of the call's media to or from 127\.0\.3\.101/);
  });

  it('ueCounters runs for every call: authentication failures, replays or malformed packets fail it unless expected', async () => {
    const bad = status({ direction: 'in', media: { ...status({ direction: 'in' }).media, rxReplayed: 3 } });
    const o = await judge({}, { ueCalls: { alice: [status({ direction: 'out' })], 'bob-1': [bad] } });
    expect(o.mismatches).toEqual(['[UE counters] rxReplayed: 3 (bob-1 3), expected 0']);
    expect((await judge({ ueCounters: { rxReplayed: 3 } }, { ueCalls: { alice: [status({ direction: 'out' })], 'bob-1': [bad] } })).pass).toBe(true);
  });

  it('ueCounters { atMost: n }: none to n pass (a race), more fail; probeReceived leaves the failures to it', async () => {
    const failing = (n: number) => ({ ueCalls: { alice: [status({ direction: 'out', media: { ...status({ direction: 'out' }).media, rxAuthFailed: n } })], 'bob-1': [status({ direction: 'in' })] } });
    for (const n of [0, 1, 3]) expect((await judge({ probeReceived: true, ueCounters: { rxAuthFailed: { atMost: 3 } } }, failing(n))).mismatches, `${n}`).toEqual([]);
    expect((await judge({ probeReceived: true, ueCounters: { rxAuthFailed: { atMost: 3 } } }, failing(4))).mismatches).toEqual(['[UE counters] rxAuthFailed: 4 (alice 4), expected at most 3']);
    expect((await judge({ probeReceived: true }, failing(1))).mismatches).toEqual(['[UE counters] rxAuthFailed: 1 (alice 1), expected 0']);
  });

  it('mediaIntegrity runs for every call: replays, packets failing authentication, plain RTCP beside SRTP fail it unless expected', async () => {
    expect((await judge({}, { analysis: onLink(flow()) })).mismatches).toEqual([]);
    const replayed = await judge({}, { analysis: onLink(flow({ replayed: 2, srtp: { k: 10 } })) });
    expect(replayed.mismatches).toEqual([expect.stringMatching(/^\[packets\] replayed: 2 \(access-b udp x: 2\), expected 0/)]);
    const forged = await judge({}, { analysis: onLink(flow({ unknown: 3, unauthenticated: 3 })) });
    expect(forged.mismatches.join()).toMatch(/unauthenticated: 3 .*forged or corrupted/);
    // Plain RTCP on its own flow (port + 1), tied to the call by its SDP, next to the SRTP.
    const rtcpFlow = flow({ flow: 'udp y', packets: 0, srtp: {}, srtpVerified: 0, srtpDecrypted: 0, markers: {}, rtcp: 2, rtcpPlain: 2, foundBy: { how: 'sdp', callId: CALL_ID } });
    expect((await judge({}, { analysis: onLink(flow(), rtcpFlow) })).mismatches.join()).toMatch(/rtcpPlain: 2 .*SRTCP authentication is mandatory/);
    // Plain RTCP of an unprotected call is what it should be.
    const plain = flow({ plaintext: 12, srtp: {}, srtpVerified: 0, srtpDecrypted: 0, markers: { [markerFor(CALL_ID, 'orig')]: { plaintext: 12, srtp: {}, plaintextSpan: [1, 2], srtpSpan: null } } });
    expect((await judge({ verdict: 'none' }, { analysis: onLink(plain, rtcpFlow) })).mismatches.filter((m) => m.includes('rtcpPlain'))).toEqual([]);
    expect((await judge({ mediaIntegrity: { replayed: 2 } }, { analysis: onLink(flow({ replayed: 2 })) })).mismatches).toEqual([]);
  });

  it('every registered check names its basis', () => {
    for (const c of CHECKS) expect(c.basis, c.key).toMatch(/^(packets|UE reports|UE counters|KMS audit log|voicemail store|packets and UE counters|key logs and packets|packets and PoC box)$/);
  });
});

describe('analysis problems', () => {
  it('fail the scenario unless it expects them', () => {
    expect(sortProblems(['access-a: capture cut short at 1,024 bytes', 'keys.jsonl: line 3 is not JSON'], ['cut short'])).toEqual({
      expected: ['access-a: capture cut short at 1,024 bytes'], unexpected: ['keys.jsonl: line 3 is not JSON'],
    });
  });
});
