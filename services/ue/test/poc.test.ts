import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeFloorControlPacket, encodeFloorMessage, FloorStateError, type FloorMessage } from '@imslab/floor-control';
import { demuxRtpRtcp } from '@imslab/rtp';
import { sleep, until } from '@imslab/sip/test-peer';
import { SrtpContext } from '@imslab/srtp';
import { FloorClient } from '../src/floor-client.ts';
import { contextOptions, createOffer, type SrtpKey } from '../src/media-security.ts';
import { MediaSession, PACKET_INTERVAL_MS } from '../src/media-session.ts';
import { finishOffer, prepareOffer, type LocalOffer } from '../src/negotiation.ts';
import { PortAllocator } from '../src/port-allocator.ts';
import { Logger } from '../src/log.ts';
import type { KmsAgent } from '../src/kms-agent.ts';
import { GroupMasterKeys } from '../src/group-master-keys.ts';
import { gmkSrtpKeys, gukIdOf, type ReceivedGmk } from '@imslab/mikey';

/*
 * A PoC member (poc-e2e, TR 33.828 4.2): the media under the group key from
 * the KMS, floor control as SRTCP under an SDES key pair with the PoC
 * server, and the probe sent only while the floor is ours.
 */

const sdesKey = (): SrtpKey => {
  const o = createOffer('sdes-e2e', { e2aeConfirmed: false });
  if (!o.ok) throw new Error(o.reason);
  return o.offer.keys.get(1)!;
};
const groupKey: SrtpKey = { ...sdesKey(), keyMgmt: 'mikey-ticket' };

/** A GMK as alice would receive it from the group management server (what the I_MESSAGE gives, see @imslab/mikey sakke tests). */
function receivedGmk(member: string, gmkId = 0x0123abcd): ReceivedGmk {
  const gmk = new Uint8Array(16).fill(0xa0 + (gmkId & 0xf));
  const rand = new Uint8Array(16).fill(7);
  const gukId = gukIdOf(gmk, gmkId, member);
  return { gmk, gmkId, gukId, rand, initiator: 'sip:gms@ims.test', kmsInitiator: 'https://127.0.2.40:8443', timestampMs: 0, profile: 'AES_CM_128_HMAC_SHA1_80', srtp: gmkSrtpKeys({ gmk, gmkId, gukId, rand }) };
}
const ALICE = 'sip:alice@ims.test';
const BOB = 'sip:bob@ims.test';
function gmksOf(member: string, ...ids: number[]): GroupMasterKeys {
  const g = new GroupMasterKeys('sip:poc-team@ims.test', [ALICE, BOB]);
  for (const id of ids.length ? ids : [0x0123abcd]) g.add(receivedGmk(member, id));
  return g;
}

describe('poc-e2m2e negotiation', () => {
  it('one SDES key pair with the server keys the media and floor control; the UE reports e2m2e', async () => {
    const o = await prepareOffer({ kms: undefined, e2aeConfirmed: false }, { mode: 'poc-e2m2e', target: 'sip:poc-ops@ims.test', policy: 'any-device-of-user', ssrc: 1 });
    if (!o.ok) throw new Error(o.reason);
    expect(o.offer.lines.crypto).toHaveLength(1);
    expect(o.offer.group).toBeUndefined();
    const server = sdesKey();
    const r = finishOffer(o.offer, { profile: 'RTP/SAVP', crypto: [`1 AES_CM_128_HMAC_SHA1_80 inline:${server.keySaltBase64}`], attributes: [] });
    if (!r.ok) throw new Error(r.reason);
    expect(r.outcome.achieved).toBe('e2m2e');
    expect([r.outcome.rx!.keySaltBase64, r.outcome.floor!.rx.keySaltBase64]).toEqual([server.keySaltBase64, server.keySaltBase64]);
    expect(r.outcome.floor!.tx).toBe(r.outcome.tx);
    expect(finishOffer(o.offer, { profile: 'RTP/SAVP', crypto: [], attributes: [] })).toMatchObject({ ok: false, reason: expect.stringContaining('poc-e2m2e') });
  });
});

describe('poc-e2e negotiation', () => {
  it('offers the client-server key by MIKEY-SAKKE to the PoC server of the group\'s domain and no SDES key; the GMK comes from the group management server of the group\'s domain', async () => {
    let asked = '';
    let gms = '';
    let server = '';
    expect(await prepareOffer({ kms: undefined, e2aeConfirmed: false }, { mode: 'poc-e2e', target: 'sip:poc-team@ims.test', policy: 'any-device-of-user', ssrc: 1 }))
      .toEqual({ ok: false, reason: 'poc-e2e requested but this UE has no KMS configured (config "kms")' });
    const failing = { groupMasterKey: async (id: { data: Uint8Array }, from: string) => { asked = Buffer.from(id.data).toString(); gms = from; throw new Error('refused'); } } as unknown as KmsAgent;
    expect(await prepareOffer({ kms: failing, e2aeConfirmed: false }, { mode: 'poc-e2e', target: '<sip:poc-team@ims.test>', policy: 'any-device-of-user', ssrc: 1 })).toMatchObject({ ok: false, reason: 'group key: refused' });
    expect([asked, gms]).toEqual(['sip:poc-team@ims.test', 'sip:gms@ims.test']);
    const csk = { masterKey: new Uint8Array(16).fill(7), masterSalt: new Uint8Array(14).fill(9) };
    const giving = {
      groupMasterKey: async () => receivedGmk(ALICE),
      clientServerKey: async (to: string) => { server = to; return { keyMgmt: 'mikey AAAA', cskId: 0x2000_0001, srtp: csk }; },
    } as unknown as KmsAgent;
    const o = await prepareOffer({ kms: giving, e2aeConfirmed: false }, { mode: 'poc-e2e', target: 'sip:poc-team@ims.test', policy: 'any-device-of-user', ssrc: 1 });
    if (!o.ok) throw new Error(o.reason);
    expect(server).toBe('sip:poc@ims.test');
    expect(o.offer.lines.keyMgmt).toEqual(['mikey AAAA']);
    expect(o.offer.lines.crypto).toEqual([]);
    expect(o.offer.gmk!.heldIds()).toEqual(['0x0123abcd']);
    expect(o.offer.csk!.keySaltBase64).toBe(Buffer.concat([csk.masterKey, csk.masterSalt]).toString('base64'));
    // The server answers no key (the CSK is a one-message exchange): floor control both ways under the CSK.
    const done = finishOffer(o.offer, { profile: 'RTP/SAVP', crypto: [], attributes: [] });
    if (!done.ok) throw new Error(done.reason);
    expect([done.outcome.floor!.tx.keySaltBase64, done.outcome.floor!.rx.keySaltBase64]).toEqual([o.offer.csk!.keySaltBase64, o.offer.csk!.keySaltBase64]);
    expect(done.outcome.tx!.keySaltBase64).not.toBe(o.offer.csk!.keySaltBase64);
    // A server that answers an SDES key did not take the CSK.
    expect(finishOffer(o.offer, { profile: 'RTP/SAVP', crypto: [`1 AES_CM_128_HMAC_SHA1_80 inline:${sdesKey().keySaltBase64}`], attributes: [] }))
      .toMatchObject({ ok: false, reason: expect.stringContaining('offered by MIKEY-SAKKE') });
  });

  const offer = (): LocalOffer => {
    const sdes = createOffer('sdes-e2e', { e2aeConfirmed: false });
    if (!sdes.ok) throw new Error(sdes.reason);
    return { mode: 'poc-e2e', lines: { ...sdes.offer.lines, keyMgmt: [] }, gmk: gmksOf(ALICE), sdes: sdes.offer };
  };

  it('media under our key of the GMK (MKI = GMK-ID || our GUK-ID), talkers\' keys by MKI; floor control under our key out and the server\'s in', () => {
    const o = offer();
    const server = sdesKey();
    const r = finishOffer(o, { profile: 'RTP/SAVP', crypto: [`1 AES_CM_128_HMAC_SHA1_80 inline:${server.keySaltBase64}`], attributes: [] });
    if (!r.ok) throw new Error(r.reason);
    const mine = receivedGmk(ALICE).srtp;
    expect(r.outcome.tx!.keySaltBase64).toBe(Buffer.concat([mine.masterKey, mine.masterSalt]).toString('base64'));
    expect(Buffer.from(r.outcome.tx!.mki!).toString('hex')).toBe(Buffer.from(mine.mki).toString('hex'));
    expect([r.outcome.rx, r.outcome.achieved, r.outcome.keyManagement]).toEqual([null, 'e2e', 'mikey-sakke']);
    // bob's key, derived by alice from the MKI of bob's packets alone.
    const bobs = receivedGmk(BOB).srtp;
    expect(r.outcome.rxByMki!.keyFor(bobs.mki)!.keySaltBase64).toBe(Buffer.concat([bobs.masterKey, bobs.masterSalt]).toString('base64'));
    expect(r.outcome.floor!.tx.keySaltBase64).toBe(o.sdes!.keys.get(1)!.keySaltBase64);
    expect(r.outcome.floor!.rx.keySaltBase64).toBe(server.keySaltBase64);
    expect(r.outcome.floor!.rx.keySaltBase64).not.toBe(r.outcome.tx!.keySaltBase64);
  });

  it('a packet naming a GMK-ID we never received (a later epoch) or a GUK-ID of no member finds no key', () => {
    const atAlice = gmksOf(ALICE);
    expect(atAlice.keyFor(receivedGmk(BOB, 0x0555_0001).srtp.mki)).toBeUndefined();
    const fake = Buffer.from(receivedGmk(BOB).srtp.mki);
    fake[7]! ^= 1;
    expect(atAlice.keyFor(fake)).toBeUndefined();
    expect(atAlice.keyFor(new Uint8Array(3))).toBeUndefined();
  });

  it('refuses an answer without a floor key, with a=key-mgmt (the server would take part in the media key), or over RTP/AVP', () => {
    expect(finishOffer(offer(), { profile: 'RTP/SAVP', crypto: [], attributes: [] })).toMatchObject({ ok: false, reason: expect.stringContaining('no floor control key') });
    expect(finishOffer(offer(), { profile: 'RTP/SAVP', crypto: [`1 AES_CM_128_HMAC_SHA1_80 inline:${sdesKey().keySaltBase64}`], attributes: [], keyMgmt: ['mikey AAAA'] })).toMatchObject({ ok: false, reason: expect.stringContaining('a=key-mgmt') });
    expect(finishOffer(offer(), { profile: 'RTP/AVP', crypto: [], attributes: [] })).toMatchObject({ ok: false, reason: expect.stringContaining('RTP/AVP') });
  });
});

/** A fake PoC server: one socket for RTP, one for RTCP (port + 1), recording what the member sends. */
class FakeServer {
  readonly rtp: Buffer[] = [];
  readonly floor: FloorMessage[] = [];
  readonly refused: string[] = [];
  private constructor(readonly rtpSocket: Socket, readonly rtcpSocket: Socket, readonly port: number, private readonly memberKey: SrtpContext, private readonly ourKey: SrtpContext) {
    rtpSocket.on('message', (d) => demuxRtpRtcp(d) === 'rtp' && this.rtp.push(d));
    rtcpSocket.on('message', (d) => {
      const r = this.memberKey.unprotectRtcp(d);
      const f = r.ok ? decodeFloorControlPacket(r.packet) : undefined;
      if (!r.ok || !f?.ok) this.refused.push(r.ok ? 'not floor control' : r.reason);
      else this.floor.push(...f.messages);
    });
  }

  static async open(address: string, port: number, memberKey: SrtpKey, ourKey: SrtpKey): Promise<FakeServer> {
    const bind = (p: number) => new Promise<Socket>((resolve) => { const s = createSocket('udp4'); s.bind(p, address, () => resolve(s)); });
    return new FakeServer(await bind(port), await bind(port + 1), port, new SrtpContext(contextOptions(memberKey)), new SrtpContext(contextOptions(ourKey)));
  }

  /** A floor control message to the member's RTCP port. */
  send(m: Omit<FloorMessage, 'ssrc' | 'ackRequired'>, to: { address: string; port: number }): void {
    this.rtcpSocket.send(this.ourKey.protectRtcp(encodeFloorMessage({ ssrc: 99, ackRequired: false, ...m })), to.port + 1, to.address);
  }

  raw(b: Buffer, to: { address: string; port: number }): void {
    this.rtcpSocket.send(b, to.port + 1, to.address);
  }

  close(): void {
    this.rtpSocket.close();
    this.rtcpSocket.close();
  }
}

describe('FloorClient: floor control on the call\'s RTCP port', () => {
  const opened: Array<{ close(): void }> = [];
  afterEach(() => opened.splice(0).forEach((x) => x.close()));

  async function setup() {
    const address = '127.0.17.60';
    const memberKey = sdesKey();
    const serverKey = sdesKey();
    const server = await FakeServer.open(address, 41000, memberKey, serverKey);
    opened.push(server);
    const media = await MediaSession.open(address, new PortAllocator(address, 42000, 42010));
    opened.push({ close: () => media.stop() });
    media.configure({ remote: { address, port: server.port }, txMarker: 'IMSLAB0000000001', expectedRxMarker: 'IMSLAB0000000002', tx: groupKey, rx: groupKey });
    const client = new FloorClient(media, { tx: memberKey, rx: serverKey }, new Logger('test', () => undefined), 'call-1');
    opened.push({ close: () => client.stop() });
    media.start();
    return { server, media, client, me: { address, port: media.localPort } };
  }

  it('sends nothing without the floor, the probe once granted, and stops when the floor goes idle', async () => {
    const { server, client, me } = await setup();
    // Absence can only be seen over time: three packet intervals without the floor.
    await sleep(3 * PACKET_INTERVAL_MS);
    expect(server.rtp).toEqual([]);
    client.act('request');
    await until(() => server.floor.some((m) => m.type === 'floor-request'), 'Floor Request at the server');
    expect(client.status().state).toBe('pending-request');
    server.send({ type: 'floor-granted', fields: { duration: 30, floorPriority: 0 } }, me);
    await until(() => server.rtp.length >= 3, 'the probe after Floor Granted');
    expect(client.status()).toMatchObject({ state: 'has-permission', talking: true, received: { 'floor-granted': 1 }, sent: { 'floor-request': 1 } });
    client.act('release');
    await until(() => server.floor.some((m) => m.type === 'floor-release'), 'Floor Release at the server');
    server.send({ type: 'floor-idle', fields: { messageSequenceNumber: 2 } }, me);
    await until(() => client.status().state === 'has-no-permission', 'no permission after Floor Idle');
    const n = server.rtp.length;
    await sleep(3 * PACKET_INTERVAL_MS);
    expect(server.rtp.length).toBeLessThanOrEqual(n + 1); // at most one already on its way
    expect(server.refused).toEqual([]);
  });

  it('counts a Floor Deny and stays silent; talk-without-floor sends anyway', async () => {
    const { server, client, me } = await setup();
    client.act('request');
    await until(() => server.floor.length > 0, 'Floor Request');
    server.send({ type: 'floor-deny', fields: { rejectCause: { cause: 1 } } }, me);
    await until(() => client.status().received['floor-deny'] === 1, 'Floor Deny counted');
    expect(client.status()).toMatchObject({ state: 'has-no-permission', talking: false, lastRejectCause: 1 });
    expect(server.rtp).toEqual([]);
    client.act('talk-without-floor');
    await until(() => server.rtp.length >= 2, 'media without the floor');
    expect(client.status()).toMatchObject({ talking: true, ignoringFloor: true });
  });

  it('refuses floor control under another key, plain or malformed, and counts it; a release without the floor is a state error', async () => {
    const { server, client, me } = await setup();
    server.raw(new SrtpContext(contextOptions(sdesKey())).protectRtcp(encodeFloorMessage({ type: 'floor-granted', ssrc: 1, ackRequired: false, fields: { duration: 30, floorPriority: 0 } })), me);
    server.raw(Buffer.from(encodeFloorMessage({ type: 'floor-granted', ssrc: 1, ackRequired: false, fields: { duration: 30, floorPriority: 0 } })), me);
    server.raw(Buffer.from('junk'), me);
    await until(() => client.status().rejected === 3, 'three refusals');
    expect(client.status()).toMatchObject({ state: 'has-no-permission', received: {} });
    expect(() => client.act('release')).toThrow(FloorStateError);
  });
});
