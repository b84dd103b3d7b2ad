import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { readOffer, SipLogger } from '@imslab/app-server';
import { buildRtp, buildSenderReport } from '@imslab/rtp';
import { until } from '@imslab/sip/test-peer';
import { parsePocConfig } from '../src/config.ts';
import type { PocGroupStatus, PocStatus, PocStreamStatus } from '../src/contract.ts';
import { PocServer } from '../src/poc-server.ts';
import { StreamMember, textLines, videoLines } from './stream-member.ts';

/*
 * Members that offer video and real-time text after their audio (the UEs'
 * poc-e2e offer), over real UDP on 127.0.23.x: each accepted stream gets its
 * own port pair, the floor holder's packets on it reach the same stream of
 * the others byte for byte, nothing else does, and whatever the server
 * cannot serve is answered with port 0 while the audio joins.
 */

const DOMAIN = 'ims.test';
const SIP_PORT = 5060;
const CONTROL_PORT = 18093;
const SERVER = '127.0.23.1';
const URI = `sip:poc-team@${DOMAIN}`;
const ALICE = `sip:alice@${DOMAIN}`;
const BOB = `sip:bob@${DOMAIN}`;
const CAROL = `sip:carol@${DOMAIN}`;

const servers: PocServer[] = [];
const members: StreamMember[] = [];
afterEach(async () => {
  await Promise.all(members.splice(0).map((m) => m.close()));
  for (const s of servers.splice(0)) await s.close();
});

const logLines: string[] = [];
const log = new SipLogger('poc', 'test', (line) => logLines.push(line));

async function start(mode: 'e2e' | 'e2m2e' = 'e2e'): Promise<PocServer> {
  const srv = await PocServer.start(parsePocConfig({
    name: 'poc-under-test', address: SERVER, sipPort: SIP_PORT, controlPort: CONTROL_PORT, domain: DOMAIN, rtpPortMin: 36200, rtpPortMax: 36300,
    groups: [{ user: 'poc-team', mode, contention: 'deny', members: [ALICE, BOB, CAROL] }],
  }), log);
  servers.push(srv);
  return srv;
}

async function member(host: number, types: Array<'video' | 'text'> = ['video', 'text']): Promise<StreamMember> {
  const m = await StreamMember.open(`127.0.23.${host}`, { address: SERVER, port: SIP_PORT }, types);
  members.push(m);
  return m;
}

async function group(): Promise<PocGroupStatus> {
  const res = await fetch(`http://${SERVER}:${CONTROL_PORT}/status`);
  expect(res.status).toBe(200);
  return ((await res.json()) as PocStatus).groups[0]!;
}

const streamsOf = (g: PocGroupStatus, who: string): PocStreamStatus[] => g.members.find((x) => x.member === who)!.streams;
const streamOf = (g: PocGroupStatus, who: string, type: string): PocStreamStatus => streamsOf(g, who).find((s) => s.type === type)!;

/** Waits until `m` has received a floor message of `type`. */
const got = (m: StreamMember, type: string) => until(() => (m.m.floorMessages(), m.m.seen.some((x) => x.type === type)), `${type} at ${m.m.address}`);

let seq = 0;
/** An SRTP-looking packet (the server never decrypts in e2e): RTP with a unique payload. */
const packet = (pt: number, ssrc: number, tag: string) => buildRtp({ payloadType: pt, sequence: ++seq, timestamp: seq * 3000, ssrc }, Buffer.from(`${tag}-${seq}`.padEnd(60, '.')));
const hex = (bs: Buffer[]) => bs.map((b) => b.toString('hex'));

/** Everyone joined and told the floor is idle; then `talker` holds the floor and the others know. */
async function joinAll(ms: StreamMember[], who: string[]): Promise<void> {
  for (let i = 0; i < ms.length; i++) expect((await ms[i]!.join(URI, who[i]!)).response.status).toBe(200);
  await Promise.all(ms.map((m) => got(m, 'floor-idle')));
}
async function takeFloor(talker: StreamMember, others: StreamMember[]): Promise<void> {
  await talker.m.sendFloor({ type: 'floor-request', fields: {} });
  await got(talker, 'floor-granted');
  await Promise.all(others.map((m) => got(m, 'floor-taken')));
}

describe('video and text in an e2e group', () => {
  it('answers each offered section in order on its own port pair, and forwards the holder\'s video and text byte for byte to the others\' same streams only', async () => {
    await start();
    const [a, b, c] = await Promise.all([member(2), member(3), member(4)]);
    await joinAll([a, b, c], [ALICE, BOB, CAROL]);
    // The answer: audio, video, text, as offered, each on a port of its own, RTP/SAVP, the offered formats, no key lines.
    const answer = a.m.call!.response.body.toString();
    expect(answer.match(/^m=\w+/gm)).toEqual(['m=audio', 'm=video', 'm=text']);
    const audio = readOffer(answer);
    expect(a.answered.map((s) => [s.index, s.type, s.profile, s.direction, s.crypto])).toEqual([[1, 'video', 'RTP/SAVP', 'sendrecv', []], [2, 'text', 'RTP/SAVP', 'sendrecv', []]]);
    const ports = [audio.port, a.serverPort('video'), a.serverPort('text')];
    expect(new Set(ports).size).toBe(3);
    expect(ports.every((p) => p % 2 === 0)).toBe(true);
    expect(a.answered[0]!.formatLines).toEqual(expect.arrayContaining(videoLines().slice(1)));
    expect(a.answered[1]!.payloadTypes).toEqual([100, 98]);
    await takeFloor(a, [b, c]);

    const video = [packet(99, 0xa1, 'alice-video'), packet(99, 0xa1, 'alice-video'), packet(99, 0xa1, 'alice-video')];
    const text = [packet(100, 0xa2, 'alice-text'), packet(100, 0xa2, 'alice-text')];
    for (const p of video) await a.send('video', p);
    for (const p of text) await a.send('text', p);
    const rogue = packet(99, 0xb1, 'bob-video');
    await b.send('video', rogue);
    await until(() => [b, c].every((m) => m.stream('video').rtpIn.length >= 3 && m.stream('text').rtpIn.length >= 2), 'alice\'s video and text at bob and carol');
    for (const m of [b, c]) {
      expect(hex(m.stream('video').rtpIn)).toEqual(hex(video));
      expect(hex(m.stream('text').rtpIn)).toEqual(hex(text));
    }

    await until(async () => streamOf(await group(), BOB, 'video').droppedNoFloor === 1, 'bob\'s video dropped');
    const g = await group();
    expect(streamOf(g, ALICE, 'video')).toMatchObject({ index: 1, port: ports[1], refused: null, rxPackets: 3, forwarded: 3, droppedNoFloor: 0, skippedNoStream: 0, txPackets: 0 });
    expect(streamOf(g, ALICE, 'text')).toMatchObject({ index: 2, port: ports[2], rxPackets: 2, forwarded: 2, txPackets: 0 });
    expect(streamOf(g, BOB, 'video')).toMatchObject({ rxPackets: 1, forwarded: 0, droppedNoFloor: 1, txPackets: 3 });
    expect(streamOf(g, CAROL, 'text')).toMatchObject({ txPackets: 2 });
    // The audio's counters are the audio's: video and text went through none of them.
    for (const who of [ALICE, BOB, CAROL]) expect(g.members.find((x) => x.member === who)).toMatchObject({ rxPackets: 0, forwarded: 0, droppedNoFloor: 0, txPackets: 0 });
    // Nothing on the audio ports, nothing back to alice, bob's video at nobody.
    for (const m of [a, b, c]) expect(m.m.rtpIn).toEqual([]);
    expect([...a.stream('video').rtpIn, ...a.stream('text').rtpIn]).toEqual([]);
    expect(c.stream('video').rtpIn.some((x) => x.equals(rogue))).toBe(false);
  });

  it('gives a member that offered audio only no video (counted at the sender), and the others still get it', async () => {
    await start();
    const [a, b, c] = await Promise.all([member(5), member(6), member(7, [])]);
    await joinAll([a, b, c], [ALICE, BOB, CAROL]);
    expect(c.answered).toEqual([]);
    expect(readOffer(c.m.call!.response.body.toString()).port).toBeGreaterThan(0);
    await takeFloor(a, [b, c]);
    const video = [packet(99, 0xa1, 'v'), packet(99, 0xa1, 'v')];
    for (const p of video) await a.send('video', p);
    // Then one audio packet: carol gets it, and only it.
    const voice = packet(0, 0xa0, 'voice');
    await a.m.sendRtp(voice);
    await until(() => b.stream('video').rtpIn.length >= 2 && c.m.rtpIn.length >= 1 && b.m.rtpIn.length >= 1, 'the video at bob, the voice at carol');
    expect(hex(c.m.rtpIn)).toEqual(hex([voice]));
    const g = await group();
    expect(streamOf(g, ALICE, 'video')).toMatchObject({ forwarded: 2, skippedNoStream: 2 });
    expect(streamsOf(g, CAROL)).toEqual([]);
  });

  it('answers an m=application stream with port 0 in its place, and a second video too, and forwards the rest', async () => {
    await start();
    const a = await member(8);
    const app = ['m=application 40006 UDP/DTLS/SCTP webrtc-datachannel', 'a=sctp-port:5000'];
    const call = await a.join(URI, ALICE, a.offerSdp([app, videoLines(), videoLines(40010), textLines()]));
    expect(call.response.status).toBe(200);
    expect(a.answered.map((s) => [s.index, s.type, s.port === 0])).toEqual([[1, 'application', true], [2, 'video', false], [3, 'video', true], [4, 'text', false]]);
    const g = await group();
    expect(streamsOf(g, ALICE).map((s) => [s.type, s.port === 0, s.refused === null])).toEqual([['application', true, false], ['video', false, true], ['video', true, false], ['text', false, true]]);
    expect(streamsOf(g, ALICE)[0]!.refused).toMatch(/only video and text/);
    expect(call.response.body.toString().match(/^m=\w+ \d+/gm)!.map((l) => l.replace(/ [1-9]\d*$/, ' ours'))).toEqual(['m=audio ours', 'm=application 0', 'm=video ours', 'm=video 0', 'm=text ours']);
    // Video before the audio: an answer cannot keep that order with the audio first, so the INVITE is refused.
    const misordered = await a.join(URI, ALICE, a.offerSdp().replace(/m=audio[^]*$/, (audio) => `${videoLines().join('\r\n')}\r\n${audio}`));
    expect(misordered.response.status).toBe(488);
    expect(misordered.response.reason).toContain('RFC 3264');
  });

  it('survives malformed datagrams on every further port, counts them, and keeps forwarding', async () => {
    await start();
    const [a, b] = await Promise.all([member(9), member(10)]);
    await joinAll([a, b], [ALICE, BOB]);
    await takeFloor(a, [b]);
    const junk = [Buffer.alloc(0), Buffer.from([0x80]), Buffer.from('not RTP at all, just text'), Buffer.alloc(11, 0x80), buildSenderReport(1, 0, 0, 0)];
    for (const type of ['video', 'text'] as const) {
      for (const j of junk) {
        await a.send(type, j);
        await a.send(type, j, true);
        await b.send(type, j, true);
      }
    }
    await until(async () => {
      const g = await group();
      return streamOf(g, ALICE, 'video').rtcpRx === junk.length && streamOf(g, ALICE, 'text').notRtp === junk.length && streamOf(g, BOB, 'text').rtcpRx === junk.length;
    }, 'the junk counted');
    const good = packet(99, 0xa1, 'after-junk');
    await a.send('video', good);
    await until(() => b.stream('video').rtpIn.some((x) => x.equals(good)), 'a good packet after the junk');
    expect(b.stream('video').rtpIn).toHaveLength(1);
    const g = await group();
    expect(streamOf(g, ALICE, 'video')).toMatchObject({ notRtp: junk.length, rxPackets: 1, forwarded: 1 });
    expect(g).toMatchObject({ floor: 'taken', holder: ALICE });
  });

  it('closes a member\'s further ports with its leg', async () => {
    await start();
    const a = await member(11);
    await joinAll([a], [ALICE]);
    const ports = [a.serverPort('video'), a.serverPort('text')];
    expect((await a.m.call!.uac.hangUp()).status).toBe(200);
    await until(async () => (await group()).left.length === 1, 'alice left');
    for (const p of ports.flatMap((x) => [x, x + 1])) {
      const s = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind({ address: SERVER, port: p, exclusive: true }, () => resolve());
      });
      s.close();
    }
    expect((await group()).left[0]!.streams.map((s) => s.type)).toEqual(['video', 'text']);
  });
});

describe('video and text in an e2m2e group', () => {
  it('answers them with port 0 (the server would need a key per stream) and joins the audio', async () => {
    await start('e2m2e');
    const a = await member(12);
    logLines.length = 0;
    const call = await a.join(URI, ALICE);
    expect(call.response.status).toBe(200);
    expect(a.answered.map((s) => [s.type, s.port])).toEqual([['video', 0], ['text', 0]]);
    await got(a, 'floor-idle');
    const g = await group();
    expect(g.members.map((x) => x.member)).toEqual([ALICE]);
    expect(streamsOf(g, ALICE).map((s) => [s.type, s.port, s.refused])).toEqual([['video', 0, expect.stringContaining('e2m2e')], ['text', 0, expect.stringContaining('key per stream')]]);
    expect(logLines.some((l) => /m=video .* port 0: e2m2e/.test(l))).toBe(true);
  });
});
