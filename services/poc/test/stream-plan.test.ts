import { FloorControlServer } from '@imslab/floor-control';
import { readExtraStreams } from '@imslab/app-server';
import { buildRtp } from '@imslab/rtp';
import { describe, expect, it } from 'vitest';
import { planStreams } from '../src/extra-streams.ts';
import { decideForward, decideStreamForward } from '../src/forwarding.ts';
import { textLines, videoLines } from './stream-member.ts';

/*
 * Pure parts of a member's further streams: which ones the server takes
 * (planStreams) and the forwarding decision for them, which follows the
 * audio's floor without touching its timers.
 */

const offer = (...sections: string[][]) =>
  ['v=0', 'o=ue 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 40000 RTP/SAVP 0', 'a=rtpmap:0 PCMU/8000', ...sections.flat(), ''].join('\r\n');
const verdicts = (sdp: string, mode: 'e2e' | 'e2m2e') => planStreams(readExtraStreams(sdp), mode).map((p) => (p.accept ? 'take' : p.reason));

describe('planStreams', () => {
  it('takes one video and one text stream in e2e', () => {
    expect(verdicts(offer(videoLines(), textLines()), 'e2e')).toEqual(['take', 'take']);
    expect(verdicts(offer(textLines()), 'e2e')).toEqual(['take']);
  });

  it('refuses, saying why: e2m2e, other types, plain RTP, keys of their own, disabled ones, a second of a type', () => {
    expect(verdicts(offer(videoLines(), textLines()), 'e2m2e')).toEqual([expect.stringMatching(/e2m2e.*key per stream/), expect.stringMatching(/e2m2e/)]);
    const [v] = [videoLines()];
    const r = verdicts(offer(
      ['m=application 9 UDP/DTLS/SCTP webrtc-datachannel'],
      ['m=video 40010 RTP/AVP 99', 'a=rtpmap:99 H264/90000'],
      [...v!, 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz'],
      ['m=video 0 RTP/SAVP 99'],
      videoLines(40012),
      videoLines(40014),
    ), 'e2e');
    expect(r).toEqual([
      expect.stringMatching(/only video and text/), expect.stringMatching(/SRTP only/), expect.stringMatching(/a=crypto/),
      'disabled in the offer', 'take', expect.stringMatching(/a second video/),
    ]);
  });
});

describe('decideStreamForward', () => {
  const rtp = (ssrc: number) => buildRtp({ payloadType: 99, sequence: 1, timestamp: 3000, ssrc }, Buffer.alloc(100, 0xaa));
  const floor = () => {
    const f = new FloorControlServer({ ssrc: 9, contention: 'deny', timers: { t1EndOfMediaMs: 1000 } });
    for (const ssrc of [1, 2, 3]) f.join({ ssrc, userId: `sip:${ssrc}@ims.test` });
    return f;
  };

  it('forwards the holder\'s RTP to the others, nobody else\'s, and no junk', () => {
    const f = floor();
    expect(decideStreamForward(rtp(1), 1, [1, 2, 3], f)).toEqual({ forward: false, reason: 'no-floor' });
    f.receive(1, { type: 'floor-request', ackRequired: false, ssrc: 1, fields: {} }, 0);
    expect(decideStreamForward(rtp(1), 1, [1, 2, 3], f)).toEqual({ forward: true, to: [2, 3] });
    expect(decideStreamForward(rtp(2), 2, [1, 2, 3], f)).toEqual({ forward: false, reason: 'no-floor' });
    for (const junk of [Buffer.alloc(0), Buffer.from([0x80, 0xc8, 0, 1, 0, 0, 0, 1]), Buffer.from('text')]) expect(decideStreamForward(junk, 1, [1, 2, 3], f)).toEqual({ forward: false, reason: 'not-rtp' });
  });

  it('restarts no floor timer (T1 follows the audio alone), where the audio\'s decision does', () => {
    const f = floor();
    f.receive(1, { type: 'floor-request', ackRequired: false, ssrc: 1, fields: {} }, 0);
    const before = f.nextDeadline();
    decideStreamForward(rtp(1), 1, [1, 2, 3], f);
    expect(f.nextDeadline()).toBe(before);
    decideForward(rtp(1), 1, [1, 2, 3], f, 500);
    expect(f.nextDeadline()).not.toBe(before);
  });
});
