import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequest, createResponse, newCallId, newTag, parseMessage, serializeMessage, type SipRequest, type SipResponse } from '@imslab/sip';
import { afterEach, describe, expect, it } from 'vitest';
import { SipLogger } from '@imslab/app-server';
import { ImServer, MessageStore, parseImConfig } from '../src/index.ts';
import { sha256 as storeSha } from '../src/message-store.ts';

const HOST = '127.0.0.1';
const quiet = () => new SipLogger('im', 'im', () => undefined);

/** A stand-in S-CSCF: records each MESSAGE the server sends and answers with `answer(member)`. */
async function fakeScscf(answer: (req: SipRequest) => number): Promise<{ sock: Socket; port: number; got: SipRequest[]; responses: SipResponse[] }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, HOST, () => r()));
  const got: SipRequest[] = [];
  const responses: SipResponse[] = [];
  sock.on('message', (buf, rinfo) => {
    const p = parseMessage(buf);
    if (!p.ok) return;
    const m = p.message;
    if (m.kind === 'response') {
      responses.push(m);
      return;
    }
    got.push(m);
    sock.send(serializeMessage(createResponse(m, answer(m))), rinfo.port, rinfo.address);
  });
  return { sock, port: (sock.address()).port, got, responses };
}

const freePort = async (): Promise<number> => {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, HOST, () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
};

const BODY = Buffer.concat([Buffer.from([0x30, 0x82, 0x01, 0x00]), Buffer.from('opaque CMS bytes \u0000\u00ff', 'latin1')]);
const CT = 'application/pkcs7-mime; smime-type=authEnveloped-data; name=smime.p7m';

function groupMessage(fromUser: string, scscfPort: number, group = 'im-team'): SipRequest {
  return createRequest({
    method: 'MESSAGE', uri: `sip:${group}@ims.test`, via: { transport: 'UDP', host: HOST, port: scscfPort }, from: `<sip:${fromUser}@ims.test>;tag=${newTag()}`,
    to: `<sip:${group}@ims.test>`, callId: newCallId(HOST), cseq: 1, headers: [['P-Asserted-Identity', `<sip:${fromUser}@ims.test>`], ['Content-Disposition', 'attachment; handling=required; filename=smime.p7m']],
    body: BODY, contentType: CT,
  });
}

const waitFor = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('IM server', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setup(answer: (req: SipRequest) => number, retryMs = 60_000) {
    const scscf = await fakeScscf(answer);
    cleanup.push(() => new Promise<void>((r) => scscf.sock.close(() => r())));
    const dir = mkdtempSync(join(tmpdir(), 'im-store-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const cfg = parseImConfig({
      name: 'im', address: HOST, sipPort: await freePort(), controlPort: await freePort(), domain: 'ims.test',
      scscf: { address: HOST, port: scscf.port },
      groups: [{ user: 'im-team', members: ['sip:alice@ims.test', 'sip:bob@ims.test', 'sip:carol@ims.test'] }],
      store: { dir, retryMs },
    });
    const srv = await ImServer.start(cfg, quiet());
    cleanup.push(() => srv.close());
    const send = (req: SipRequest) => scscf.sock.send(serializeMessage(req), cfg.sipPort, HOST);
    return { scscf, srv, cfg, dir, send };
  }

  it('answers 202 and forwards the same body bytes and Content-Type to every other member, with new Call-IDs', async () => {
    const { scscf, srv, send } = await setup(() => 200);
    const req = groupMessage('alice', scscf.port);
    send(req);
    await waitFor(() => scscf.responses.some((r) => r.status >= 200) && srv.status().messages[0]?.recipients.every((r) => r.state === 'delivered') === true);
    expect(scscf.responses.find((r) => r.status >= 200)?.status).toBe(202);
    expect(scscf.got.map((m) => m.uri).sort()).toEqual(['sip:bob@ims.test', 'sip:carol@ims.test']);
    for (const m of scscf.got) {
      expect(Buffer.compare(m.body, BODY)).toBe(0);
      expect(m.headers.get('Content-Type')).toBe(CT);
      expect(m.headers.get('P-Asserted-Identity')).toBe('<sip:alice@ims.test>');
      expect(m.headers.get('Content-Disposition')).toContain('smime.p7m');
      expect(m.headers.get('Call-ID')).not.toBe(req.headers.get('Call-ID'));
    }
    const rec = srv.status().messages[0]!;
    expect(rec.bodySha256).toBe(storeSha(BODY));
    expect(rec.forwards.map((f) => [f.member, f.status, f.bodySha256 === rec.bodySha256]).sort()).toEqual([['sip:bob@ims.test', 200, true], ['sip:carol@ims.test', 200, true]]);
  });

  it('refuses a non-member with 403 and an unknown group with 404, forwarding nothing', async () => {
    const { scscf, srv, send } = await setup(() => 200);
    send(groupMessage('dave', scscf.port));
    send(groupMessage('alice', scscf.port, 'im-nope'));
    await waitFor(() => scscf.responses.filter((r) => r.status >= 200).length === 2);
    expect(scscf.responses.map((r) => r.status).sort()).toEqual([403, 404]);
    expect(scscf.got).toEqual([]);
    expect(srv.status().refused.map((r) => r.status).sort()).toEqual([403, 404]);
  });

  it('stores the message for an offline member (480) as it arrived and delivers it when that member sends something', async () => {
    let carolOnline = false;
    const { scscf, srv, send, dir } = await setup((m) => (m.uri.startsWith('sip:carol') && !carolOnline ? 480 : 200));
    send(groupMessage('alice', scscf.port));
    await waitFor(() => srv.status().messages[0]?.recipients.find((r) => r.member === 'sip:carol@ims.test')?.state === 'stored');
    const files = readdirSync(dir).sort();
    expect(files.filter((f) => f.endsWith('.body')).length).toBe(1);
    const bodyFile = files.find((f) => f.endsWith('.body'))!;
    expect(Buffer.compare(readFileSync(join(dir, bodyFile)), BODY)).toBe(0);
    expect(srv.status().store.pending).toBe(1);
    carolOnline = true;
    // carol sends to the group: a sign of life.
    send(groupMessage('carol', scscf.port));
    await waitFor(() => srv.status().messages[0]?.recipients.find((r) => r.member === 'sip:carol@ims.test')?.state === 'delivered');
    const r = srv.status().messages[0]!.recipients.find((x) => x.member === 'sip:carol@ims.test')!;
    expect(r.deliveredBy).toBe('member-activity');
    const fromStore = srv.status().messages[0]!.forwards.filter((f) => f.from === 'store');
    expect(fromStore).toHaveLength(1);
    expect(fromStore[0]!.bodySha256).toBe(storeSha(BODY));
    expect(srv.status().store.pending).toBe(0);
    // The entry stays at rest (delivered) for the store scan.
    const meta = JSON.parse(readFileSync(join(dir, files.find((f) => f.endsWith('.json'))!), 'utf8')) as { deliveredBy: string };
    expect(meta.deliveredBy).toBe('member-activity');
  });

  it('delivers stored messages on the retry timer', async () => {
    let online = false;
    const { scscf, srv, send } = await setup((m) => (m.uri.startsWith('sip:bob') && !online ? 408 : 200), 200);
    send(groupMessage('alice', scscf.port));
    await waitFor(() => srv.status().messages[0]?.recipients.find((r) => r.member === 'sip:bob@ims.test')?.state === 'stored');
    online = true;
    await waitFor(() => srv.status().messages[0]?.recipients.find((r) => r.member === 'sip:bob@ims.test')?.deliveredBy === 'retry-timer');
  });
});

describe('message store', () => {
  it('survives a reopen, ignores a corrupted entry and is bounded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'im-store-'));
    try {
      const s = MessageStore.open(dir, { maxMessages: 2, maxBytes: 1_000 });
      const base = { group: 'im-team', sender: 'sip:alice@ims.test', callId: 'c', receivedAt: new Date().toISOString(), contentType: CT, contentDisposition: null };
      expect(s.put({ ...base, messageId: 'm1', member: 'sip:bob@ims.test' }, BODY)).not.toBeNull();
      expect(s.put({ ...base, messageId: 'm2', member: 'sip:bob@ims.test' }, BODY)).not.toBeNull();
      expect(s.put({ ...base, messageId: 'm3', member: 'sip:bob@ims.test' }, BODY)).toBeNull();
      s.markDelivered('m1-bob', 'retry-timer');
      // A delivered entry makes room for a new one.
      expect(s.put({ ...base, messageId: 'm3', member: 'sip:bob@ims.test' }, BODY)).not.toBeNull();
      const again = MessageStore.open(dir, { maxMessages: 2, maxBytes: 1_000 });
      expect(again.pending().map((m) => m.entry)).toEqual(['m2-bob', 'm3-bob']);
      expect(Buffer.compare(again.load('m2-bob')!.body, BODY)).toBe(0);
      rmSync(join(dir, 'm3-bob.body'));
      const third = MessageStore.open(dir, { maxMessages: 2, maxBytes: 1_000 });
      expect(third.pending().map((m) => m.entry)).toEqual(['m2-bob']);
      expect(third.problems()[0]).toMatch(/m3-bob\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
