import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseKeyLog } from '@imslab/probe';
import { parseMessage } from '@imslab/sip';
import { E2AE_NOT_APPLIED, Ue, type CallStatus, type SecurityMode, type TransportName } from '../src/index.ts';
import { makeCert, quietLogger, status, tempDir, ueConfig, waitFor } from './helpers.ts';

const A = '127.0.5.1';
const B = '127.0.5.2';
const RELAY = '127.0.5.3';

let running: Ue[] = [];
afterEach(async () => {
  await Promise.all(running.map((u) => u.shutdown()));
  running = [];
});

async function pair(transport: TransportName, o: { alicePcscf?: string; bobPcscf?: string; runDir?: string } = {}) {
  const runDir = o.runDir ?? tempDir();
  const tls = transport === 'tls' ? makeCert(runDir, [A, B]) : undefined;
  const extra = { transport, runDir, ...(tls ? { tls } : {}) };
  const alice = await Ue.start(ueConfig('alice', A, o.alicePcscf ?? B, extra), { logger: quietLogger('alice') });
  running.push(alice);
  const bob = await Ue.start(ueConfig('bob', B, o.bobPcscf ?? A, extra), { logger: quietLogger('bob') });
  running.push(bob);
  return { alice, bob, runDir };
}

async function callAndCheck(alice: Ue, bob: Ue, security: SecurityMode): Promise<{ a: CallStatus; b: CallStatus }> {
  const call = alice.calls.placeCall('sip:bob@ims.test', security);
  const id = call.callId;
  await waitFor('both sides confirmed', () => status(alice, id)?.state === 'confirmed' && status(bob, id)?.state === 'confirmed');
  await waitFor('marker packets both ways', () => (status(alice, id)!.media.rxMarkerPackets > 10 && status(bob, id)!.media.rxMarkerPackets > 10));
  await call.hangup();
  await waitFor('both terminated', () => status(alice, id)?.state === 'terminated' && status(bob, id)?.state === 'terminated');
  return { a: status(alice, id)!, b: status(bob, id)! };
}

describe('UE to UE, directly addressed', () => {
  for (const transport of ['udp', 'tcp', 'tls'] as const) {
    for (const security of ['none', 'sdes-e2e'] as const) {
      it(`calls over ${transport} with ${security}: both sides receive the peer's markers`, async () => {
        const { alice, bob, runDir } = await pair(transport);
        const { a, b } = await callAndCheck(alice, bob, security);
        expect(a.direction).toBe('out');
        expect(b.direction).toBe('in');
        expect(a.markers.tx).toBe(b.markers.expectedRx);
        expect(b.markers.tx).toBe(a.markers.expectedRx);
        expect(a.media.rxMarkersSeen).toEqual([a.markers.expectedRx]);
        expect(b.remoteIdentity).toBe('sip:alice@ims.test');
        expect(a.remoteIdentity).toBe('sip:bob@ims.test');
        expect(a.media.rxAuthFailed + b.media.rxAuthFailed).toBe(0);
        if (security === 'none') {
          expect([a.sdpProfile, b.sdpProfile, a.suite]).toEqual(['RTP/AVP', 'RTP/AVP', null]);
        } else {
          expect([a.sdpProfile, b.sdpProfile]).toEqual(['RTP/SAVP', 'RTP/SAVP']);
          expect(a.suite).toBe('AES_CM_128_HMAC_SHA1_80');
          for (const who of ['alice', 'bob']) {
            const log = parseKeyLog(readFileSync(join(runDir, `${who}.srtp-keys.jsonl`), 'utf8'));
            expect(log.errors).toEqual([]);
            expect(log.entries.some((e) => e.dir === 'tx' && typeof e.ssrc === 'number')).toBe(true);
            expect(log.entries.some((e) => e.dir === 'rx' && e.ssrc === undefined)).toBe(true);
            expect(log.entries.some((e) => e.dir === 'rx' && typeof e.ssrc === 'number')).toBe(true);
          }
          // Alice's tx key is Bob's rx key.
          const aLog = parseKeyLog(readFileSync(join(runDir, 'alice.srtp-keys.jsonl'), 'utf8')).entries;
          const bLog = parseKeyLog(readFileSync(join(runDir, 'bob.srtp-keys.jsonl'), 'utf8')).entries;
          expect(bLog.find((e) => e.dir === 'rx')!.keySalt).toBe(aLog.find((e) => e.dir === 'tx')!.keySalt);
        }
        if (transport === 'tls') {
          const keys = readFileSync(join(runDir, 'alice.tls-keys.log'), 'utf8');
          expect(keys).toMatch(/^(CLIENT_HANDSHAKE_TRAFFIC_SECRET|CLIENT_RANDOM) [0-9a-f]+ [0-9a-f]+$/m);
          expect(readFileSync(join(runDir, 'bob.tls-keys.log'), 'utf8').length).toBeGreaterThan(0);
        }
      });
    }
  }

  it('e2ae requested without confirmation fails the call with the documented reason', async () => {
    const { alice } = await pair('udp');
    const call = alice.calls.placeCall('sip:bob@ims.test', 'e2ae');
    await waitFor('failed', () => status(alice, call.callId)?.state === 'failed');
    expect(status(alice, call.callId)!.failure?.reason).toBe('e2ae requested but the P-CSCF did not confirm sdes-srtp;mediasec at registration');
  });

  it('e2ae confirmed but not applied by the network: the caller refuses the answer and sends no media (e2ae fails closed)', async () => {
    const { alice, bob } = await pair('udp');
    alice.registration.securityServer = 'sdes-srtp;mediasec';
    const call = alice.calls.placeCall('sip:bob@ims.test', 'e2ae');
    await waitFor('failed', () => ['failed', 'terminated'].includes(status(alice, call.callId)?.state ?? ''));
    const a = status(alice, call.callId)!;
    expect(a.failure?.reason).toContain(E2AE_NOT_APPLIED);
    expect(a.media.txPackets).toBe(0);
    expect(status(bob, call.callId)!.peerE2ae).toBe('requested');
  });

  it('CANCEL before answer: 487, both ended', async () => {
    const { alice, bob } = await pair('udp');
    bob.cfg.autoAnswer = false;
    const call = alice.calls.placeCall('sip:bob@ims.test', 'none');
    await waitFor('ringing', () => status(alice, call.callId)?.state === 'ringing');
    await call.hangup();
    await waitFor('ended', () => status(alice, call.callId)?.state === 'terminated' && status(bob, call.callId)?.state === 'terminated');
    expect(status(bob, call.callId)!.failure?.status).toBe(487);
  });

  it('a malformed datagram does not crash the UE; a bad request gets 400; OPTIONS still answered', async () => {
    // The test plays bob's P-CSCF: a UE takes SIP from its P-CSCF only.
    await pair('udp', { bobPcscf: RELAY });
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, RELAY, () => r()));
    const replies: string[] = [];
    sock.on('message', (m) => replies.push(m.toString()));
    const send = (s: string | Buffer) => new Promise<void>((r) => sock.send(s, 5060, B, () => r()));
    await send(Buffer.from([0xff, 0x00, 0x13, 0x37]));
    await send('INVITE sip:bob@ims.test SIP/2.0\r\nVia: garbage\r\n\r\n');
    const bad = ['OPTIONS sip:bob@ims.test SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKbad;rport', 'Max-Forwards: 70', 'To: <sip:bob@ims.test>', 'From: <sip:t@x>;tag=1', 'Call-ID: bad1', 'CSeq: 1 INVITE', '', ''].join('\r\n');
    await send(bad);
    await waitFor('400', () => replies.find((r) => r.startsWith('SIP/2.0 400')));
    const opts = bad.replace('CSeq: 1 INVITE', 'CSeq: 1 OPTIONS').replace('z9hG4bKbad', 'z9hG4bKgood').replace('bad1', 'good1');
    await send(opts);
    const ok = await waitFor('200 to OPTIONS', () => replies.find((r) => r.startsWith('SIP/2.0 200')));
    const parsed = parseMessage(ok);
    expect(parsed.ok && parsed.message.headers.get('Allow')).toContain('INVITE');
    sock.close();
  });

  it('drops SIP from anyone but its P-CSCF unread: no answer, counted (TS 24.229 5.1.1.3)', async () => {
    const { bob } = await pair('udp', { bobPcscf: RELAY });
    const stranger = createSocket('udp4');
    await new Promise<void>((r) => stranger.bind(0, '127.0.5.66', () => r()));
    const replies: string[] = [];
    stranger.on('message', (m) => replies.push(m.toString()));
    const options = (via: string, id: string) => ['OPTIONS sip:bob@ims.test SIP/2.0', `Via: SIP/2.0/UDP ${via};branch=z9hG4bK${id};rport`, 'Max-Forwards: 70', 'To: <sip:bob@ims.test>', 'From: <sip:alice@ims.test>;tag=1', `Call-ID: ${id}`, 'CSeq: 1 OPTIONS', 'P-Asserted-Identity: <sip:alice@ims.test>', '', ''].join('\r\n');
    await new Promise<void>((r) => stranger.send(options('127.0.5.66:5060', 'stranger1'), 5060, B, () => r()));
    await waitFor('the stranger counted', () => bob.sipDroppedFromStrangers === 1);
    // The P-CSCF's own OPTIONS, sent after the stranger's, is answered: so the stranger's would have been by now.
    const pcscf = createSocket('udp4');
    await new Promise<void>((r) => pcscf.bind(0, RELAY, () => r()));
    const ours: string[] = [];
    pcscf.on('message', (m) => ours.push(m.toString()));
    await new Promise<void>((r) => pcscf.send(options(`${RELAY}:5060`, 'pcscf1'), 5060, B, () => r()));
    await waitFor('200 to the P-CSCF', () => ours.find((r) => r.startsWith('SIP/2.0 200')));
    expect(replies).toEqual([]);
    stranger.close();
    pcscf.close();
    // Over TCP the stranger's connection is closed before anything it sends is read.
    const tcp = connect({ host: B, port: 5060, localAddress: '127.0.5.66' });
    await new Promise<void>((r) => tcp.once('close', () => r()));
    expect(bob.sipDroppedFromStrangers).toBe(2);
  });

  it('a lost first INVITE on UDP is retransmitted and the call completes', async () => {
    // Tiny relay standing in for the P-CSCF: forwards between the UEs and drops the first INVITE.
    const relay = createSocket('udp4');
    await new Promise<void>((r) => relay.bind(5060, RELAY, () => r()));
    let dropped = 0;
    relay.on('message', (m, rinfo) => {
      if (dropped === 0 && m.toString().startsWith('INVITE ')) {
        dropped++;
        return;
      }
      relay.send(m, 5060, rinfo.address === A ? B : A);
    });
    try {
      const { alice, bob } = await pair('udp', { alicePcscf: RELAY, bobPcscf: RELAY });
      const { a } = await callAndCheck(alice, bob, 'none');
      expect(dropped).toBe(1);
      expect(a.state).toBe('terminated');
    } finally {
      relay.close();
    }
  });

  it('drives a call through the HTTP control API', async () => {
    const { alice, bob } = await pair('tcp');
    const base = `http://${A}:8000`;
    const health = await (await fetch(`${base}/health`)).json();
    expect(health).toEqual({ ok: true, name: 'alice', registered: false, e2aeConfirmed: false, busy: false, kms: null, sipDroppedFromStrangers: 0 });
    const bad = await fetch(`${base}/call`, { method: 'POST', body: JSON.stringify({ to: 'bob' }) });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/"to"/);
    // Video and text: audio first, each once, and only where one group key protects every stream.
    for (const [body, why] of [
      [{ media: ['video'] }, /audio first/], [{ media: ['audio', 'video', 'video'] }, /at most once/], [{ media: 'video' }, /"media"/],
      [{ media: ['audio', 'video'], security: 'sdes-e2e' }, /need security "poc-e2e".*not "sdes-e2e"/],
      [{ firstSequence: 65536 }, /"firstSequence" must be an integer from 0 to 65535/], [{ firstSequence: -1 }, /"firstSequence"/],
      [{ firstSequence: 1.5 }, /"firstSequence"/], [{ firstSequence: '7' }, /"firstSequence"/],
    ] as const) {
      const r = await fetch(`${base}/call`, { method: 'POST', body: JSON.stringify({ to: 'sip:bob@ims.test', ...body }) });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect((await r.json()).error).toMatch(why);
    }
    // From sequence number 65530 the caller's SRTP rolls over after six packets; bob follows it.
    const r = await fetch(`${base}/call`, { method: 'POST', body: JSON.stringify({ to: 'sip:bob@ims.test', security: 'sdes-e2e', firstSequence: 65530 }) });
    const { callId } = (await r.json()) as { callId: string };
    await waitFor('confirmed', () => status(bob, callId)?.state === 'confirmed');
    await waitFor('bob past the caller\'s rollover', () => status(bob, callId)!.media.rxMarkerPackets > 10);
    expect(status(bob, callId)!.media.rxAuthFailed).toBe(0);
    const one = (await (await fetch(`${base}/calls/${encodeURIComponent(callId)}`)).json()) as CallStatus;
    expect(one.callId).toBe(callId);
    const missing = await fetch(`${base}/calls/nope`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toContain(callId);
    const h = await fetch(`${base}/hangup`, { method: 'POST', body: JSON.stringify({ callId }) });
    expect(await h.json()).toEqual({ callId, state: 'terminated' });
    const list = (await (await fetch(`${base}/calls`)).json()) as { calls: CallStatus[] };
    expect(list.calls.map((c) => c.state)).toEqual(['terminated']);
    void alice;
  });

  it('hangup with waitBye answers once the far end answered the BYE; a bad waitBye is a 400', async () => {
    const { alice, bob } = await pair('udp');
    const call = alice.calls.placeCall('sip:bob@ims.test', 'none');
    const callId = call.callId;
    await waitFor('confirmed', () => status(bob, callId)?.state === 'confirmed');
    // A connection of its own (not fetch's pool, which may hold one to the previous test's UE on this port).
    const post = (body: unknown) => new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
      const req = httpRequest({ host: A, port: 8000, path: '/hangup', method: 'POST', agent: false }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
    const bad = await post({ callId, waitBye: 'yes' });
    expect(bad.status).toBe(400);
    expect(String(bad.json.error)).toMatch(/waitBye/);
    expect((await post({ callId, waitBye: true })).json).toEqual({ callId, state: 'terminated', bye: 200 });
    // bob answered the BYE before alice's answer came back: his side has ended.
    expect(status(bob, callId)?.state).toBe('terminated');
  });
});
