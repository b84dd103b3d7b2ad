/**
 * The voicemail application server end to end on real loopback sockets,
 * driven by a hand-written SIP peer: an SRTP deposit is stored byte for
 * byte with its MIKEY data, survives a restart, and is played back
 * byte-identical (with its spacing, then a BYE) to its owner; SDES is
 * refused, other users are refused or served per mailboxAccess.
 * Loopback 127.0.11.100-.120 only.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SipLogger, readOffer, type OfferedMedia } from '@imslab/app-server';
import { FileError } from '@imslab/element-kit';
import { buildRtp } from '@imslab/rtp';
import { fromOf, tagOf, toOf, type SipRequest, type SipResponse } from '@imslab/sip';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRequest, offerSdp, RtpSink, SipPeer, sleep, UacCall, until } from '@imslab/sip/test-peer';
import { parseVoicemailConfig, payloadDigest, Voicemail, VoicemailStore, type MessageMeta, type PlaybackRecord, type VoicemailConfig } from '../src/index.ts';

const VM_ADDR = '127.0.11.100';
const PEER_ADDR = '127.0.11.101';
const RTP_MIN = 31_000;
const RTP_MAX = 31_099;
let portSeq = 0;

/** A fresh config on its own SIP and control ports (a restart reuses a config). */
function config(storeDir: string, extra: Record<string, unknown> = {}): VoicemailConfig {
  const n = portSeq++;
  return parseVoicemailConfig({
    name: 'vm-test',
    address: VM_ADDR,
    sipPort: 25_100 + n,
    controlPort: 28_100 + n,
    domain: 'ims.test',
    storeDir,
    rtpPortMin: RTP_MIN,
    rtpPortMax: RTP_MAX,
    ...extra,
  });
}

const quiet = (lines: string[]) => new SipLogger('voicemail', 'vm-test', (l) => lines.push(l));

/** Fake SRTP of `len` octets: an RTP header (PT 0, random timestamp and SSRC), then random bytes (the voicemail never decrypts). */
function fakeSrtp(seq: number, len = 182): Buffer {
  const r = randomBytes(len - 4);
  return buildRtp({ payloadType: 0, sequence: seq, timestamp: r.readUInt32BE(0), ssrc: r.readUInt32BE(4) }, r.subarray(8));
}

const mikeyValue = () => `mikey ${randomBytes(90).toString('base64')}`;

function getJson(host: string, port: number, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
        } catch (e) {
          reject(e as Error);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Open resources, closed after each test (and after the sequential flow). */
class Rig {
  vms: Voicemail[] = [];
  peers: SipPeer[] = [];
  sinks: RtpSink[] = [];
  dirs: string[] = [];
  log: string[] = [];

  dir(): string {
    const d = mkdtempSync(join(tmpdir(), 'vm-test-'));
    this.dirs.push(d);
    return d;
  }

  async vm(cfg: VoicemailConfig): Promise<Voicemail> {
    const v = await Voicemail.start(cfg, quiet(this.log));
    this.vms.push(v);
    return v;
  }

  async peer(): Promise<SipPeer> {
    const p = await SipPeer.open(PEER_ADDR);
    this.peers.push(p);
    return p;
  }

  async sink(): Promise<RtpSink> {
    const s = await RtpSink.open(PEER_ADDR);
    this.sinks.push(s);
    return s;
  }

  async close(): Promise<void> {
    for (const v of this.vms.splice(0)) await v.close();
    for (const p of this.peers.splice(0)) await p.close();
    for (const s of this.sinks.splice(0)) await s.close();
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

/** A deposit call for bob's mailbox, from alice, as the S-CSCF forwards it. */
function depositCall(peer: SipPeer, cfg: VoicemailConfig): UacCall {
  return new UacCall(peer, {
    host: cfg.address,
    port: cfg.sipPort,
    uri: 'sip:bob@ims.test',
    from: 'sip:alice@ims.test',
    to: 'sip:bob@ims.test',
    headers: [['P-Asserted-Identity', '<sip:alice@ims.test>'], ['Diversion', '<sip:bob@ims.test>;reason=no-answer']],
  });
}

/** A retrieval call to the voicemail's URI. */
function retrievalCall(peer: SipPeer, cfg: VoicemailConfig, user: string, uri = 'sip:voicemail@ims.test'): UacCall {
  return new UacCall(peer, {
    host: cfg.address,
    port: cfg.sipPort,
    uri,
    from: `sip:${user}@ims.test`,
    to: 'sip:voicemail@ims.test',
    headers: [['P-Asserted-Identity', `<sip:${user}@ims.test>`]],
  });
}

/** Deposits `packets` through SIP and RTP, 20 ms apart, then hangs up; returns the stored meta. */
async function depositOverSip(rig: Rig, vm: Voicemail, cfg: VoicemailConfig, profile: 'RTP/SAVP' | 'RTP/AVP', packets: Buffer[], keyMgmt: string | null): Promise<{ meta: MessageMeta; offer: string; answer: SipResponse }> {
  const peer = await rig.peer();
  const rtp = await rig.sink();
  const u = depositCall(peer, cfg);
  const offer = offerSdp({ address: PEER_ADDR, port: rtp.port, profile, extra: keyMgmt ? [`a=key-mgmt:${keyMgmt}`] : [] });
  await u.invite(offer);
  const ok = await u.final();
  expect(ok.status).toBe(200);
  await u.ack2xx(ok);
  const ans = readOffer(ok.body.toString());
  for (const [i, p] of packets.entries()) {
    if (i > 0) await sleep(20);
    rtp.socket.send(p, ans.port, ans.address);
  }
  await until(() => vm.store.list('bob').some((m) => m.callId === u.callId && m.packets === packets.length), `${packets.length} packets stored`);
  await u.bye();
  await peer.response(200, 'BYE', u.callId);
  const meta = vm.store.list('bob').find((m) => m.callId === u.callId)!;
  return { meta, offer, answer: ok };
}

/** Puts a complete message into a store directory before a voicemail opens it. */
function seed(dir: string, mailbox: string, protection: 'srtp' | 'rtp', packets: Buffer[]): MessageMeta {
  const store = VoicemailStore.open(dir);
  const rec = store.begin({ mailbox, from: 'sip:alice@ims.test', callId: `seed-${randomBytes(4).toString('hex')}`, sdpOffer: 'v=0\r\n', sdpAnswer: 'v=0\r\n', keyMgmt: protection === 'srtp' ? mikeyValue() : null, protection });
  const t0 = Date.now() * 1000;
  packets.forEach((data, i) => expect(rec.append({ atUs: t0 + i * 20_000, data })).toBe(true));
  return rec.finish();
}

describe('Voicemail: SRTP deposit, restart, byte-identical retrieval', () => {
  const rig = new Rig();
  afterAll(() => rig.close());

  const dir = rig.dir();
  const cfg = config(dir);
  const mikey = mikeyValue();
  const packets = Array.from({ length: 30 }, (_, i) => fakeSrtp(1000 + i));
  let vm: Voicemail;
  let stored: MessageMeta;
  let depositOffer: string;
  let depositAnswer: string;
  let received: RtpSink;

  it('deposits: answers recvonly RTP/SAVP without key lines and stores every packet and the MIKEY data', async () => {
    vm = await rig.vm(cfg);
    const peer = await rig.peer();
    const rtp = await rig.sink();
    const u = depositCall(peer, cfg);
    depositOffer = offerSdp({ address: PEER_ADDR, port: rtp.port, profile: 'RTP/SAVP', extra: [`a=key-mgmt:${mikey}`] });
    await u.invite(depositOffer);
    await peer.response(100, 'INVITE', u.callId);
    const ok = await u.final();
    expect(ok.status).toBe(200);
    depositAnswer = ok.body.toString();
    const ans: OfferedMedia = readOffer(depositAnswer);
    expect(ans).toMatchObject({ address: VM_ADDR, profile: 'RTP/SAVP', direction: 'recvonly', crypto: [], keyMgmt: [] });
    expect(ans.port % 2).toBe(0);
    expect(ans.port).toBeGreaterThanOrEqual(RTP_MIN);
    expect(ans.port).toBeLessThanOrEqual(RTP_MAX);
    await u.ack2xx(ok);
    expect(vm.store.list('bob').map((m) => m.state)).toEqual(['recording']);

    for (const [i, p] of packets.entries()) {
      if (i > 0) await sleep(20);
      rtp.socket.send(p, ans.port, ans.address);
      // RTCP multiplexed on the RTP port is not part of the message
      if (i === 10) rtp.socket.send(Buffer.concat([Buffer.from([0x80, 200, 0, 6]), randomBytes(24)]), ans.port, ans.address);
    }
    await until(() => vm.store.list('bob')[0]?.packets === packets.length, 'all packets stored');
    await u.bye();
    await peer.response(200, 'BYE', u.callId);

    const list = vm.store.list('bob');
    expect(list).toHaveLength(1);
    stored = list[0]!;
    expect(stored).toMatchObject({
      mailbox: 'bob',
      from: 'sip:alice@ims.test',
      callId: u.callId,
      keyMgmt: mikey,
      protection: 'srtp',
      state: 'complete',
      packets: 30,
      bytes: packets.reduce((n, p) => n + p.length, 0),
      sdpOffer: depositOffer,
      sdpAnswer: depositAnswer,
    });
    const read = vm.store.read(stored.id);
    expect(read.packets.map((p) => p.data.toString('hex'))).toEqual(packets.map((p) => p.toString('hex')));
    // arrival times are increasing and roughly 20 ms apart
    const at = read.packets.map((p) => p.atUs);
    for (let i = 1; i < at.length; i++) expect(at[i]!).toBeGreaterThan(at[i - 1]!);
    expect((at[at.length - 1]! - at[0]!) / 1000).toBeGreaterThanOrEqual(29 * 20 - 5);
    expect(rtp.packets).toHaveLength(0); // recvonly: nothing sent to the depositor
    // GET /messages shows it too
    const msgs = await getJson(VM_ADDR, cfg.controlPort, '/messages?mailbox=bob');
    expect(msgs.status).toBe(200);
    expect(msgs.body.messages).toEqual([stored]);
    expect(await getJson(VM_ADDR, cfg.controlPort, '/messages')).toEqual({ status: 400, body: { error: 'give ?mailbox=<user>' } });
  });

  it('keeps the message across a restart on the same store directory', async () => {
    expect(stored).toBeDefined();
    await vm.close();
    rig.vms = rig.vms.filter((v) => v !== vm);
    vm = await rig.vm(cfg);
    expect(vm.store.problems()).toEqual([]);
    expect(vm.store.list('bob')).toEqual([stored]);
    expect(vm.store.read(stored.id).packets.map((p) => p.data.toString('hex'))).toEqual(packets.map((p) => p.toString('hex')));
  });

  it('plays it back to bob: sendonly with the stored key-mgmt, the packets byte-identical and spaced, then a BYE', async () => {
    expect(stored).toBeDefined();
    const peer = await rig.peer();
    received = await rig.sink();
    const u = retrievalCall(peer, cfg, 'bob');
    await u.invite(offerSdp({ address: PEER_ADDR, port: received.port, profile: 'RTP/SAVP', extra: [`a=key-mgmt:${mikeyValue()}`] }));
    const ok = await u.final();
    expect(ok.status).toBe(200);
    const ans = readOffer(ok.body.toString());
    expect(ans).toMatchObject({ address: VM_ADDR, profile: 'RTP/SAVP', direction: 'sendonly', keyMgmt: [mikey], crypto: [] });
    expect(ok.body.toString()).toContain(`\r\na=key-mgmt:${mikey}\r\n`);
    // nothing before the ACK
    await sleep(100);
    expect(received.packets).toHaveLength(0);
    const ackedAt = performance.now();
    await u.ack2xx(ok);

    const byeRx = await peer.nextReceived(isRequest('BYE'), 'the voicemail BYE', 5000);
    const bye = byeRx.msg as SipRequest;
    await peer.reply(bye, 200, byeRx.from);

    expect(received.packets.map((p) => p.data.toString('hex'))).toEqual(packets.map((p) => p.toString('hex')));
    // spacing: the playback follows the stored arrival times (never earlier, not much later)
    const storedPackets = vm.store.read(stored.id).packets;
    const storedSpanMs = (storedPackets[storedPackets.length - 1]!.atUs - storedPackets[0]!.atUs) / 1000;
    const first = received.packets[0]!.at;
    const last = received.packets[received.packets.length - 1]!.at;
    expect(first - ackedAt).toBeLessThan(500);
    expect(last - first).toBeGreaterThanOrEqual(storedSpanMs - 30);
    expect(last - first).toBeLessThan(storedSpanMs + 1000);
    // the voicemail hangs up ~500 ms after the last packet
    expect(byeRx.at - last).toBeGreaterThanOrEqual(400);
    expect(byeRx.at - last).toBeLessThan(2500);
    // an in-dialog BYE: to our Contact, our tags swapped
    expect(byeRx.from).toEqual({ address: VM_ADDR, port: cfg.sipPort });
    expect(bye.uri).toBe(`sip:ue@${PEER_ADDR}:${peer.port}`);
    expect(bye.headers.get('Call-ID')).toBe(u.callId);
    expect(tagOf(fromOf(bye))).toBe(tagOf(toOf(ok)));
    expect(tagOf(toOf(bye))).toBe(u.fromTag);
    expect(bye.headers.get('CSeq')).toMatch(/^\d+ BYE$/);
    // the message is still there after the retrieval
    expect(vm.store.list('bob')).toEqual([stored]);
  });

  it('reports the playback in status() and GET /status with sentDigest === storedDigest', async () => {
    expect(received).toBeDefined();
    const expected: PlaybackRecord = {
      callId: expect.any(String) as unknown as string,
      messageId: stored.id,
      mailbox: 'bob',
      by: 'sip:bob@ims.test',
      packetsSent: 30,
      bytesSent: stored.bytes,
      sentDigest: payloadDigest(packets),
      storedDigest: payloadDigest(packets),
      finished: true,
    };
    const st = vm.status();
    expect(st).toMatchObject({ name: 'vm-test', mailboxAccess: 'owner', usage: { messages: 1 }, problems: [] });
    expect(st.playbacks).toEqual([expected]);
    const rec = (st.playbacks as PlaybackRecord[])[0]!;
    expect(rec.sentDigest).toBe(rec.storedDigest);
    expect(rec.storedDigest).toBe(payloadDigest(received.packets.map((p) => p.data)));
    const http = await getJson(VM_ADDR, cfg.controlPort, '/status');
    expect(http.status).toBe(200);
    expect(http.body.playbacks).toEqual([expected]);
    expect(await getJson(VM_ADDR, cfg.controlPort, '/health')).toEqual({ status: 200, body: { ok: true } });
  });
});

describe('Voicemail: refusals and access', () => {
  const rig = new Rig();
  afterEach(() => rig.close());

  it('refuses an SDES-only RTP/SAVP deposit with 488 and stores nothing', async () => {
    const cfg = config(rig.dir());
    const vm = await rig.vm(cfg);
    const peer = await rig.peer();
    const u = depositCall(peer, cfg);
    await u.invite(offerSdp({ address: PEER_ADDR, port: 40_000, profile: 'RTP/SAVP', extra: ['a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR'] }));
    const r = await u.final();
    expect(r.status).toBe(488);
    expect(r.reason).toMatch(/^Not Acceptable Here \(SDES would hand the voicemail the media key/);
    await u.ackNon2xx(r);
    expect(vm.store.list('bob')).toEqual([]);
    expect(vm.store.usage()).toEqual({ messages: 0, bytes: 0 });
  });

  it('refuses RTP/SAVP with neither key-mgmt nor crypto, and an offer without audio, with 488', async () => {
    const cfg = config(rig.dir());
    const vm = await rig.vm(cfg);
    const peer = await rig.peer();
    const u = depositCall(peer, cfg);
    await u.invite(offerSdp({ address: PEER_ADDR, port: 40_000, profile: 'RTP/SAVP' }));
    const r = await u.final();
    expect(r.status).toBe(488);
    expect(r.reason).toBe('Not Acceptable Here (RTP/SAVP without MIKEY-TICKET key management)');
    await u.ackNon2xx(r);
    const v = depositCall(peer, cfg);
    await v.invite(offerSdp({ address: PEER_ADDR, port: 0 }));
    const r2 = await v.final();
    expect(r2.status).toBe(488);
    expect(r2.reason).toBe('Not Acceptable Here (the audio stream is disabled (port 0))');
    await v.ackNon2xx(r2);
    expect(vm.store.list('bob')).toEqual([]);
  });

  it('a full mailbox answers 486 naming it, stores nothing more, and keeps the earlier message', async () => {
    const cfg = config(rig.dir(), { limits: { maxMessagesPerMailbox: 1 } });
    const vm = await rig.vm(cfg);
    const sent = [fakeSrtp(1), fakeSrtp(2)];
    const { meta } = await depositOverSip(rig, vm, cfg, 'RTP/SAVP', sent, 'mikey AQID');
    const peer = await rig.peer();
    const u = depositCall(peer, cfg);
    await u.invite(offerSdp({ address: PEER_ADDR, port: 40_000, profile: 'RTP/SAVP', extra: ['a=key-mgmt:mikey AQID'] }));
    const r = await u.final();
    expect([r.status, r.reason]).toEqual([486, 'Busy Here (mailbox bob is full)']);
    await u.ackNon2xx(r);
    expect(vm.store.list('bob').map((m) => m.id)).toEqual([meta.id]);
    expect(vm.store.read(meta.id).packets.map((p) => p.data)).toEqual(sent);
    expect(problemsOf({ ...cfg, limits: { maxTotalBytes: 0 } })).toEqual([{ path: 'limits.maxTotalBytes', message: 'Too small: expected number to be >=1' }]);
    expect(problemsOf({ ...cfg, limits: { maxMessages: 1 } })).toEqual([{ path: 'limits.maxMessages', message: expect.stringMatching(/^unknown key "maxMessages"; limits allows: maxBytesPerMessage, maxMessagesPerMailbox, maxTotalBytes/) }]);
  });

  it('refuses carol 403 for bob\'s mailbox when access is owner, naming the mailbox', async () => {
    const dir = rig.dir();
    seed(dir, 'bob', 'srtp', [fakeSrtp(1), fakeSrtp(2)]);
    const cfg = config(dir);
    const vm = await rig.vm(cfg);
    const peer = await rig.peer();
    const u = retrievalCall(peer, cfg, 'carol', 'sip:voicemail@ims.test;mailbox=bob');
    await u.invite(offerSdp({ address: PEER_ADDR, port: 40_000, profile: 'RTP/SAVP' }));
    const r = await u.final();
    expect(r.status).toBe(403);
    expect(r.reason).toBe('Forbidden (mailbox bob belongs to sip:bob@ims.test, not sip:carol@ims.test)');
    await u.ackNon2xx(r);
    expect(vm.playbacks).toEqual([]);
  });

  it('plays bob\'s message to carol when access is open', async () => {
    const dir = rig.dir();
    const packets = [fakeSrtp(1), fakeSrtp(2), fakeSrtp(3)];
    const meta = seed(dir, 'bob', 'srtp', packets);
    const cfg = config(dir, { mailboxAccess: 'open' });
    const vm = await rig.vm(cfg);
    const peer = await rig.peer();
    const rtp = await rig.sink();
    const u = retrievalCall(peer, cfg, 'carol', 'sip:voicemail@ims.test;mailbox=bob');
    await u.invite(offerSdp({ address: PEER_ADDR, port: rtp.port, profile: 'RTP/SAVP' }));
    const ok = await u.final();
    expect(ok.status).toBe(200);
    expect(readOffer(ok.body.toString())).toMatchObject({ direction: 'sendonly', profile: 'RTP/SAVP', keyMgmt: [meta.keyMgmt] });
    await u.ack2xx(ok);
    const bye = await peer.nextReceived(isRequest('BYE'), 'the voicemail BYE', 4000);
    await peer.reply(bye.msg as SipRequest, 200, bye.from);
    expect(rtp.packets.map((p) => p.data.toString('hex'))).toEqual(packets.map((p) => p.toString('hex')));
    expect(vm.playbacks).toHaveLength(1);
    expect(vm.playbacks[0]).toMatchObject({ messageId: meta.id, mailbox: 'bob', by: 'sip:carol@ims.test', packetsSent: 3, finished: true });
    expect(vm.playbacks[0]!.sentDigest).toBe(vm.playbacks[0]!.storedDigest);
  });

  it('answers 404 when the mailbox is empty', async () => {
    const cfg = config(rig.dir());
    await rig.vm(cfg);
    const peer = await rig.peer();
    const u = retrievalCall(peer, cfg, 'bob');
    await u.invite(offerSdp({ address: PEER_ADDR, port: 40_000, profile: 'RTP/SAVP' }));
    const r = await u.final();
    expect(r.status).toBe(404);
    expect(r.reason).toBe('Not Found (no messages in mailbox bob)');
    await u.ackNon2xx(r);
  });

  it('refuses a plaintext (RTP/AVP) message retrieved with RTP/SAVP with 488', async () => {
    const cfg = config(rig.dir());
    const vm = await rig.vm(cfg);
    const packets = Array.from({ length: 5 }, (_, i) => fakeSrtp(i, 172));
    const { meta, answer } = await depositOverSip(rig, vm, cfg, 'RTP/AVP', packets, null);
    expect(readOffer(answer.body.toString())).toMatchObject({ profile: 'RTP/AVP', direction: 'recvonly' });
    expect(meta).toMatchObject({ protection: 'rtp', keyMgmt: null, state: 'complete', packets: 5 });
    const peer = await rig.peer();
    const u = retrievalCall(peer, cfg, 'bob');
    await u.invite(offerSdp({ address: PEER_ADDR, port: 40_000, profile: 'RTP/SAVP', extra: [`a=key-mgmt:${mikeyValue()}`] }));
    const r = await u.final();
    expect(r.status).toBe(488);
    expect(r.reason).toBe('Not Acceptable Here (the message is stored unprotected: retrieve it with RTP/AVP)');
    await u.ackNon2xx(r);
    expect(vm.playbacks).toEqual([]);
  });
});

describe('parseVoicemailConfig', () => {
  let base: Record<string, unknown>;
  beforeEach(() => {
    base = { name: 'vm', address: '127.0.11.100', sipPort: 5060, controlPort: 8080, domain: 'ims.test', storeDir: '/tmp/x', rtpPortMin: 30000, rtpPortMax: 30100 };
  });

  it('accepts a good config, defaulting mailboxAccess to owner and attack to none', () => {
    expect(parseVoicemailConfig(base)).toEqual({ ...base, mailboxAccess: 'owner', attack: null });
    expect(parseVoicemailConfig({ ...base, attack: 'swap-message' }).attack).toBe('swap-message');
    expect(problemsOf({ ...base, attack: 'swap-keys' })).toEqual([{ path: 'attack', message: expect.stringMatching(/swap-packets.*swap-message/) }]);
    expect(parseVoicemailConfig({ ...base, mailboxAccess: 'open' }).mailboxAccess).toBe('open');
  });

  it('names the bad field', () => {
    expect(problemsOf({ ...base, address: '999.0.0.1' })).toEqual([{ path: 'address', message: 'must be an IPv4 address' }]);
    expect(problemsOf({ ...base, address: '::1' })).toEqual([{ path: 'address', message: 'must be an IPv4 address' }]);
    const { storeDir: _, ...noDir } = base;
    expect(problemsOf(noDir)).toEqual([{ path: 'storeDir', message: 'Invalid input: expected string, received undefined' }]);
    expect(problemsOf({ ...base, storeDir: '' })).toEqual([{ path: 'storeDir', message: 'must be a directory' }]);
    expect(problemsOf({ ...base, sipPort: 70000 })).toEqual([{ path: 'sipPort', message: expect.stringMatching(/<=65535/) }]);
    expect(problemsOf({ ...base, controlPort: '8080' })).toEqual([{ path: 'controlPort', message: expect.stringMatching(/expected number, received string/) }]);
    expect(problemsOf({ ...base, mailboxAccess: 'anyone' })).toEqual([{ path: 'mailboxAccess', message: 'Invalid option: expected one of "owner"|"open"' }]);
    expect(problemsOf({ ...base, rtpPortMax: 30000 })).toEqual([{ path: 'rtpPortMax', message: 'must be above rtpPortMin' }]);
    expect(problemsOf(null)).toEqual([{ path: '', message: expect.stringMatching(/expected object, received null/) }]);
    expect(problemsOf('x')).toEqual([{ path: '', message: expect.stringMatching(/expected object, received string/) }]);
    // The message is one `<what>: <path>: <message>` line per problem.
    expect(() => parseVoicemailConfig({ ...base, address: '::1', sipPort: 0 })).toThrow('voicemail configuration: address: must be an IPv4 address\nvoicemail configuration: sipPort: ');
  });

  it('refuses unknown fields, naming them', () => {
    expect(problemsOf({ ...base, mailboxacess: 'open' })).toEqual([{ path: 'mailboxacess', message: expect.stringMatching(/^unknown key "mailboxacess" \(did you mean "mailboxAccess"\?\); the voicemail configuration allows: name, /) }]);
  });
});

/** The problems a configuration is refused with (a FileError, else the test fails). */
function problemsOf(raw: unknown) {
  try {
    parseVoicemailConfig(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(FileError);
    return (e as FileError).problems;
  }
  throw new Error('config was accepted');
}
