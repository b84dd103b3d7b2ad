import { describe, expect, it } from 'vitest';
import { gmkSrtpKeys, gukIdOf, type ReceivedGmk } from '@imslab/mikey';
import { prng } from '@imslab/fuzz';
import { buildRtp } from '@imslab/rtp';
import { SrtpContext } from '@imslab/srtp';
import { GroupMasterKeys } from '../src/group-master-keys.ts';
import { contextOptions, type SrtpKey } from '../src/media-security.ts';
import { MkiReceiver } from '../src/mki-receiver.ts';

/*
 * A PoC listener's receive side: packets name their key by MKI (GMK-ID ||
 * the talker's GUK-ID). Known GMKs decrypt; an unknown GMK-ID, a forged tag,
 * a replay or random bytes are counted by reason and never decrypted.
 */

const ALICE = 'sip:alice@ims.test';
const BOB = 'sip:bob@ims.test';

function received(member: string, gmkId: number, fill: number): ReceivedGmk {
  const gmk = new Uint8Array(16).fill(fill);
  const rand = new Uint8Array(16).fill(3);
  const gukId = gukIdOf(gmk, gmkId, member);
  return { gmk, gmkId, gukId, rand, initiator: 'sip:gms@ims.test', kmsInitiator: 'https://kms', timestampMs: 0, profile: 'AES_CM_128_HMAC_SHA1_80', srtp: gmkSrtpKeys({ gmk, gmkId, gukId, rand }) };
}

function talker(member: string, gmkId: number, fill: number): { key: SrtpKey; ctx: SrtpContext } {
  const g = new GroupMasterKeys('sip:poc-team@ims.test');
  g.add(received(member, gmkId, fill));
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
