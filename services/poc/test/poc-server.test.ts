import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SipLogger } from '@imslab/app-server';
import { FileError } from '@imslab/element-kit';
import { encodeFloorMessage } from '@imslab/floor-control';
import { buildRtp } from '@imslab/rtp';
import { contextOptionsFromCrypto, parseCryptoAttribute, SrtpContext } from '@imslab/srtp';
import { until } from '@imslab/sip/test-peer';
import { parsePocConfig } from '../src/config.ts';
import type { PocStatus } from '../src/contract.ts';
import { PocServer } from '../src/poc-server.ts';
import { TestMember } from './member.ts';
import { cskWorld, type CskWorld } from './csk-world.ts';

/*
 * The PoC server over real UDP on 127.0.17.x: raw SIP peers join the group,
 * speak floor control as SRTCP under their client-server keys, send SRTP
 * (the server cannot read it: it has no group key) and check what it
 * forwards. Bad input gets a SIP refusal or a counted rejection, never a crash.
 */

const DOMAIN = 'ims.test';
const SIP_PORT = 5060;
const CONTROL_PORT = 18081;
const SERVER = '127.0.17.1';
const URI = `sip:poc-team@${DOMAIN}`;
const ALICE = `sip:alice@${DOMAIN}`;
const BOB = `sip:bob@${DOMAIN}`;
const CAROL = `sip:carol@${DOMAIN}`;

const servers: PocServer[] = [];
const members: TestMember[] = [];
afterEach(async () => {
  await Promise.all(members.splice(0).map((m) => m.close()));
  for (const s of servers.splice(0)) await s.close();
});

const silent = new SipLogger('poc', 'test', () => undefined);

async function start(contention: 'deny' | 'queue' = 'deny', mode: 'e2e' | 'e2m2e' = 'e2e'): Promise<PocServer> {
  const srv = await PocServer.start(parsePocConfig({
    name: 'poc-under-test', address: SERVER, sipPort: SIP_PORT, controlPort: CONTROL_PORT, domain: DOMAIN, rtpPortMin: 36000, rtpPortMax: 36100,
    groups: [{ user: 'poc-team', mode, contention, members: [ALICE, BOB, CAROL] }],
  }), silent);
  servers.push(srv);
  return srv;
}

async function member(host: number): Promise<TestMember> {
  const m = await TestMember.open(`127.0.17.${host}`, { address: SERVER, port: SIP_PORT });
  members.push(m);
  return m;
}

async function status(): Promise<PocStatus> {
  const res = await fetch(`http://${SERVER}:${CONTROL_PORT}/status`);
  expect(res.status).toBe(200);
  return (await res.json()) as PocStatus;
}

/** Waits until `m` has received a floor message of `type`. */
const got = (m: TestMember, type: string) => until(() => (m.floorMessages(), m.seen.some((x) => x.type === type)), `${type} at ${m.address}`);

/** An SRTP-looking packet: the server never decrypts, so any RTP with a unique payload will do. */
let seq = 0;
const burst = (ssrc: number, tag: string) => buildRtp({ payloadType: 0, sequence: ++seq, timestamp: seq * 160, ssrc }, Buffer.from(`${tag}-${seq}`.padEnd(40, '.')));

describe('joining a PoC group', () => {
  it('answers a member with its own floor key, tells it the floor is idle once it ACKed, and never offers a media key', async () => {
    await start();
    const a = await member(2);
    const call = await a.join(URI, ALICE);
    expect(call.response.status).toBe(200);
    expect(call.answer!.profile).toBe('RTP/SAVP');
    expect(call.answer!.keyMgmt).toEqual([]);
    expect(call.answer!.crypto).toHaveLength(1);
    expect(call.answer!.crypto[0]).not.toContain(a.keyLine.split(' ')[2]!.slice(7, 40)); // its own key, not an echo of ours
    await got(a, 'floor-idle');
    const s = await status();
    expect(s.groups[0]).toMatchObject({ user: 'poc-team', floor: 'idle', holder: null });
    expect(s.groups[0]!.members.map((x) => x.member)).toEqual([ALICE]);
  });

  it('refuses an unknown group (404, listing the groups), a non-member (403) and offers it cannot serve (488)', async () => {
    await start();
    const m = await member(3);
    const unknown = await m.join(`sip:poc-nope@${DOMAIN}`, ALICE);
    expect(unknown.response.status).toBe(404);
    expect(unknown.response.reason).toContain('groups: poc-team');
    const stranger = await m.join(URI, `sip:mallory@${DOMAIN}`);
    expect(stranger.response.status).toBe(403);
    expect(stranger.response.reason).toContain('not a member of poc-team');
    expect((await m.join(URI, ALICE, m.offerSdp({ profile: 'RTP/AVP', crypto: [] }))).response.status).toBe(488);
    const keyless = await m.join(URI, ALICE, m.offerSdp({ crypto: [] }));
    expect(keyless.response.status).toBe(488);
    expect(keyless.response.reason).toContain('client-server key');
    expect((await m.join(URI, ALICE, m.offerSdp({ crypto: ['1 AES_CM_128_HMAC_SHA1_80 inline:not-base64!!'] }))).response.status).toBe(488);
    expect((await m.join(URI, ALICE, 'not an SDP')).response.status).toBe(488);
    expect((await status()).groups[0]!.members).toEqual([]);
  });
});

describe('client-server key by MIKEY-SAKKE (TS 33.180 7.3)', () => {
  let w: CskWorld;
  beforeAll(() => {
    w = cskWorld();
  });

  async function startWithKms(): Promise<PocServer> {
    const srv = await PocServer.start(parsePocConfig({
      name: 'poc-under-test', address: SERVER, sipPort: SIP_PORT, controlPort: CONTROL_PORT, domain: DOMAIN, rtpPortMin: 36000, rtpPortMax: 36100,
      groups: [{ user: 'poc-team', mode: 'e2e', contention: 'deny', members: [ALICE, BOB, CAROL] }], kms: w.cfg(),
    }), silent, { cskSource: () => w.kms() });
    servers.push(srv);
    return srv;
  }

  async function cskMember(host: number, offer: { keyMgmt: string; built: { srtp: { masterKey: Uint8Array; masterSalt: Uint8Array } } }): Promise<TestMember> {
    const m = await TestMember.open(`127.0.17.${host}`, { address: SERVER, port: SIP_PORT }, { keyMgmt: offer.keyMgmt, srtp: offer.built.srtp });
    members.push(m);
    return m;
  }

  it('takes the CSK the asserted member signed: no key in the answer, floor control both ways under the CSK', async () => {
    await startWithKms();
    const a = await cskMember(12, w.offer(ALICE));
    const call = await a.join(URI, ALICE);
    expect(call.response.status).toBe(200);
    expect([call.answer!.crypto, call.answer!.keyMgmt]).toEqual([[], []]);
    await got(a, 'floor-idle');
    await a.sendFloor({ type: 'floor-request', fields: {} });
    await got(a, 'floor-granted');
    const s = await status();
    expect(s.groups[0]!.members.map((x) => [x.member, x.clientServerKey])).toEqual([[ALICE, 'mikey-sakke']]);
    expect(s.groups[0]).toMatchObject({ floor: 'taken', holder: ALICE });
  });

  it('refuses (488, saying why) a CSK signed by another member, a replayed one, and one beside an SDES key; SDES alone still joins', async () => {
    await startWithKms();
    const forged = await cskMember(13, w.offer(CAROL));
    const r1 = await forged.join(URI, BOB);
    expect(r1.response.status).toBe(488);
    expect(r1.response.reason).toMatch(/CSK I_MESSAGE refused/);
    const once = w.offer(ALICE);
    const first = await cskMember(14, once);
    expect((await first.join(URI, ALICE)).response.status).toBe(200);
    const again = await cskMember(15, once);
    const r2 = await again.join(URI, ALICE);
    expect(r2.response.status).toBe(488);
    expect(r2.response.reason).toMatch(/replay/i);
    const both = await member(16);
    const r3 = await both.join(URI, BOB, both.offerSdp({ crypto: [both.keyLine], keyMgmt: [w.offer(BOB).keyMgmt] }));
    expect(r3.response.status).toBe(488);
    expect(r3.response.reason).toContain('one way');
    const sdes = await member(17);
    expect((await sdes.join(URI, BOB)).response.status).toBe(200);
    expect((await status()).groups[0]!.members.map((x) => [x.member, x.clientServerKey])).toEqual([[ALICE, 'mikey-sakke'], [BOB, 'sdes']]);
  });
});

describe('floor control and forwarding', () => {
  it('grants the first request, tells the others Floor Taken, forwards only the holder\'s packets byte for byte, and goes idle on release', async () => {
    await start();
    const [a, b, c] = await Promise.all([member(4), member(5), member(6)]);
    await a.join(URI, ALICE);
    await b.join(URI, BOB);
    await c.join(URI, CAROL);
    await Promise.all([a, b, c].map((m) => got(m, 'floor-idle')));
    await a.sendFloor({ type: 'floor-request', fields: {} });
    await got(a, 'floor-granted');
    await got(b, 'floor-taken');
    await got(c, 'floor-taken');
    expect(b.seen.find((x) => x.type === 'floor-taken')!.fields.grantedPartyId).toBe(ALICE);

    const sent = [burst(1, 'alice'), burst(1, 'alice'), burst(1, 'alice')];
    for (const p of sent) await a.sendRtp(p);
    const rogue = burst(2, 'bob');
    await b.sendRtp(rogue);
    await until(() => b.rtpIn.length >= 3 && c.rtpIn.length >= 3, 'alice\'s burst at bob and carol');
    for (const m of [b, c]) expect(m.rtpIn.map((x) => x.toString('hex'))).toEqual(sent.map((x) => x.toString('hex')));
    expect(a.rtpIn).toEqual([]); // nothing of bob's came back to anyone
    expect(c.rtpIn.some((x) => x.equals(rogue))).toBe(false);

    let s = (await status()).groups[0]!;
    expect(s).toMatchObject({ floor: 'taken', holder: ALICE });
    const leg = (who: string) => s.members.find((x) => x.member === who)!;
    expect(leg(ALICE)).toMatchObject({ rxPackets: 3, forwarded: 3, droppedNoFloor: 0 });
    expect(leg(BOB)).toMatchObject({ rxPackets: 1, forwarded: 0, droppedNoFloor: 1, txPackets: 3 });
    expect(leg(ALICE).floorRx).toEqual({ 'floor-request': 1 });

    await a.sendFloor({ type: 'floor-release', fields: {} });
    await Promise.all([a, b, c].map((m) => until(() => (m.floorMessages(), m.seen.filter((x) => x.type === 'floor-idle').length >= 2), 'Floor Idle after release')));
    await a.sendRtp(burst(1, 'late'));
    s = (await status()).groups[0]!;
    expect(s).toMatchObject({ floor: 'idle', holder: null });
    await until(async () => (await status()).groups[0]!.members.find((x) => x.member === ALICE)!.droppedNoFloor === 1, 'the late packet dropped');
  });

  it('denies a second request while the floor is taken (contention deny)', async () => {
    await start('deny');
    const [a, b] = await Promise.all([member(7), member(8)]);
    await a.join(URI, ALICE);
    await b.join(URI, BOB);
    await Promise.all([a, b].map((m) => got(m, 'floor-idle')));
    await a.sendFloor({ type: 'floor-request', fields: {} });
    await got(a, 'floor-granted');
    await b.sendFloor({ type: 'floor-request', fields: {} });
    await got(b, 'floor-deny');
    expect(b.seen.find((x) => x.type === 'floor-deny')!.fields.rejectCause?.cause).toBe(1);
    expect((await status()).groups[0]!.holder).toBe(ALICE);
  });

  it('queues a second request (contention queue) and grants it when the holder releases', async () => {
    await start('queue');
    const [a, b] = await Promise.all([member(9), member(10)]);
    await a.join(URI, ALICE);
    await b.join(URI, BOB);
    await Promise.all([a, b].map((m) => got(m, 'floor-idle')));
    await a.sendFloor({ type: 'floor-request', fields: {} });
    await got(a, 'floor-granted');
    await b.sendFloor({ type: 'floor-request', fields: {} });
    await got(b, 'floor-queue-position-info');
    await a.sendFloor({ type: 'floor-release', fields: {} });
    await got(b, 'floor-granted');
    expect((await status()).groups[0]!.holder).toBe(BOB);
  });

  it('counts and refuses floor control under the wrong key or malformed, and keeps serving', async () => {
    await start();
    const [a, b] = await Promise.all([member(11), member(12)]);
    await a.join(URI, ALICE);
    await b.join(URI, BOB);
    await got(a, 'floor-idle');
    await a.sendRtcpBytes(Buffer.from('garbage that is not RTCP'));
    await a.sendRtcpBytes(Buffer.alloc(40, 0x80));
    // A Floor Request under a key that is not alice's (another member's, the group's): nobody can act for her.
    const other = new SrtpContext(contextOptionsFromCrypto(parseCryptoAttribute(b.keyLine)));
    await a.sendRtcpBytes(other.protectRtcp(encodeFloorMessage({ type: 'floor-request', ackRequired: false, ssrc: 1, fields: {} })));
    await until(async () => (await status()).groups[0]!.members.find((x) => x.member === ALICE)!.floorRejected === 3, 'three rejections');
    expect((await status()).groups[0]).toMatchObject({ floor: 'idle', holder: null });
    await a.sendFloor({ type: 'floor-request', fields: {} });
    await got(a, 'floor-granted');
  });

  it('frees the floor when the holder hangs up', async () => {
    await start();
    const [a, b] = await Promise.all([member(13), member(14)]);
    await a.join(URI, ALICE);
    await b.join(URI, BOB);
    await Promise.all([a, b].map((m) => got(m, 'floor-idle')));
    await a.sendFloor({ type: 'floor-request', fields: {} });
    await got(b, 'floor-taken');
    expect((await a.call!.uac.hangUp()).status).toBe(200);
    await until(() => (b.floorMessages(), b.seen.filter((x) => x.type === 'floor-idle').length >= 2), 'Floor Idle at bob');
    const s = (await status()).groups[0]!;
    expect(s).toMatchObject({ floor: 'idle', holder: null });
    expect(s.left.map((x) => x.member)).toEqual([ALICE]);
  });
});

describe('e2m2e: the server re-encrypts per leg', () => {
  it('decrypts the holder\'s burst with its key and re-encrypts it under each listener\'s leg key; a forged packet goes nowhere', async () => {
    await start('deny', 'e2m2e');
    const [a, b, c] = await Promise.all([member(15), member(16), member(18)]);
    await a.join(URI, ALICE);
    await b.join(URI, BOB);
    await c.join(URI, CAROL);
    await Promise.all([a, b, c].map((m) => got(m, 'floor-idle')));
    await a.sendFloor({ type: 'floor-request', fields: {} });
    await got(a, 'floor-granted');
    const plain = burst(1, 'alice');
    const sent = a.mediaTx.protectRtp(plain);
    await a.sendRtp(sent);
    // Under another key (the listener's own): authentication fails at the server, nothing goes on.
    await a.sendRtp(b.mediaTx.protectRtp(burst(1, 'forged')));
    await until(() => b.rtpIn.length >= 1 && c.rtpIn.length >= 1, 'the burst at bob and carol');
    for (const m of [b, c]) {
      expect(m.rtpIn[0]!.equals(sent)).toBe(false); // not the bytes alice sent
      const r = m.mediaRx!.unprotectRtp(m.rtpIn[0]!);
      expect(r.ok && Buffer.from(r.packet).equals(plain)).toBe(true);
    }
    // Each listener's copy is under its own leg's key: bob's does not open with carol's.
    expect(c.mediaRx!.unprotectRtp(b.rtpIn[0]!).ok).toBe(false);
    await until(async () => (await status()).groups[0]!.members.find((x) => x.member === ALICE)!.rxAuthFailed === 1, 'the forged packet refused');
    const s = (await status()).groups[0]!;
    expect(s.mode).toBe('e2m2e');
    expect(s.members.find((x) => x.member === ALICE)).toMatchObject({ rxPackets: 2, forwarded: 1, rxAuthFailed: 1 });
    expect(b.rtpIn).toHaveLength(1);
  });
});

describe('configuration', () => {
  it('refuses a group URI that is not poc-<name>, an unknown mode and unknown keys', () => {
    const base = { name: 'p', address: SERVER, sipPort: 5060, controlPort: 8000, domain: DOMAIN, rtpPortMin: 36000, rtpPortMax: 36100 };
    expect(() => parsePocConfig({ ...base, groups: [{ user: 'team', mode: 'e2e', contention: 'deny', members: [ALICE] }] })).toThrow(FileError);
    expect(() => parsePocConfig({ ...base, groups: [{ user: 'poc-team', mode: 'e2ae', contention: 'deny', members: [ALICE] }] })).toThrow(/mode/);
    expect(() => parsePocConfig({ ...base, groups: [], extra: 1 })).toThrow(/extra/);
  });
});
