import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseKeyLog, type SrtpKeyLogEntry } from '@imslab/probe';
import { Ue, type CallStatus } from '../src/index.ts';
import { FixtureKms, type FixtureDevice } from './kms-fixture.ts';
import { makeCert, quietLogger, status, tempDir, ueConfig, waitFor } from './helpers.ts';

const A = '127.0.5.51';
const B = '127.0.5.52';
const KMS = '127.0.5.50';
const DEAD_KMS = '127.0.5.59';

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

interface World {
  alice: Ue;
  bob: Ue;
  kms: FixtureKms;
  runDir: string;
}

/** Alice and Bob addressed directly (each one's "P-CSCF" is the other), both provisioned with the fixture KMS. */
async function world(o: { aliceKmsUrl?: string; bobKms?: boolean; bobExtra?: Record<string, unknown> } = {}): Promise<World> {
  const runDir = tempDir('imslab-ue-mikey-');
  const cert = makeCert(runDir, [A, B, KMS, DEAD_KMS]);
  const dev = (name: string): FixtureDevice => ({ nai: `${name}@ims.test`, user: `sip:${name}@ims.test`, psk: randomBytes(32) });
  const devices = { alice: dev('alice'), bob: dev('bob') };
  const kms = await FixtureKms.start(KMS, 8443, cert, Object.values(devices));
  cleanup.push(() => kms.close());
  const kmsCfg = (name: 'alice' | 'bob', url = kms.url) => ({ url, identity: `sip:${name}@ims.test`, secret: devices[name].psk.toString('hex') });
  const alice = await Ue.start(ueConfig('alice', A, B, { runDir, tls: cert, controlPort: 8010, kms: kmsCfg('alice', o.aliceKmsUrl) }), { logger: quietLogger('alice') });
  cleanup.push(() => alice.shutdown());
  const bob = await Ue.start(ueConfig('bob', B, A, { runDir, tls: cert, controlPort: 8010, ...(o.bobKms === false ? {} : { kms: kmsCfg('bob') }), ...o.bobExtra }), { logger: quietLogger('bob') });
  cleanup.push(() => bob.shutdown());
  return { alice, bob, kms, runDir };
}

function keyLog(w: World, who: string, callId: string): SrtpKeyLogEntry[] {
  const file = join(w.runDir, `${who}.srtp-keys.jsonl`);
  const parsed = parseKeyLog(existsSync(file) ? readFileSync(file, 'utf8') : '');
  expect(parsed.errors).toEqual([]);
  return parsed.entries.filter((e) => e.callId === callId);
}

async function post(ue: Ue, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`http://${ue.cfg.address}:${ue.cfg.controlPort}${path}`, { method: 'POST', body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

async function bothFlowing(w: World, id: string, atLeast = 10): Promise<{ a: CallStatus; b: CallStatus }> {
  await waitFor('both confirmed', () => status(w.alice, id)?.state === 'confirmed' && status(w.bob, id)?.state === 'confirmed');
  await waitFor(`more than ${atLeast} marker packets both ways`, () => status(w.alice, id)!.media.rxMarkerPackets > atLeast && status(w.bob, id)!.media.rxMarkerPackets > atLeast);
  return { a: status(w.alice, id)!, b: status(w.bob, id)! };
}

describe('MIKEY-TICKET end to end (RFC 6043 via the KMS, RFC 4567 in SDP)', () => {
  it('e2e: ticket request, transfer and resolve; SRTP both ways under TGK-derived keys; the KMS-authenticated peers', async () => {
    const w = await world();
    const { callId } = (await post(w.alice, '/call', { to: 'sip:bob@ims.test', security: 'e2e' })).json as { callId: string };
    const { a, b } = await bothFlowing(w, callId);
    for (const s of [a, b]) {
      expect(s).toMatchObject({ sdpProfile: 'RTP/SAVP', keyManagement: 'mikey-ticket', securityAchieved: 'e2e', suite: 'AES_CM_128_HMAC_SHA1_80' });
      expect(s.media.rxAuthFailed + s.media.rxMalformed + s.media.rxReplayed).toBe(0);
      expect(s.securityHistory).toMatchObject([{ security: 'e2e', keyManagement: 'mikey-ticket', achieved: 'e2e' }]);
    }
    expect(a.policy).toBe('any-device-of-user');
    expect(a.kmsAuthenticatedPeer).toBe('sip:bob@ims.test');
    expect(b.kmsAuthenticatedPeer).toBe('sip:alice@ims.test');
    expect(b.remoteAssertedIdentity).toBeNull();
    expect(a.media.rxMarkersSeen).toEqual([a.markers.expectedRx]);
    expect(w.kms.log.map((l) => [l.op, l.ok, l.who])).toEqual([['request', true, 'alice@ims.test'], ['resolve', true, 'bob@ims.test']]);
    // One crypto session per direction: Alice's tx key is Bob's rx key and the other way round, all logged as mikey-ticket.
    const aLog = keyLog(w, 'alice', callId);
    const bLog = keyLog(w, 'bob', callId);
    expect(new Set([...aLog, ...bLog].map((e) => e.keyMgmt))).toEqual(new Set(['mikey-ticket']));
    const aTx = aLog.find((e) => e.dir === 'tx')!;
    const bTx = bLog.find((e) => e.dir === 'tx')!;
    expect(aTx.keySalt).not.toBe(bTx.keySalt);
    expect(bLog.find((e) => e.dir === 'rx' && e.ssrc === aTx.ssrc)!.keySalt).toBe(aTx.keySalt);
    expect(aLog.find((e) => e.dir === 'rx' && e.ssrc === bTx.ssrc)!.keySalt).toBe(bTx.keySalt);
    // The KMS link's TLS secrets are in the UE's TLS key log (SIP ran over UDP here).
    expect(readFileSync(join(w.runDir, 'alice.tls-keys.log'), 'utf8')).toMatch(/^(CLIENT_HANDSHAKE_TRAFFIC_SECRET|CLIENT_RANDOM) [0-9a-f]+ [0-9a-f]+$/m);
    expect(readFileSync(join(w.runDir, 'bob.tls-keys.log'), 'utf8').length).toBeGreaterThan(0);
  });

  it('designated-device: the designated device resolves; another device is refused with 488 and the KMS reason', async () => {
    const w = await world();
    const ok = w.alice.calls.placeCall('sip:bob@ims.test', 'e2e', { policy: 'designated-device', designatedDevice: 'bob' });
    const { a } = await bothFlowing(w, ok.callId, 3);
    expect(a.policy).toBe('designated-device');
    expect(a.kmsAuthenticatedPeer).toBe('sip:bob@ims.test');
    await ok.hangup();
    const other = w.alice.calls.placeCall('sip:bob@ims.test', 'e2e', { policy: 'designated-device', designatedDevice: 'bob-2' });
    await waitFor('failed', () => status(w.alice, other.callId)?.state === 'failed');
    const f = status(w.alice, other.callId)!.failure!;
    expect(f.status).toBe(488);
    expect(f.reason).toMatch(/^sip:bob@ims\.test could not resolve the ticket: MIKEY ticket refused \(resolver-not-allowed\)/);
    expect(status(w.bob, other.callId)!.failure!.reason).toMatch(/^KMS refused: MIKEY ticket refused \(resolver-not-allowed\)/);
  });

  it('KMS refuses the callee: 488 with Warning, caller failed with the reason, no RTP sent by either side', async () => {
    const w = await world();
    w.kms.refuseResolve = 'ticket expired at 12:00:00';
    const call = w.alice.calls.placeCall('sip:bob@ims.test', 'e2e');
    await waitFor('both failed', () => status(w.alice, call.callId)?.state === 'failed' && status(w.bob, call.callId)?.state === 'failed');
    const a = status(w.alice, call.callId)!;
    const b = status(w.bob, call.callId)!;
    expect(a.failure).toEqual({ status: 488, reason: 'sip:bob@ims.test could not resolve the ticket: ticket expired at 12:00:00' });
    expect(b.failure).toEqual({ status: 488, reason: 'KMS refused: ticket expired at 12:00:00' });
    await new Promise((r) => setTimeout(r, 200));
    for (const s of [a, b, status(w.alice, call.callId)!, status(w.bob, call.callId)!]) {
      expect(s.media.txPackets).toBe(0);
      expect(s.securityAchieved).toBeNull();
    }
  });

  it('KMS unreachable: the caller fails before any INVITE, no RTP', async () => {
    const w = await world({ aliceKmsUrl: `https://${DEAD_KMS}:8443` });
    const r = await post(w.alice, '/call', { to: 'sip:bob@ims.test', security: 'e2e' });
    const callId = r.json['callId'] as string;
    await waitFor('failed', () => status(w.alice, callId)?.state === 'failed');
    const a = status(w.alice, callId)!;
    expect(a.failure!.reason).toMatch(/^KMS unreachable: ECONNREFUSED/);
    expect(a.media.txPackets).toBe(0);
    expect(w.bob.calls.list()).toEqual([]);
  });

  it('e2e offered to a UE without KMS: 488, the caller fails, no media', async () => {
    const w = await world({ bobKms: false });
    const call = w.alice.calls.placeCall('sip:bob@ims.test', 'e2e');
    await waitFor('failed', () => status(w.alice, call.callId)?.state === 'failed');
    expect(status(w.alice, call.callId)!.failure).toEqual({ status: 488, reason: '488 Not Acceptable Here (MIKEY-TICKET offered but this UE has no KMS configured)' });
    expect(status(w.bob, call.callId)!.media.txPackets).toBe(0);
  });

  it('busy: 486 Busy Here, then calls go through again', async () => {
    const w = await world();
    expect((await post(w.bob, '/busy', { busy: true })).json).toEqual({ busy: true });
    expect((await post(w.bob, '/busy', { busy: 'yes' })).status).toBe(400);
    const call = w.alice.calls.placeCall('sip:bob@ims.test', 'none');
    await waitFor('failed', () => status(w.alice, call.callId)?.state === 'failed');
    expect(status(w.alice, call.callId)!.failure).toEqual({ status: 486, reason: '486 Busy Here' });
    expect(status(w.bob, call.callId)!.failure?.status).toBe(486);
    await post(w.bob, '/busy', { busy: false });
    const again = w.alice.calls.placeCall('sip:bob@ims.test', 'none');
    await bothFlowing(w, again.callId, 2);
  });
});

describe('security switched on mid-call by re-INVITE (TR 33.828 sec. 4.1.1)', () => {
  for (const [security, keyMgmt] of [['sdes-e2e', 'sdes'], ['e2e', 'mikey-ticket']] as const) {
    it(`none -> ${security}: the same markers keep arriving, now under ${keyMgmt} keys`, async () => {
      const w = await world();
      const call = w.alice.calls.placeCall('sip:bob@ims.test', 'none');
      const before = await bothFlowing(w, call.callId, 5);
      expect(before.a.sdpProfile).toBe('RTP/AVP');
      expect(keyLog(w, 'alice', call.callId)).toEqual([]);
      const r = await post(w.alice, `/calls/${encodeURIComponent(call.callId)}/secure`, { security });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ ok: true, security, keyManagement: keyMgmt, securityAchieved: 'e2e' });
      const n = { a: status(w.alice, call.callId)!.media.rxMarkerPackets, b: status(w.bob, call.callId)!.media.rxMarkerPackets };
      const { a, b } = await bothFlowing(w, call.callId, Math.max(n.a, n.b) + 15);
      for (const s of [a, b]) {
        expect(s).toMatchObject({ state: 'confirmed', sdpProfile: 'RTP/SAVP', keyManagement: keyMgmt, securityAchieved: 'e2e' });
        expect(s.securityHistory.map((h) => [h.security, h.keyManagement])).toEqual([['none', null], [security, keyMgmt]]);
        expect(s.media.rxMarkersSeen).toEqual([s.markers.expectedRx]);
        expect(s.media.rxAuthFailed).toBe(0);
        expect(s.securityWarning).toBeUndefined();
      }
      expect(a.securityRequested).toBe(security);
      if (keyMgmt === 'mikey-ticket') {
        expect(a.kmsAuthenticatedPeer).toBe('sip:bob@ims.test');
        expect(b.kmsAuthenticatedPeer).toBe('sip:alice@ims.test');
      }
      // Each side's key log gained the new keys, and an rx entry with an SSRC proves SRTP verified under them.
      for (const [who, peer] of [['alice', 'bob'], ['bob', 'alice']] as const) {
        const log = keyLog(w, who, call.callId);
        const tx = log.find((e) => e.dir === 'tx')!;
        expect(tx.keyMgmt).toBe(keyMgmt);
        expect(log.some((e) => e.dir === 'rx' && typeof e.ssrc === 'number')).toBe(true);
        expect(keyLog(w, peer, call.callId).find((e) => e.dir === 'rx')!.keySalt).toBe(tx.keySalt);
      }
      await call.hangup();
    });
  }

  it('the callee can switch security on too (its re-INVITE, CSeq 1 of its side; ticket for the caller)', async () => {
    const w = await world();
    const call = w.alice.calls.placeCall('sip:bob@ims.test', 'none');
    await bothFlowing(w, call.callId, 3);
    const r = await post(w.bob, `/calls/${encodeURIComponent(call.callId)}/secure`, { security: 'e2e', policy: 'designated-device', designatedDevice: 'alice' });
    expect(r.json).toMatchObject({ ok: true, securityAchieved: 'e2e', keyManagement: 'mikey-ticket' });
    const n = status(w.alice, call.callId)!.media.rxMarkerPackets;
    const { a, b } = await bothFlowing(w, call.callId, n + 10);
    expect(b).toMatchObject({ policy: 'designated-device', kmsAuthenticatedPeer: 'sip:alice@ims.test', securityRequested: 'e2e' });
    expect(a).toMatchObject({ kmsAuthenticatedPeer: 'sip:bob@ims.test', securityAchieved: 'e2e', securityRequested: 'none' });
    expect(a.securityHistory.map((h) => h.security)).toEqual(['none', 'e2e']);
    expect(a.media.rxAuthFailed + b.media.rxAuthFailed).toBe(0);
    expect(w.kms.log.map((l) => [l.op, l.who])).toEqual([['request', 'bob@ims.test'], ['resolve', 'alice@ims.test']]);
    await call.hangup();
  });

  it('a refused upgrade (KMS refuses the peer) leaves the call as it was, with securityWarning', async () => {
    const w = await world();
    const call = w.alice.calls.placeCall('sip:bob@ims.test', 'none');
    await bothFlowing(w, call.callId, 3);
    w.kms.refuseResolve = 'policy says no';
    const r = await post(w.alice, `/calls/${encodeURIComponent(call.callId)}/secure`, { security: 'e2e' });
    expect(r.json).toMatchObject({ ok: false, security: 'e2e', reason: '488 Not Acceptable Here (KMS refused: policy says no)', securityAchieved: 'none' });
    const n = status(w.alice, call.callId)!.media.rxMarkerPackets;
    await waitFor('markers still arriving', () => status(w.alice, call.callId)!.media.rxMarkerPackets > n + 5);
    const a = status(w.alice, call.callId)!;
    expect(a).toMatchObject({ state: 'confirmed', sdpProfile: 'RTP/AVP', securityRequested: 'none', securityAchieved: 'none' });
    expect(a.securityWarning).toBe('security upgrade to e2e failed: 488 Not Acceptable Here (KMS refused: policy says no)');
    expect(a.securityHistory).toHaveLength(1);
    expect(status(w.bob, call.callId)!.securityWarning).toMatch(/refused: KMS refused: policy says no/);
    const bad = await post(w.alice, `/calls/${encodeURIComponent(call.callId)}/secure`, { security: 'strong' });
    expect(bad.status).toBe(400);
    await call.hangup();
    const late = await post(w.alice, `/calls/${encodeURIComponent(call.callId)}/secure`, { security: 'sdes-e2e' });
    expect(late.status).toBe(409);
  });
});
