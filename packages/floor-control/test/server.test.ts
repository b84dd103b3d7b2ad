/**
 * The floor control server's transitions (TS 24.380 clause 6.3), one by one,
 * with time injected: 'G: Floor Idle', 'G: Floor Taken', 'G: pending Floor
 * Revoke', the queue, and timers T1, T2/T3, T7 and T20.
 */
import { describe, expect, it } from 'vitest';
import { DENY_CAUSE, FloorConfigError, FloorControlServer, QUEUE_POSITION, REVOKE_CAUSE, type FloorMessage, type FloorOutput, type FloorServerOptions } from '../src/index.ts';
import { ALICE_SSRC, BOB_SSRC, CAROL_SSRC, SERVER_SSRC } from './helpers.ts';

const T0 = 1_000_000;
const msg = (type: FloorMessage['type'], fields: FloorMessage['fields'] = {}, ssrc = 0): FloorMessage => ({ type, ackRequired: false, ssrc, fields });
const req = (priority?: number) => msg('floor-request', priority === undefined ? {} : { floorPriority: priority });

function group(opts: Partial<FloorServerOptions> = {}): FloorControlServer {
  const s = new FloorControlServer({ ssrc: SERVER_SSRC, contention: 'queue', ...opts });
  s.join({ ssrc: ALICE_SSRC, userId: 'sip:alice@ims.example' });
  s.join({ ssrc: BOB_SSRC, userId: 'sip:bob@ims.example' });
  s.join({ ssrc: CAROL_SSRC, userId: 'sip:carol@ims.example', maxPriority: 5 });
  return s;
}

const to = (out: FloorOutput[], ssrc: number) => out.filter((o) => o.to === ssrc).map((o) => o.message);
const types = (out: FloorOutput[]) => out.map((o) => `${o.message.type}->${o.to.toString(16)}`);

describe('joining', () => {
  it('a member joining an idle floor gets Floor Idle; joining a taken floor gets Floor Taken naming the holder', () => {
    const s = new FloorControlServer({ ssrc: SERVER_SSRC, contention: 'deny' });
    expect(s.join({ ssrc: ALICE_SSRC, userId: 'a' }).map((o) => o.message.type)).toEqual(['floor-idle']);
    s.receive(ALICE_SSRC, req(), T0);
    const j = s.join({ ssrc: BOB_SSRC, userId: 'b' });
    expect(j).toHaveLength(1);
    expect(j[0]!.message.type).toBe('floor-taken');
    expect(j[0]!.message.fields.grantedPartyId).toBe('a');
    expect(j[0]!.message.fields.grantedSsrc).toBe(ALICE_SSRC);
  });

  it('joining twice is a caller bug', () => {
    const s = group();
    expect(() => s.join({ ssrc: ALICE_SSRC, userId: 'x' })).toThrow(FloorConfigError);
  });
});

describe('G: Floor Idle -> G: Floor Taken', () => {
  it('a request is granted: Floor Granted to the requester, Floor Taken to every other member', () => {
    const s = group();
    const out = s.receive(ALICE_SSRC, req(3), T0);
    expect(s.state).toBe('taken');
    expect(s.holder).toBe(ALICE_SSRC);
    expect(types(out).sort()).toEqual([`floor-granted->${ALICE_SSRC.toString(16)}`, `floor-taken->${BOB_SSRC.toString(16)}`, `floor-taken->${CAROL_SSRC.toString(16)}`].sort());
    const g = to(out, ALICE_SSRC)[0]!;
    expect(g.ssrc).toBe(SERVER_SSRC);
    expect(g.fields.duration).toBe(s.timers.t2StopTalkingMs / 1000);
    expect(g.fields.floorPriority).toBe(3);
    const t = to(out, BOB_SSRC)[0]!;
    expect(t.fields).toMatchObject({ grantedPartyId: 'sip:alice@ims.example', grantedSsrc: ALICE_SSRC, permissionToRequest: true });
  });

  it('only the holder is forwarded', () => {
    const s = group();
    expect(s.mayForward(ALICE_SSRC)).toBe(false);
    s.receive(ALICE_SSRC, req(), T0);
    expect(s.mayForward(ALICE_SSRC)).toBe(true);
    expect(s.mayForward(BOB_SSRC)).toBe(false);
    expect(s.onMedia(BOB_SSRC, T0 + 1)).toBe(false);
    expect(s.onMedia(ALICE_SSRC, T0 + 1)).toBe(true);
  });

  it('the requested priority is capped at the member maximum', () => {
    const s = group();
    const out = s.receive(CAROL_SSRC, req(200), T0);
    expect(to(out, CAROL_SSRC)[0]!.fields.floorPriority).toBe(5);
  });

  it('the sender is who the transport says, not the SSRC inside the message', () => {
    const s = group();
    s.receive(BOB_SSRC, msg('floor-request', {}, ALICE_SSRC), T0);
    expect(s.holder).toBe(BOB_SSRC);
  });

  it('messages from non-members, and messages a server does not act on, change nothing', () => {
    const s = group();
    expect(s.receive(0x999, req(), T0)).toEqual([]);
    expect(s.receive(ALICE_SSRC, msg('floor-idle', { messageSequenceNumber: 1 }), T0)).toEqual([]);
    expect(s.receive(ALICE_SSRC, msg('floor-release'), T0)).toEqual([]);
    expect(s.state).toBe('idle');
  });
});

describe('G: Floor Taken', () => {
  it('a repeated request from the holder gets Floor Granted again', () => {
    const s = group();
    s.receive(ALICE_SSRC, req(), T0);
    expect(types(s.receive(ALICE_SSRC, req(), T0 + 10))).toEqual([`floor-granted->${ALICE_SSRC.toString(16)}`]);
    expect(s.holder).toBe(ALICE_SSRC);
  });

  it('contention "deny": another request is denied with cause 1', () => {
    const s = group({ contention: 'deny' });
    s.receive(ALICE_SSRC, req(), T0);
    const out = s.receive(BOB_SSRC, req(), T0 + 5);
    expect(out).toHaveLength(1);
    expect(out[0]!.to).toBe(BOB_SSRC);
    expect(out[0]!.message.type).toBe('floor-deny');
    expect(out[0]!.message.fields.rejectCause?.cause).toBe(DENY_CAUSE.anotherClientHasPermission);
    expect(s.queued).toEqual([]);
  });

  it('contention "queue": another request is queued and told its position', () => {
    const s = group();
    s.receive(ALICE_SSRC, req(), T0);
    const out = s.receive(BOB_SSRC, req(2), T0 + 5);
    expect(out).toHaveLength(1);
    expect(out[0]!.message.type).toBe('floor-queue-position-info');
    expect(out[0]!.message.fields.queueInfo).toEqual({ position: 1, priorityLevel: 2 });
    expect(s.queued).toEqual([BOB_SSRC]);
  });

  it('a full queue denies with cause 7', () => {
    const s = group({ maxQueue: 1 });
    s.receive(ALICE_SSRC, req(), T0);
    s.receive(BOB_SSRC, req(), T0);
    const out = s.receive(CAROL_SSRC, req(), T0);
    expect(out[0]!.message.fields.rejectCause?.cause).toBe(DENY_CAUSE.queueFull);
  });

  it('Floor Queue Position Request is answered with the position, 254 when not queued', () => {
    const s = group();
    s.receive(ALICE_SSRC, req(), T0);
    s.receive(BOB_SSRC, req(), T0);
    s.receive(CAROL_SSRC, req(), T0);
    expect(s.receive(CAROL_SSRC, msg('floor-queue-position-request'), T0)[0]!.message.fields.queueInfo?.position).toBe(2);
    expect(s.receive(ALICE_SSRC, msg('floor-queue-position-request'), T0)[0]!.message.fields.queueInfo?.position).toBe(QUEUE_POSITION.notQueued);
  });

  it('release by the holder with an empty queue: Floor Idle to everyone, sequence number advanced', () => {
    const s = group();
    const grant = s.receive(ALICE_SSRC, req(), T0);
    const out = s.receive(ALICE_SSRC, msg('floor-release'), T0 + 100);
    expect(s.state).toBe('idle');
    expect(s.holder).toBeUndefined();
    expect(s.mayForward(ALICE_SSRC)).toBe(false);
    expect(out.map((o) => o.to).sort()).toEqual([ALICE_SSRC, BOB_SSRC, CAROL_SSRC].sort());
    expect(out.every((o) => o.message.type === 'floor-idle')).toBe(true);
    expect(out[0]!.message.fields.messageSequenceNumber).toBe(to(grant, BOB_SSRC)[0]!.fields.messageSequenceNumber! + 1);
  });

  it('release by the holder with a queue: the head is granted, everyone else (the releaser too) gets Floor Taken', () => {
    const s = group();
    s.receive(ALICE_SSRC, req(), T0);
    s.receive(BOB_SSRC, req(), T0 + 1);
    const out = s.receive(ALICE_SSRC, msg('floor-release'), T0 + 2);
    expect(s.holder).toBe(BOB_SSRC);
    expect(s.queued).toEqual([]);
    expect(to(out, BOB_SSRC).map((m) => m.type)).toEqual(['floor-granted']);
    expect(to(out, ALICE_SSRC).map((m) => m.type)).toEqual(['floor-taken']);
    expect(to(out, CAROL_SSRC)[0]!.fields.grantedPartyId).toBe('sip:bob@ims.example');
  });

  it('a queued member releasing withdraws its request; a stranger releasing changes nothing', () => {
    const s = group();
    s.receive(ALICE_SSRC, req(), T0);
    s.receive(BOB_SSRC, req(), T0);
    expect(s.receive(BOB_SSRC, msg('floor-release'), T0 + 1)).toEqual([]);
    expect(s.queued).toEqual([]);
    expect(s.receive(CAROL_SSRC, msg('floor-release'), T0 + 1)).toEqual([]);
    expect(s.holder).toBe(ALICE_SSRC);
  });

  it('the holder leaving frees the floor; a queued member leaving leaves the queue', () => {
    const s = group();
    s.receive(ALICE_SSRC, req(), T0);
    s.receive(BOB_SSRC, req(), T0);
    s.receive(CAROL_SSRC, req(), T0);
    expect(s.leave(CAROL_SSRC, T0 + 1)).toEqual([]);
    expect(s.queued).toEqual([BOB_SSRC]);
    const out = s.leave(ALICE_SSRC, T0 + 2);
    expect(s.holder).toBe(BOB_SSRC);
    expect(out.map((o) => o.to)).toEqual([BOB_SSRC]); // nobody else is left to tell
  });
});

describe('timers', () => {
  it('T1: silence from the holder ends its burst; media restarts T1', () => {
    const s = group({ timers: { t1EndOfMediaMs: 500 } });
    s.receive(ALICE_SSRC, req(), T0);
    s.onMedia(ALICE_SSRC, T0 + 400);
    expect(s.tick(T0 + 800)).toEqual([]);
    expect(s.holder).toBe(ALICE_SSRC);
    const out = s.tick(T0 + 900);
    expect(s.state).toBe('idle');
    expect(out.every((o) => o.message.type === 'floor-idle')).toBe(true);
  });

  it('T2: a burst outlasting Duration is revoked (cause 2); the holder is forwarded during T3, then not', () => {
    const s = group({ timers: { t2StopTalkingMs: 2_000, t1EndOfMediaMs: 10_000, t3StopTalkingGraceMs: 300 } });
    s.receive(ALICE_SSRC, req(), T0);
    expect(s.nextDeadline()).toBe(T0 + 2_000);
    const out = s.tick(T0 + 2_000);
    expect(s.state).toBe('pending-revoke');
    expect(out).toHaveLength(1);
    expect(out[0]!.to).toBe(ALICE_SSRC);
    expect(out[0]!.message.type).toBe('floor-revoke');
    expect(out[0]!.message.fields.rejectCause?.cause).toBe(REVOKE_CAUSE.mediaBurstTooLong);
    expect(s.onMedia(ALICE_SSRC, T0 + 2_100)).toBe(true);
    const after = s.tick(T0 + 2_300);
    expect(s.state).toBe('idle');
    expect(after.every((o) => o.message.type === 'floor-idle')).toBe(true);
    expect(s.mayForward(ALICE_SSRC)).toBe(false);
  });

  it('G: pending Floor Revoke: the holder releasing ends it at once, and requests meanwhile are queued', () => {
    const s = group({ timers: { t2StopTalkingMs: 1_000 } });
    s.receive(ALICE_SSRC, req(), T0);
    s.tick(T0 + 1_000);
    s.receive(BOB_SSRC, req(), T0 + 1_010);
    expect(s.queued).toEqual([BOB_SSRC]);
    s.receive(ALICE_SSRC, msg('floor-release'), T0 + 1_020);
    expect(s.holder).toBe(BOB_SSRC);
    expect(s.state).toBe('taken');
  });

  it('T7: Floor Idle is repeated C7 times in all, then no more', () => {
    const s = group({ timers: { t7FloorIdleMs: 100, c7FloorIdleMax: 3 } });
    s.receive(ALICE_SSRC, req(), T0);
    s.receive(ALICE_SSRC, msg('floor-release'), T0 + 10); // first Floor Idle
    expect(s.tick(T0 + 110)).toHaveLength(3); // second, to the 3 members
    expect(s.tick(T0 + 210)).toHaveLength(3); // third
    expect(s.tick(T0 + 10_000)).toEqual([]);
    expect(s.nextDeadline()).toBeUndefined();
  });

  it('T20: with ack required, Floor Granted is repeated until Floor Ack, at most C20 times', () => {
    const s = group({ grantAckRequired: true, timers: { t20FloorGrantedMs: 100, c20FloorGrantedMax: 3, t1EndOfMediaMs: 60_000 } });
    const first = to(s.receive(ALICE_SSRC, req(), T0), ALICE_SSRC)[0]!;
    expect(first.ackRequired).toBe(true);
    expect(types(s.tick(T0 + 100))).toEqual([`floor-granted->${ALICE_SSRC.toString(16)}`]);
    expect(s.tick(T0 + 200)).toHaveLength(1);
    expect(s.tick(T0 + 300)).toEqual([]); // C20 = 3 reached
    const s2 = group({ grantAckRequired: true, timers: { t20FloorGrantedMs: 100 } });
    s2.receive(ALICE_SSRC, req(), T0);
    s2.receive(ALICE_SSRC, msg('floor-ack', { source: 0, messageType: 0x11 }), T0 + 50);
    expect(s2.tick(T0 + 150)).toEqual([]);
  });

  it('rejects timers that are not positive integers', () => {
    expect(() => new FloorControlServer({ ssrc: 1, contention: 'deny', timers: { t2StopTalkingMs: 0 } })).toThrow(FloorConfigError);
    expect(() => new FloorControlServer({ ssrc: 1, contention: 'queue', maxQueue: 0 })).toThrow(FloorConfigError);
  });
});
