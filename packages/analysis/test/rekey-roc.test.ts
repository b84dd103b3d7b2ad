import { describe, expect, it } from 'vitest';
import { makeKey, rtpStream, scanFrames, udp } from './scan-helpers.ts';

/**
 * A sender that re-keys without MKI may start the new key's SRTP context
 * afresh (ROC 0) while its sequence numbers run on. After a wrap before the
 * re-key, the stream's rollover counter is 1 and every packet under the new
 * key was sent with ROC 0. Seen in conference-member-removed-rekeyed: a
 * member's first sequence number was 65535, and every packet after the
 * re-key read as unauthenticated although every receiver decrypted it.
 */
describe('a re-key after a sequence number wrap', () => {
  for (const [title, freshContext] of [['the new key under a fresh context (ROC 0)', true], ['the new key continuing the index (ROC 1)', false]] as const) {
    it(`verifies every packet: ${title}`, () => {
      const a = makeKey('alice/tx/call-und');
      const b = makeKey('alice/tx/call-und#2');
      const pkts = rtpStream({ n: 400, seq0: 65_535 });
      const ctxA = a.ctx();
      const before = pkts.slice(0, 30).map((p) => ctxA.protectRtp(p));
      const ctxB = b.ctx();
      if (!freshContext) ctxB.protectRtp(rtpStream({ n: 2, seq0: 65_535 })[0]!), ctxB.protectRtp(rtpStream({ n: 2, seq0: 0 })[0]!);
      const after = pkts.slice(30).map((p) => ctxB.protectRtp(p));
      const { media } = scanFrames([...before, ...after].map((p) => udp(p)), [a.key, b.key]);
      expect(media).toHaveLength(1);
      const f = media[0]!;
      expect(f.unknown + f.unauthenticated + f.replayed).toBe(0);
      expect(f.srtp).toEqual({ 'alice/tx/call-und': 30, 'alice/tx/call-und#2': 370 });
    });
  }
});

/**
 * A relay passes a member's SRTP on to someone who joined after the sender's
 * sequence numbers wrapped: the new flow starts at ROC 1 or more. Seen in
 * conference-member-leaves: bob's first sequence number lay near 65535, carol
 * rejoined after the wrap, and every packet toward her read as
 * unauthenticated.
 */
describe('a flow that starts after the sender wrapped', () => {
  for (const wraps of [1, 2, 4]) {
    it(`verifies every packet of a late join at ROC ${wraps}`, () => {
      const a = makeKey('bob/tx/call-und');
      const ctx = a.ctx();
      // The sender's whole history: only what follows its last wrap reaches the late flow.
      const first = 65_500;
      const history = rtpStream({ n: 36 + (wraps - 1) * 0x10000 + 300, seq0: first });
      const sent = history.map((p) => ctx.protectRtp(p));
      const late = sent.slice(sent.length - 300);
      const { media } = scanFrames(late.map((p) => udp(p, '127.2.2.70:36004', '127.2.2.31:32034')), [a.key]);
      expect(media).toHaveLength(1);
      const f = media[0]!;
      expect(f.unknown + f.unauthenticated + f.replayed).toBe(0);
      expect(f.srtp).toEqual({ 'bob/tx/call-und': 300 });
    });
  }

  it('does not guess past its bound: a join at ROC 5 stays unauthenticated', () => {
    const a = makeKey('bob/tx/call-und');
    const ctx = a.ctx();
    const sent = rtpStream({ n: 36 + 4 * 0x10000 + 50, seq0: 65_500 }).map((p) => ctx.protectRtp(p));
    const { media } = scanFrames(sent.slice(sent.length - 50).map((p) => udp(p)), [a.key]);
    expect(media[0]!.srtpVerified).toBe(0);
    expect(media[0]!.unknown).toBe(50);
  });
});
