import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildRtp } from '@imslab/rtp';
import { generateKeySalt, SrtpContext } from '@imslab/srtp';
import { contextOptions, type SrtpKey } from '../src/media-security.ts';
import { MediaSession, PLAINTEXT_GRACE_MS, PLAINTEXT_MAX_SEQ_GAP } from '../src/media-session.ts';
import { PortAllocator } from '../src/port-allocator.ts';

/*
 * Issue 13: after a call is switched from plaintext to SRTP by re-INVITE
 * (TR 33.828 4.1.1), the receiver accepted any packet failing SRTP as
 * plaintext for 3 s. Now only the peer's own plaintext stream going on (same
 * SSRC, sequence number just ahead) is accepted, for PLAINTEXT_GRACE_MS at
 * most and never after the first packet under the new key; anything else in
 * the clear is counted as rxAuthFailed and not received.
 */

const SUITE = 'AES_CM_128_HMAC_SHA1_80';
function newKey(): SrtpKey {
  const keySalt = generateKeySalt(SUITE);
  return { suite: SUITE, attribute: { tag: 1, suite: SUITE, keyParams: [{ method: 'inline', keySalt }], sessionParams: [] }, keySaltBase64: keySalt.toString('base64'), keyMgmt: 'sdes' };
}

const address = '127.0.17.63';
let port = 42500;
const opened: MediaSession[] = [];
afterEach(() => {
  opened.splice(0).forEach((m) => m.stop());
  vi.restoreAllMocks();
});

const PEER_SSRC = 0x1234abcd;
const plain = (seq: number, ssrc = PEER_SSRC) => buildRtp({ payloadType: 0, marker: false, sequence: seq & 0xffff, timestamp: seq * 160, ssrc }, Buffer.alloc(160, 0xd5));

/** A plaintext call that received the peer's packets up to `lastSeq`, then switched to receive under `key` (the re-INVITE). */
async function switched(key: SrtpKey, lastSeq = 109) {
  const media = await MediaSession.open(address, new PortAllocator(address, port, port + 9));
  port += 10;
  opened.push(media);
  const plan = { remote: { address, port: 9 }, txMarker: 'IMSLAB0000000001', expectedRxMarker: 'IMSLAB0000000002', tx: null, rx: null, send: false };
  media.configure(plan);
  const receive = (b: Buffer) => (media as unknown as { receive(msg: Buffer, from: string): void }).receive(b, `${address}:9`);
  for (let s = lastSeq - 9; s <= lastSeq; s++) receive(plain(s));
  expect(media.counters.rxPackets).toBe(10);
  media.configure({ ...plan, rx: key });
  return { media, receive };
}

function sender(key: SrtpKey) {
  const ctx = new SrtpContext(contextOptions(key));
  let seq = 500;
  return () => ctx.protectRtp(buildRtp({ payloadType: 0, marker: false, sequence: seq, timestamp: seq++ * 160, ssrc: PEER_SSRC }, Buffer.alloc(160, 0xd5)));
}

describe('MediaSession: plaintext after a switch to SRTP', () => {
  it('accepts only the peer\'s plaintext stream going on: another SSRC, a duplicate, an older or a far-ahead number are refused and counted', async () => {
    const { media, receive } = await switched(newKey());
    receive(plain(110, 0x5eed000a)); // injected: an SSRC of its own
    receive(plain(110)); // the peer's next packet, still in the clear
    receive(plain(110)); // the same again: a replay
    receive(plain(105)); // older
    receive(plain(110 + PLAINTEXT_MAX_SEQ_GAP + 1)); // too far ahead
    receive(plain(110 + PLAINTEXT_MAX_SEQ_GAP)); // a loss of PLAINTEXT_MAX_SEQ_GAP - 1 packets
    expect(media.counters).toMatchObject({ rxPackets: 12, rxAuthFailed: 4 });
  });

  it('plaintext injected before the switch (another SSRC) does not become the stream the grace continues', async () => {
    const media = await MediaSession.open(address, new PortAllocator(address, port, port + 9));
    port += 10;
    opened.push(media);
    const plan = { remote: { address, port: 9 }, txMarker: 'IMSLAB0000000001', expectedRxMarker: 'IMSLAB0000000002', tx: null, rx: null, send: false };
    media.configure(plan);
    const receive = (b: Buffer) => (media as unknown as { receive(msg: Buffer, from: string): void }).receive(b, `${address}:9`);
    for (let s = 100; s <= 109; s++) receive(plain(s));
    receive(plain(7000, 0x5eed000a)); // an unprotected call takes it (nothing to check it against)
    media.configure({ ...plan, rx: newKey() });
    receive(plain(7001, 0x5eed000a)); // the injector's "next" packet
    expect(media.counters).toMatchObject({ rxPackets: 11, rxAuthFailed: 1 });
    receive(plain(110)); // the peer's stream going on
    expect(media.counters).toMatchObject({ rxPackets: 12, rxAuthFailed: 1 });
  });

  it('the continuation check works across the sequence number wrap', async () => {
    const { media, receive } = await switched(newKey(), 0xffff);
    receive(plain(0x10000)); // seq 0
    receive(plain(0x10001));
    expect(media.counters).toMatchObject({ rxPackets: 12, rxAuthFailed: 0 });
  });

  it('refuses all plaintext after the first packet under the new key, even the peer\'s stream going on', async () => {
    const key = newKey();
    const { media, receive } = await switched(key);
    const srtp = sender(key);
    receive(srtp());
    receive(plain(110));
    receive(plain(111, 0x5eed000a));
    receive(srtp());
    // The peer's SSRC with a number far behind its SRTP ones fails the replay window before authentication.
    expect(media.counters).toMatchObject({ rxPackets: 12, rxReplayed: 1, rxAuthFailed: 1 });
  });

  it(`refuses all plaintext ${PLAINTEXT_GRACE_MS} ms after the switch`, async () => {
    const now = performance.now();
    const clock = vi.spyOn(performance, 'now').mockReturnValue(now);
    const { media, receive } = await switched(newKey());
    clock.mockReturnValue(now + PLAINTEXT_GRACE_MS - 1);
    receive(plain(110));
    clock.mockReturnValue(now + PLAINTEXT_GRACE_MS + 1);
    receive(plain(111));
    expect(media.counters).toMatchObject({ rxPackets: 11, rxAuthFailed: 1 });
  });

  it('with no plaintext received before the switch, none is accepted after it', async () => {
    const media = await MediaSession.open(address, new PortAllocator(address, port, port + 9));
    port += 10;
    opened.push(media);
    const plan = { remote: { address, port: 9 }, txMarker: 'IMSLAB0000000001', expectedRxMarker: 'IMSLAB0000000002', tx: null, rx: null, send: false };
    media.configure(plan);
    media.configure({ ...plan, rx: newKey() });
    (media as unknown as { receive(msg: Buffer, from: string): void }).receive(plain(1), `${address}:9`);
    expect(media.counters).toMatchObject({ rxPackets: 0, rxAuthFailed: 1 });
  });
});
