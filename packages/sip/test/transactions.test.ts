import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  checkTransition, ClientTransaction, DEFAULT_TIMER_BASE, IllegalTransitionError, inviteClientInitial, inviteClientTransition,
  inviteServerInitial, inviteServerTransition, nonInviteClientInitial, nonInviteClientTransition, nonInviteServerInitial,
  nonInviteServerTransition, ServerTransaction, TransactionLayer, TransactionMisuseError, createCancel, type TxnAction, type TxnContext,
} from '../src/index.ts';
import { invite, recorder, reply } from './helpers.ts';

const udp: TxnContext = { reliable: false, timers: DEFAULT_TIMER_BASE };
const tcp: TxnContext = { reliable: true, timers: DEFAULT_TIMER_BASE };
const starts = (a: TxnAction[]) => a.filter((x) => x.kind === 'start-timer').map((x) => (x.kind === 'start-timer' ? `${x.timer}=${x.ms}` : ''));
const kinds = (a: TxnAction[]) => a.map((x) => x.kind);

describe('INVITE client transaction (fig. 5, RFC 6026)', () => {
  it('Calling: transmits, arms A only on UDP, B always; A doubles without cap', () => {
    let t = inviteClientTransition(inviteClientInitial(udp), { type: 'start' }, udp);
    expect(starts(t.actions)).toEqual(['A=500', 'B=32000']);
    const intervals: number[] = [];
    for (let i = 0; i < 5; i++) {
      t = inviteClientTransition(t.snapshot, { type: 'timer', timer: 'A' }, udp);
      expect(kinds(t.actions)[0]).toBe('transmit');
      intervals.push(t.snapshot.interval);
    }
    expect(intervals).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(starts(inviteClientTransition(inviteClientInitial(tcp), { type: 'start' }, tcp).actions)).toEqual(['B=32000']);
  });

  it('Calling -> Terminated on Timer B with a timeout to the TU', () => {
    const t = inviteClientTransition(inviteClientInitial(udp), { type: 'timer', timer: 'B' }, udp);
    expect(t.snapshot.state).toBe('terminated');
    expect(kinds(t.actions)).toContain('timeout');
  });

  it('1xx -> Proceeding, 2xx -> Accepted (Timer M), 2xx retransmissions delivered, M -> Terminated', () => {
    let t = inviteClientTransition(inviteClientInitial(udp), { type: 'response', status: 180 }, udp);
    expect(t.snapshot.state).toBe('proceeding');
    expect(kinds(t.actions)).toEqual(['stop-timer', 'stop-timer', 'deliver']);
    t = inviteClientTransition(t.snapshot, { type: 'response', status: 200 }, udp);
    expect(t.snapshot.state).toBe('accepted');
    expect(starts(t.actions)).toEqual(['M=32000']);
    t = inviteClientTransition(t.snapshot, { type: 'response', status: 200 }, udp);
    expect(kinds(t.actions)).toEqual(['deliver']);
    t = inviteClientTransition(t.snapshot, { type: 'response', status: 180 }, udp);
    expect(t.actions).toEqual([]);
    t = inviteClientTransition(t.snapshot, { type: 'timer', timer: 'M' }, udp);
    expect(t.snapshot.state).toBe('terminated');
  });

  it('3xx-6xx -> Completed with ACK; retransmitted final re-sends ACK; Timer D 32 s on UDP, 0 on TCP', () => {
    let t = inviteClientTransition(inviteClientInitial(udp), { type: 'response', status: 486 }, udp);
    expect(t.snapshot.state).toBe('completed');
    expect(kinds(t.actions)).toEqual(['stop-timer', 'stop-timer', 'deliver', 'send-ack', 'start-timer']);
    expect(starts(t.actions)).toEqual(['D=32000']);
    t = inviteClientTransition(t.snapshot, { type: 'response', status: 486 }, udp);
    expect(kinds(t.actions)).toEqual(['send-ack']);
    t = inviteClientTransition(t.snapshot, { type: 'timer', timer: 'D' }, udp);
    expect(t.snapshot.state).toBe('terminated');
    expect(starts(inviteClientTransition(inviteClientInitial(tcp), { type: 'response', status: 603 }, tcp).actions)).toEqual(['D=0']);
  });

  it('absorbs late timers and responses once Terminated', () => {
    const term = { state: 'terminated' as const, interval: 500 };
    for (const ev of [{ type: 'timer', timer: 'A' }, { type: 'timer', timer: 'D' }, { type: 'response', status: 200 }] as const) {
      expect(inviteClientTransition(term, ev, udp)).toEqual({ snapshot: term, actions: [] });
    }
  });

  it('transport error in Calling -> Terminated', () => {
    const t = inviteClientTransition(inviteClientInitial(udp), { type: 'transport-error' }, udp);
    expect(t.snapshot.state).toBe('terminated');
    expect(kinds(t.actions)).toContain('transport-error');
  });
});

describe('non-INVITE client transaction (fig. 6)', () => {
  it('Timer E doubles up to T2 in Trying and is T2 in Proceeding', () => {
    let t = nonInviteClientTransition(nonInviteClientInitial(udp), { type: 'start' }, udp);
    expect(starts(t.actions)).toEqual(['E=500', 'F=32000']);
    const intervals: number[] = [];
    for (let i = 0; i < 5; i++) {
      t = nonInviteClientTransition(t.snapshot, { type: 'timer', timer: 'E' }, udp);
      intervals.push(t.snapshot.interval);
    }
    expect(intervals).toEqual([1000, 2000, 4000, 4000, 4000]);
    let p = nonInviteClientTransition(nonInviteClientInitial(udp), { type: 'response', status: 100 }, udp);
    expect(p.snapshot.state).toBe('proceeding');
    p = nonInviteClientTransition(p.snapshot, { type: 'timer', timer: 'E' }, udp);
    expect(starts(p.actions)).toEqual(['E=4000']);
    expect(starts(nonInviteClientTransition(nonInviteClientInitial(tcp), { type: 'start' }, tcp).actions)).toEqual(['F=32000']);
  });

  it('final -> Completed with Timer K (T4 on UDP, 0 on TCP), absorbs retransmissions, K -> Terminated', () => {
    let t = nonInviteClientTransition(nonInviteClientInitial(udp), { type: 'response', status: 200 }, udp);
    expect(t.snapshot.state).toBe('completed');
    expect(starts(t.actions)).toEqual(['K=5000']);
    expect(nonInviteClientTransition(t.snapshot, { type: 'response', status: 200 }, udp).actions).toEqual([]);
    t = nonInviteClientTransition(t.snapshot, { type: 'timer', timer: 'K' }, udp);
    expect(t.snapshot.state).toBe('terminated');
    expect(starts(nonInviteClientTransition(nonInviteClientInitial(tcp), { type: 'response', status: 404 }, tcp).actions)).toEqual(['K=0']);
  });

  it('Timer F in Trying or Proceeding -> Terminated with timeout', () => {
    for (const state of ['trying', 'proceeding'] as const) {
      const t = nonInviteClientTransition({ state, interval: 500 }, { type: 'timer', timer: 'F' }, udp);
      expect(t.snapshot.state).toBe('terminated');
      expect(kinds(t.actions)).toContain('timeout');
    }
  });
});

describe('INVITE server transaction (fig. 7, RFC 6026)', () => {
  it('Proceeding re-sends the last provisional on a retransmitted INVITE', () => {
    const t = inviteServerTransition(inviteServerInitial(udp), { type: 'request', method: 'INVITE' }, udp);
    expect(kinds(t.actions)).toEqual(['transmit']);
    expect(inviteServerTransition(inviteServerInitial(udp), { type: 'tu-response', status: 180 }, udp).snapshot.state).toBe('proceeding');
  });

  it('2xx -> Accepted with Timer L; ACK delivered to TU; L -> Terminated', () => {
    let t = inviteServerTransition(inviteServerInitial(udp), { type: 'tu-response', status: 200 }, udp);
    expect(t.snapshot.state).toBe('accepted');
    expect(starts(t.actions)).toEqual(['L=32000']);
    expect(inviteServerTransition(t.snapshot, { type: 'request', method: 'INVITE' }, udp).actions).toEqual([]);
    expect(kinds(inviteServerTransition(t.snapshot, { type: 'request', method: 'ACK' }, udp).actions)).toEqual(['deliver']);
    t = inviteServerTransition(t.snapshot, { type: 'timer', timer: 'L' }, udp);
    expect(t.snapshot.state).toBe('terminated');
  });

  it('3xx-6xx -> Completed with G (doubling to T2) and H; ACK -> Confirmed with I; I -> Terminated', () => {
    let t = inviteServerTransition(inviteServerInitial(udp), { type: 'tu-response', status: 486 }, udp);
    expect(t.snapshot.state).toBe('completed');
    expect(starts(t.actions)).toEqual(['G=500', 'H=32000']);
    const intervals: number[] = [];
    for (let i = 0; i < 5; i++) {
      t = inviteServerTransition(t.snapshot, { type: 'timer', timer: 'G' }, udp);
      expect(kinds(t.actions)[0]).toBe('transmit');
      intervals.push(t.snapshot.interval);
    }
    expect(intervals).toEqual([1000, 2000, 4000, 4000, 4000]);
    expect(kinds(inviteServerTransition(t.snapshot, { type: 'request', method: 'INVITE' }, udp).actions)).toEqual(['transmit']);
    t = inviteServerTransition(t.snapshot, { type: 'request', method: 'ACK' }, udp);
    expect(t.snapshot.state).toBe('confirmed');
    expect(starts(t.actions)).toEqual(['I=5000']);
    expect(inviteServerTransition(t.snapshot, { type: 'request', method: 'ACK' }, udp).actions).toEqual([]);
    t = inviteServerTransition(t.snapshot, { type: 'timer', timer: 'I' }, udp);
    expect(t.snapshot.state).toBe('terminated');
    expect(starts(inviteServerTransition(inviteServerInitial(tcp), { type: 'tu-response', status: 486 }, tcp).actions)).toEqual(['H=32000']);
  });

  it('Timer H in Completed -> Terminated with a timeout', () => {
    const t = inviteServerTransition({ state: 'completed', interval: 500 }, { type: 'timer', timer: 'H' }, udp);
    expect(t.snapshot.state).toBe('terminated');
    expect(kinds(t.actions)).toContain('timeout');
  });
});

describe('non-INVITE server transaction (fig. 8)', () => {
  it('Trying absorbs retransmissions; 1xx -> Proceeding; final -> Completed with J; retransmission re-sends final', () => {
    let t = nonInviteServerTransition(nonInviteServerInitial(udp), { type: 'request', method: 'BYE' }, udp);
    expect(t.actions).toEqual([]);
    t = nonInviteServerTransition(t.snapshot, { type: 'tu-response', status: 100 }, udp);
    expect(t.snapshot.state).toBe('proceeding');
    expect(kinds(nonInviteServerTransition(t.snapshot, { type: 'request', method: 'BYE' }, udp).actions)).toEqual(['transmit']);
    t = nonInviteServerTransition(t.snapshot, { type: 'tu-response', status: 200 }, udp);
    expect(t.snapshot.state).toBe('completed');
    expect(starts(t.actions)).toEqual(['J=32000']);
    expect(kinds(nonInviteServerTransition(t.snapshot, { type: 'request', method: 'BYE' }, udp).actions)).toEqual(['transmit']);
    expect(nonInviteServerTransition(t.snapshot, { type: 'tu-response', status: 500 }, udp).actions).toEqual([]);
    t = nonInviteServerTransition(t.snapshot, { type: 'timer', timer: 'J' }, udp);
    expect(t.snapshot.state).toBe('terminated');
    expect(starts(nonInviteServerTransition(nonInviteServerInitial(tcp), { type: 'tu-response', status: 200 }, tcp).actions)).toEqual(['J=0']);
  });
});

describe('illegal transitions', () => {
  it('throw an error naming both states', () => {
    expect(() => checkTransition('invite-client', 'completed', 'proceeding')).toThrow(IllegalTransitionError);
    expect(() => checkTransition('invite-client', 'completed', 'proceeding')).toThrow(/completed.*proceeding/);
    expect(() => checkTransition('invite-server', 'terminated', 'confirmed')).toThrow(/terminated to confirmed/);
    expect(() => checkTransition('non-invite-client', 'trying', 'calling')).toThrow(/trying to calling/);
    expect(() => checkTransition('non-invite-server', 'completed', 'completed')).not.toThrow();
  });

  it('misuse of the runtime throws', () => {
    const ack = invite(undefined, 'ACK');
    expect(() => new ClientTransaction(ack, recorder(), { onResponse: () => undefined })).toThrow(TransactionMisuseError);
    const srv = new ServerTransaction(invite(), recorder());
    expect(() => srv.respond(reply(invite(undefined, 'OPTIONS'), 200))).toThrow(TransactionMisuseError);
  });
});

describe('transaction runtime with fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('INVITE client over UDP retransmits at 0, 0.5, 1.5, 3.5 ... s and times out at 32 s', () => {
    const t0 = Date.now();
    const s = recorder();
    const onTimeout = vi.fn();
    const txn = new ClientTransaction(invite(), s, { onResponse: () => undefined, onTimeout });
    txn.start();
    vi.advanceTimersByTime(32_000);
    expect(s.sent.map((x) => x.at - t0)).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(onTimeout).toHaveBeenCalledOnce();
    expect(txn.state).toBe('terminated');
    expect(txn.armedTimers()).toEqual([]);
  });

  it('INVITE client generates the ACK for a 486 and re-sends it on retransmission; Timer D ends it', () => {
    const s = recorder();
    const req = invite();
    const onResponse = vi.fn();
    const txn = new ClientTransaction(req, s, { onResponse });
    txn.start();
    txn.receiveResponse(reply(req, 486));
    txn.receiveResponse(reply(req, 486));
    expect(onResponse).toHaveBeenCalledOnce();
    const acks = s.sent.filter((x) => x.m.kind === 'request' && x.m.method === 'ACK');
    expect(acks.length).toBe(2);
    const ack = acks[0]!.m;
    expect(ack.headers.get('CSeq')).toBe('1 ACK');
    expect(ack.headers.get('Via')).toBe(req.headers.get('Via'));
    expect(ack.headers.get('To')).toContain('tag=b1');
    vi.advanceTimersByTime(32_000);
    expect(txn.state).toBe('terminated');
  });

  it('non-INVITE client over TCP never retransmits and Timer K is immediate', () => {
    const s = recorder(true);
    const req = invite(undefined, 'OPTIONS');
    const txn = new ClientTransaction(req, s, { onResponse: () => undefined });
    txn.start();
    vi.advanceTimersByTime(10_000);
    expect(s.sent.length).toBe(1);
    txn.receiveResponse(reply(req, 200));
    expect(txn.state).toBe('completed');
    vi.advanceTimersByTime(0);
    expect(txn.state).toBe('terminated');
  });

  it('non-INVITE client over UDP: retransmissions capped at T2, timeout at 64*T1', () => {
    const t0 = Date.now();
    const s = recorder();
    const onTimeout = vi.fn();
    const txn = new ClientTransaction(invite(undefined, 'BYE'), s, { onResponse: () => undefined, onTimeout });
    txn.start();
    vi.advanceTimersByTime(32_000);
    expect(s.sent.map((x) => x.at - t0)).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(onTimeout).toHaveBeenCalledOnce();
  });

  it('a send failure becomes a transport error and terminates the transaction', async () => {
    const onTransportError = vi.fn();
    const txn = new ClientTransaction(invite(), { reliable: true, send: () => { throw new Error('ECONNREFUSED'); } }, { onResponse: () => undefined, onTransportError });
    txn.start();
    await Promise.resolve();
    expect(onTransportError).toHaveBeenCalledOnce();
    expect(onTransportError.mock.calls[0]![0].message).toBe('ECONNREFUSED');
    expect(txn.state).toBe('terminated');
  });

  it('INVITE server retransmits a 486 with Timer G until the ACK, then Timer I ends it', () => {
    const t0 = Date.now();
    const s = recorder();
    const req = invite();
    const srv = new ServerTransaction(req, s);
    srv.respond(reply(req, 486));
    vi.advanceTimersByTime(4000);
    expect(s.sent.map((x) => x.at - t0)).toEqual([0, 500, 1500, 3500]);
    srv.receiveRequest(invite(undefined, 'ACK'));
    expect(srv.state).toBe('confirmed');
    vi.advanceTimersByTime(10_000);
    expect(s.sent.length).toBe(4);
    expect(srv.state).toBe('terminated');
  });

  it('non-INVITE server re-sends its final response on retransmissions until Timer J', () => {
    const s = recorder();
    const req = invite(undefined, 'BYE');
    const srv = new ServerTransaction(req, s);
    expect(srv.receiveRequest(req)).toBe(false);
    expect(s.sent.length).toBe(0);
    expect(srv.respond(reply(req, 200))).toBe(true);
    expect(srv.respond(reply(req, 500))).toBe(false);
    srv.receiveRequest(req);
    expect(s.sent.map((x) => (x.m.kind === 'response' ? x.m.status : 0))).toEqual([200, 200]);
    vi.advanceTimersByTime(32_000);
    expect(srv.state).toBe('terminated');
  });

  it('INVITE server reports Timer H when the ACK never comes', () => {
    const srv = new ServerTransaction(invite(), recorder());
    const onTimeout = vi.fn();
    srv.handlers = { onTimeout };
    srv.respond(reply(srv.request, 500));
    vi.advanceTimersByTime(32_000);
    expect(onTimeout).toHaveBeenCalledOnce();
    expect(srv.state).toBe('terminated');
  });
});

describe('transaction layer matching (sec. 17.1.3, 17.2.3)', () => {
  it('matches responses by branch and CSeq method, CANCEL separately from INVITE', () => {
    const layer = new TransactionLayer();
    const req = invite();
    const got: number[] = [];
    layer.sendRequest(req, recorder(true), { onResponse: (r) => void got.push(r.status) });
    const cancel = createCancel(req);
    const gotCancel: number[] = [];
    layer.sendRequest(cancel, recorder(true), { onResponse: (r) => void gotCancel.push(r.status) });
    expect(layer.receiveResponse(reply(cancel, 200))).toBe(true);
    expect(layer.receiveResponse(reply(req, 487))).toBe(true);
    expect(got).toEqual([487]);
    expect(gotCancel).toEqual([200]);
    expect(layer.receiveResponse(reply(invite(), 200))).toBe(false);
    layer.dispose();
  });

  it('absorbs request retransmissions, finds the INVITE for a CANCEL, hands ACK for 2xx to the TU', () => {
    const layer = new TransactionLayer();
    const req = invite();
    const s = recorder();
    const first = layer.receiveRequest(req, s);
    expect(first.kind).toBe('new');
    if (first.kind !== 'new') return;
    first.txn.respond(reply(req, 180));
    expect(layer.receiveRequest(req, s).kind).toBe('absorbed');
    expect(s.sent.length).toBe(2);
    expect(layer.findInviteForCancel(createCancel(req))).toBe(first.txn);
    const cancelIn = layer.receiveRequest(createCancel(req), s);
    expect(cancelIn.kind).toBe('new');
    first.txn.respond(reply(req, 200));
    const ack = invite(undefined, 'ACK');
    expect(layer.receiveRequest(ack, s).kind).toBe('ack');
    layer.dispose();
  });
});
