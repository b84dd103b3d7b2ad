import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildUdpFrame, LINKTYPE, PcapWriter } from '@imslab/capture';
import { rtpPayloadType, rtpSequence } from '@imslab/rtp';
import { attackDatagrams, capturedTo } from '../src/inject.ts';

const dir = mkdtempSync(join(tmpdir(), 'imslab-inject-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('inject: what the attacker sends, from what a tap saw', () => {
  it('finds the packets to the target port on every link capture, and survives a capture cut in the middle of a packet', async () => {
    const w = new PcapWriter(join(dir, 'access-b.pcap'), LINKTYPE.ETHERNET);
    for (let i = 0; i < 5; i++) w.write(1_000_000 + i, buildUdpFrame(LINKTYPE.ETHERNET, '127.0.3.11', 32000, '127.0.3.100', 40000, Buffer.from(`srtp-${i}`)));
    w.write(2_000_000, buildUdpFrame(LINKTYPE.ETHERNET, '127.0.3.100', 40000, '127.0.3.11', 32000, Buffer.from('other way')));
    await w.close();
    const { appendFileSync } = await import('node:fs');
    appendFileSync(join(dir, 'access-b.pcap'), Buffer.from([1, 2, 3])); // tcpdump half-way through the next record
    expect(capturedTo(dir, '127.0.3.100', 40000).map((b) => b.toString())).toEqual(['srtp-0', 'srtp-1', 'srtp-2', 'srtp-3', 'srtp-4']);
    expect(capturedTo(dir, '127.0.3.100', 40002)).toEqual([]);
  });

  it('replay repeats the last packets byte for byte; tamper flips one payload bit of each; plaintext is RTP in the clear', () => {
    const seen = Array.from({ length: 8 }, (_, i) => Buffer.alloc(40, i + 1));
    expect(attackDatagrams('replay', seen, 3)).toEqual(seen.slice(-3));
    const t = attackDatagrams('tamper', seen, 3);
    t.forEach((p, i) => {
      const o = seen[5 + i]!;
      const diff = [...p].map((b, j) => b ^ o[j]!).filter((x) => x !== 0);
      expect(diff).toEqual([1]);
      expect(p.subarray(0, 12)).toEqual(o.subarray(0, 12));
    });
    const plain = attackDatagrams('plaintext', [], 4);
    expect(plain).toHaveLength(4);
    expect([rtpPayloadType(plain[0]!), rtpSequence(plain[0]!)]).toEqual([0, 1000]);
  });
});
