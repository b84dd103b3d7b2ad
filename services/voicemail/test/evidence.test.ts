import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildUdpFrame, LINKTYPE, PcapWriter } from '@imslab/capture';
import { buildRtp, buildSenderReport } from '@imslab/rtp';
import { storeAndForwardEvidence } from '../evidence.ts';

const dir = mkdtempSync(join(tmpdir(), 'imslab-sf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VM = '127.0.2.60';
const AGW_A = '127.0.2.11';
const AGW_B = '127.0.2.31';
/** An RTP packet (PT 0) with distinct bytes. */
const rtp = (n: number) => buildRtp({ payloadType: 0, sequence: n, timestamp: n, ssrc: 0x01020304 }, Buffer.alloc(20, n));

async function capture(name: string, packets: Array<[number, string, number, string, number, Buffer]>): Promise<string> {
  const file = join(dir, name);
  const w = new PcapWriter(file, LINKTYPE.ETHERNET);
  for (const [t, src, sp, dst, dp, payload] of packets) w.write(t, buildUdpFrame(LINKTYPE.ETHERNET, src, sp, dst, dp, payload));
  await w.close();
  return file;
}

describe('store-and-forward evidence from the core capture', () => {
  it('a playback equal to the deposit, packet by packet, is identical; SIP and RTCP do not count', async () => {
    const deposit = [1, 2, 3].map((n): [number, string, number, string, number, Buffer] => [n, AGW_A, 30000, VM, 36000, rtp(n)]);
    const play = [1, 2, 3].map((n): [number, string, number, string, number, Buffer] => [100 + n, VM, 36002, AGW_B, 32000, rtp(n)]);
    const sip: [number, string, number, string, number, Buffer] = [50, VM, 5060, AGW_B, 5060, Buffer.from('SIP/2.0 200 OK\r\n\r\n')];
    const rtcp: [number, string, number, string, number, Buffer] = [60, AGW_A, 30001, VM, 36001, buildSenderReport(1, 0, 0, 0)];
    const r = await storeAndForwardEvidence(await capture('ok.pcap', [...deposit, sip, rtcp, ...play]), 'voicemail', VM);
    expect(r).toMatchObject({ identical: true, received: { packets: 3 }, sent: { packets: 3 } });
    expect(r.received.digest).toBe(r.sent.digest);
  });

  it('one altered byte, a reordering or a missing packet is not identical; a playback cut short is a prefix', async () => {
    const deposit = [1, 2, 3].map((n): [number, string, number, string, number, Buffer] => [n, AGW_A, 30000, VM, 36000, rtp(n)]);
    const altered = rtp(2);
    altered[20] = altered[20]! ^ 1;
    const bad = await capture('bad.pcap', [...deposit, [101, VM, 36002, AGW_B, 32000, rtp(1)], [102, VM, 36002, AGW_B, 32000, altered], [103, VM, 36002, AGW_B, 32000, rtp(3)]]);
    expect((await storeAndForwardEvidence(bad, 'voicemail', VM)).identical).toBe(false);
    const swapped = await capture('swap.pcap', [...deposit, [101, VM, 36002, AGW_B, 32000, rtp(2)], [102, VM, 36002, AGW_B, 32000, rtp(1)], [103, VM, 36002, AGW_B, 32000, rtp(3)]]);
    expect((await storeAndForwardEvidence(swapped, 'voicemail', VM)).identical).toBe(false);
    // A full playback to bob and one cut short (carol hung up) to another port.
    const two = await capture('two.pcap', [...deposit, ...[1, 2, 3].map((n): [number, string, number, string, number, Buffer] => [100 + n, VM, 36002, AGW_B, 32000, rtp(n)]), [200, VM, 36004, AGW_B, 32002, rtp(1)]]);
    const r = await storeAndForwardEvidence(two, 'voicemail', VM);
    expect(r.identical).toBe(true);
    expect(r.playbacks).toEqual([
      { to: `${AGW_B}:32000`, packets: 3, complete: true, prefix: true },
      { to: `${AGW_B}:32002`, packets: 1, complete: false, prefix: true },
    ]);
    const none = await capture('none.pcap', deposit);
    expect((await storeAndForwardEvidence(none, 'voicemail', VM)).identical).toBe(false);
  });
});
