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
