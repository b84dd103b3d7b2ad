/**
 * Interop with the real rtpengine (Debian rtpengine-daemon 10.5, userspace,
 * as services/ims-agw/element.ts runs it) on loopback addresses 127.0.13.x:
 * offer and answer with the very flag strings of services/pcscf/kamailio.cfg
 * and services/transcoder/kamailio.cfg (as Kamailio's rtpengine module turns
 * them into ng dictionaries), RTP/SRTP through it, then queryAgw() and the
 * parsed report: protocol, suite, endpoints, packet counts. Then the
 * cross-check against what the test's own endpoints saw (standing in for
 * the captures) must agree.
 *
 * Skipped, saying why, only when the rtpengine binary is missing. Every
 * rtpengine it starts is stopped in afterAll, also when a test fails.
 * IMSLAB_WRITE_AGW_FIXTURES=1 rewrites test/fixtures/ from this run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import rtpengine from 'rtpengine-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossCheckAgw, type CallMediaView, type CapturedFlow } from '../agw-cross-check.ts';
import { queryAgw, type AgwStream, type AgwStreamReport, type AgwTarget } from '../agw-evidence.ts';
import {
  SUITE, cfgCalls, newKey, ngFlags, parseSdp, party, pick, rtpPacket, rtpengineMissing, rtpengineVersion, sdp, sleep, srtp, startRtpengine,
  type CfgCall, type Party, type RunningRtpengine, type Sdp,
} from './rtpengine-harness.ts';

const MISSING = rtpengineMissing();
if (MISSING) console.warn(`services/ims-agw/test/rtpengine-query.test.ts skipped: ${MISSING}`);

const NG_PORT = 2223;
const AGW: AgwTarget = { name: 'ims-agw-interop', accessAddress: '127.0.13.1', accessName: 'access', coreAddress: '127.0.13.2' };
const TC: AgwTarget = { name: 'transcoder-media', accessAddress: '127.0.13.3', accessName: 'inner', coreAddress: '127.0.13.4' };
/** The parties: a UE on the access side, the far end in the core. */
const UE = '127.0.13.10';
const FAR = '127.0.13.20';
const PACKETS = 10;
const WRITE = process.env.IMSLAB_WRITE_AGW_FIXTURES === '1';
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

const pcscf = MISSING ? [] : cfgCalls('pcscf');
const transcoder = MISSING ? [] : cfgCalls('transcoder');

interface Leg {
  ngCallId: string;
  offer: Record<string, unknown>;
  answer: Record<string, unknown>;
  offerOut: Sdp;
  answerOut: Sdp;
}

describe.skipIf(MISSING !== null)(`rtpengine ${MISSING ? '' : rtpengineVersion()} ng query, driven as the P-CSCF and the transcoder drive it`, () => {
  let agw: RunningRtpengine | undefined;
  let tc: RunningRtpengine | undefined;
  const client = new rtpengine.Client({ timeout: 2000 });
  const parties: Party[] = [];

  beforeAll(async () => {
    agw = await startRtpengine({ interfaces: [['access', AGW.accessAddress], ['core', AGW.coreAddress]], ngAddress: AGW.coreAddress, ngPort: NG_PORT, portMin: 50000, portMax: 50099 });
    tc = await startRtpengine({ interfaces: [['inner', TC.accessAddress], ['core', TC.coreAddress]], ngAddress: TC.coreAddress, ngPort: NG_PORT, portMin: 50100, portMax: 50199 });
  }, 20_000);

  afterAll(async () => {
    client.close();
    for (const p of parties) p.close();
    await agw?.stop();
    await tc?.stop();
  });

  async function newParty(address: string, port: number): Promise<Party> {
    const p = await party(address, port);
    parties.push(p);
    return p;
  }

  /** offer then answer on one ng session, as Kamailio sends them for `cfg` (the call-id suffix comes from the cfg when it names one). */
  async function leg(ng: string, callId: string, suffix: string, offerCfg: CfgCall, offerSdp: string, offerFrom: string, answerCfg: CfgCall, answerSdp: (offerOut: Sdp) => string, answerFrom: string): Promise<Leg> {
    if (offerCfg.suffix !== null) expect(offerCfg.suffix).toBe(suffix);
    if (answerCfg.suffix !== null) expect(answerCfg.suffix).toBe(suffix);
    const ngCallId = `${callId}${suffix}`;
    const offer = { ...ngFlags(offerCfg.flags, offerFrom), 'call-id': ngCallId, 'from-tag': 'from-tag-1', sdp: offerSdp };
    const o = await client.offer(NG_PORT, ng, offer);
    expect(o.result, `offer: ${String(o['error-reason'])}`).toBe('ok');
    const offerOut = parseSdp(String(o.sdp));
    const answer = { ...ngFlags(answerCfg.flags, answerFrom), 'call-id': ngCallId, 'from-tag': 'from-tag-1', 'to-tag': 'to-tag-1', sdp: answerSdp(offerOut) };
    const a = await client.answer(NG_PORT, ng, answer);
    expect(a.result, `answer: ${String(a['error-reason'])}`).toBe('ok');
    return { ngCallId, offer, answer, offerOut, answerOut: parseSdp(String(a.sdp)) };
  }

  /** PACKETS packets each way, 20 ms apart, each side under its key (plain RTP without one). */
  async function exchange(a: Party, toA: Sdp, aKey: string | null, b: Party, toB: Sdp, bKey: string | null): Promise<void> {
    const ca = aKey ? srtp(aKey) : null;
    const cb = bKey ? srtp(bKey) : null;
    for (let i = 0; i < PACKETS; i++) {
      const pa = rtpPacket(1000 + i, 0x11110000 + a.port, 0xa5);
      a.send(ca ? ca.protectRtp(pa) : pa, toA);
      const pb = rtpPacket(2000 + i, 0x22220000 + b.port, 0x5a);
      b.send(cb ? cb.protectRtp(pb) : pb, toB);
      await sleep(20);
    }
    await sleep(300);
  }

  /** How a party's packets look on the wire: under which of `keys` they verify, or plaintext (our fill bytes readable). */
  function classify(pkts: Buffer[], keys: Record<string, string>): Pick<CapturedFlow, 'packets' | 'plaintext' | 'srtp' | 'unknown'> {
    const ctx = Object.fromEntries(Object.entries(keys).map(([id, k]) => [id, srtp(k)]));
    const out = { packets: pkts.length, plaintext: 0, srtp: {} as Record<string, number>, unknown: 0 };
    for (const p of pkts) {
      const id = Object.keys(ctx).find((k) => ctx[k]!.unprotectRtp(p).ok);
      if (id) out.srtp[id] = (out.srtp[id] ?? 0) + 1;
      else if (p.length === 172 && (p[12] === 0xa5 || p[12] === 0x5a)) out.plaintext++;
      else out.unknown++;
    }
    return out;
  }

  /** The two flows between a party and the rtpengine socket it talks to, as a capture of `link` would show them. */
  function flows(link: string, p: Party, socket: Sdp, keys: Record<string, string>): { link: string; flows: CapturedFlow[] } {
    const agwEp = `${socket.ip}:${socket.port}`;
    return {
      link,
      flows: [
        { src: p.endpoint, dst: agwEp, ofCall: true, ...classify(p.sent, keys) },
        { src: agwEp, dst: p.endpoint, ofCall: true, ...classify(p.got, keys) },
      ],
    };
  }

  async function query(target: AgwTarget, callId: string): Promise<AgwStreamReport[]> {
    return queryAgw(target, callId, { ngPort: NG_PORT, timeoutMs: 2000 });
  }

  const side = (r: AgwStreamReport, iface: string): AgwStream => {
    const s = r.streams.filter((x) => x.interface === iface);
    expect(s, `${r.ngCallId}: one ${iface} side`).toHaveLength(1);
    return s[0]!;
  };

  function fixture(name: string, about: string, target: AgwTarget, l: Leg, reply: unknown, parties: Record<string, string>): void {
    if (!WRITE) return;
    mkdirSync(FIXTURES, { recursive: true });
    const { sdp: offerSdp, ...offer } = l.offer;
    const { sdp: answerSdp, ...answer } = l.answer;
    writeFileSync(`${FIXTURES}${name}.json`, JSON.stringify({
      about, rtpengine: rtpengineVersion(), interfaces: { [target.accessName]: target.accessAddress, core: target.coreAddress },
      parties, packetsEachWay: PACKETS,
      offer: { ...offer, sdp: offerSdp, sdpOut: l.offerOut.text }, answer: { ...answer, sdp: answerSdp, sdpOut: l.answerOut.text },
      reply,
    }, null, 2) + '\n');
  }

  async function rawQuery(ng: string, ngCallId: string): Promise<unknown> {
    return client.query(NG_PORT, ng, { 'call-id': ngCallId });
  }

  it('(a) RTP/AVP both sides, relayed with the P-CSCF relay flags (passthrough): plain RTP, endpoints and counts', async () => {
    const offerCfg = pick(pcscf, 'offer', ['direction=access direction=core', 'call-id=$ci-mo', 'passthrough'], 'MEDIA_RELAY_OFFER_MO');
    const answerCfg = pick(pcscf, 'answer', ['direction=core direction=access', 'passthrough'], 'relay answer from the core');
    const ue = await newParty(UE, 40000);
    const far = await newParty(FAR, 40002);
    const l = await leg(AGW.coreAddress, 'interop-a', '-mo', offerCfg, sdp(UE, ue.port, 'RTP/AVP'), UE, answerCfg, (o) => sdp(FAR, far.port, o.protocol), FAR);
    await exchange(ue, l.answerOut, null, far, l.offerOut, null);
    expect(far.got.map((b) => b.toString('hex'))).toEqual(ue.sent.map((b) => b.toString('hex')));

    const reports = await query(AGW, 'interop-a');
    expect(reports.map((r) => [r.ngCallId, r.found, r.error ?? null])).toEqual([['interop-a-mo', true, null], ['interop-a-mt', false, 'Unknown call-id']]);
    const mo = reports[0]!;
    const access = side(mo, 'access');
    const core = side(mo, 'core');
    expect(access).toMatchObject({ protocol: 'RTP/AVP', handling: 'rtp', srtp: null, reportedSuite: null, local: `${AGW.accessAddress}:${l.answerOut.port}`, endpoint: ue.endpoint, packets: PACKETS });
    expect(core).toMatchObject({ protocol: 'RTP/AVP', handling: 'rtp', srtp: null, reportedSuite: null, local: `${AGW.coreAddress}:${l.offerOut.port}`, endpoint: far.endpoint, packets: PACKETS });
    expect(access.flags).toContain('passthrough');
    expect(access.peers).toEqual([core.tag]);
    fixture('rtp-both-sides.query', 'RTP/AVP on both sides; offer and answer with the P-CSCF relay flags (passthrough); 10 RTP packets each way', AGW, l, await rawQuery(AGW.coreAddress, l.ngCallId), { access: ue.endpoint, core: far.endpoint });

    const view: CallMediaView = { links: [flows('access-a', ue, l.answerOut, {}), flows('core', far, l.offerOut, {})] };
    const lines = crossCheckAgw(reports, view);
    expect(lines.filter((x) => x.kind === 'disagrees')).toEqual([]);
    expect(lines.find((x) => x.kind === 'agrees')?.text).toMatch(/^ims-agw-interop \(-mo\): relays plain RTP, as the capture shows \(plaintext \(40 packets readable\)\)/);
  });

  it('(b) SRTP both sides with the relay flags: passthrough, SDP crypto and packets untouched, no suite applied', async () => {
    const offerCfg = pick(pcscf, 'offer', ['direction=access direction=core', 'call-id=$ci-mo', 'passthrough'], 'MEDIA_RELAY_OFFER_MO');
    const answerCfg = pick(pcscf, 'answer', ['direction=core direction=access', 'passthrough'], 'relay answer from the core');
    const ue = await newParty(UE, 40010);
    const far = await newParty(FAR, 40012);
    const ueKey = newKey();
    const farKey = newKey();
    const l = await leg(AGW.coreAddress, 'interop-b', '-mo', offerCfg, sdp(UE, ue.port, 'RTP/SAVP', ueKey), UE, answerCfg, (o) => sdp(FAR, far.port, o.protocol, farKey), FAR);
    // What the P-CSCF config assumes of passthrough: the crypto lines pass as they are, nothing added.
    expect(l.offerOut.crypto).toEqual([{ tag: 1, suite: SUITE, key: ueKey }]);
    expect(l.answerOut.crypto).toEqual([{ tag: 1, suite: SUITE, key: farKey }]);
    expect(l.offerOut.text).not.toMatch(/a=fingerprint|a=setup/);
    await exchange(ue, l.answerOut, ueKey, far, l.offerOut, farKey);
    expect(far.got.map((b) => b.toString('hex'))).toEqual(ue.sent.map((b) => b.toString('hex')));
    expect(ue.got.map((b) => b.toString('hex'))).toEqual(far.sent.map((b) => b.toString('hex')));

    const [mo] = await query(AGW, 'interop-b');
    expect(mo!.found).toBe(true);
    const access = side(mo!, 'access');
    const core = side(mo!, 'core');
    for (const s of [access, core]) expect(s).toMatchObject({ protocol: 'RTP/SAVP', handling: 'srtp-passthrough', srtp: null, packets: PACKETS });
    expect(access.local).toBe(`${AGW.accessAddress}:${l.answerOut.port}`);
    expect(core.endpoint).toBe(far.endpoint);
    // rtpengine 10.5 reports the negotiated suite on the answerer's side although it applies none there.
    expect([access.reportedSuite, core.reportedSuite]).toEqual([null, SUITE]);
    fixture('srtp-passthrough.query', 'RTP/SAVP (SDES) on both sides; the P-CSCF relay flags (passthrough): crypto lines and SRTP packets pass byte for byte; 10 SRTP packets each way', AGW, l, await rawQuery(AGW.coreAddress, l.ngCallId), { access: ue.endpoint, core: far.endpoint });

    const keys = { 'alice/tx': ueKey, 'bob/tx': farKey };
    const view: CallMediaView = { links: [flows('access-a', ue, l.answerOut, keys), flows('core', far, l.offerOut, keys)], keySuites: { 'alice/tx': SUITE, 'bob/tx': SUITE } };
    const lines = crossCheckAgw([mo!], view);
    expect(lines.filter((x) => x.kind === 'disagrees')).toEqual([]);
    expect(lines.find((x) => x.kind === 'agrees')?.text).toMatch(/^ims-agw-interop \(-mo\): relayed SRTP untouched \(passthrough\), the same keys on both sides \(alice\/tx, bob\/tx\); endpoints match access side: access-a flow 127\.0\.13\.10:40010->127\.0\.13\.1:\d+ \(10 packets\)/);
  });

  it('(c) e2ae from the UE: SRTP terminated on the access side with the suite it reports, plain RTP in the core', async () => {
    const offerCfg = pick(pcscf, 'offer', ['direction=access direction=core RTP/AVP', 'call-id=$ci-mo'], 'e2ae offer from the UE');
    const answerCfg = pick(pcscf, 'answer', ['direction=core direction=access RTP/SAVP'], 'e2ae answer toward the UE');
    const ue = await newParty(UE, 40020);
    const far = await newParty(FAR, 40022);
    const ueKey = newKey();
    const l = await leg(AGW.coreAddress, 'interop-c', '-mo', offerCfg, sdp(UE, ue.port, 'RTP/SAVP', ueKey), UE, answerCfg, (o) => sdp(FAR, far.port, o.protocol), FAR);
    expect(l.offerOut.protocol).toBe('RTP/AVP');
    expect(l.offerOut.crypto).toEqual([]);
    expect(l.answerOut.protocol).toBe('RTP/SAVP');
    expect(l.answerOut.crypto.map((c) => c.suite)).toEqual([SUITE]);
    const agwKey = l.answerOut.crypto[0]!.key;
    expect(agwKey).not.toBe(ueKey);
    await exchange(ue, l.answerOut, ueKey, far, l.offerOut, null);
    // Decrypted toward the core, encrypted under the AGW's own key toward the UE.
    expect(far.got.map((b) => b.toString('hex'))).toEqual(ue.sent.map((_, i) => rtpPacket(1000 + i, 0x11110000 + ue.port, 0xa5).toString('hex')));
    const check = srtp(agwKey);
    expect(ue.got.filter((p) => check.unprotectRtp(p).ok)).toHaveLength(PACKETS);

    const [mo] = await query(AGW, 'interop-c');
    const access = side(mo!, 'access');
    const core = side(mo!, 'core');
    expect(access).toMatchObject({
      protocol: 'RTP/SAVP', handling: 'srtp-terminated', reportedSuite: SUITE, srtp: { fromEndpoint: SUITE, toEndpoint: SUITE },
      local: `${AGW.accessAddress}:${l.answerOut.port}`, endpoint: ue.endpoint, packets: PACKETS,
    });
    // Counted after decryption: no 10-octet auth tag.
    expect(access.bytes).toBe(PACKETS * 172);
    expect(core).toMatchObject({ protocol: 'RTP/AVP', handling: 'rtp', srtp: null, local: `${AGW.coreAddress}:${l.offerOut.port}`, endpoint: far.endpoint, packets: PACKETS });
    fixture('e2ae-srtp-access-rtp-core.query', 'e2ae, offer from the UE: RTP/SAVP (SDES) on the access side terminated by rtpengine, RTP/AVP toward the core; P-CSCF e2ae flags; 10 packets each way', AGW, l, await rawQuery(AGW.coreAddress, l.ngCallId), { access: ue.endpoint, core: far.endpoint });

    const keys = { 'alice/tx': ueKey, 'alice/rx': agwKey };
    const view: CallMediaView = { links: [flows('access-a', ue, l.answerOut, keys), flows('core', far, l.offerOut, keys)], keySuites: { 'alice/tx': SUITE, 'alice/rx': SUITE } };
    const lines = crossCheckAgw([mo!], view);
    expect(lines.filter((x) => x.kind === 'disagrees')).toEqual([]);
    expect(lines.find((x) => x.kind === 'agrees')?.text).toMatch(/^ims-agw-interop \(-mo\): terminates SRTP \(AES_CM_128_HMAC_SHA1_80\) on its access side and relays plain RTP on its core side, as the capture shows \(SRTP under alice\/rx, alice\/tx there\)/);

    // And what the cross-check says when the access side was in fact in the clear.
    const plainView: CallMediaView = { links: [flows('access-a', ue, l.answerOut, {}), flows('core', far, l.offerOut, {})] };
    plainView.links[0]!.flows = plainView.links[0]!.flows.map((f) => ({ ...f, plaintext: f.packets, srtp: {}, unknown: 0 }));
    expect(crossCheckAgw([mo!], plainView).filter((x) => x.kind === 'disagrees').map((x) => x.text)).toEqual([
      expect.stringMatching(/^ims-agw-interop \(-mo\) reports AES_CM_128_HMAC_SHA1_80 on its access side but the capture shows plaintext there/),
    ]);
  });

  it('(c\') e2ae toward the UE: the -mt session, SRTP offered by rtpengine with AES_CM_128_HMAC_SHA1_80 only', async () => {
    const offerCfg = pick(pcscf, 'offer', ['direction=core direction=access RTP/SAVP', 'call-id=$ci-mt'], 'e2ae offer toward the UE');
    const answerCfg = pick(pcscf, 'answer', ['direction=access direction=core RTP/AVP'], 'e2ae answer from the UE');
    const far = await newParty(FAR, 40032);
    const ue = await newParty(UE, 40030);
    const ueKey = newKey();
    const l = await leg(AGW.coreAddress, 'interop-d', '-mt', offerCfg, sdp(FAR, far.port, 'RTP/AVP'), FAR, answerCfg, (o) => sdp(UE, ue.port, o.protocol, ueKey), UE);
    expect(l.offerOut.crypto.map((c) => c.suite)).toEqual([SUITE]);
    expect(l.offerOut.text).not.toMatch(/a=fingerprint/);
    await exchange(far, l.answerOut, null, ue, l.offerOut, ueKey);
    const reports = await query(AGW, 'interop-d');
    expect(reports.map((r) => [r.ngCallId, r.found])).toEqual([['interop-d-mo', false], ['interop-d-mt', true]]);
    const access = side(reports[1]!, 'access');
    expect(access).toMatchObject({ handling: 'srtp-terminated', srtp: { fromEndpoint: SUITE, toEndpoint: SUITE }, endpoint: ue.endpoint, local: `${AGW.accessAddress}:${l.offerOut.port}`, packets: PACKETS });
    expect(side(reports[1]!, 'core')).toMatchObject({ handling: 'rtp', endpoint: far.endpoint, local: `${AGW.coreAddress}:${l.answerOut.port}`, packets: PACKETS });
    fixture('e2ae-rtp-core-srtp-access.query', 'e2ae, offer from the core toward the UE (-mt): RTP/AVP from the core, RTP/SAVP with rtpengine\'s own AES_CM_128_HMAC_SHA1_80 key toward the UE; P-CSCF e2ae flags; 10 packets each way', AGW, l, await rawQuery(AGW.coreAddress, l.ngCallId), { access: ue.endpoint, core: far.endpoint });
  });

  it('(e) the transcoder\'s media engine: -tc1 and -tc2 joined on the inner interface, SRTP re-encrypted under its own keys', async () => {
    const tc1Offer = pick(transcoder, 'offer', ['call-id=$ci-tc1'], 'leg 1 offer');
    const tc2Offer = pick(transcoder, 'offer', ['call-id=$ci-tc2'], 'leg 2 offer');
    const tc2Answer = pick(transcoder, 'answer', ['call-id=$ci-tc2'], 'leg 2 answer');
    const tc1Answer = pick(transcoder, 'answer', ['call-id=$ci-tc1'], 'leg 1 answer');
    const caller = await newParty(UE, 40040);
    const callee = await newParty(FAR, 40042);
    const callerKey = newKey();
    const calleeKey = newKey();
    // As Kamailio does it: both offers before both answers, each leg's output SDP the next one's input.
    const ngOffer1 = { ...ngFlags(tc1Offer.flags, UE), 'call-id': 'interop-e-tc1', 'from-tag': 'from-tag-1', sdp: sdp(UE, caller.port, 'RTP/SAVP', callerKey) };
    const o1 = parseSdp(String((await client.offer(NG_PORT, TC.coreAddress, ngOffer1)).sdp));
    const ngOffer2 = { ...ngFlags(tc2Offer.flags, UE), 'call-id': 'interop-e-tc2', 'from-tag': 'from-tag-1', sdp: o1.text };
    const o2 = parseSdp(String((await client.offer(NG_PORT, TC.coreAddress, ngOffer2)).sdp));
    const ngAnswer2 = { ...ngFlags(tc2Answer.flags, FAR), 'call-id': 'interop-e-tc2', 'from-tag': 'from-tag-1', 'to-tag': 'to-tag-1', sdp: sdp(FAR, callee.port, 'RTP/SAVP', calleeKey) };
    const a2 = parseSdp(String((await client.answer(NG_PORT, TC.coreAddress, ngAnswer2)).sdp));
    const ngAnswer1 = { ...ngFlags(tc1Answer.flags, FAR), 'call-id': 'interop-e-tc1', 'from-tag': 'from-tag-1', 'to-tag': 'to-tag-1', sdp: a2.text };
    const a1 = parseSdp(String((await client.answer(NG_PORT, TC.coreAddress, ngAnswer1)).sdp));
    expect([o1.ip, o1.protocol, a2.ip, a2.protocol]).toEqual([TC.accessAddress, 'RTP/AVP', TC.accessAddress, 'RTP/AVP']);
    expect([o2.ip, o2.protocol, a1.ip, a1.protocol]).toEqual([TC.coreAddress, 'RTP/SAVP', TC.coreAddress, 'RTP/SAVP']);
    const toCalleeKey = o2.crypto[0]!.key;
    const toCallerKey = a1.crypto[0]!.key;
    expect(new Set([callerKey, calleeKey, toCalleeKey, toCallerKey]).size).toBe(4);
    await exchange(caller, a1, callerKey, callee, o2, calleeKey);
    expect(callee.got.filter((p) => srtp(toCalleeKey).unprotectRtp(p).ok)).toHaveLength(PACKETS);
    expect(caller.got.filter((p) => srtp(toCallerKey).unprotectRtp(p).ok)).toHaveLength(PACKETS);

    const reports = await query(TC, 'interop-e');
    expect(reports.map((r) => [r.ngCallId, r.found])).toEqual([['interop-e-tc1', true], ['interop-e-tc2', true]]);
    const [tc1, tc2] = reports as [AgwStreamReport, AgwStreamReport];
    expect(side(tc1, 'core')).toMatchObject({ handling: 'srtp-terminated', srtp: { fromEndpoint: SUITE, toEndpoint: SUITE }, endpoint: caller.endpoint, local: `${TC.coreAddress}:${a1.port}`, packets: PACKETS });
    expect(side(tc1, 'inner')).toMatchObject({ handling: 'rtp', protocol: 'RTP/AVP', local: `${TC.accessAddress}:${o1.port}`, endpoint: `${TC.accessAddress}:${a2.port}`, packets: PACKETS });
    expect(side(tc2, 'inner')).toMatchObject({ handling: 'rtp', local: `${TC.accessAddress}:${a2.port}`, endpoint: `${TC.accessAddress}:${o1.port}`, packets: PACKETS });
    expect(side(tc2, 'core')).toMatchObject({ handling: 'srtp-terminated', srtp: { fromEndpoint: SUITE, toEndpoint: SUITE }, endpoint: callee.endpoint, local: `${TC.coreAddress}:${o2.port}`, packets: PACKETS });
    for (const [name, ng, offer, answer, offerOut, answerOut] of [
      ['transcoder-tc1.query', 'interop-e-tc1', ngOffer1, ngAnswer1, o1, a1],
      ['transcoder-tc2.query', 'interop-e-tc2', ngOffer2, ngAnswer2, o2, a2],
    ] as const) {
      fixture(name, `the transcoder's media engine, session ${ng.slice(-4)} (services/transcoder/kamailio.cfg flags): SRTP terminated on the core side, plain RTP on the inner interface; 10 packets each way`, TC,
        { ngCallId: ng, offer, answer, offerOut, answerOut }, await rawQuery(TC.coreAddress, ng), { caller: caller.endpoint, callee: callee.endpoint });
    }

    const keys = { 'caller/tx': callerKey, 'callee/tx': calleeKey, 'transcoder/to-callee': toCalleeKey, 'transcoder/to-caller': toCallerKey };
    const view: CallMediaView = { links: [flows('core', caller, a1, keys), flows('core', callee, o2, keys)] };
    const lines = crossCheckAgw(reports, view);
    expect(lines.filter((x) => x.kind === 'disagrees')).toEqual([]);
    expect(lines.filter((x) => x.kind === 'agrees').map((x) => x.text)).toEqual([
      expect.stringMatching(/^transcoder-media \(-tc1\): terminates SRTP \(AES_CM_128_HMAC_SHA1_80\) on its core side and hands plain RTP to its inner side \(on no captured link\)/),
      expect.stringMatching(/^transcoder-media \(-tc2\): terminates SRTP \(AES_CM_128_HMAC_SHA1_80\) on its core side and hands plain RTP to its inner side \(on no captured link\)/),
    ]);
  });
});
