/** The shared raw-UDP test peer (@imslab/sip/test-peer): its matchers, and a loopback round trip. */
import { afterEach, describe, expect, it } from 'vitest';
import type { SipRequest } from '../src/index.ts';
import { SipPeer, isRequest, isResponse, until } from '../test-peer/index.ts';
import { invite, reply } from './helpers.ts';

describe('test-peer matchers', () => {
  const req = invite();
  const ok = reply(req, 200);
  const notImpl = reply(invite(undefined, 'FOO'), 501);

  it('isResponse matches status, method and Call-ID when given', () => {
    expect(isResponse(200, 'INVITE')(ok)).toBe(true);
    expect(isResponse(200, 'BYE')(ok)).toBe(false);
    expect(isResponse(180, 'INVITE')(ok)).toBe(false);
    expect(isResponse('final', 'INVITE')(ok)).toBe(true);
    expect(isResponse('final', 'INVITE')(reply(req, 180))).toBe(false);
    expect(isResponse(200, 'INVITE', 'call-1@192.0.2.1')(ok)).toBe(true);
    expect(isResponse(200, 'INVITE', 'other')(ok)).toBe(false);
    expect(isResponse(200, 'INVITE')(req)).toBe(false);
  });

  it('isResponse without a method matches any method: a 501 or 405 is checked by status alone', () => {
    expect(isResponse(501)(notImpl)).toBe(true);
    expect(isResponse(200)(ok)).toBe(true);
    expect(isResponse(405)(notImpl)).toBe(false);
    expect(isResponse('final')(notImpl)).toBe(true);
    expect(isResponse(501, undefined, 'call-1@192.0.2.1')(notImpl)).toBe(true);
    expect(isResponse(501, undefined, 'other')(notImpl)).toBe(false);
    expect(isResponse(501)(req)).toBe(false);
  });

  it('isRequest matches method and Call-ID when given', () => {
    expect(isRequest('INVITE')(req)).toBe(true);
    expect(isRequest('INVITE', 'call-1@192.0.2.1')(req)).toBe(true);
    expect(isRequest('INVITE', 'other')(req)).toBe(false);
    expect(isRequest('BYE')(req)).toBe(false);
    expect(isRequest('INVITE')(ok)).toBe(false);
  });
});

describe('SipPeer over loopback', () => {
  const open: SipPeer[] = [];
  afterEach(async () => {
    for (const p of open.splice(0)) await p.close();
  });

  it('queues what arrives; next() consumes it, all() still lists it', async () => {
    const a = await SipPeer.open('127.0.0.1');
    const b = await SipPeer.open('127.0.0.1');
    open.push(a, b);
    await a.send(invite(undefined, 'FOO'), b.address, b.port);
    const got = await b.nextReceived(isRequest('FOO'), 'the FOO');
    expect(got.from).toEqual({ address: '127.0.0.1', port: a.port });
    await b.reply(got.msg as SipRequest, 501, got.from);
    await a.send('not SIP at all', b.address, b.port);
    const r = await a.next(isResponse(501), 'a 501 to anything');
    expect(r).toMatchObject({ kind: 'response', status: 501 });
    expect(a.all(isResponse(501))).toHaveLength(1);
    await expect(a.next(isResponse(501), 'a second 501', 50)).rejects.toThrow(/timed out after 50 ms waiting for a second 501; got: 501 FOO/);
    await until(() => b.garbage.length > 0, 'the datagram that is not SIP');
    expect(b.garbage.map((g) => g.toString())).toEqual(['not SIP at all']);
  });
});
