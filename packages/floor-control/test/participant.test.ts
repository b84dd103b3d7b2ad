/**
 * The floor participant's transitions (TS 24.380 clause 6.2.4), one by one:
 * user actions, server messages, the ack bit, and timers T100/T101.
 */
import { describe, expect, it } from 'vitest';
import { FloorParticipant, FloorStateError, type FloorMessage, type ParticipantState } from '../src/index.ts';
import { ALICE_SSRC, SERVER_SSRC } from './helpers.ts';

const T0 = 5_000;
const from = (type: FloorMessage['type'], fields: FloorMessage['fields'] = {}, ackRequired = false): FloorMessage => ({ type, ackRequired, ssrc: SERVER_SSRC, fields });
const granted = from('floor-granted', { duration: 30 });
const idle = from('floor-idle', { messageSequenceNumber: 2 });
const taken = from('floor-taken', { messageSequenceNumber: 1, grantedPartyId: 'sip:bob@ims.example', grantedSsrc: 0xb0b });

function at(state: ParticipantState): FloorParticipant {
  const p = new FloorParticipant({ ssrc: ALICE_SSRC, priority: 4, timers: { t101FloorRequestMs: 100, c101FloorRequestMax: 3, t100FloorReleaseMs: 100, c100FloorReleaseMax: 2 } });
  if (state === 'has-no-permission') return p;
  p.pressPtt(T0);
  if (state === 'pending-request') return p;
  if (state === 'queued') {
    p.receive(from('floor-queue-position-info', { queueInfo: { position: 1, priorityLevel: 4 } }), T0);
    return p;
  }
  p.receive(granted, T0);
  if (state === 'has-permission') return p;
  p.releasePtt(T0);
  return p;
}

describe("'U: has no permission'", () => {
  it('starts here, may not send media', () => {
    const p = at('has-no-permission');
    expect(p.state).toBe('has-no-permission');
    expect(p.maySendMedia).toBe(false);
  });

  it('PTT pressed: Floor Request with its priority, then pending request', () => {
    const p = at('has-no-permission');
    const out = p.pressPtt(T0);
    expect(out).toEqual([{ type: 'floor-request', ackRequired: false, ssrc: ALICE_SSRC, fields: { floorPriority: 4 } }]);
    expect(p.state).toBe('pending-request');
  });

  it('Floor Taken records the holder, Floor Idle clears it; the state stays', () => {
    const p = at('has-no-permission');
    p.receive(taken, T0);
    expect(p.holderInfo).toEqual({ userId: 'sip:bob@ims.example', ssrc: 0xb0b });
    p.receive(idle, T0);
    expect(p.holderInfo).toBeUndefined();
    expect(p.state).toBe('has-no-permission');
  });

  it('a stray Floor Granted or Floor Revoke is ignored', () => {
    const p = at('has-no-permission');
    expect(p.receive(granted, T0)).toEqual([]);
    expect(p.receive(from('floor-revoke', { rejectCause: { cause: 2 } }), T0)).toEqual([]);
    expect(p.state).toBe('has-no-permission');
  });

  it('PTT released or a queue position asked for here are illegal edges', () => {
    const p = at('has-no-permission');
    expect(() => p.releasePtt(T0)).toThrow(FloorStateError);
    expect(() => p.requestQueuePosition()).toThrow(/no transition from state 'has-no-permission' on 'queue position requested'/);
  });
});

describe("'U: pending Request'", () => {
  it('Floor Granted: has permission, may send media', () => {
    const p = at('pending-request');
    expect(p.receive(granted, T0 + 10)).toEqual([]);
    expect(p.state).toBe('has-permission');
    expect(p.maySendMedia).toBe(true);
    expect(p.nextDeadline()).toBeUndefined(); // T101 stopped
  });

  it('Floor Granted with the ack bit is acknowledged with Floor Ack naming its subtype', () => {
    const p = at('pending-request');
    const out = p.receive(from('floor-granted', { duration: 30 }, true), T0);
    expect(out).toEqual([{ type: 'floor-ack', ackRequired: false, ssrc: ALICE_SSRC, fields: { source: 0, messageType: 0x11 } }]);
  });

  it('Floor Deny: no permission, the cause is kept', () => {
    const p = at('pending-request');
    p.receive(from('floor-deny', { rejectCause: { cause: 1 } }), T0);
    expect(p.state).toBe('has-no-permission');
    expect(p.lastRejectCause).toBe(1);
  });

  it('Floor Queue Position Info: queued, with the queue info', () => {
    const p = at('pending-request');
    p.receive(from('floor-queue-position-info', { queueInfo: { position: 3, priorityLevel: 4 } }), T0);
    expect(p.state).toBe('queued');
    expect(p.queueInfo).toEqual({ position: 3, priorityLevel: 4 });
  });

  it('Floor Taken for someone else leaves the request pending', () => {
    const p = at('pending-request');
    p.receive(taken, T0);
    expect(p.state).toBe('pending-request');
  });

  it('T101: Floor Request is repeated until C101 requests were sent, then the request is given up', () => {
    const p = at('pending-request');
    expect(p.tick(T0 + 99)).toEqual([]);
    expect(p.tick(T0 + 100).map((m) => m.type)).toEqual(['floor-request']);
    expect(p.tick(T0 + 200).map((m) => m.type)).toEqual(['floor-request']);
    expect(p.tick(T0 + 300)).toEqual([]);
    expect(p.state).toBe('has-no-permission');
  });

  it('PTT released before the answer: Floor Release, pending release; PTT pressed again is illegal', () => {
    const p = at('pending-request');
    expect(() => p.pressPtt(T0)).toThrow(FloorStateError);
    expect(p.releasePtt(T0).map((m) => m.type)).toEqual(['floor-release']);
    expect(p.state).toBe('pending-release');
  });
});

describe("'U: queued'", () => {
  it('asks for its position, is updated, then granted', () => {
    const p = at('queued');
    expect(p.requestQueuePosition().map((m) => m.type)).toEqual(['floor-queue-position-request']);
    p.receive(from('floor-queue-position-info', { queueInfo: { position: 1, priorityLevel: 4 } }), T0);
    expect(p.queueInfo?.position).toBe(1);
    p.receive(granted, T0);
    expect(p.state).toBe('has-permission');
  });

  it('PTT released: Floor Release withdraws the request, no permission', () => {
    const p = at('queued');
    expect(p.releasePtt(T0).map((m) => m.type)).toEqual(['floor-release']);
    expect(p.state).toBe('has-no-permission');
    expect(p.queueInfo).toBeUndefined();
  });

  it('Floor Deny or Floor Idle: no permission', () => {
    const a = at('queued');
    a.receive(from('floor-deny', { rejectCause: { cause: 7 } }), T0);
    expect(a.state).toBe('has-no-permission');
    const b = at('queued');
    b.receive(idle, T0);
    expect(b.state).toBe('has-no-permission');
  });
});

describe("'U: has permission'", () => {
  it('PTT released: Floor Release, pending release, no more media', () => {
    const p = at('has-permission');
    expect(p.releasePtt(T0).map((m) => m.type)).toEqual(['floor-release']);
    expect(p.state).toBe('pending-release');
    expect(p.maySendMedia).toBe(false);
  });

  it('Floor Revoke: Floor Release at once, pending release, cause kept', () => {
    const p = at('has-permission');
    const out = p.receive(from('floor-revoke', { rejectCause: { cause: 2 } }), T0);
    expect(out.map((m) => m.type)).toEqual(['floor-release']);
    expect(p.state).toBe('pending-release');
    expect(p.lastRejectCause).toBe(2);
  });

  it('Floor Taken or Floor Idle (the server ended the burst): no permission', () => {
    const a = at('has-permission');
    a.receive(taken, T0);
    expect(a.state).toBe('has-no-permission');
    const b = at('has-permission');
    b.receive(idle, T0);
    expect(b.state).toBe('has-no-permission');
  });
});

describe("'U: pending Release'", () => {
  it('Floor Idle or Floor Taken confirms the release', () => {
    const a = at('pending-release');
    a.receive(idle, T0);
    expect(a.state).toBe('has-no-permission');
    const b = at('pending-release');
    b.receive(taken, T0);
    expect(b.state).toBe('has-no-permission');
    expect(b.nextDeadline()).toBeUndefined();
  });

  it('T100: Floor Release is repeated until C100 were sent, then the floor is assumed released', () => {
    const p = at('pending-release');
    expect(p.tick(T0 + 100).map((m) => m.type)).toEqual(['floor-release']);
    expect(p.tick(T0 + 200)).toEqual([]);
    expect(p.state).toBe('has-no-permission');
  });

  it('a late Floor Granted does not give the floor back', () => {
    const p = at('pending-release');
    p.receive(granted, T0);
    expect(p.state).toBe('pending-release');
  });
});
