import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RoomStore, Rooms, identityOf, parseChatConfig, sha256, type ChatMessage, type Participant } from '../src/index.ts';

const ROOMS = [
  { user: 'chat-team', members: ['sip:alice@ims.test', 'sip:bob@ims.test', 'sip:carol@ims.test'] },
  { user: 'chat-ops', members: ['sip:alice@ims.test', 'sip:dave@ims.test'] },
];

/** Rooms whose outlets only record what they were asked to do, in order. */
function fakeRooms() {
  const calls: string[] = [];
  const rooms = new Rooms(ROOMS, {
    store: (p, m) => calls.push(`store ${p.room} ${p.identity} ${m.messageId}`),
    deliver: (to, from, m) => calls.push(`deliver ${m.messageId} ${from.callId}->${to.callId}`),
  }, 'ims.test');
  return { rooms, calls };
}

let n = 0;
function participant(user: string, room = 'chat-team'): Participant {
  n++;
  return {
    callId: `call-${user}-${n}`, room, identity: `sip:${user}@ims.test`,
    localUri: { scheme: 'msrps', host: '127.9.2.1', port: 2855, sessionId: `sid${n}`, transport: 'tcp', params: [] },
    toPath: [{ scheme: 'msrps', host: '127.9.2.9', port: 2855, sessionId: `p${n}`, transport: 'tcp', params: [] }],
    joinedAt: new Date().toISOString(),
  };
}

const msg = (id: string, body = 'hi'): ChatMessage => ({ messageId: id, contentType: 'message/cpim', body: Buffer.from(body) });

describe('chat rooms', () => {
  it('the factory (RFC 7701 sec. 5) makes chat-adhoc-<n> rooms open to users of the domain only, ended with their last participant', () => {
    const { rooms, calls } = fakeRooms();
    expect(rooms.check('chat-factory', 'sip:eve@ims.test')).toEqual({ ok: true });
    expect(rooms.check('chat-factory', 'sip:mallory@elsewhere.example')).toMatchObject({ ok: false, status: 403 });
    const room = rooms.createAdhoc();
    expect(room).toBe('chat-adhoc-1');
    expect(rooms.createAdhoc()).toBe('chat-adhoc-2');
    expect(rooms.check(room, 'sip:dave@ims.test')).toEqual({ ok: true });
    expect(rooms.check(room, 'sip:mallory@elsewhere.example')).toMatchObject({ ok: false, status: 403 });
    const a = participant('alice', room);
    const d = participant('dave', room);
    rooms.join(a);
    rooms.join(d);
    expect(rooms.received(d, msg('m1')).map((p) => p.callId)).toEqual([a.callId]);
    expect(calls).toEqual([`store ${room} sip:dave@ims.test m1`, `deliver m1 ${d.callId}->${a.callId}`]);
    rooms.leave(a.callId);
    expect(rooms.check(room, 'sip:alice@ims.test')).toEqual({ ok: true });
    rooms.leave(d.callId);
    expect(rooms.check(room, 'sip:alice@ims.test')).toMatchObject({ ok: false, status: 404 });
    // Rooms of the subscriber file stay when empty.
    expect(rooms.check('chat-team', 'sip:alice@ims.test')).toEqual({ ok: true });
  });

  it('lets members in by normalised identity, refuses others with 403 and unknown rooms with 404', () => {
    const { rooms } = fakeRooms();
    expect(identityOf('<sip:Alice@IMS.test:5060;transport=udp>')).toBe('sip:Alice@ims.test');
    expect(identityOf('sip:alice@IMS.TEST;user=phone')).toBe('sip:alice@ims.test');
    expect(identityOf('tel:+1555')).toBeNull();
    expect(rooms.check('chat-team', identityOf('<sip:bob@IMS.TEST:5060>'))).toEqual({ ok: true });
    expect(rooms.check('chat-team', 'sip:dave@ims.test')).toMatchObject({ ok: false, status: 403 });
    expect(rooms.check('chat-team', null)).toMatchObject({ ok: false, status: 403 });
    expect(rooms.check('chat-nope', 'sip:alice@ims.test')).toMatchObject({ ok: false, status: 404 });
    expect(() => rooms.join(participant('dave'))).toThrow(/may not join/);
    expect(rooms.in('chat-team')).toEqual([]);
  });

  it('stores each message, then hands it to every other participant of the room only', () => {
    const { rooms, calls } = fakeRooms();
    const alice = participant('alice');
    const bob = participant('bob');
    const carol = participant('carol');
    const aliceOps = participant('alice', 'chat-ops');
    const dave = participant('dave', 'chat-ops');
    for (const p of [alice, bob, carol, aliceOps, dave]) rooms.join(p);
    const to = rooms.received(alice, msg('m1'));
    expect(to.map((p) => p.callId)).toEqual([bob.callId, carol.callId]);
    expect(calls).toEqual([
      `store chat-team sip:alice@ims.test m1`,
      `deliver m1 ${alice.callId}->${bob.callId}`,
      `deliver m1 ${alice.callId}->${carol.callId}`,
    ]);
    calls.length = 0;
    rooms.received(dave, msg('m2'));
    expect(calls).toEqual([`store chat-ops sip:dave@ims.test m2`, `deliver m2 ${dave.callId}->${aliceOps.callId}`]);
    expect(rooms.list().map((r) => [r.user, r.participants.length, r.messages])).toEqual([['chat-team', 3, 1], ['chat-ops', 2, 1]]);
  });

  it('a member on two devices gets a message on both, the sending dialog never gets it back', () => {
    const { rooms, calls } = fakeRooms();
    const bob1 = participant('bob');
    const bob2 = participant('bob');
    const alice = participant('alice');
    for (const p of [bob1, bob2, alice]) rooms.join(p);
    rooms.received(bob1, msg('m1'));
    expect(calls.filter((c) => c.startsWith('deliver'))).toEqual([`deliver m1 ${bob1.callId}->${bob2.callId}`, `deliver m1 ${bob1.callId}->${alice.callId}`]);
  });

  it('after leaving, a participant gets nothing and what it still sends is ignored', () => {
    const { rooms, calls } = fakeRooms();
    const alice = participant('alice');
    const bob = participant('bob');
    rooms.join(alice);
    rooms.join(bob);
    expect(rooms.leave(bob.callId)).toBe(bob);
    expect(rooms.leave(bob.callId)).toBeUndefined();
    expect(rooms.received(alice, msg('m1'))).toEqual([]);
    expect(rooms.received(bob, msg('m2'))).toEqual([]);
    expect(calls).toEqual(['store chat-team sip:alice@ims.test m1']);
    expect(rooms.list()[0]!.messages).toBe(1);
  });
});

describe('room store', () => {
  it('writes one JSON line per message: CPIM as text, binary as base64, each with its SHA-256; bounded in bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-store-'));
    try {
      const s = RoomStore.open(dir, 1500);
      const cpim = Buffer.from('From: <sip:alice@ims.test>\r\nTo: <sip:chat-team@ims.test>\r\n\r\nContent-Type: text/plain\r\n\r\nmarker-xyz h\u00e9llo\r\n');
      const cms = Buffer.from([0x30, 0x82, 0xff, 0x00, 0xc3]);
      expect(s.append('chat-team', 'sip:alice@ims.test', { messageId: 'm1', contentType: 'message/cpim', body: cpim })).not.toBeNull();
      expect(s.append('chat-team', 'sip:bob@ims.test', { messageId: 'm2', contentType: 'application/pkcs7-mime', body: cms })).not.toBeNull();
      // CPIM whose bytes are not UTF-8 is kept as base64: the store never alters what it keeps.
      expect(s.append('chat-team', 'sip:bob@ims.test', { messageId: 'm3', contentType: 'message/cpim', body: Buffer.from([0xff, 0xfe]) })).not.toBeNull();
      const lines = readFileSync(join(dir, 'chat-team.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatchObject({ room: 'chat-team', sender: 'sip:alice@ims.test', messageId: 'm1', contentType: 'message/cpim', encoding: 'utf8', body: cpim.toString('utf8'), bytes: cpim.length, sha256: sha256(cpim) });
      expect(typeof lines[0]!.time).toBe('string');
      expect(lines[1]).toMatchObject({ encoding: 'base64', body: cms.toString('base64'), sha256: sha256(cms) });
      expect(lines[2]).toMatchObject({ encoding: 'base64', body: '//4=' });
      // Reopened: the bytes on disk count against the bound.
      const again = RoomStore.open(dir, 1500);
      expect(again.usedBytes).toBe(readFileSync(join(dir, 'chat-team.jsonl')).length);
      expect(again.append('chat-team', 'sip:alice@ims.test', { messageId: 'm4', contentType: 'text/plain', body: Buffer.alloc(900, 0x61) })).toBeNull();
      expect(() => again.append('../x', 'sip:alice@ims.test', msg('m5'))).toThrow(/bad room name/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('chat configuration', () => {
  const base = {
    name: 'chat', address: '127.9.2.1', sipPort: 5060, controlPort: 8000, domain: 'ims.test',
    msrp: { port: 2855, tls: { caFile: '/p/ca.pem', certFile: '/p/chat.pem', keyFile: '/p/chat.key' } },
    rooms: ROOMS, store: { dir: '/tmp/x' },
  };
  it('takes what element.ts renders and refuses unknown keys and bad room names', () => {
    expect(parseChatConfig(base).maxHeld).toBe(100);
    expect(() => parseChatConfig({ ...base, extra: 1 })).toThrow(/extra/);
    expect(() => parseChatConfig({ ...base, rooms: [{ user: 'team', members: ['sip:a@b'] }] })).toThrow(/chat-<group>/);
  });
});
