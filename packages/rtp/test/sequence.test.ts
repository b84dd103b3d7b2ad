/** Sequence-number arithmetic (RFC 3550 sec. 5.1, A.1, A.3) and the SRTP index and ROC guess (RFC 3711 sec. 3.3.1, App. A). */
import { describe, expect, it } from 'vitest';
import { estimateRoc, initialSequenceNumber, packetIndex, RtpSequenceState, seqDistance } from '../src/index.ts';

describe('seqDistance: the short way round the 16-bit wrap', () => {
  it('is signed and wrap-aware', () => {
    expect(seqDistance(10, 13)).toBe(3);
    expect(seqDistance(13, 10)).toBe(-3);
    expect(seqDistance(65535, 2)).toBe(3);
    expect(seqDistance(2, 65535)).toBe(-3);
    expect(seqDistance(65535, 0)).toBe(1);
    expect(seqDistance(0, 32767)).toBe(32767);
    // Half way round is ambiguous; it counts as behind (the range is -32768..32767).
    expect(seqDistance(0, 32768)).toBe(-32768);
  });
});

describe('RFC 3711 sec. 3.3.1: i = 2^16 * ROC + SEQ', () => {
  it('computes the 48-bit index exactly', () => {
    expect(packetIndex(0, 0x1234)).toBe(0x1234);
    expect(packetIndex(1, 0)).toBe(65536);
    expect(packetIndex(0xffffffff, 0xffff)).toBe(2 ** 48 - 1);
  });
});

describe('RFC 3711 App. A: the receiver guesses v among ROC-1, ROC, ROC+1', () => {
  it('keeps ROC for packets near s_l', () => {
    expect(estimateRoc(101, 100, 5)).toBe(5);
    expect(estimateRoc(99, 100, 5)).toBe(5);
    expect(estimateRoc(40000, 39990, 5)).toBe(5);
  });

  it('takes ROC+1 for the first packets after a wrap (s_l high, SEQ low)', () => {
    expect(estimateRoc(2, 65534, 5)).toBe(6);
    expect(estimateRoc(0, 65535, 0)).toBe(1);
  });

  it('takes ROC-1 for a late packet from before the wrap (s_l low, SEQ high)', () => {
    expect(estimateRoc(65534, 2, 6)).toBe(5);
    // Before the stream's first ROC: -1, which callers treat as unusable.
    expect(estimateRoc(65534, 2, 0)).toBe(-1);
  });

  it('decides at half the sequence space, as the appendix does', () => {
    // s_l < 2^15: v = ROC-1 only when SEQ - s_l > 2^15.
    expect(estimateRoc(32768, 0, 3)).toBe(3);
    expect(estimateRoc(32769, 0, 3)).toBe(2);
    // s_l >= 2^15: v = ROC+1 only when s_l - 2^15 > SEQ.
    expect(estimateRoc(0, 32768, 3)).toBe(3);
    expect(estimateRoc(0, 32769, 3)).toBe(4);
  });

  it('follows a stream across two wraps with reordering', () => {
    let roc = 0;
    let sl = 65000;
    const seen: number[] = [];
    for (const seq of [65100, 65535, 3, 65530, 4, 200, 30000, 60000, 65535, 1, 65534, 2]) {
      const v = estimateRoc(seq, sl, roc);
      seen.push(packetIndex(v, seq));
      // RFC 3711 sec. 3.3.1: ROC and s_l advance only when the index does.
      if (packetIndex(v, seq) > packetIndex(roc, sl)) [roc, sl] = [v, seq];
    }
    expect(seen).toEqual([65100, 65535, 65539, 65530, 65540, 65736, 95536, 125536, 131071, 131073, 131070, 131074]);
  });

  it('reads a jump of more than half the sequence space as a late packet (ROC-1), as the appendix must', () => {
    expect(estimateRoc(40000, 200, 1)).toBe(0);
  });

  it('gives the guesses the SRTP context relies on (cases moved from @imslab/srtp)', () => {
    expect(estimateRoc(5, 65530, 0)).toBe(1);
    expect(estimateRoc(65530, 5, 1)).toBe(0);
    expect(estimateRoc(65530, 5, 0)).toBe(-1);
    expect(estimateRoc(100, 50, 2)).toBe(2);
    expect(estimateRoc(40000, 100, 1)).toBe(0); // more than half the space ahead: from before the last wrap
    expect(estimateRoc(30000, 100, 0)).toBe(0); // less than half ahead: same ROC
    expect(estimateRoc(100, 40000, 0)).toBe(1); // s_l in the upper half, SEQ far below: wrapped
  });
});

describe('RtpSequenceState: RFC 3550 A.1 update_seq and A.3 loss', () => {
  const feed = (seqs: number[]) => {
    const s = new RtpSequenceState(0xdeadbeef, seqs[0]!);
    for (const q of seqs) s.update(q);
    return s;
  };

  it('counts a gap as loss and a duplicate as received (A.3: lost = expected - received, never negative)', () => {
    const s = feed([10, 11, 13, 13, 14]);
    expect([s.ssrc, s.packets, s.received, s.expected, s.lost]).toEqual([0xdeadbeef, 5, 5, 5, 0]);
    const g = feed([10, 11, 14, 15]);
    expect([g.expected, g.received, g.lost]).toEqual([6, 4, 2]);
  });

  it('extends across the wrap: cycles count in units of 2^16', () => {
    const s = feed([65534, 65535, 0, 2]);
    expect([s.extendedMax, s.expected, s.lost, s.lastSeq]).toEqual([65536 + 2, 5, 1, 2]);
  });

  it('a jump of at least MAX_DROPOUT (3000) is taken as a restart only when the next packet confirms it', () => {
    const s = feed([100, 101, 40000, 102, 103]);
    expect([s.received, s.lost]).toEqual([4, 0]);
    const r = feed([100, 101, 103, 40000, 40001, 40002]);
    // The loss before the restart (102) is kept; as in A.1 the new incarnation starts at the confirming packet, 40001.
    expect([r.lost, r.expected]).toEqual([1, 2]);
  });
});

describe('initialSequenceNumber: random, in the lower half', () => {
  it('asks for a number below 2^15 and keeps what it gets there', () => {
    const asked: number[] = [];
    expect(initialSequenceNumber((n) => (asked.push(n), n - 1))).toBe(0x7fff);
    expect(initialSequenceNumber(() => 0)).toBe(0);
    expect(asked).toEqual([0x8000]);
  });
  it('draws from crypto by default: many draws, all below 2^15, not all alike', () => {
    const seen = new Set(Array.from({ length: 200 }, () => initialSequenceNumber()));
    for (const s of seen) expect(s >= 0 && s < 0x8000).toBe(true);
    expect(seen.size).toBeGreaterThan(150);
  });
});
