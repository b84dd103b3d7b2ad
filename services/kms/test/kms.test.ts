/**
 * The KMS over HTTPS with the real client: Ticket Request and Resolve
 * (RFC 6043 sec. 4.1, 4.3) for the three resolution policies, and every
 * refusal the brief lists, each with its status, code, audit entry.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsError } from '@imslab/kms-client';
import {
  KmsTicketCodec,
  ReplayCache,
  buildTransferInit,
  buildTransferResp,
  completeTransferInit,
  deriveForkedKeys,
  naiIdentity,
  parseTransferInit,
  uriIdentity,
  verifyResolveResp,
  verifyTransferResp,
  type TicketPayload,
} from '@imslab/mikey';
import { KMS_TLS_KEYLOG, Kms, KmsPortInUseError, MAX_TICKET_VALIDITY_MS, type AuditEntry, type KmsStatus } from '../src/index.ts';
import { controlGet, getTicket, rawPost, requestInit, resolveInit, startWorld, type KmsWorld } from './helpers.ts';

const BOB = uriIdentity('sip:bob@ims.test');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function refusal(p: Promise<unknown>): Promise<KmsError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(KmsError);
  return e as KmsError;
}

async function lastAudit(w: KmsWorld): Promise<AuditEntry> {
  const { body } = await controlGet<{ entries: AuditEntry[] }>(w, '/audit');
  return body.entries[body.entries.length - 1]!;
}

let w: KmsWorld;

beforeAll(async () => {
  w = await startWorld('127.0.6.10');
});
afterAll(async () => {
  await w?.close();
});

describe("'any-device-of-user' (forking, TR 33.828 4.1.1)", () => {
  it('alice gets a ticket for bob; bob-1 and bob-2 each resolve it to keys forked for them; carol is refused', async () => {
    const { alice, bob1, bob2, carol } = w.devices;
    const t = await getTicket(w, alice, BOB, 'any-device-of-user');
    expect(t.policy).toBe('any-device-of-user');
    expect(t.ticket.flags.I).toBe(true);
    const fingerprints: string[] = [];
    for (const dev of [bob1, bob2]) {
      const init = resolveInit(w, dev, t.ticket);
      const r = verifyResolveResp(await w.client.resolve(init.bytes), init.state);
      // RFC 6043 sec. 5.1.4: TGK' and MPKr' from the ticket's keys, the device's IDRr and RANDRkms.
      const forked = deriveForkedKeys(t.mpkr, t.tgk, dev.identity.data, r.randRkms!, 'sha256');
      expect(hex(r.tgk)).toBe(hex(forked.tgk));
      expect(hex(r.mpkr)).toBe(hex(forked.mpkr));
      expect(hex(r.tgk)).not.toBe(hex(t.tgk));
      expect(hex(r.mpki)).toBe(hex(t.mpki));
      const a = await lastAudit(w);
      expect(a).toMatchObject({ op: 'resolve', result: 'allowed', initiator: 'sip:alice@ims.test', responder: 'sip:bob@ims.test', resolver: 'sip:bob@ims.test', resolverDevice: `${dev.name}@ims.test`, policy: 'any-device-of-user', forked: true });
      expect(a.ticketId).toMatch(/^[0-9a-f]{32}$/);
      expect(a.keyFingerprint).toMatch(/^[0-9a-f]{16}$/);
      fingerprints.push(a.keyFingerprint!);
    }
    expect(fingerprints[0]).not.toBe(fingerprints[1]);
    const e = await refusal(w.client.resolve(resolveInit(w, carol, t.ticket).bytes));
    expect(e.status).toBe(403);
    expect(e.code).toBe('not-a-device-of-user');
    expect(e.reason).toContain('ticket for sip:bob@ims.test (policy any-device-of-user) not resolvable by sip:carol@ims.test');
    const a = await lastAudit(w);
    expect(a).toMatchObject({ op: 'resolve', result: 'refused', code: 'not-a-device-of-user', resolver: 'sip:carol@ims.test', resolverDevice: 'carol@ims.test', initiator: 'sip:alice@ims.test' });
    expect(a.reason).toContain('not a device of sip:bob@ims.test');
  });

  it('the initiator may not resolve its own ticket', async () => {
    const t = await getTicket(w, w.devices.alice, BOB, 'any-device-of-user');
    const e = await refusal(w.client.resolve(resolveInit(w, w.devices.alice, t.ticket).bytes));
    expect([e.status, e.code]).toEqual([403, 'initiator-cannot-resolve']);
  });

  it('full flow through TRANSFER_INIT/RESP: alice and bob-1 derive the same SRTP keys; bob-2’s differ (own forked keys)', async () => {
    const { alice, bob1, bob2 } = w.devices;
    const t = await getTicket(w, alice, BOB, 'any-device-of-user');
    const tr = buildTransferInit({ request: t, sessions: [{ ssrc: 0x11223344 }] });
    const keys: string[] = [];
    for (const dev of [bob1, bob2]) {
      const pending = parseTransferInit(tr.bytes);
      const init = resolveInit(w, dev, pending.ticket);
      const resolved = verifyResolveResp(await w.client.resolve(init.bytes), init.state);
      const v = completeTransferInit(pending, resolved, { replayCache: new ReplayCache() });
      const resp = buildTransferResp(v, { responder: dev.identity });
      keys.push(hex(resp.srtp[0]!.masterKey));
      if (dev === bob1) {
        const atAlice = verifyTransferResp(resp.bytes, tr.state);
        expect(hex(atAlice.srtp[0]!.masterKey)).toBe(keys[0]);
      }
    }
    expect(keys[0]).not.toBe(keys[1]);
  });
});

describe("'retargeting' (forwarding, TR 33.828 4.1.1)", () => {
  it('bob forwards (no answer) to carol: carol may resolve, dave may not', async () => {
    const { alice, carol, dave, bob2 } = w.devices;
    const t = await getTicket(w, alice, BOB, 'retargeting');
    const init = resolveInit(w, carol, t.ticket);
    const r = verifyResolveResp(await w.client.resolve(init.bytes), init.state);
    expect(hex(r.tgk)).toBe(hex(deriveForkedKeys(t.mpkr, t.tgk, carol.identity.data, r.randRkms!, 'sha256').tgk));
    const a = await lastAudit(w);
    expect(a).toMatchObject({ result: 'allowed', resolver: 'sip:carol@ims.test', policy: 'retargeting' });
    expect(a.reason).toContain('sip:bob@ims.test -(noAnswer)-> sip:carol@ims.test');
    const ok2 = resolveInit(w, bob2, t.ticket);
    verifyResolveResp(await w.client.resolve(ok2.bytes), ok2.state);
    const e = await refusal(w.client.resolve(resolveInit(w, dave, t.ticket).bytes));
    expect([e.status, e.code]).toEqual([403, 'not-a-forwarding-target']);
    expect(e.reason).toContain('not resolvable by sip:dave@ims.test');
    expect((await lastAudit(w)).resolver).toBe('sip:dave@ims.test');
  });
});

describe('deferred delivery (TR 33.828 4.1.2: /mikey/resolve-deferred)', () => {
  it('the intended user’s device gets the ticket’s own keys (not forked); a forwarding target and the initiator do not', async () => {
    const { alice, bob2, carol } = w.devices;
    const t = await getTicket(w, alice, BOB, 'retargeting');
    const init = resolveInit(w, bob2, t.ticket);
    const r = verifyResolveResp(await w.client.resolve(init.bytes, { deferred: true }), init.state, { deferred: true });
    expect(hex(r.tgk)).toBe(hex(t.tgk));
    expect(hex(r.mpki)).toBe(hex(t.mpki));
    expect(r.randRkms).toBeUndefined();
    expect(await lastAudit(w)).toMatchObject({ op: 'resolve', result: 'allowed', deferred: true, resolverDevice: 'bob-2@ims.test' });
    // carol could resolve the live call (bob forwards to her) but not a message stored for bob.
    const e = await refusal(w.client.resolve(resolveInit(w, carol, t.ticket).bytes, { deferred: true }));
    expect([e.status, e.code]).toEqual([403, 'not-a-device-of-user']);
    expect(e.reason).toContain('deferred delivery');
    expect(await lastAudit(w)).toMatchObject({ result: 'refused', deferred: true, resolver: 'sip:carol@ims.test' });
    const a = await refusal(w.client.resolve(resolveInit(w, alice, t.ticket).bytes, { deferred: true }));
    expect(a.code).toBe('initiator-cannot-resolve');
  });
});

describe('group keys (TR 33.828 4.1.3: one key for a conference, from the KMS)', () => {
  const CONF = uriIdentity('sip:conf-team@ims.test');
  it('every member gets the same group TGK, different from any other ticket’s; nobody may resolve a group ticket', async () => {
    const { alice, bob2, carol } = w.devices;
    const [a, b, c] = [await getTicket(w, alice, CONF, 'group'), await getTicket(w, bob2, CONF, 'group'), await getTicket(w, carol, CONF, 'group')];
    expect(hex(a.tgk)).toBe(hex(b.tgk));
    expect(hex(b.tgk)).toBe(hex(c.tgk));
    expect(a.ticket.flags.I).toBe(false);
    expect(hex(a.mpki)).not.toBe(hex(b.mpki));
    expect(await lastAudit(w)).toMatchObject({ op: 'issue', result: 'allowed', policy: 'group', responder: 'sip:conf-team@ims.test', initiator: 'sip:carol@ims.test' });
    // Not even a member resolves a group ticket (a bridge holding one could otherwise ask).
    const e = await refusal(w.client.resolve(resolveInit(w, bob2, a.ticket).bytes));
    expect([e.status, e.code]).toEqual([403, 'group-key-not-resolvable']);
  });

  it('a non-member and an unknown conference are refused at issue, and audited', async () => {
    const e = await refusal(getTicket(w, w.devices.dave, CONF, 'group'));
    expect([e.status, e.code]).toEqual([403, 'not-a-member']);
    expect(e.reason).toContain('sip:dave@ims.test is not a member of sip:conf-team@ims.test');
    expect(await lastAudit(w)).toMatchObject({ op: 'issue', result: 'refused', code: 'not-a-member' });
    const u = await refusal(getTicket(w, w.devices.alice, uriIdentity('sip:conf-other@ims.test'), 'group'));
    expect(u.code).toBe('unknown-group');
  });

  it('the group key survives a KMS restart (derived from the master key and the conference URI)', async () => {
    const before = await getTicket(w, w.devices.alice, CONF, 'group');
    const w2 = await startWorld('127.0.6.11');
    try {
      const other = await getTicket(w2, w2.devices.alice, CONF, 'group');
      // Another KMS (another master key) has another group key; the same KMS config gives the same one.
      expect(hex(other.tgk)).not.toBe(hex(before.tgk));
      const again = await getTicket(w, w.devices.carol, CONF, 'group');
      expect(hex(again.tgk)).toBe(hex(before.tgk));
    } finally {
      await w2.close();
    }
  });
});

describe("'designated-device'", () => {
  it('only bob-1 resolves a ticket designating bob-1@ims.test', async () => {
    const { alice, bob1, bob2, carol } = w.devices;
    const t = await getTicket(w, alice, naiIdentity('bob-1@ims.test'), 'designated-device');
    expect(t.ticket.flags.I).toBe(false); // one device only: nothing to fork, it gets the ticket's TGK
    const init = resolveInit(w, bob1, t.ticket);
    expect(hex(verifyResolveResp(await w.client.resolve(init.bytes), init.state).tgk)).toBe(hex(t.tgk));
    for (const dev of [bob2, carol]) {
      const e = await refusal(w.client.resolve(resolveInit(w, dev, t.ticket).bytes));
      expect([e.status, e.code]).toEqual([403, 'not-designated-device']);
      expect(e.reason).toContain('only device bob-1@ims.test may resolve it');
    }
  });

  it('a designated-device request naming the user, not a device, is refused at issue', async () => {
    const e = await refusal(getTicket(w, w.devices.alice, BOB, 'designated-device'));
    expect([e.status, e.code]).toEqual([400, 'designated-device-needs-device']);
    expect(e.reason).toContain('bob-1@ims.test, bob-2@ims.test');
  });

  it('a ticket for someone the KMS does not know is refused', async () => {
    const e = await refusal(getTicket(w, w.devices.alice, uriIdentity('sip:mallory@elsewhere.test'), 'any-device-of-user'));
    expect([e.status, e.code]).toEqual([403, 'unknown-responder']);
  });
});

describe('authentication', () => {
  it('a REQUEST_INIT under the wrong PSK is refused 401 and audited with the claim', async () => {
    const { alice } = w.devices;
    const init = requestInit(w, { ...alice, secret: new Uint8Array(32).fill(7) }, BOB, 'any-device-of-user');
    const e = await refusal(w.client.request(init.bytes));
    expect([e.status, e.code]).toEqual([401, 'mac-mismatch']);
    const a = await lastAudit(w);
    expect(a).toMatchObject({ op: 'issue', result: 'refused', code: 'mac-mismatch', initiator: null, claimed: 'sip:alice@ims.test / alice@ims.test' });
  });

  it('a RESOLVE_INIT under the wrong PSK is refused 401', async () => {
    const t = await getTicket(w, w.devices.alice, BOB, 'any-device-of-user');
    const e = await refusal(w.client.resolve(resolveInit(w, { ...w.devices.bob1, secret: w.devices.bob2.secret }, t.ticket).bytes));
    expect([e.status, e.code]).toEqual([401, 'mac-mismatch']);
  });

  it('a device that does not belong to the claimed user is refused 401 (carol’s key, bob’s identity)', async () => {
    const t = await getTicket(w, w.devices.alice, BOB, 'any-device-of-user');
    const e = await refusal(w.client.resolve(resolveInit(w, { ...w.devices.carol, identity: BOB }, t.ticket).bytes));
    expect([e.status, e.code]).toEqual([401, 'device-not-of-user']);
    expect(e.reason).toBe('device carol@ims.test does not belong to sip:bob@ims.test');
  });

  it('an unknown IDRpsk is refused 401', async () => {
    const e = await refusal(w.client.request(requestInit(w, { ...w.devices.alice, pskId: naiIdentity('alice-9@ims.test') }, BOB, 'any-device-of-user').bytes));
    expect([e.status, e.code]).toEqual([401, 'unknown-device']);
  });

  it('IDRpsk may be left out for a single-device user, not for bob (two devices)', async () => {
    await getTicket(w, w.devices.alice, BOB, 'any-device-of-user', { pskId: undefined });
    const e = await refusal(w.client.request(requestInit(w, w.devices.bob1, uriIdentity('sip:alice@ims.test'), 'any-device-of-user', { pskId: undefined }).bytes));
    expect([e.status, e.code]).toEqual([401, 'psk-id-missing']);
  });

  it('a message addressed to another KMS is refused', async () => {
    const e = await refusal(w.client.request(requestInit(w, w.devices.alice, BOB, 'any-device-of-user', { kms: uriIdentity('https://10.9.9.9:8443') }).bytes));
    expect([e.status, e.code]).toEqual([400, 'wrong-kms']);
  });
});

describe('tickets', () => {
  function tamper(t: TicketPayload, at: number): TicketPayload {
    const data = Uint8Array.from(t.ticketData);
    data[at] = data[at]! ^ 0x01;
    return { ...t, ticketData: data };
  }

  it('a modified ticket (one bit of its data, or its clear policy) is refused as forged', async () => {
    const t = await getTicket(w, w.devices.alice, BOB, 'any-device-of-user');
    for (const at of [20, t.ticket.ticketData.length - 40, t.ticket.ticketData.length - 1]) {
      const e = await refusal(w.client.resolve(resolveInit(w, w.devices.carol, tamper(t.ticket, at)).bytes));
      expect(e.status).toBe(403);
      expect(e.code).toBe('ticket-forged');
    }
    // Widen the clear Ticket Policy to 'retargeting' so carol would pass: the ticket MAC covers it.
    const t2 = await getTicket(w, w.devices.alice, BOB, 'retargeting');
    const narrow = await getTicket(w, w.devices.alice, BOB, 'any-device-of-user');
    const forged: TicketPayload = { ...narrow.ticket, tpData: t2.ticket.tpData };
    const e = await refusal(w.client.resolve(resolveInit(w, w.devices.carol, forged).bytes));
    expect([e.status, e.code]).toEqual([403, 'ticket-forged']);
  });

  it('a ticket sealed under another master key is refused', async () => {
    const other = new KmsTicketCodec({ masterKeys: { 1: new Uint8Array(32).fill(9) }, currentKeyId: 1 });
    const now = Date.now();
    const ticket = other.seal({ initiator: w.devices.alice.identity, responder: BOB, policy: 'retargeting', validFromMs: now, validToMs: now + 60_000, issuedAtMs: now, keys: { mpki: new Uint8Array(32), tgk: new Uint8Array(32) } });
    const e = await refusal(w.client.resolve(resolveInit(w, w.devices.bob1, ticket).bytes));
    expect([e.status, e.code]).toEqual([403, 'ticket-forged']);
  });

  it('validity is capped at 1 h', async () => {
    const now = Date.now();
    const t = await getTicket(w, w.devices.alice, BOB, 'any-device-of-user', { validFromMs: now, validToMs: now + 24 * 3_600_000 });
    expect(t.validToMs! - now).toBeLessThanOrEqual(MAX_TICKET_VALIDITY_MS + 1000);
    expect(t.ticket.flags.K).toBe(true);
  });

  it('an expired ticket is refused 410, and the audit still names its parties', async () => {
    const t = await getTicket(w, w.devices.alice, BOB, 'any-device-of-user');
    w.clock.offsetMs = 2 * 3_600_000;
    try {
      const e = await refusal(w.client.resolve(resolveInit(w, w.devices.bob1, t.ticket).bytes));
      expect([e.status, e.code]).toEqual([410, 'ticket-expired']);
      expect(await lastAudit(w)).toMatchObject({ result: 'refused', code: 'ticket-expired', initiator: 'sip:alice@ims.test', responder: 'sip:bob@ims.test', resolverDevice: 'bob-1@ims.test' });
      expect((await lastAudit(w)).ticketId).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      w.clock.offsetMs = 0;
    }
  });
});

describe('freshness', () => {
  it('a replayed RESOLVE_INIT is refused 409', async () => {
    const t = await getTicket(w, w.devices.alice, BOB, 'any-device-of-user');
    const init = resolveInit(w, w.devices.bob1, t.ticket);
    await w.client.resolve(init.bytes);
    const e = await refusal(w.client.resolve(init.bytes));
    expect([e.status, e.code]).toEqual([409, 'replayed']);
  });

  it('a replayed REQUEST_INIT is refused 409', async () => {
    const init = requestInit(w, w.devices.alice, BOB, 'any-device-of-user');
    await w.client.request(init.bytes);
    const e = await refusal(w.client.request(init.bytes));
    expect([e.status, e.code]).toEqual([409, 'replayed']);
  });

  it('a message with a timestamp 10 min old is refused 409', async () => {
    const e = await refusal(w.client.request(requestInit(w, w.devices.alice, BOB, 'any-device-of-user', { nowMs: Date.now() - 600_000 }).bytes));
    expect([e.status, e.code]).toEqual([409, 'stale-timestamp']);
  });

  it('REQUEST_INIT on the resolve endpoint is refused 400', async () => {
    const e = await refusal(w.client.resolve(requestInit(w, w.devices.alice, BOB, 'any-device-of-user').bytes));
    expect([e.status, e.code]).toEqual([400, 'unexpected-data-type']);
  });
});

describe('HTTP', () => {
  it('wrong content type → 415, oversized → 413, GET → 405, unknown path → 404, empty → 400', async () => {
    const init = requestInit(w, w.devices.alice, BOB, 'any-device-of-user');
    let r = await rawPost(w, '/mikey/request', Buffer.from(init.bytes), { 'content-type': 'application/octet-stream' });
    expect([r.status, r.json?.code]).toEqual([415, 'unsupported-media-type']);
    r = await rawPost(w, '/mikey/resolve', Buffer.alloc(20_000), { 'content-type': 'application/mikey' });
    expect([r.status, r.json?.code]).toEqual([413, 'too-large']);
    r = await rawPost(w, '/mikey/resolve', Buffer.alloc(40_000), { 'content-type': 'application/mikey', 'transfer-encoding': 'chunked' });
    expect([r.status, r.json?.code]).toEqual([413, 'too-large']);
    r = await rawPost(w, '/mikey/resolve', Buffer.alloc(0), { 'content-type': 'application/mikey' }, 'GET');
    expect([r.status, r.json?.code]).toEqual([405, 'method-not-allowed']);
    r = await rawPost(w, '/mikey/other', Buffer.alloc(1), { 'content-type': 'application/mikey' });
    expect([r.status, r.json?.code]).toEqual([404, 'not-found']);
    r = await rawPost(w, '/mikey/request', Buffer.alloc(0), { 'content-type': 'application/mikey' });
    expect([r.status, r.json?.code]).toEqual([400, 'empty-body']);
    // The refused request was audited.
    const a = await lastAudit(w);
    expect(a).toMatchObject({ op: 'issue', result: 'refused', code: 'empty-body', initiator: null, ticketId: null });
  });

  it('control API: /health, /status, unknown path', async () => {
    expect(await controlGet(w, '/health')).toEqual({ status: 200, body: { ok: true, name: 'kms' } });
    const s = await controlGet<KmsStatus>(w, '/status');
    expect(s.body).toMatchObject({ name: 'kms', users: 4, devices: 5, unexpected: 0 });
    expect(s.body.issued).toBeGreaterThan(5);
    expect(s.body.refusedByCode['mac-mismatch']).toBeGreaterThanOrEqual(2);
    expect((await controlGet(w, '/nope')).status).toBe(404);
  });

  it('a second KMS on the same address fails with the one-line port message', async () => {
    await expect(Kms.start(w.cfg, { log: () => {} })).rejects.toThrow(new KmsPortInUseError('127.0.6.10:8443/tcp'));
    expect(new KmsPortInUseError('127.0.2.40:8443/tcp').message).toBe("127.0.2.40:8443/tcp is in use (another imslab run? run 'imslab down')");
  });
});

describe('logs', () => {
  it('the audit file is JSON lines, one per request, with no key material (nor the log lines)', async () => {
    const audit = readFileSync(w.cfg.auditLog, 'utf8');
    const lines = audit.trimEnd().split('\n');
    const text = `${audit}\n${w.logLines.join('\n')}`;
    const { body } = await controlGet<KmsStatus>(w, '/status');
    expect(lines.length).toBe(body.auditEntries);
    for (const l of lines) {
      const e = JSON.parse(l) as AuditEntry;
      expect(['issue', 'resolve']).toContain(e.op);
      expect(['allowed', 'refused']).toContain(e.result);
      expect(Number.isNaN(Date.parse(e.at))).toBe(false);
      expect(typeof e.client).toBe('string');
      expect('initiator' in e && 'ticketId' in e).toBe(true);
      if (e.result === 'refused') expect(e.reason && e.code).toBeTruthy();
    }
    expect(w.issuedKeys.length).toBeGreaterThan(40);
    const secrets = [...w.issuedKeys, w.cfg.masterKey, ...Object.values(w.devices).map((d) => d.secret)];
    for (const k of secrets) {
      expect(text).not.toContain(hex(k));
      expect(text).not.toContain(Buffer.from(k).toString('base64'));
      expect(Buffer.from(text, 'latin1').includes(Buffer.from(k))).toBe(false);
    }
  });

  it('TLS secrets go to <runDir>/kms.tls-keys.log', () => {
    const keys = readFileSync(join(w.cfg.runDir, KMS_TLS_KEYLOG), 'utf8');
    expect(keys).toMatch(/^(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]+ [0-9a-f]+$/m);
  });
});
