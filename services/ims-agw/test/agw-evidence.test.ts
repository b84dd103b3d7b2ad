/**
 * queryAgw's parsing against real rtpengine 10.5 `query` replies
 * (test/fixtures/, recorded by rtpengine-query.test.ts with
 * IMSLAB_WRITE_AGW_FIXTURES=1), and which ng sessions it asks for.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ngCallIdsOf, parseQueryReply, queryAgw, type AgwInterface, type AgwStream } from '../agw-evidence.ts';

interface Fixture {
  about: string;
  rtpengine: string;
  interfaces: Partial<Record<AgwInterface, string>>;
  parties: Record<string, string>;
  packetsEachWay: number;
  offer: { sdpOut: string };
  answer: { sdpOut: string };
  reply: Record<string, unknown>;
}

function load(name: string): Fixture {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.query.json`, import.meta.url), 'utf8')) as Fixture;
}

/** rtpengine's socket as the SDP it wrote announced it. */
function socket(sdpOut: string): string {
  return `${/^c=IN IP4 (\S+)/m.exec(sdpOut)![1]}:${/^m=audio (\d+)/m.exec(sdpOut)![1]}`;
}

/** The two sides of the fixture's session by interface (each must be there: missing ones fail here). */
function sides(f: Fixture): Record<AgwInterface, AgwStream> {
  const streams = parseQueryReply(f.reply, f.interfaces);
  expect(streams.map((s) => s.interface).sort()).toEqual(Object.keys(f.interfaces).sort());
  return Object.fromEntries(streams.map((s) => [s.interface!, s])) as Record<AgwInterface, AgwStream>;
}

const SUITE = 'AES_CM_128_HMAC_SHA1_80';

describe('parseQueryReply on real rtpengine 10.5 replies', () => {
  it('reads local and remote endpoints as ip:port (local address is a string, the endpoint an object)', () => {
    const f = load('rtp-both-sides');
    expect(f.rtpengine).toMatch(/^10\.5\./);
    const { access, core } = sides(f);
    expect(access).toMatchObject({
      interface: 'access', protocol: 'RTP/AVP', codec: 'PCMU/8000', handling: 'rtp', srtp: null, reportedSuite: null,
      local: socket(f.answer.sdpOut), endpoint: f.parties.access, advertised: f.parties.access, packets: f.packetsEachWay, errors: 0, rtcpPackets: 0,
    });
    expect(access.localRtcp).toBe(`${f.interfaces.access}:${Number(socket(f.answer.sdpOut).split(':')[1]) + 1}`);
    expect(core).toMatchObject({ interface: 'core', handling: 'rtp', local: socket(f.offer.sdpOut), endpoint: f.parties.core, packets: f.packetsEachWay });
    expect(access.peers).toEqual([core.tag]);
    expect(core.peers).toEqual([access.tag]);
    expect(access.flags).toEqual(expect.arrayContaining(['passthrough']));
    expect(typeof access.ssrc).toBe('number');
    expect(typeof access.lastPacket).toBe('number');
  });

  it('passthrough: SRTP relayed untouched, no suite applied, although 10.5 reports one on the answerer side', () => {
    const f = load('srtp-passthrough');
    const { access, core } = sides(f);
    for (const s of [access, core]) expect(s).toMatchObject({ protocol: 'RTP/SAVP', handling: 'srtp-passthrough', srtp: null, packets: f.packetsEachWay });
    expect(access.reportedSuite).toBeNull();
    expect(core.reportedSuite).toBe(SUITE);
    // Untouched: the bytes counted are the SRTP packets' (172 + 10-octet tag).
    expect(access.bytes).toBe(f.packetsEachWay * 182);
  });

  it('e2ae from the UE: the suite it terminates on the access side, in both directions; plain RTP in the core', () => {
    const f = load('e2ae-srtp-access-rtp-core');
    const { access, core } = sides(f);
    expect(access).toMatchObject({
      protocol: 'RTP/SAVP', handling: 'srtp-terminated', reportedSuite: SUITE, srtp: { fromEndpoint: SUITE, toEndpoint: SUITE },
      local: socket(f.answer.sdpOut), endpoint: f.parties.access, packets: f.packetsEachWay,
    });
    expect(access.bytes).toBe(f.packetsEachWay * 172);
    expect(core).toMatchObject({ protocol: 'RTP/AVP', handling: 'rtp', srtp: null, local: socket(f.offer.sdpOut), endpoint: f.parties.core });
  });

  it('e2ae toward the UE (-mt): terminated on the access side it offered SRTP to', () => {
    const f = load('e2ae-rtp-core-srtp-access');
    const { access, core } = sides(f);
    expect(access).toMatchObject({ handling: 'srtp-terminated', srtp: { fromEndpoint: SUITE, toEndpoint: SUITE }, local: socket(f.offer.sdpOut), endpoint: f.parties.access });
    expect(core).toMatchObject({ handling: 'rtp', local: socket(f.answer.sdpOut), endpoint: f.parties.core });
  });

  it('the transcoder sessions: core side terminated, the inner side plain and joined to the other session', () => {
    const tc1 = sides(load('transcoder-tc1'));
    const tc2 = sides(load('transcoder-tc2'));
    expect(tc1.core).toMatchObject({ handling: 'srtp-terminated', reportedSuite: SUITE, endpoint: load('transcoder-tc1').parties.caller });
    expect(tc2.core).toMatchObject({ handling: 'srtp-terminated', reportedSuite: SUITE, endpoint: load('transcoder-tc2').parties.callee });
    expect(tc1.inner).toMatchObject({ handling: 'rtp', protocol: 'RTP/AVP' });
    expect(tc1.inner.endpoint).toBe(tc2.inner.local);
    expect(tc2.inner.endpoint).toBe(tc1.inner.local);
    expect(tc1.inner.flags).toContain('loop check');
  });

  it('tolerates what a reply may lack: no tags, an endpoint not yet known, an address of none of its interfaces', () => {
    expect(parseQueryReply({ result: 'ok' }, { core: '10.0.0.1' })).toEqual([]);
    const [s] = parseQueryReply({ tags: { t1: { medias: [{ index: 1, type: 'audio', protocol: 'RTP/SAVP', flags: [], streams: [{ 'local address': '10.9.9.9', 'local port': 4000, endpoint: {}, flags: ['RTP'], stats: { packets: 0 } }] }] } } }, { core: '10.0.0.1' });
    expect(s).toMatchObject({ tag: 't1', peers: [], interface: null, local: '10.9.9.9:4000', endpoint: null, handling: 'srtp-unkeyed', srtp: null, packets: 0, lastPacket: null, localRtcp: null });
  });
});

describe('queryAgw', () => {
  it('asks a P-CSCF IMS-AGW for -mo and -mt, the transcoder media engine (inner interface) for -tc1 and -tc2', () => {
    expect(ngCallIdsOf({ accessName: 'access' }, 'abc@h')).toEqual(['abc@h-mo', 'abc@h-mt']);
    expect(ngCallIdsOf({ accessName: 'inner' }, 'abc@h')).toEqual(['abc@h-tc1', 'abc@h-tc2']);
  });

  it('records an element that does not answer instead of failing the call', async () => {
    const reports = await queryAgw({ name: 'ims-agw-x', accessAddress: '127.0.13.98', accessName: 'access', coreAddress: '127.0.13.99' }, 'c1', { ngPort: 2299, timeoutMs: 200 });
    expect(reports.map((r) => [r.agw, r.ngCallId, r.found])).toEqual([['ims-agw-x', 'c1-mo', false], ['ims-agw-x', 'c1-mt', false]]);
    expect(reports[0]!.error).toBeTruthy();
    expect(reports[0]!.interfaces).toEqual({ access: '127.0.13.98', core: '127.0.13.99' });
  });
});
