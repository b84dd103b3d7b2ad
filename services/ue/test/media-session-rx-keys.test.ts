import { afterEach, describe, expect, it } from 'vitest';
import { buildRtp } from '@imslab/rtp';
import { generateKeySalt, SrtpContext } from '@imslab/srtp';
import { contextOptions, type SrtpKey } from '../src/media-security.ts';
import { MAX_EXTRA_RX_KEYS, MediaSession } from '../src/media-session.ts';
import { PortAllocator } from '../src/port-allocator.ts';

/*
 * A conference member's receive keys across group re-keys (two phases:
 * addRxKey when the next key is handed out, setKeys when we send under it).
 * Only the current key and MAX_EXTRA_RX_KEYS others are accepted; a packet
 * under a key dropped since is counted as rxUnknownKey, never decrypted,
 * never thrown on.
 */

const SUITE = 'AES_CM_128_HMAC_SHA1_80';
function groupKey(): SrtpKey {
  const keySalt = generateKeySalt(SUITE);
  return { suite: SUITE, attribute: { tag: 1, suite: SUITE, keyParams: [{ method: 'inline', keySalt }], sessionParams: [] }, keySaltBase64: keySalt.toString('base64'), keyMgmt: 'mikey-ticket' };
}

const address = '127.0.17.62';
let port = 42400;
const opened: MediaSession[] = [];
afterEach(() => opened.splice(0).forEach((m) => m.stop()));

async function member(first: SrtpKey) {
  const media = await MediaSession.open(address, new PortAllocator(address, port, port + 9));
  port += 10;
  opened.push(media);
  media.configure({ remote: { address, port: 9 }, txMarker: 'IMSLAB0000000001', expectedRxMarker: 'IMSLAB0000000002', tx: first, rx: first, send: false });
  const receive = (b: Buffer) => (media as unknown as { receive(msg: Buffer, from: string): void }).receive(b, `${address}:9`);
  return { media, receive };
}

/** The receive keys held besides the current one, oldest first (private state: what the bound is about). */
const extraRx = (m: MediaSession): string[] => (m as unknown as { extraRx: Array<{ keySalt: string }> }).extraRx.map((x) => x.keySalt);

/** A talker (one SSRC per key, as a member sending under that key). */
function talker(key: SrtpKey, ssrc: number) {
  const ctx = new SrtpContext(contextOptions(key));
  let seq = 100;
  return () => ctx.protectRtp(buildRtp({ payloadType: 0, marker: false, sequence: seq, timestamp: seq++ * 160, ssrc }, Buffer.alloc(160, 0xd5)));
}

describe('MediaSession: receive keys across conference re-keys', () => {
  it(`keeps at most ${MAX_EXTRA_RX_KEYS} keys besides the current one however many re-keys; the previous and the next key are accepted`, async () => {
    const keys = [groupKey()];
    const { media, receive } = await member(keys[0]!);
    for (let epoch = 1; epoch <= 10; epoch++) {
      const next = groupKey();
      keys.push(next);
      media.addRxKey(next); // phase one: accept the next key on receive
      expect(extraRx(media).length).toBeLessThanOrEqual(MAX_EXTRA_RX_KEYS);
      // A member that already switched: its packets under the next key are read before we switch.
      const early = talker(next, 0x5000 + epoch);
      const before = media.counters.rxPackets;
      receive(early());
      expect(media.counters.rxPackets).toBe(before + 1);
      media.setKeys(next, next); // phase two: send and receive under it
      expect(extraRx(media).length).toBeLessThanOrEqual(MAX_EXTRA_RX_KEYS);
      expect(extraRx(media)).not.toContain(next.keySaltBase64);
      // A member that has not switched yet: still under the previous key, still read.
      receive(talker(keys[epoch - 1]!, 0x6000 + epoch)());
      expect(media.counters.rxPackets).toBe(before + 2);
    }
    expect(extraRx(media)).toEqual([keys[8]!.keySaltBase64, keys[9]!.keySaltBase64]);
    expect(media.counters).toMatchObject({ rxUnknownKey: 0, rxAuthFailed: 0, rxReplayed: 0, rxMalformed: 0 });
  });

  it('a packet under a dropped key is counted as rxUnknownKey and not received; a forged one is still rxAuthFailed', async () => {
    const k0 = groupKey();
    const { media, receive } = await member(k0);
    const keys = [k0];
    for (let epoch = 1; epoch <= 3; epoch++) {
      const next = groupKey();
      keys.push(next);
      media.addRxKey(next);
      media.setKeys(next, next);
    }
    // k0 is three epochs old: dropped.
    expect(extraRx(media)).not.toContain(k0.keySaltBase64);
    const stale = talker(k0, 0x7000);
    for (let i = 0; i < 5; i++) expect(() => receive(stale())).not.toThrow();
    expect(media.counters).toMatchObject({ rxPackets: 0, rxUnknownKey: 5, rxAuthFailed: 0 });
    // Under no key we ever held: a forgery, as before.
    const forged = Buffer.from(talker(keys[3]!, 0x7001)());
    forged[forged.length - 1]! ^= 1;
    receive(forged);
    receive(talker(groupKey(), 0x7002)());
    expect(media.counters).toMatchObject({ rxPackets: 0, rxUnknownKey: 5, rxAuthFailed: 2 });
  });

  it('the key accepted in phase one keeps its replay window when it becomes the current key', async () => {
    const { media, receive } = await member(groupKey());
    const next = groupKey();
    media.addRxKey(next);
    const p = talker(next, 0x8000)();
    receive(p);
    media.setKeys(next, next);
    receive(p);
    expect(media.counters).toMatchObject({ rxPackets: 1, rxReplayed: 1 });
  });
});
