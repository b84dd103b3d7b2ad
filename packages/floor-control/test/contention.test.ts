/**
 * Server and participants together over the wire format (every message is
 * encoded and decoded on its way): two members ask for the floor at once,
 * one is granted, the other denied or queued, and nothing of the one
 * without the floor is forwarded; the queue grants by priority, then by
 * arrival. This is the scenario TR 33.828 4.2 "floor contention" will run
 * on the network.
 */
import { describe, expect, it } from 'vitest';
import { decodeFloorMessage, encodeFloorMessage, FloorControlServer, FloorParticipant, FloorQueue, type ContentionPolicy, type FloorMessage } from '../src/index.ts';
import { ALICE_SSRC, BOB_SSRC, CAROL_SSRC, SERVER_SSRC } from './helpers.ts';

const T0 = 10_000;

/** Through the codec, as a datagram would travel. */
function wire(m: FloorMessage): FloorMessage {
  const r = decodeFloorMessage(encodeFloorMessage(m));
  if (!r.ok) throw r.error;
  return r.message;
}

/** A group with a server and three members; `send` delivers participant messages and the server's answers. */
function world(contention: ContentionPolicy, priorities: Record<number, number> = {}) {
  const server = new FloorControlServer({ ssrc: SERVER_SSRC, contention });
  const members = new Map<number, FloorParticipant>();
  for (const [ssrc, name] of [[ALICE_SSRC, 'alice'], [BOB_SSRC, 'bob'], [CAROL_SSRC, 'carol']] as const) {
    const p = new FloorParticipant({ ssrc, priority: priorities[ssrc] ?? 0 });
    members.set(ssrc, p);
    for (const o of server.join({ ssrc, userId: `sip:${name}@ims.example` })) p.receive(wire(o.message), T0);
  }
  const send = (fromSsrc: number, msgs: FloorMessage[], now: number): void => {
    for (const m of msgs) {
      for (const o of server.receive(fromSsrc, wire(m), now)) {
        const reply = members.get(o.to)!.receive(wire(o.message), now);
        send(o.to, reply, now);
      }
    }
  };
  const p = (ssrc: number) => members.get(ssrc)!;
  return { server, p, send };
}

/** Media packets each member tries to send; returns the SSRCs the server forwarded. */
function talk(w: ReturnType<typeof world>, now: number): number[] {
  return [ALICE_SSRC, BOB_SSRC, CAROL_SSRC].filter((s) => w.server.onMedia(s, now));
}

describe('floor contention', () => {
  it('deny: two requests, the first granted, the second denied; only the granted one is forwarded', () => {
    const w = world('deny');
    const a = w.p(ALICE_SSRC).pressPtt(T0);
    const b = w.p(BOB_SSRC).pressPtt(T0);
    w.send(ALICE_SSRC, a, T0 + 1);
    w.send(BOB_SSRC, b, T0 + 2);
    expect(w.p(ALICE_SSRC).state).toBe('has-permission');
    expect(w.p(BOB_SSRC).state).toBe('has-no-permission');
    expect(w.p(BOB_SSRC).lastRejectCause).toBe(1);
    expect(w.p(CAROL_SSRC).holderInfo?.userId).toBe('sip:alice@ims.example');
    expect(talk(w, T0 + 3)).toEqual([ALICE_SSRC]);
    // Bob talking anyway (a misbehaving client) is still not forwarded.
    for (let i = 0; i < 50; i++) expect(w.server.onMedia(BOB_SSRC, T0 + 4 + i)).toBe(false);
  });

  it('queue: the second is queued, and granted when the first releases; then it alone is forwarded', () => {
    const w = world('queue');
    w.send(ALICE_SSRC, w.p(ALICE_SSRC).pressPtt(T0), T0);
    w.send(BOB_SSRC, w.p(BOB_SSRC).pressPtt(T0), T0 + 1);
    expect(w.p(BOB_SSRC).state).toBe('queued');
    expect(w.p(BOB_SSRC).queueInfo?.position).toBe(1);
    expect(talk(w, T0 + 2)).toEqual([ALICE_SSRC]);
    w.send(ALICE_SSRC, w.p(ALICE_SSRC).releasePtt(T0 + 3), T0 + 3);
    expect(w.p(ALICE_SSRC).state).toBe('has-no-permission');
    expect(w.p(BOB_SSRC).state).toBe('has-permission');
    expect(talk(w, T0 + 4)).toEqual([BOB_SSRC]);
    w.send(BOB_SSRC, w.p(BOB_SSRC).releasePtt(T0 + 5), T0 + 5);
    expect(w.server.state).toBe('idle');
    expect(talk(w, T0 + 6)).toEqual([]);
    for (const s of [ALICE_SSRC, BOB_SSRC, CAROL_SSRC]) expect(w.p(s).state).toBe('has-no-permission');
  });

  it('the queue grants by priority, then by arrival', () => {
    const w = world('queue', { [BOB_SSRC]: 1, [CAROL_SSRC]: 6 });
    w.send(ALICE_SSRC, w.p(ALICE_SSRC).pressPtt(T0), T0);
    w.send(BOB_SSRC, w.p(BOB_SSRC).pressPtt(T0), T0 + 1); // arrives first, lower priority
    w.send(CAROL_SSRC, w.p(CAROL_SSRC).pressPtt(T0), T0 + 2); // arrives later, higher priority
    expect(w.server.queued).toEqual([CAROL_SSRC, BOB_SSRC]);
    expect(w.p(CAROL_SSRC).queueInfo?.position).toBe(1);
    w.send(ALICE_SSRC, w.p(ALICE_SSRC).releasePtt(T0 + 3), T0 + 3);
    expect(w.server.holder).toBe(CAROL_SSRC);
    w.send(CAROL_SSRC, w.p(CAROL_SSRC).releasePtt(T0 + 4), T0 + 4);
    expect(w.server.holder).toBe(BOB_SSRC);
  });

  it('FloorQueue: equal priorities keep arrival order, higher priorities go ahead', () => {
    const q = new FloorQueue();
    q.add(1, 3);
    q.add(2, 3);
    q.add(3, 7);
    q.add(4, 3);
    q.add(5, 0);
    expect(q.order()).toEqual([3, 1, 2, 4, 5]);
    expect(q.position(4)).toBe(4);
    expect(q.add(1, 3)).toBe(4); // re-queued: behind the others of its priority
    expect(q.shift()?.ssrc).toBe(3);
  });
});
