import { FloorControlServer, encodeFloorMessage } from '@imslab/floor-control';
import { buildRtp, buildSenderReport } from '@imslab/rtp';
import { describe, expect, it } from 'vitest';
import { decideForward } from '../src/forwarding.ts';

/*
 * The e2e PoC server's forwarding decision (TR 33.828 4.2): the floor
 * holder's RTP goes to every other joined member; anything from a member
 * without the floor, RTCP on the RTP port and junk go nowhere.
 */

const ALICE = 1;
const BOB = 2;
const CAROL = 3;
const MEMBERS = [ALICE, BOB, CAROL];

function group(contention: 'deny' | 'queue' = 'deny'): FloorControlServer {
  const f = new FloorControlServer({ ssrc: 0xabcdef, contention });
  for (const ssrc of MEMBERS) f.join({ ssrc, userId: `sip:${ssrc}@ims.test` });
  return f;
}

const request = (f: FloorControlServer, from: number, now = 0) => f.receive(from, { type: 'floor-request', ackRequired: false, ssrc: from, fields: {} }, now);
const release = (f: FloorControlServer, from: number, now = 0) => f.receive(from, { type: 'floor-release', ackRequired: false, ssrc: from, fields: {} }, now);
const rtp = (ssrc: number) => buildRtp({ payloadType: 0, sequence: 1, timestamp: 160, ssrc }, Buffer.alloc(160, 0xff));

describe('decideForward', () => {
  it('forwards nothing while the floor is idle', () => {
    const f = group();
    expect(decideForward(rtp(ALICE), ALICE, MEMBERS, f, 0)).toEqual({ forward: false, reason: 'no-floor' });
  });

  it('forwards the holder\'s RTP to every other member, and nobody else\'s', () => {
    const f = group();
    request(f, ALICE);
    expect(decideForward(rtp(ALICE), ALICE, MEMBERS, f, 10)).toEqual({ forward: true, to: [BOB, CAROL] });
    expect(decideForward(rtp(BOB), BOB, MEMBERS, f, 10)).toEqual({ forward: false, reason: 'no-floor' });
    // Denied: bob's request changes nothing.
    request(f, BOB);
    expect(decideForward(rtp(BOB), BOB, MEMBERS, f, 20)).toEqual({ forward: false, reason: 'no-floor' });
  });

  it('decides by the leg the packet came from, not by the SSRC written in it', () => {
    const f = group();
    request(f, ALICE);
    // Bob's leg carrying a packet that claims alice's SSRC is still bob's.
    expect(decideForward(rtp(ALICE), BOB, MEMBERS, f, 10)).toEqual({ forward: false, reason: 'no-floor' });
  });

  it('stops forwarding at release and follows the queue to the next holder', () => {
    const f = group('queue');
    request(f, ALICE);
    request(f, CAROL);
    expect(decideForward(rtp(CAROL), CAROL, MEMBERS, f, 10).forward).toBe(false);
    release(f, ALICE, 20);
    expect(decideForward(rtp(ALICE), ALICE, MEMBERS, f, 30)).toEqual({ forward: false, reason: 'no-floor' });
    expect(decideForward(rtp(CAROL), CAROL, MEMBERS, f, 30)).toEqual({ forward: true, to: [ALICE, BOB] });
  });

  it('ends a silent holder\'s burst after T1: its late packets are dropped', () => {
    const f = group();
    request(f, ALICE, 0);
    expect(decideForward(rtp(ALICE), ALICE, MEMBERS, f, 100).forward).toBe(true);
    f.tick(100 + f.timers.t1EndOfMediaMs);
    expect(decideForward(rtp(ALICE), ALICE, MEMBERS, f, 100 + f.timers.t1EndOfMediaMs + 1).forward).toBe(false);
  });

  it('never forwards RTCP on the RTP port or junk, even from the holder', () => {
    const f = group();
    request(f, ALICE);
    expect(decideForward(buildSenderReport(ALICE, 0, 0, 0), ALICE, MEMBERS, f, 10)).toEqual({ forward: false, reason: 'not-rtp' });
    expect(decideForward(encodeFloorMessage({ type: 'floor-request', ackRequired: false, ssrc: ALICE, fields: {} }), ALICE, MEMBERS, f, 10)).toEqual({ forward: false, reason: 'not-rtp' });
    expect(decideForward(Buffer.from('hello'), ALICE, MEMBERS, f, 10)).toEqual({ forward: false, reason: 'not-rtp' });
    expect(decideForward(Buffer.alloc(0), ALICE, MEMBERS, f, 10)).toEqual({ forward: false, reason: 'not-rtp' });
  });

  it('a lone member holding the floor forwards to nobody', () => {
    const f = new FloorControlServer({ ssrc: 9, contention: 'deny' });
    f.join({ ssrc: ALICE, userId: 'a' });
    request(f, ALICE);
    expect(decideForward(rtp(ALICE), ALICE, [ALICE], f, 10)).toEqual({ forward: true, to: [] });
  });
});
