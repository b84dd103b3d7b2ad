import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildRtp } from '@imslab/rtp';
import { SrtpContext } from '@imslab/srtp';
import { contextOptions, derivedSrtpKey, LATE_JOIN_ROC_SEARCH } from '../src/media-security.ts';

/**
 * A UE that joins a group late (an e2e conference or PoC group passes the
 * members' SRTP on as it is) receives a sender whose ROC is already past 0.
 * Seen in conference-member-leaves: carol rejoined after bob's sequence
 * numbers wrapped and failed every one of his packets.
 */
describe('a UE receiving a stream it joined after the sender wrapped', () => {
  const key = derivedSrtpKey({ masterKey: randomBytes(16), masterSalt: randomBytes(14) }, 'AES_CM_128_HMAC_SHA1_80', 'mikey-ticket');

  function lateStream(wraps: number): Buffer[] {
    const tx = new SrtpContext(contextOptions(key));
    const out: Buffer[] = [];
    let seq = 65_530;
    for (let i = 0; i < 6 + (wraps - 1) * 0x10000 + 5; i++, seq = (seq + 1) & 0xffff) {
      const p = tx.protectRtp(buildRtp({ payloadType: 0, sequence: seq, timestamp: i * 160, ssrc: 0xb0b }, Buffer.alloc(160, i & 0xff)));
      if (i >= 6 + (wraps - 1) * 0x10000) out.push(p);
    }
    return out;
  }

  it(`decrypts it from the first packet for up to ${LATE_JOIN_ROC_SEARCH} wraps`, () => {
    for (const wraps of [1, LATE_JOIN_ROC_SEARCH]) {
      const rx = new SrtpContext(contextOptions(key, true));
      expect(lateStream(wraps).map((p) => rx.unprotectRtp(p).ok), `${wraps} wrap(s)`).toEqual([true, true, true, true, true]);
    }
  });

  it('a context not on relayed group media (a 1:1 call) does not guess, and fails the same packets', () => {
    expect(contextOptions(key).rocSearch).toBeUndefined();
    const rx = new SrtpContext(contextOptions(key));
    expect(lateStream(1).map((p) => rx.unprotectRtp(p).ok)).toEqual([false, false, false, false, false]);
  });

  it('an SDES key with a key derivation rate is never searched (each guess would derive keys)', () => {
    const sdes = { ...key, attribute: { ...key.attribute, sessionParams: ['KDR=16'] } };
    expect(contextOptions(sdes, true).rocSearch).toBeUndefined();
    expect(contextOptions(sdes, true).kdr).toBe(2 ** 16);
  });
});
