/**
 * The cross-check of IMS-AGW reports against the analyser's view, on
 * synthetic inputs: one agreement per way of handling media, and each kind of
 * disagreement.
 */
import type { Analysis } from '@imslab/analysis';
import { describe, expect, it } from 'vitest';
import { callMediaView, crossCheckAgw, type CallMediaView, type CapturedFlow } from '../agw-cross-check.ts';
import type { AgwHandling, AgwStream, AgwStreamReport } from '../agw-evidence.ts';

const SUITE = 'AES_CM_128_HMAC_SHA1_80';
const A_ACCESS = '10.1.1.11';
const A_CORE = '10.1.2.11';
const B_CORE = '10.1.2.31';
const UE = '10.1.1.100:40000';
const A_ACC_SOCK = `${A_ACCESS}:30000`;
const A_CORE_SOCK = `${A_CORE}:30002`;
const FAR = `${B_CORE}:32000`;

function stream(tag: string, peer: string, iface: AgwStream['interface'], local: string, endpoint: string, handling: AgwHandling, packets = 10): AgwStream {
  const terminated = handling === 'srtp-terminated';
  const [ip, port] = local.split(':');
  return {
    tag, peers: [peer], index: 1, type: 'audio', interface: iface, protocol: handling === 'rtp' ? 'RTP/AVP' : 'RTP/SAVP', codec: 'PCMU/8000',
    flags: handling === 'srtp-passthrough' ? ['initialized', 'passthrough'] : ['initialized'], handling,
    srtp: terminated ? { fromEndpoint: SUITE, toEndpoint: SUITE } : null, reportedSuite: terminated ? SUITE : null,
    local, localRtcp: `${ip}:${Number(port) + 1}`, endpoint, advertised: endpoint, packets, bytes: packets * 172, errors: 0, rtcpPackets: 0, ssrc: 1, lastPacket: 1,
  };
}

function report(access: AgwHandling, core: AgwHandling, o: { packets?: number; ngCallId?: string } = {}): AgwStreamReport {
  return {
    agw: 'ims-agw-a', ngCallId: o.ngCallId ?? 'call1-mo', at: '2026-01-01T00:00:00.000Z', interfaces: { access: A_ACCESS, core: A_CORE }, found: true,
    streams: [stream('ft', 'tt', 'access', A_ACC_SOCK, UE, access, o.packets), stream('tt', 'ft', 'core', A_CORE_SOCK, FAR, core, o.packets)],
  };
}

type Protection = 'plain' | 'unknown' | string;

function flow(src: string, dst: string, p: Protection, packets = 10, ofCall = true): CapturedFlow {
  return {
    src, dst, packets, ofCall,
    plaintext: p === 'plain' ? packets : 0,
    srtp: p !== 'plain' && p !== 'unknown' ? { [p]: packets } : {},
    unknown: p === 'unknown' ? packets : 0,
  };
}

/** The capture of a call through ims-agw-a: access-a and core, each way with its protection. */
function capture(p: { upAccess: Protection; downAccess: Protection; upCore: Protection; downCore: Protection }): CallMediaView {
  return {
    links: [
      { link: 'access-a', flows: [flow(UE, A_ACC_SOCK, p.upAccess), flow(A_ACC_SOCK, UE, p.downAccess)] },
      { link: 'core', flows: [flow(A_CORE_SOCK, FAR, p.upCore), flow(FAR, A_CORE_SOCK, p.downCore)] },
    ],
    keySuites: { 'alice/tx': SUITE, 'alice/rx': SUITE, 'bob/tx': SUITE },
  };
}

const texts = (lines: ReturnType<typeof crossCheckAgw>, kind: 'agrees' | 'disagrees' | 'note') => lines.filter((l) => l.kind === kind).map((l) => l.text);

describe('crossCheckAgw: agreement', () => {
  it('passthrough: relayed SRTP untouched, endpoints matching the flows', () => {
    const lines = crossCheckAgw([report('srtp-passthrough', 'srtp-passthrough')], capture({ upAccess: 'alice/tx', upCore: 'alice/tx', downCore: 'bob/tx', downAccess: 'bob/tx' }));
    expect(texts(lines, 'disagrees')).toEqual([]);
    expect(texts(lines, 'agrees')).toEqual([
      `ims-agw-a (-mo): relayed SRTP untouched (passthrough), the same keys on both sides (alice/tx, bob/tx); endpoints match access side: access-a flow ${UE}->${A_ACC_SOCK} (10 packets), access-a flow ${A_ACC_SOCK}->${UE} (10 packets); core side: core flow ${FAR}->${A_CORE_SOCK} (10 packets), core flow ${A_CORE_SOCK}->${FAR} (10 packets)`,
    ]);
  });

  it('e2ae: SRTP terminated on the access side, plain RTP in the core', () => {
    const lines = crossCheckAgw([report('srtp-terminated', 'rtp')], capture({ upAccess: 'alice/tx', downAccess: 'alice/rx', upCore: 'plain', downCore: 'plain' }));
    expect(texts(lines, 'disagrees')).toEqual([]);
    expect(texts(lines, 'agrees')).toEqual([expect.stringMatching(/^ims-agw-a \(-mo\): terminates SRTP \(AES_CM_128_HMAC_SHA1_80\) on its access side and relays plain RTP on its core side, as the capture shows \(SRTP under alice\/rx, alice\/tx there\)/)]);
  });

  it('plain RTP both sides', () => {
    const lines = crossCheckAgw([report('rtp', 'rtp')], capture({ upAccess: 'plain', downAccess: 'plain', upCore: 'plain', downCore: 'plain' }));
    expect(texts(lines, 'disagrees')).toEqual([]);
    expect(texts(lines, 'agrees')[0]).toMatch(/^ims-agw-a \(-mo\): relays plain RTP, as the capture shows \(plaintext \(40 packets readable\)\); endpoints match access side/);
  });

  it('keys held on both sides (rtpengine default relay): says whether it re-encrypted', () => {
    const same = crossCheckAgw([report('srtp-terminated', 'srtp-terminated')], capture({ upAccess: 'alice/tx', upCore: 'alice/tx', downCore: 'bob/tx', downAccess: 'bob/tx' }));
    expect(texts(same, 'agrees')[0]).toMatch(/holds the SRTP keys of both sides \(AES_CM_128_HMAC_SHA1_80, not passthrough\) and sends on under the keys it receives \(alice\/tx, bob\/tx\): it relays the endpoints' SRTP but could read it/);
    const changed = crossCheckAgw([report('srtp-terminated', 'srtp-terminated')], capture({ upAccess: 'alice/tx', upCore: 'agw/tx', downCore: 'bob/tx', downAccess: 'agw/rx' }));
    expect(texts(changed, 'agrees')[0]).toMatch(/terminates SRTP on both sides .* and re-encrypts: access side alice\/tx in, core side agw\/tx out/);
  });

  it('a session the element does not hold says nothing; one it could not be asked about is a note', () => {
    const lines = crossCheckAgw([
      report('rtp', 'rtp'),
      { agw: 'ims-agw-a', ngCallId: 'call1-mt', at: '2026-01-01T00:00:00.000Z', interfaces: { access: A_ACCESS, core: A_CORE }, found: false, streams: [], error: 'Unknown call-id' },
      { agw: 'ims-agw-b', ngCallId: 'call1-mo', at: '2026-01-01T00:00:00.000Z', interfaces: { access: '10.1.3.11', core: B_CORE }, found: false, streams: [], error: 'timeout' },
    ], capture({ upAccess: 'plain', downAccess: 'plain', upCore: 'plain', downCore: 'plain' }));
    expect(texts(lines, 'note')).toEqual(['ims-agw-b (-mo) could not be asked: timeout']);
  });

  it('uses the found, later report when a session was asked about more than once', () => {
    const early = { ...report('rtp', 'rtp'), at: '2026-01-01T00:00:00.000Z' };
    const later = { ...report('srtp-terminated', 'rtp'), at: '2026-01-01T00:00:05.000Z' };
    const gone = { ...report('rtp', 'rtp'), at: '2026-01-01T00:00:09.000Z', found: false, streams: [], error: 'Unknown call-id' };
    const lines = crossCheckAgw([early, later, gone], capture({ upAccess: 'alice/tx', downAccess: 'alice/rx', upCore: 'plain', downCore: 'plain' }));
    expect(texts(lines, 'disagrees')).toEqual([]);
    expect(texts(lines, 'agrees')[0]).toMatch(/terminates SRTP/);
  });
});

describe('crossCheckAgw: disagreements', () => {
  it('a suite reported on a side the capture shows in plaintext', () => {
    const lines = crossCheckAgw([report('srtp-terminated', 'rtp')], capture({ upAccess: 'plain', downAccess: 'plain', upCore: 'plain', downCore: 'plain' }));
    expect(texts(lines, 'disagrees')).toEqual([
      `ims-agw-a (-mo) reports AES_CM_128_HMAC_SHA1_80 on its access side but the capture shows plaintext there (access-a flow ${UE}->${A_ACC_SOCK} (10 packets), access-a flow ${A_ACC_SOCK}->${UE} (10 packets))`,
    ]);
    expect(texts(lines, 'agrees')).toEqual([]);
  });

  it('passthrough reported on a side the capture shows in plaintext', () => {
    const lines = crossCheckAgw([report('srtp-passthrough', 'srtp-passthrough')], capture({ upAccess: 'alice/tx', upCore: 'plain', downCore: 'bob/tx', downAccess: 'bob/tx' }));
    expect(texts(lines, 'disagrees')).toContain(`ims-agw-a (-mo) reports RTP/SAVP relayed untouched (passthrough) on its core side but the capture shows plaintext there (core flow ${A_CORE_SOCK}->${FAR} (10 packets))`);
  });

  it('plain RTP reported on a side the capture shows under SRTP, or encrypted under no logged key', () => {
    const srtp = crossCheckAgw([report('rtp', 'rtp')], capture({ upAccess: 'plain', downAccess: 'plain', upCore: 'alice/tx', downCore: 'bob/tx' }));
    expect(texts(srtp, 'disagrees')).toEqual([expect.stringMatching(/^ims-agw-a \(-mo\) reports RTP\/AVP \(plain RTP\) on its core side but the capture shows SRTP under alice\/tx, bob\/tx there/)]);
    const unknown = crossCheckAgw([report('rtp', 'rtp')], capture({ upAccess: 'plain', downAccess: 'plain', upCore: 'unknown', downCore: 'unknown' }));
    expect(texts(unknown, 'disagrees')).toEqual([expect.stringMatching(/on its core side but the capture shows encrypted under no logged key \(20 packets\) there/)]);
  });

  it('a suite other than the one the capture\'s key has', () => {
    const view = capture({ upAccess: 'alice/tx', downAccess: 'alice/rx', upCore: 'plain', downCore: 'plain' });
    view.keySuites = { 'alice/tx': 'AES_256_CM_HMAC_SHA1_80', 'alice/rx': SUITE };
    expect(texts(crossCheckAgw([report('srtp-terminated', 'rtp')], view), 'disagrees')).toEqual([
      'ims-agw-a (-mo) reports AES_CM_128_HMAC_SHA1_80 on its access side but the capture\'s SRTP there verifies under alice/tx (AES_256_CM_HMAC_SHA1_80)',
    ]);
  });

  it('passthrough that changed the key across the element', () => {
    const lines = crossCheckAgw([report('srtp-passthrough', 'srtp-passthrough')], capture({ upAccess: 'alice/tx', upCore: 'agw/tx', downCore: 'bob/tx', downAccess: 'bob/tx' }));
    expect(texts(lines, 'disagrees')).toEqual(['ims-agw-a (-mo) reports passthrough but the key changes across it: access side in under alice/tx, core side out under agw/tx']);
  });

  it('an endpoint other than the one the capture shows the socket talking to', () => {
    const view = capture({ upAccess: 'plain', downAccess: 'plain', upCore: 'plain', downCore: 'plain' });
    const other = '10.1.2.50:34000';
    view.links[1]!.flows = [flow(A_CORE_SOCK, other, 'plain'), flow(other, A_CORE_SOCK, 'plain')];
    const lines = texts(crossCheckAgw([report('rtp', 'rtp')], view), 'disagrees');
    expect(lines).toContain(`ims-agw-a (-mo) reports endpoint ${FAR} for its core side (${A_CORE_SOCK}) but the capture shows core flow ${A_CORE_SOCK}->${other} (10 packets), core flow ${other}->${A_CORE_SOCK} (10 packets)`);
    expect(lines).toContain(`ims-agw-a (-mo) reports 10 packets received from ${FAR} on its core side (${A_CORE_SOCK}) but no flow ${FAR}->${A_CORE_SOCK} was captured`);
  });

  it('a stream reported with packets but no flow captured, either way', () => {
    const view = capture({ upAccess: 'plain', downAccess: 'plain', upCore: 'plain', downCore: 'plain' });
    view.links[1]!.flows = [];
    expect(texts(crossCheckAgw([report('rtp', 'rtp')], view), 'disagrees')).toEqual([
      `ims-agw-a (-mo) reports 10 packets received from ${FAR} on its core side (${A_CORE_SOCK}) but no flow ${FAR}->${A_CORE_SOCK} was captured`,
      `ims-agw-a (-mo) received 10 packets to relay toward ${FAR} on its core side but no flow ${A_CORE_SOCK}->${FAR} was captured`,
    ]);
  });

  it('more packets counted by the element than the capture holds', () => {
    const lines = crossCheckAgw([report('rtp', 'rtp', { packets: 50 })], capture({ upAccess: 'plain', downAccess: 'plain', upCore: 'plain', downCore: 'plain' }));
    expect(texts(lines, 'disagrees')).toEqual([
      `ims-agw-a (-mo) counted 50 packets from ${UE} on its access side by the time it was asked, more than the 10 the capture holds for the whole call`,
      `ims-agw-a (-mo) counted 50 packets from ${FAR} on its core side by the time it was asked, more than the 10 the capture holds for the whole call`,
    ]);
  });

  it('a flow of the call captured at an IMS-AGW address that no reported stream accounts for', () => {
    const view = capture({ upAccess: 'plain', downAccess: 'plain', upCore: 'plain', downCore: 'plain' });
    view.links[1]!.flows.push(flow(`${A_CORE}:30010`, '10.1.2.60:36000', 'plain', 5));
    // A flow of another call at the same address is none of this call's business.
    view.links[1]!.flows.push(flow(`${A_CORE}:30020`, '10.1.2.60:36002', 'plain', 5, false));
    const lines = crossCheckAgw([report('rtp', 'rtp')], view);
    expect(texts(lines, 'disagrees')).toEqual([`core flow ${A_CORE}:30010->10.1.2.60:36000 (5 packets) was captured but ims-agw-a reports no stream on ${A_CORE}:30010`]);
    expect(texts(lines, 'agrees')).toHaveLength(1);
  });

  it('a flow of the call at an IMS-AGW that holds no session for the call', () => {
    const none: AgwStreamReport[] = ['call1-mo', 'call1-mt'].map((ngCallId) => ({
      agw: 'ims-agw-b', ngCallId, at: '2026-01-01T00:00:00.000Z', interfaces: { access: '10.1.3.11', core: B_CORE }, found: false, streams: [], error: 'Unknown call-id',
    }));
    const lines = crossCheckAgw([report('rtp', 'rtp'), ...none], capture({ upAccess: 'plain', downAccess: 'plain', upCore: 'plain', downCore: 'plain' }));
    expect(texts(lines, 'disagrees')).toEqual([
      `core flow ${A_CORE_SOCK}->${FAR} (10 packets) was captured but ims-agw-b holds no session for this call (asked -mo, -mt)`,
      `core flow ${FAR}->${A_CORE_SOCK} (10 packets) was captured but ims-agw-b holds no session for this call (asked -mo, -mt)`,
    ]);
  });

  it('the transcoder\'s inner side showing up on a captured link', () => {
    const tc1: AgwStreamReport = {
      agw: 'transcoder-media', ngCallId: 'call1-tc1', at: '2026-01-01T00:00:00.000Z', interfaces: { inner: '127.0.9.51', core: '10.1.2.51' }, found: true,
      streams: [
        stream('ft', 'tt', 'core', '10.1.2.51:34000', A_CORE_SOCK, 'srtp-terminated'),
        stream('tt', 'ft', 'inner', '127.0.9.51:34002', '127.0.9.51:34010', 'rtp'),
      ],
    };
    const view: CallMediaView = { links: [{ link: 'core', flows: [flow(A_CORE_SOCK, '10.1.2.51:34000', 'alice/tx'), flow('10.1.2.51:34000', A_CORE_SOCK, 'tc/tx')] }] };
    expect(texts(crossCheckAgw([tc1], view), 'disagrees')).toEqual([]);
    expect(texts(crossCheckAgw([tc1], view), 'agrees')).toEqual([expect.stringMatching(/^transcoder-media \(-tc1\): terminates SRTP \(AES_CM_128_HMAC_SHA1_80\) on its core side and hands plain RTP to its inner side \(on no captured link\).*inner side 127\.0\.9\.51:34002: on no captured link, as designed/)]);
    view.links.push({ link: 'core', flows: [flow('127.0.9.51:34002', '127.0.9.51:34010', 'plain')] });
    expect(texts(crossCheckAgw([tc1], view), 'disagrees')).toEqual([
      'transcoder-media (-tc1) has its inner side at 127.0.9.51:34002, which no link should carry, but the capture shows core flow 127.0.9.51:34002->127.0.9.51:34010 (10 packets)',
      // Its other end is -tc2's inner socket, and -tc2 was not reported here.
      'core flow 127.0.9.51:34002->127.0.9.51:34010 (10 packets) was captured but transcoder-media reports no stream on 127.0.9.51:34010',
    ]);
  });
});

describe('callMediaView', () => {
  it('marks the flows on the call\'s paths and those its SDP announced as the call\'s own', () => {
    const media = (src: string, dst: string, callId?: string) => ({
      flow: `udp ${src} > ${dst}`, src, dst, ssrcs: [1], packets: 10, plaintext: 10, srtp: {}, srtpVerified: 0, unknown: 0, markers: {}, plaintextUnmarked: 0,
      unknownEntropy: null, lost: 0, rtcp: 0, srtcp: {}, firstUs: 0, lastUs: 1, ...(callId ? { foundBy: { how: 'sdp' as const, callId } } : {}),
    });
    const analysis = {
      links: [
        { link: 'access-a', file: 'a.pcap', packets: 30, media: [media(UE, A_ACC_SOCK), media(A_ACC_SOCK, UE, 'cid-1'), media('10.1.1.101:40000', A_ACC_SOCK, 'cid-2')], signalling: {} },
      ],
      calls: [{
        alias: 'call1', callId: 'cid-1', verdict: 'none', evidence: [], conditions: [],
        paths: [{ direction: 'orig', marker: 'm', verdict: 'none', reasons: [], links: { 'access-a': { protection: 'plaintext', packets: 10, keys: [], flows: [], hops: [{ src: UE, dst: A_ACC_SOCK, keys: [] }] } } }],
      }],
      keys: [{ id: 'alice/tx/cid-1', owner: 'alice', dir: 'tx', suite: SUITE, callId: 'cid-1' }],
    } as unknown as Analysis;
    const view = callMediaView(analysis, 'call1');
    expect(view.links[0]!.flows.map((f) => [f.src, f.dst, f.ofCall])).toEqual([[UE, A_ACC_SOCK, true], [A_ACC_SOCK, UE, true], ['10.1.1.101:40000', A_ACC_SOCK, false]]);
    expect(view.keySuites).toEqual({ 'alice/tx/cid-1': SUITE });
    expect(callMediaView(analysis, 'nope').links[0]!.flows.every((f) => !f.ofCall)).toBe(true);
  });
});
