import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildUdpFrame, LINKTYPE, PcapWriter } from '@imslab/capture';
import { formatKeyLogEntry, markerFor, probePayload } from '@imslab/probe';
import { buildRtp } from '@imslab/rtp';
import { generateKeySalt, splitKeySalt, SrtpContext } from '@imslab/srtp';
import { loadKeyRing, scanLink } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'imslab-multi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * One UDP flow carrying several RTP streams (a conference bridge forwarding
 * two members to a third): once the first stream made the flow "trusted",
 * sampling one packet in 16 would, with two streams interleaved, always land
 * on the same one. The second stream must still be classified packet by
 * packet: here it is plaintext, and every one of its packets must count.
 */
describe('a flow with two interleaved streams', () => {
  it('counts the plaintext stream hidden among a trusted SRTP stream, packet by packet', async () => {
    const ks = generateKeySalt('AES_CM_128_HMAC_SHA1_80');
    const { masterKey, masterSalt } = splitKeySalt('AES_CM_128_HMAC_SHA1_80', ks);
    const ctx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt });
    const keyLog = join(dir, 'bob-1.srtp-keys.jsonl');
    writeFileSync(keyLog, formatKeyLogEntry({ kind: 'srtp', owner: 'bob-1', callId: 'call-a', dir: 'tx', suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: ks.toString('base64'), keyMgmt: 'sdes', at: new Date(0).toISOString() }) + '\n');
    const [a, b] = [markerFor('call-a', 'orig'), markerFor('call-b', 'orig')];
    const file = join(dir, 'core.pcap');
    const w = new PcapWriter(file, LINKTYPE.ETHERNET);
    let t = 1_700_000_000_000_000;
    let seqA = 0;
    const frame = (rtp: Buffer) => w.write((t += 10_000), buildUdpFrame(LINKTYPE.ETHERNET, '127.0.2.70', 36000, '127.0.2.11', 30000, rtp));
    const sendA = () => frame(ctx.protectRtp(buildRtp({ payloadType: 0, sequence: seqA, timestamp: 160 * seqA, ssrc: 0xaaaa }, probePayload(a, seqA++))));
    for (let i = 0; i < 200; i++) sendA();
    for (let i = 0; i < 100; i++) {
      sendA();
      frame(buildRtp({ payloadType: 0, sequence: i, timestamp: 160 * i, ssrc: 0xbbbb }, probePayload(b, i)));
    }
    await w.close();
    const report = await scanLink('core', file, loadKeyRing([keyLog]).keys);
    const flow = report.media[0]!;
    expect(flow.ssrcs.sort()).toEqual([0xaaaa, 0xbbbb].sort());
    expect(flow.plaintext).toBe(100);
    expect(flow.markers[b]!.plaintext).toBe(100);
    expect(flow.markers[a]!.srtp['bob-1/tx/call-a']).toBeGreaterThan(0);
    expect(flow.packets).toBe(400);
  });
});
