import { describe, expect, it } from 'vitest';
import { readRtpHeader } from '@imslab/rtp';
import { probeSource } from '../src/probe-source.ts';

function seqOf(p: Buffer): number {
  const h = readRtpHeader(p);
  if (typeof h === 'string') throw new Error(`not RTP: ${h}`);
  return h.sequence;
}

/** The first RTP sequence number of each kind of probe: as asked (a rollover test), else random below 2^15. */
describe('probe sources: the first sequence number', () => {
  for (const type of ['audio', 'video', 'text'] as const) {
    it(`${type}: starts where asked and runs on across the wrap`, () => {
      const src = probeSource(type, 0x1234, 65534);
      const seqs = [0, 1, 2, 3].flatMap((i) => src.packets(i, 'IMSLAB0123456789').map(seqOf));
      expect(seqs[0]).toBe(65534);
      seqs.forEach((s, i) => expect(s).toBe((65534 + i) & 0xffff));
      expect(seqs).toContain(0);
    });

    it(`${type}: without a first sequence number, random in the lower half`, () => {
      const firsts = new Set(Array.from({ length: 40 }, () => seqOf(probeSource(type, 1).packets(0, 'IMSLAB0123456789')[0]!)));
      for (const s of firsts) expect(s).toBeLessThan(0x8000);
      expect(firsts.size).toBeGreaterThan(30);
    });
  }
});
