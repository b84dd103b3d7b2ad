import { afterEach, describe, expect, it } from 'vitest';
import { GMK_MKI_LENGTH, GmkStore, gmkSrtpKeys, gukIdOf, MikeyError, type ReceivedGmk } from '@imslab/mikey';
import { prng } from '@imslab/fuzz';
import { buildRtp } from '@imslab/rtp';
import { SRTP_PROFILES, SrtpContext, type SrtpProfileName } from '@imslab/srtp';
import { GroupMasterKeys } from '../src/group-master-keys.ts';
import { contextOptions, type MkiKeySource, type SrtpKey } from '../src/media-security.ts';
import { MediaSession } from '../src/media-session.ts';
import { MkiReceiver } from '../src/mki-receiver.ts';
import { PortAllocator } from '../src/port-allocator.ts';

/*
 * A PoC listener's receive side: packets name their key by MKI (GMK-ID ||
 * the talker's GUK-ID). Known GMKs decrypt; an unknown GMK-ID, a forged tag,
 * a replay or random bytes are counted by reason and never decrypted.
 */

const ALICE = 'sip:alice@ims.test';
const BOB = 'sip:bob@ims.test';

function received(member: string, gmkId: number, fill: number, profile: SrtpProfileName = 'AES_CM_128_HMAC_SHA1_80'): ReceivedGmk {
  const gmk = new Uint8Array(16).fill(fill);
  const rand = new Uint8Array(16).fill(3);
  const gukId = gukIdOf(gmk, gmkId, member);
  const { keyLength, saltLength } = SRTP_PROFILES[profile];
  return { gmk, gmkId, gukId, rand, initiator: 'sip:gms@ims.test', kmsInitiator: 'https://kms', timestampMs: 0, profile, srtp: gmkSrtpKeys({ gmk, gmkId, gukId, rand, keyLength, saltLength }) };
}

function talker(member: string, gmkId: number, fill: number, profile?: SrtpProfileName): { key: SrtpKey; ctx: SrtpContext } {
  const g = new GroupMasterKeys('sip:poc-team@ims.test');
  g.add(received(member, gmkId, fill, profile));
  const key = g.txKey();
  return { key, ctx: new SrtpContext(contextOptions(key)) };
}

const rtp = (seq: number, ssrc = 0x1234) => buildRtp({ payloadType: 0, marker: false, sequence: seq, timestamp: seq * 160, ssrc }, Buffer.alloc(160, 0xd5));

describe('MkiReceiver', () => {
  it('decrypts a talker under a GMK it holds, reports the key once, and counts what it cannot read by reason', () => {
    const bobKeys = new GroupMasterKeys('sip:poc-team@ims.test', [ALICE, BOB]);
    bobKeys.add(received(BOB, 0x0100_0001, 0xa1));
    const reported: string[] = [];
    const rx = new MkiReceiver(bobKeys, (k) => reported.push(Buffer.from(k.mki!).toString('hex')));
    const alice = talker(ALICE, 0x0100_0001, 0xa1);
    for (let i = 0; i < 5; i++) expect(rx.unprotect(alice.ctx.protectRtp(rtp(i))).ok).toBe(true);
    expect(reported).toEqual([Buffer.from(alice.key.mki!).toString('hex')]);
    // A later epoch bob never received: unknown-key, for every packet.
    const later = talker(ALICE, 0x0100_0002, 0xa2);
    for (let i = 0; i < 3; i++) expect(rx.unprotect(later.ctx.protectRtp(rtp(10 + i)))).toEqual({ ok: false, reason: 'unknown-key' });
    // A forged tag under the right MKI: auth-failed; a replay: replayed.
    const p = alice.ctx.protectRtp(rtp(20));
    const forged = Buffer.from(p);
    forged[forged.length - 1]! ^= 1;
    expect(rx.unprotect(forged)).toMatchObject({ ok: false, reason: 'auth-failed' });
    expect(rx.unprotect(p).ok).toBe(true);
    expect(rx.unprotect(p)).toMatchObject({ ok: false, reason: 'replayed' });
    // Once the new GMK arrives (re-key), the MKI that named nothing is looked up again.
    bobKeys.add(received(BOB, 0x0100_0002, 0xa2));
    rx.retryUnknown();
    expect(rx.unprotect(later.ctx.protectRtp(rtp(30))).ok).toBe(true);
  });

  it('10,000 random and mutated packets: each refused with a reason or decrypted, nothing thrown', () => {
    const keys = new GroupMasterKeys('sip:poc-team@ims.test', [ALICE, BOB]);
    keys.add(received(BOB, 0x0100_0001, 0xa1));
    const rx = new MkiReceiver(keys, () => undefined);
    const alice = talker(ALICE, 0x0100_0001, 0xa1);
    const next = prng(0x90c);
    const reasons = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      let b: Buffer;
      if (i % 2 === 0) {
        b = Buffer.alloc(Math.floor(next() * 220));
        for (let j = 0; j < b.length; j++) b[j] = Math.floor(next() * 256);
        if (b.length > 0) b[0] = 0x80;
      } else {
        b = Buffer.from(alice.ctx.protectRtp(rtp(i)));
        const at = Math.floor(next() * b.length);
        b[at]! ^= 1 + Math.floor(next() * 255);
      }
      const r = rx.unprotect(b);
      const why = r.ok ? 'ok' : r.reason;
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
    }
    // Mutated packets fail authentication or name no key; random ones name no key or are too short.
    expect(reasons.get('ok') ?? 0).toBe(0);
    expect((reasons.get('unknown-key') ?? 0) + (reasons.get('auth-failed') ?? 0) + (reasons.get('too-short') ?? 0)).toBeGreaterThan(9_000);
  });
});

/*
 * Groups whose SP payload names another suite than AES_CM_128_HMAC_SHA1_80:
 * the MKI sits before a 4-octet tag (HMAC-SHA1-32) or ends the packet
 * (AES-GCM, RFC 7714: the 16-octet tag is part of the AEAD output). The
 * receiver must look for it where the group's suite puts it.
 */

function keyOf(suite: SrtpProfileName, k: { masterKey: Uint8Array; masterSalt: Uint8Array; mki: Uint8Array }): SrtpKey {
  const keySalt = Buffer.concat([k.masterKey, k.masterSalt]);
  return { suite, attribute: { tag: 1, suite, keyParams: [{ method: 'inline', keySalt }], sessionParams: [] }, keySaltBase64: keySalt.toString('base64'), keyMgmt: 'mikey-sakke', mki: Buffer.from(k.mki) };
}

const lengths = (suite: SrtpProfileName) => ({ keyLength: SRTP_PROFILES[suite].keyLength, saltLength: SRTP_PROFILES[suite].saltLength });
const GMK = { gmk: new Uint8Array(16).fill(0xb1), gmkId: 0x0100_0007, rand: new Uint8Array(16).fill(5) };

/** A member's group keys under `suite` (what GroupMasterKeys is for the default suite). */
function groupOf(suite: SrtpProfileName, held = [GMK]): MkiKeySource {
  const store = new GmkStore();
  for (const g of held) store.put({ ...g, gukId: gukIdOf(g.gmk, g.gmkId, BOB) });
  return {
    mkiLength: GMK_MKI_LENGTH,
    keyFor(mki) {
      try {
        return keyOf(suite, store.keysForMki(mki, { ...lengths(suite), senders: [ALICE, BOB] }));
      } catch (e) {
        if (e instanceof MikeyError) return undefined;
        throw e;
      }
    },
  };
}

/** A member sending under its key of the group GMK with `suite`. */
function sender(suite: SrtpProfileName, member = ALICE, g = GMK): { key: SrtpKey; ctx: SrtpContext } {
  const key = keyOf(suite, gmkSrtpKeys({ ...g, gukId: gukIdOf(g.gmk, g.gmkId, member), ...lengths(suite) }));
  return { key, ctx: new SrtpContext(contextOptions(key)) };
}

const SUITES: SrtpProfileName[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_32', 'AEAD_AES_128_GCM', 'AEAD_AES_256_GCM'];

describe('GroupMasterKeys follows the GMK\'s security policy (SP payload, TS 33.180 clause 7.4.2)', () => {
  for (const suite of ['AES_CM_128_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_80', 'AEAD_AES_128_GCM', 'AEAD_AES_256_GCM'] as SrtpProfileName[]) {
    it(`${suite}: the send key has the profile's key and salt lengths, and a member holding the GMK reads it`, () => {
      const alice = talker(ALICE, 0x0100_0011, 0xc1, suite);
      expect(alice.key.suite).toBe(suite);
      expect(alice.key.attribute.keyParams[0]!.keySalt.length).toBe(SRTP_PROFILES[suite].keyLength + SRTP_PROFILES[suite].saltLength);
      const bobKeys = new GroupMasterKeys('sip:poc-team@ims.test', [ALICE, BOB]);
      bobKeys.add(received(BOB, 0x0100_0011, 0xc1, suite));
      const rx = new MkiReceiver(bobKeys, () => undefined, bobKeys.txKey().suite);
      for (let i = 0; i < 3; i++) expect(rx.unprotect(alice.ctx.protectRtp(rtp(i)))).toMatchObject({ ok: true });
    });
  }

  it('a GMK without an SP payload is AES_CM_128_HMAC_SHA1_80; a profile it cannot run is refused when the GMK arrives', () => {
    const g = new GroupMasterKeys('sip:poc-team@ims.test');
    g.add({ ...received(ALICE, 0x0100_0021, 0xd1), profile: undefined });
    expect(g.txKey().suite).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(() => g.add({ ...received(ALICE, 0x0100_0022, 0xd2), profile: 'NULL_HMAC_SHA1_80' as never })).toThrow(/SRTP profile NULL_HMAC_SHA1_80/);
    expect(g.heldIds()).toEqual(['0x01000021']);
  });
});

describe('MkiReceiver: the MKI is where the group\'s suite puts it', () => {
  for (const suite of SUITES) {
    it(`${suite}: decrypts the talker, and still tells unknown keys and forgeries apart`, () => {
      const reported: string[] = [];
      const rx = new MkiReceiver(groupOf(suite), (k) => reported.push(k.suite), suite);
      const alice = sender(suite);
      for (let i = 0; i < 5; i++) expect(rx.unprotect(alice.ctx.protectRtp(rtp(i)))).toMatchObject({ ok: true });
      expect(reported).toEqual([suite]);
      const later = sender(suite, ALICE, { ...GMK, gmkId: 0x0100_0008 });
      expect(rx.unprotect(later.ctx.protectRtp(rtp(10)))).toEqual({ ok: false, reason: 'unknown-key' });
      const forged = Buffer.from(alice.ctx.protectRtp(rtp(20)));
      forged[13]! ^= 1;
      expect(rx.unprotect(forged)).toMatchObject({ ok: false, reason: 'auth-failed' });
    });

    it(`${suite}: told no suite, the receiver finds the MKI where the key's own suite puts it`, () => {
      const rx = new MkiReceiver(groupOf(suite), () => undefined);
      const alice = sender(suite);
      for (let i = 0; i < 3; i++) expect(rx.unprotect(alice.ctx.protectRtp(rtp(i)))).toMatchObject({ ok: true });
    });
  }

  it('a key whose suite puts its MKI elsewhere than the group\'s suite is not taken for the MKI read', () => {
    // alice sends under HMAC-SHA1-80; the source labels the key of that MKI HMAC-SHA1-32 (its MKI would sit 6 octets later).
    const rx = new MkiReceiver(groupOf('AES_CM_128_HMAC_SHA1_32'), () => undefined, 'AES_CM_128_HMAC_SHA1_80');
    const alice = sender('AES_CM_128_HMAC_SHA1_80');
    for (let i = 0; i < 2; i++) expect(rx.unprotect(alice.ctx.protectRtp(rtp(i)))).toEqual({ ok: false, reason: 'unknown-key' });
  });
});

describe('MediaSession: a PoC listener locates the MKI by the suite of its group key', () => {
  const opened: MediaSession[] = [];
  afterEach(() => opened.splice(0).forEach((m) => m.stop()));
  const address = '127.0.17.61';
  let port = 42300;

  for (const suite of ['AES_CM_128_HMAC_SHA1_32', 'AEAD_AES_128_GCM'] as const) {
    it(`${suite}: alice's packets are received, not counted as unknown-key`, async () => {
      const media = await MediaSession.open(address, new PortAllocator(address, port, port + 9));
      port += 10;
      opened.push(media);
      // bob's own send key is of the same group, hence of the same suite.
      media.configure({ remote: { address, port: 9 }, txMarker: 'IMSLAB0000000001', expectedRxMarker: 'IMSLAB0000000002', tx: sender(suite, BOB).key, rx: null, rxByMki: groupOf(suite), send: false });
      const alice = sender(suite);
      const receive = (b: Buffer) => (media as unknown as { receive(msg: Buffer, from: string): void }).receive(b, `${address}:9`);
      for (let i = 0; i < 4; i++) receive(alice.ctx.protectRtp(rtp(i)));
      expect(media.counters).toMatchObject({ rxPackets: 4, rxUnknownKey: 0, rxAuthFailed: 0, rxMalformed: 0 });
    });
  }
});
