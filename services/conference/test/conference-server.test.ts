import { afterEach, describe, expect, it } from 'vitest';
import { SipLogger } from '@imslab/app-server';
import { FileError } from '@imslab/element-kit';
import { findMarker, markerFor, probePayload, SAMPLES_PER_PACKET } from '@imslab/probe';
import { generateKeySalt, parseCryptoAttribute, splitKeySalt, SrtpContext } from '@imslab/srtp';
import { ConferenceServer } from '../src/conference-server.ts';
import { parseConferenceConfig } from '../src/config.ts';
import { buildRtp, buildSenderReport, RtpHeaderView } from '@imslab/rtp';
import { sleep, until } from '@imslab/sip/test-peer';
import { contextFromCryptoLine, Member, newSdesKey, SUITE, type PeerCall } from './member.ts';

/*
 * The conference AS over real UDP on 127.0.12.x: raw SIP peers join
 * conferences, send (S)RTP probe packets and check what the bridge
 * forwards (e2e) or mixes and re-encrypts (e2m2e).
 */

const DOMAIN = 'ims.test';
const SIP_PORT = 5060;
const CONTROL_PORT = 18080;
const ALICE = `sip:alice@${DOMAIN}`;
const BOB = `sip:bob@${DOMAIN}`;
const CAROL = `sip:carol@${DOMAIN}`;
const MALLORY = `sip:mallory@${DOMAIN}`;

interface LegStatus {
  member: string;
  callId: string;
  leftAt: string | null;
  rxPackets: number;
  rxAuthFailed: number;
  txPackets: number;
}
interface ConferenceStatus {
  user: string;
  mode: string;
  members: LegStatus[];
  left: LegStatus[];
}
interface Status {
  name: string;
  conferences: ConferenceStatus[];
}

const servers: ConferenceServer[] = [];
const peers: Member[] = [];

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
  for (const s of servers.splice(0)) await s.close();
});

const silent = new SipLogger('conference', 'test', () => undefined);

async function startServer(address: string, conferences: Array<{ user: string; mode: string; members: string[] }>): Promise<ConferenceServer> {
  const cfg = parseConferenceConfig({
    name: 'conf-under-test',
    address,
    sipPort: SIP_PORT,
    controlPort: CONTROL_PORT,
    domain: DOMAIN,
    rtpPortMin: 31000,
    rtpPortMax: 31100,
    conferences,
  });
  const srv = await ConferenceServer.start(cfg, silent);
  servers.push(srv);
  return srv;
}

async function peer(address: string, server: string): Promise<Member> {
  const p = await Member.open(address, { address: server, port: SIP_PORT });
  peers.push(p);
  return p;
}

async function httpStatus(address: string): Promise<Status> {
  const res = await fetch(`http://${address}:${CONTROL_PORT}/status`);
  expect(res.status).toBe(200);
  return (await res.json()) as Status;
}

function conference(s: Status, user: string): ConferenceStatus {
  const c = s.conferences.find((x) => x.user === user);
  if (!c) throw new Error(`no ${user} in status: ${JSON.stringify(s)}`);
  return c;
}

function leg(c: ConferenceStatus, member: string): LegStatus {
  const l = c.members.find((x) => x.member === member);
  if (!l) throw new Error(`${member} is not in ${c.user}: ${JSON.stringify(c.members)}`);
  return l;
}

const hex = (b: Buffer) => b.toString('hex');

/** A few header fields and the payload of an RTP packet from the bridge, which adds no CSRC, extension or padding. */
function rtpFields(p: Buffer): { pt: number; seq: number; ts: number; ssrc: number; payload: Buffer } {
  const h = RtpHeaderView.from(p);
  expect([h.csrcCount, h.extension, h.padding]).toEqual([0, false, false]);
  return { pt: h.payloadType, seq: h.sequence, ts: h.timestamp, ssrc: h.ssrc, payload: p.subarray(h.payloadOffset, h.payloadEnd) };
}

/** One member's SRTP sender: own SSRC and sequence, probe packets with `marker`. */
class Sender {
  private seq = Math.floor(Math.random() * 0x8000);
  private ts = Math.floor(Math.random() * 0x10000000);
  readonly ssrc = Math.floor(Math.random() * 0x100000000) >>> 0;
  readonly sentPayloads: Buffer[] = [];
  constructor(private readonly ctx: SrtpContext, readonly marker: string) {}

  next(i: number): Buffer {
    const payload = probePayload(this.marker, i);
    this.sentPayloads.push(payload);
    const pkt = this.ctx.protectRtp(buildRtp({ payloadType: 0, sequence: this.seq++, timestamp: this.ts, ssrc: this.ssrc }, payload));
    this.ts += SAMPLES_PER_PACKET;
    return pkt;
  }
}

describe('e2e conference (group key, the bridge forwards SRTP untouched)', () => {
  it('forwards A\'s packets byte-identically to B and C only, counts them, and stops sending to C after its BYE', async () => {
    const srv = '127.0.12.1';
    await startServer(srv, [{ user: 'conf-team', mode: 'e2e', members: [ALICE, BOB, CAROL] }]);
    const a = await peer('127.0.12.2', srv);
    const b = await peer('127.0.12.3', srv);
    const c = await peer('127.0.12.4', srv);
    const uri = `sip:conf-team@${DOMAIN}`;
    const callA = await a.invite(uri, ALICE, a.offerSdp());
    const callB = await b.invite(uri, BOB, b.offerSdp());
    const callC = await c.invite(uri, CAROL, c.offerSdp());
    for (const call of [callA, callB, callC]) {
      expect(call.response.status).toBe(200);
      expect(call.answer!.profile).toBe('RTP/SAVP');
      expect(call.answer!.crypto).toEqual([]); // the bridge takes no key and offers none
      expect(call.answer!.address).toBe(srv);
    }
    // Each member gets its own media port at the bridge.
    expect(new Set([callA, callB, callC].map((x) => x.answer!.port)).size).toBe(3);

    // The group key, known to the members only.
    const group = splitKeySalt(SUITE, generateKeySalt(SUITE));
    const ctx = () => new SrtpContext({ profile: SUITE, ...group });
    const markerA = markerFor(callA.callId, 'orig');
    const senderA = new Sender(ctx(), markerA);
    const rxB = ctx();
    const rxC = ctx();

    const sent: Buffer[] = [];
    for (let i = 0; i < 20; i++) {
      const pkt = senderA.next(i);
      sent.push(pkt);
      await a.sendMedia(callA, pkt);
    }
    await until(() => b.media.length >= 20 && c.media.length >= 20, 'B and C to receive 20 packets');
    expect(b.media.map(hex)).toEqual(sent.map(hex));
    expect(c.media.map(hex)).toEqual(sent.map(hex));
    expect(a.media).toHaveLength(0); // A never hears itself

    for (const [media, rx] of [[b.media, rxB], [c.media, rxC]] as const) {
      media.forEach((p, i) => {
        const r = rx.unprotectRtp(p);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const f = rtpFields(r.packet);
        expect(f.payload.equals(senderA.sentPayloads[i]!)).toBe(true);
        expect(findMarker(f.payload)).toBe(markerA);
      });
    }

    const s1 = conference(await httpStatus(srv), 'conf-team');
    expect(s1.mode).toBe('e2e');
    expect(s1.members).toHaveLength(3);
    expect(leg(s1, ALICE)).toMatchObject({ callId: callA.callId, rxPackets: 20, txPackets: 0, rxAuthFailed: 0, leftAt: null });
    expect(leg(s1, BOB)).toMatchObject({ rxPackets: 0, txPackets: 20 });
    expect(leg(s1, CAROL)).toMatchObject({ rxPackets: 0, txPackets: 20 });
    expect(s1.left).toEqual([]);

    // C hangs up.
    const byeRes = await c.bye(callC);
    expect(byeRes.status).toBe(200);
    const s2 = conference(await httpStatus(srv), 'conf-team');
    expect(s2.members.map((m) => m.member).sort()).toEqual([ALICE, BOB]);
    expect(s2.left).toHaveLength(1);
    expect(s2.left[0]).toMatchObject({ member: CAROL, callId: callC.callId, txPackets: 20 });
    expect(s2.left[0]!.leftAt).toEqual(expect.any(String));

    const more: Buffer[] = [];
    for (let i = 20; i < 30; i++) {
      const pkt = senderA.next(i);
      more.push(pkt);
      await a.sendMedia(callA, pkt);
    }
    await until(() => b.media.length >= 30, 'B to receive the 10 packets sent after C left');
    expect(b.media.slice(20).map(hex)).toEqual(more.map(hex));

    // B talks too: A hears it, C (gone) does not.
    const senderB = new Sender(ctx(), markerFor(callB.callId, 'orig'));
    const fromB: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      const pkt = senderB.next(i);
      fromB.push(pkt);
      await b.sendMedia(callB, pkt);
    }
    await until(() => a.media.length >= 5, 'A to receive B\'s 5 packets');
    expect(a.media.map(hex)).toEqual(fromB.map(hex));
    await sleep(100); // anything still on its way to C would have arrived with B's copy
    expect(c.media).toHaveLength(20);
    expect(b.media).toHaveLength(30); // B does not hear itself either

    const s3 = conference(await httpStatus(srv), 'conf-team');
    expect(leg(s3, ALICE)).toMatchObject({ rxPackets: 30, txPackets: 5 });
    expect(leg(s3, BOB)).toMatchObject({ rxPackets: 5, txPackets: 30 });
    expect(s3.left[0]).toMatchObject({ member: CAROL, txPackets: 20 });

    await a.bye(callA);
    await b.bye(callB);
  });

  it('does not count RTCP or junk on the media port as media, and forwards none of it', async () => {
    const srv = '127.0.12.11';
    const server = await startServer(srv, [{ user: 'conf-team', mode: 'e2e', members: [ALICE, BOB] }]);
    const a = await peer('127.0.12.12', srv);
    const b = await peer('127.0.12.13', srv);
    const uri = `sip:conf-team@${DOMAIN}`;
    const callA = await a.invite(uri, ALICE, a.offerSdp());
    const callB = await b.invite(uri, BOB, b.offerSdp());
    expect([callA.response.status, callB.response.status]).toEqual([200, 200]);
    await a.sendMedia(callA, buildSenderReport(0x1234, 0, 0, 0));
    await a.sendMedia(callA, Buffer.from('short'));
    const rtp = buildRtp({ payloadType: 0, sequence: 1, timestamp: 160, ssrc: 0x1234 }, Buffer.alloc(28, 1));
    await a.sendMedia(callA, rtp); // a real (if meaningless) RTP packet, forwarded
    await until(() => b.media.length >= 1, 'B to receive the RTP packet');
    await sleep(50);
    expect(b.media.map(hex)).toEqual([hex(rtp)]);
    const s = conference(server.status() as unknown as Status, 'conf-team');
    expect(leg(s, ALICE).rxPackets).toBe(1);
    expect(leg(s, BOB).txPackets).toBe(1);
  });
});

describe('e2m2e conference (per-leg SDES keys, the bridge decrypts, mixes and re-encrypts)', () => {
  it('gives each of 3 members a decryptable 20 ms PCMU mix of the other two, never its own audio; wrong-key packets are refused', async () => {
    const srv = '127.0.12.21';
    const server = await startServer(srv, [{ user: 'conf-mix', mode: 'e2m2e', members: [ALICE, BOB, CAROL] }]);
    const uri = `sip:conf-mix@${DOMAIN}`;
    const members = [] as Array<{ who: string; peer: Member; call: PeerCall; sender: Sender; rx: SrtpContext; offerKey: Buffer }>;
    for (const [i, who] of [ALICE, BOB, CAROL].entries()) {
      const p = await peer(`127.0.12.${22 + i}`, srv);
      const key = newSdesKey(1);
      const call = await p.invite(uri, who, p.offerSdp({ crypto: [key.line] }));
      expect(call.response.status).toBe(200);
      expect(call.answer!.profile).toBe('RTP/SAVP');
      expect(call.answer!.crypto).toHaveLength(1);
      const answered = parseCryptoAttribute(call.answer!.crypto[0]!);
      expect(answered.tag).toBe(1);
      expect(answered.suite).toBe(SUITE);
      expect(answered.keyParams[0]!.keySalt).toHaveLength(30);
      expect(answered.keyParams[0]!.keySalt.equals(key.keySalt)).toBe(false); // the bridge's own key for this leg
      members.push({
        who,
        peer: p,
        call,
        sender: new Sender(contextFromCryptoLine(key.line), markerFor(call.callId, 'orig')),
        rx: contextFromCryptoLine(call.answer!.crypto[0]!),
        offerKey: key.keySalt,
      });
    }
    // Every leg has its own bridge key.
    expect(new Set(members.map((m) => m.call.answer!.crypto[0])).size).toBe(3);

    // Alice also sends packets under a key nobody agreed on (another SSRC): refused, never mixed.
    const wrongMarker = markerFor('not-a-member-key', 'orig');
    const wrong = new Sender(new SrtpContext({ profile: SUITE, ...splitKeySalt(SUITE, generateKeySalt(SUITE)) }), wrongMarker);
    const ROUNDS = 50;
    let wrongSent = 0;
    const start = Date.now();
    for (let i = 0; i < ROUNDS; i++) {
      for (const m of members) await m.peer.sendMedia(m.call, m.sender.next(i));
      if (i % 10 === 5) {
        await members[0]!.peer.sendMedia(members[0]!.call, wrong.next(i));
        wrongSent++;
      }
      // 20 ms pacing against the wall clock (no drift accumulation).
      const due = start + (i + 1) * 20;
      await sleep(Math.max(0, due - Date.now()));
    }
    // Let the bridge drain its queues, then wait until what it counted as sent has arrived.
    await sleep(150);
    await until(() => {
      const s = conference(server.status() as unknown as Status, 'conf-mix');
      return members.every((m) => m.peer.media.length === leg(s, m.who).txPackets);
    }, 'every packet the bridge sent to arrive');

    const s = conference(await httpStatus(srv), 'conf-mix');
    expect(s.mode).toBe('e2m2e');
    expect(leg(s, ALICE)).toMatchObject({ rxPackets: ROUNDS + wrongSent, rxAuthFailed: wrongSent });
    expect(leg(s, BOB)).toMatchObject({ rxPackets: ROUNDS, rxAuthFailed: 0 });
    expect(leg(s, CAROL)).toMatchObject({ rxPackets: ROUNDS, rxAuthFailed: 0 });

    const markers = members.map((m) => m.sender.marker);
    for (const m of members) {
      const got = m.peer.media;
      // One mixed packet per 20 ms tick while audio flows: about ROUNDS of them.
      expect(got.length).toBeGreaterThanOrEqual(ROUNDS * 0.7);
      expect(got.length).toBeLessThanOrEqual(ROUNDS + 10);
      const seen = new Set<string>();
      let prev: { seq: number; ts: number; ssrc: number } | undefined;
      for (const pkt of got) {
        const r = m.rx.unprotectRtp(pkt);
        expect(r.ok, `${m.who} decrypts the bridge's packet with the bridge's key`).toBe(true);
        if (!r.ok) continue;
        const f = rtpFields(r.packet);
        expect(f.pt).toBe(0);
        expect(f.payload).toHaveLength(SAMPLES_PER_PACKET);
        if (prev) {
          expect(f.ssrc).toBe(prev.ssrc);
          expect(f.seq).toBe((prev.seq + 1) & 0xffff);
          expect(f.ts).toBe((prev.ts + SAMPLES_PER_PACKET) >>> 0);
        }
        prev = f;
        const mk = findMarker(f.payload);
        if (mk) seen.add(mk);
      }
      const others = markers.filter((x) => x !== m.sender.marker);
      expect([...seen].sort(), `${m.who} hears both others and only them`).toEqual(others.sort());
      expect(seen.has(m.sender.marker)).toBe(false);
      expect(seen.has(wrongMarker)).toBe(false);
      // The member's own key is not what the bridge uses toward it.
      const ownKeyCtx = new SrtpContext({ profile: SUITE, ...splitKeySalt(SUITE, m.offerKey) });
      expect(ownKeyCtx.unprotectRtp(got[got.length - 1]!).ok).toBe(false);
    }
    for (const m of members) expect((await m.peer.bye(m.call)).status).toBe(200);
    const after = conference(server.status() as unknown as Status, 'conf-mix');
    expect(after.members).toEqual([]);
    expect(after.left).toHaveLength(3);
  });

  it('mixes only the payload of packets that carry an RTP header extension (RFC 3550 sec. 5.3.1)', async () => {
    const srv = '127.0.12.31';
    await startServer(srv, [{ user: 'conf-mix', mode: 'e2m2e', members: [ALICE, BOB] }]);
    const uri = `sip:conf-mix@${DOMAIN}`;
    const a = await peer('127.0.12.32', srv);
    const b = await peer('127.0.12.33', srv);
    const keyA = newSdesKey(1);
    const callA = await a.invite(uri, ALICE, a.offerSdp({ crypto: [keyA.line] }));
    const callB = await b.invite(uri, BOB, b.offerSdp({ crypto: [newSdesKey(1).line] }));
    expect([callA.response.status, callB.response.status]).toEqual([200, 200]);
    const txA = contextFromCryptoLine(keyA.line);
    const rxB = contextFromCryptoLine(callB.answer!.crypto[0]!);
    const marker = markerFor(callA.callId, 'orig');
    const sent: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      const payload = probePayload(marker, i);
      sent.push(payload);
      // X=1 with a one-word RFC 8285 one-byte-header extension between header and payload.
      const extension = { profile: 0xbede, data: Buffer.from([0x10, 0xaa, 0x00, 0x00]) };
      await a.sendMedia(callA, txA.protectRtp(buildRtp({ payloadType: 0, sequence: 1000 + i, timestamp: 160 * i, ssrc: 0x1234, extension }, payload)));
      await sleep(20);
    }
    await until(() => b.media.length >= 5, 'B to receive 5 mixed packets');
    for (const p of b.media.slice(0, 5)) {
      const r = rxB.unprotectRtp(p);
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      const payload = rtpFields(r.packet).payload;
      // With one other contributor the mix is a byte-identical copy of its audio: 160 octets, the marker first.
      expect(payload).toHaveLength(SAMPLES_PER_PACKET);
      expect(sent.some((x) => x.equals(payload))).toBe(true);
    }
  });
});

describe('refusals', () => {
  it('answers 403 to non-members, 488 to the wrong security or profile, 404 to unknown conferences, and creates no leg', async () => {
    const srv = '127.0.12.41';
    const server = await startServer(srv, [
      { user: 'conf-e2e', mode: 'e2e', members: [ALICE, BOB] },
      { user: 'conf-mix', mode: 'e2m2e', members: [ALICE, BOB] },
    ]);
    const p = await peer('127.0.12.42', srv);
    const e2e = `sip:conf-e2e@${DOMAIN}`;
    const mix = `sip:conf-mix@${DOMAIN}`;
    const key = () => newSdesKey(1).line;

    const r1 = await p.invite(e2e, MALLORY, p.offerSdp());
    expect(r1.response.status).toBe(403);
    expect(r1.response.reason).toContain('conf-e2e');
    expect(r1.response.reason).toContain(MALLORY);

    const r2 = await p.invite(mix, MALLORY, p.offerSdp({ crypto: [key()] }));
    expect(r2.response.status).toBe(403);
    expect(r2.response.reason).toContain('conf-mix');

    // Membership is case-insensitive on the identity.
    const r2b = await p.invite(e2e, 'sip:ALICE@ims.test', p.offerSdp());
    expect(r2b.response.status).toBe(200);
    await p.bye(r2b);

    const r3 = await p.invite(e2e, ALICE, p.offerSdp({ crypto: [key()] }));
    expect(r3.response.status).toBe(488);
    expect(r3.response.reason).toContain('group-e2e');

    const r4 = await p.invite(mix, ALICE, p.offerSdp());
    expect(r4.response.status).toBe(488);
    expect(r4.response.reason).toContain(SUITE);

    const r5 = await p.invite(mix, ALICE, p.offerSdp({ profile: 'RTP/AVP', crypto: [key()] }));
    expect(r5.response.status).toBe(488);
    expect(r5.response.reason).toContain('RTP/AVP');

    const r6 = await p.invite(e2e, BOB, p.offerSdp({ profile: 'RTP/AVP' }));
    expect(r6.response.status).toBe(488);

    // Only another suite on offer: nothing the leg can use.
    const aes256 = `1 AES_256_CM_HMAC_SHA1_80 inline:${generateKeySalt('AES_256_CM_HMAC_SHA1_80').toString('base64')}`;
    const r7 = await p.invite(mix, ALICE, p.offerSdp({ crypto: [aes256] }));
    expect(r7.response.status).toBe(488);

    const r8 = await p.invite(`sip:conf-nope@${DOMAIN}`, ALICE, p.offerSdp());
    expect(r8.response.status).toBe(404);
    expect(r8.response.reason).toContain('conf-nope');
    expect(r8.response.reason).toContain('conf-e2e');
    expect(r8.response.reason).toContain('conf-mix');

    // Every refused INVITE has a To tag (the dialog-less final response) and no leg was created.
    for (const r of [r1, r2, r3, r4, r5, r6, r7, r8]) expect(r.response.headers.get('To')).toMatch(/;tag=/);
    const s = server.status() as unknown as Status;
    for (const c of s.conferences) expect(c.members).toEqual([]);
    expect(conference(s, 'conf-e2e').left).toHaveLength(1); // only the accepted ALICE call
    expect(conference(s, 'conf-mix').left).toEqual([]);
    expect(s.conferences.map((c) => c.user).sort()).toEqual(['conf-e2e', 'conf-mix']);
  });

  it('answers 488 (not a server error) to an e2m2e offer whose a=crypto line is malformed', async () => {
    const srv = '127.0.12.45';
    await startServer(srv, [{ user: 'conf-mix', mode: 'e2m2e', members: [ALICE] }]);
    const p = await peer('127.0.12.46', srv);
    // 3 octets of key||salt where AES_CM_128_HMAC_SHA1_80 needs 30.
    const r = await p.invite(`sip:conf-mix@${DOMAIN}`, ALICE, p.offerSdp({ crypto: [`1 ${SUITE} inline:AAAA`] }));
    expect(r.response.status).toBe(488);
  });
});

describe('conference factory', () => {
  it('creates conf-adhoc-1 (Contact ;isfocus) and mixes media between the creator and a second member', async () => {
    const srv = '127.0.12.61';
    const server = await startServer(srv, []);
    const a = await peer('127.0.12.62', srv);
    const b = await peer('127.0.12.63', srv);
    const keyA = newSdesKey(1);
    const keyB = newSdesKey(1);
    const callA = await a.invite(`sip:conference-factory@${DOMAIN}`, ALICE, a.offerSdp({ crypto: [keyA.line] }));
    expect(callA.response.status).toBe(200);
    const contact = callA.response.headers.get('Contact') ?? '';
    expect(contact).toContain('sip:conf-adhoc-1@');
    expect(contact).toMatch(/;isfocus\b/);
    expect(callA.answer!.crypto).toHaveLength(1);

    const confUri = /<([^>]+)>/.exec(contact)![1]!;
    expect(confUri).toMatch(/^sip:conf-adhoc-1@/);
    // The second member, not on any list (ad-hoc conferences are open), joins by the conference URI.
    const callB = await b.invite(`sip:conf-adhoc-1@${DOMAIN}`, BOB, b.offerSdp({ crypto: [keyB.line] }));
    expect(callB.response.status).toBe(200);

    const s1 = conference(await httpStatus(srv), 'conf-adhoc-1');
    expect(s1.mode).toBe('e2m2e');
    expect(s1.members.map((m) => m.member).sort()).toEqual([ALICE, BOB]);

    const sA = new Sender(contextFromCryptoLine(keyA.line), markerFor(callA.callId, 'orig'));
    const sB = new Sender(contextFromCryptoLine(keyB.line), markerFor(callB.callId, 'orig'));
    const start = Date.now();
    for (let i = 0; i < 25; i++) {
      await a.sendMedia(callA, sA.next(i));
      await b.sendMedia(callB, sB.next(i));
      await sleep(Math.max(0, start + (i + 1) * 20 - Date.now()));
    }
    await sleep(150);
    const silence = Buffer.alloc(SAMPLES_PER_PACKET, 0xff);
    for (const [who, p, rx, own, other] of [
      ['alice', a, contextFromCryptoLine(callA.answer!.crypto[0]!), sA, sB],
      ['bob', b, contextFromCryptoLine(callB.answer!.crypto[0]!), sB, sA],
    ] as const) {
      expect(p.media.length, `${who} receives the mix`).toBeGreaterThanOrEqual(15);
      let heard = 0;
      for (const pkt of p.media) {
        const r = rx.unprotectRtp(pkt);
        expect(r.ok).toBe(true);
        if (!r.ok) continue;
        const payload = rtpFields(r.packet).payload;
        // One other member: the mix is that member's audio as it was (or silence when only we spoke in a tick).
        const isOther = other.sentPayloads.some((x) => x.equals(payload));
        expect(isOther || payload.equals(silence), `${who} gets the other's audio or silence`).toBe(true);
        if (isOther) heard++;
        expect(findMarker(payload)).not.toBe(own.marker);
      }
      expect(heard).toBeGreaterThanOrEqual(15);
    }

    // A second factory call makes another conference.
    const c = await peer('127.0.12.64', srv);
    const callC = await c.invite(`sip:conference-factory@${DOMAIN}`, CAROL, c.offerSdp({ crypto: [newSdesKey(1).line] }));
    expect(callC.response.status).toBe(200);
    expect(callC.response.headers.get('Contact')).toContain('sip:conf-adhoc-2@');
    const users = (server.status() as unknown as Status).conferences.map((x) => x.user).sort();
    expect(users).toEqual(['conf-adhoc-1', 'conf-adhoc-2']);
  });
});

describe('conference factory refusals', () => {
  it('a refused factory INVITE leaves no (open, member-less) ad-hoc conference behind', async () => {
    const srv = '127.0.12.71';
    const server = await startServer(srv, []);
    const p = await peer('127.0.12.72', srv);
    const factory = `sip:conference-factory@${DOMAIN}`;
    const noKey = await p.invite(factory, ALICE, p.offerSdp());
    expect(noKey.response.status).toBe(488);
    const avp = await p.invite(factory, ALICE, p.offerSdp({ profile: 'RTP/AVP', crypto: [newSdesKey(1).line] }));
    expect(avp.response.status).toBe(488);
    expect((server.status() as unknown as Status).conferences).toEqual([]);
    // Nobody can join a conference whose creation was refused.
    const join = await p.invite(`sip:conf-adhoc-1@${DOMAIN}`, MALLORY, p.offerSdp({ crypto: [newSdesKey(1).line] }));
    expect(join.response.status).toBe(404);
  });
});

describe('parseConferenceConfig', () => {
  const base = {
    name: 'conference',
    address: '127.0.12.200',
    sipPort: 5060,
    controlPort: 8080,
    domain: DOMAIN,
    rtpPortMin: 30000,
    rtpPortMax: 30100,
    conferences: [{ user: 'conf-team', mode: 'e2e', members: [ALICE] }],
  };
  const withConf = (c: Record<string, unknown>) => ({ ...base, conferences: [{ ...base.conferences[0], ...c }] });

  it('accepts a good config', () => {
    const cfg = parseConferenceConfig(base);
    expect(cfg.conferences).toEqual([{ user: 'conf-team', mode: 'e2e', members: [ALICE] }]);
    expect(cfg.sipPort).toBe(5060);
  });

  it('names the field that is wrong', () => {
    const problems = (raw: unknown) => {
      try {
        parseConferenceConfig(raw);
      } catch (e) {
        expect(e).toBeInstanceOf(FileError);
        return (e as FileError).problems;
      }
      throw new Error('config was accepted');
    };
    const only = (path: string, message: RegExp) => [{ path, message: expect.stringMatching(message) }];
    expect(problems(withConf({ user: 'team' }))).toEqual(only('conferences[0].user', /conf-<name>/));
    expect(problems(withConf({ user: 'conf-Team' }))).toEqual(only('conferences[0].user', /lower case/));
    expect(problems(withConf({ mode: 'mixed' }))).toEqual(only('conferences[0].mode', /"e2e"\|"e2m2e"/));
    expect(problems(withConf({ members: 'sip:alice@ims.test' }))).toEqual(only('conferences[0].members', /expected array/));
    expect(problems(withConf({ members: [1] }))).toEqual(only('conferences[0].members[0]', /expected string/));
    expect(problems(withConf({ members: ['alice'] }))).toEqual(only('conferences[0].members[0]', /SIP URI/));
    expect(problems({ ...base, conferences: {} })).toEqual(only('conferences', /expected array/));
    expect(problems({ ...base, address: 'localhost' })).toEqual(only('address', /IPv4/));
    expect(problems({ ...base, sipPort: 70000 })).toEqual(only('sipPort', /<=65535/));
    expect(problems({ ...base, domain: '' })).toEqual(only('domain', />=1 characters/));
    expect(problems(null)).toEqual(only('', /expected object, received null/));
    const second = { ...base, conferences: [base.conferences[0], { user: 'conf-x', mode: 'e2e' }] };
    expect(problems(second)).toEqual(only('conferences[1].members', /expected array, received undefined/));
    // Unknown keys are refused, at any depth.
    expect(problems({ ...base, extra: 1 })).toEqual(only('extra', /^unknown key "extra"; the conference configuration allows: name, /));
    expect(problems(withConf({ membres: [] }))).toEqual(only('conferences[0].membres', /^unknown key "membres" \(did you mean "members"\?\); a conference allows: user, mode, members$/));
    expect(() => parseConferenceConfig(withConf({ user: 'team' }))).toThrow('conference configuration: conferences[0].user: must look like conf-<name> (lower case)');
  });
});
