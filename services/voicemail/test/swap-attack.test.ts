/** The compromised voicemail's retrieval attacks (issue 13): which message plays, under which key material. */
import { describe, expect, it } from 'vitest';
import { swapFor } from '../src/swap-attack.ts';
import type { MessageMeta } from '../src/index.ts';

const meta = (id: string, from: string, over: Partial<MessageMeta> = {}): MessageMeta => ({
  id, mailbox: 'bob', from, callId: `call-${id}`, depositedAt: '2026-12-03T00:00:00Z', sdpOffer: '', sdpAnswer: '',
  keyMgmt: `mikey ${id}`, protection: 'srtp', state: 'complete', packets: 10, bytes: 1000, ...over,
});

describe('swapFor', () => {
  const alice = meta('1-a', 'sip:alice@ims.test');
  const carol = meta('2-c', 'sip:carol@ims.test');
  const recording = meta('3-r', 'sip:dave@ims.test', { state: 'recording' });
  const plain = meta('4-p', 'sip:dave@ims.test', { protection: 'rtp', keyMgmt: null });

  it('swap-message: plays the newest other whole message, announced as the asked-for one', () => {
    const s = swapFor('swap-message', alice, [alice, carol, recording, plain])!;
    expect(s.played.id).toBe('2-c');
    expect(s.meta).toMatchObject({ id: '1-a', from: 'sip:alice@ims.test', keyMgmt: 'mikey 2-c' });
    expect(s.note).toMatch(/swap-message: played message 2-c \(from sip:carol@ims.test\) whole, announced as message 1-a from sip:alice/);
  });

  it('swap-packets: the asked-for key material with the other message\'s packets', () => {
    const s = swapFor('swap-packets', alice, [alice, carol])!;
    expect(s.played.id).toBe('2-c');
    expect(s.meta).toBe(alice);
  });

  it('does nothing without another whole message of the same protection', () => {
    expect(swapFor('swap-message', alice, [alice, recording, plain])).toBeNull();
    expect(swapFor('swap-packets', alice, [alice])).toBeNull();
  });
});
