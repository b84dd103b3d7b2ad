/**
 * The chat server in-process on loopback addresses of its own, with MSRP
 * clients of @imslab/msrp connecting to it directly over TLS (the role the
 * relay plays in the network) and SIP sent from the test's own UDP socket
 * (the S-CSCF's role): join, bind SEND, a CPIM message re-sent byte for byte
 * to the other participant only, a message held until its receiver's
 * connection exists, refusals, garbage on the TLS connection, leaving.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SipLogger } from '@imslab/app-server';
import {
  buildMsrpSdp, connectMsrp, MsrpSession, newSessionId, parseMsrpSdp,
  type MsrpConnection, type MsrpUri, type ReceivedMessage,
} from '@imslab/msrp';
import {
  createAckFor2xx, createInDialogRequest, createRequest, createUacDialog, newCallId, newTag, parseMessage, serializeMessage,
  type Dialog, type SipRequest, type SipResponse,
} from '@imslab/sip';
import { ensurePki, type PkiFiles } from '@imslab/topology';
import { ChatServer, parseChatConfig, type ChatRoomsDocument, type StoredChatMessage } from '../src/index.ts';

const CHAT_IP = '127.9.2.1';
const SCSCF_IP = '127.9.2.10';
const IPS = { alice: '127.9.2.2', bob: '127.9.2.3', carol: '127.9.2.4', dave: '127.9.2.5' };
type User = keyof typeof IPS;
const DOMAIN = 'ims.test';
const ROOM = `sip:chat-team@${DOMAIN}`;

const dir = mkdtempSync(join(tmpdir(), 'imslab-chat-'));
const logLines: string[] = [];
let pki: PkiFiles;
let server: ChatServer;
let scscf: UdpSocket;
const conns: MsrpConnection[] = [];

async function freePort(host: string, type: 'udp' | 'tcp'): Promise<number> {
  if (type === 'udp') {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, host, () => r()));
    const p = s.address().port;
    await new Promise<void>((r) => s.close(() => r()));
    return p;
  }
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, host, () => r()));
  const p = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

const waitFor = async (what: string, cond: () => boolean, ms = 8000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** Final responses to our requests, by Call-ID and CSeq method. */
const responses: SipResponse[] = [];
/** Requests the chat server sent to the "S-CSCF" (there should be none but retransmissions would show here). */
const serverRequests: SipRequest[] = [];

function sendSip(m: SipRequest): void {
  scscf.send(serializeMessage(m), server.cfg.sipPort, CHAT_IP);
}

async function finalResponse(callId: string, method: string): Promise<SipResponse> {
  let r: SipResponse | undefined;
  await waitFor(`final response to ${method} ${callId}`, () => {
    r = responses.find((x) => x.status >= 200 && x.headers.get('Call-ID') === callId && (x.headers.get('CSeq') ?? '').endsWith(method));
    return !!r;
  });
  return r!;
}

interface Joined {
  user: User;
  invite: SipRequest;
  answer: SipResponse;
  dialog: Dialog;
  localUri: MsrpUri;
  /** The a=path of the chat server's answer. */
  serverPath: MsrpUri[];
}

/** INVITE to a room as the S-CSCF would forward it (P-Asserted-Identity set), offering one m=message TCP/TLS/MSRP. */
function invite(user: User, room = ROOM, sdp?: string): { req: SipRequest; localUri: MsrpUri } {
  const localUri: MsrpUri = { scheme: 'msrps', host: IPS[user], port: 2855, sessionId: newSessionId(), transport: 'tcp', params: [] };
  const body = sdp ?? buildMsrpSdp({ address: IPS[user], media: [{ port: 2855, tls: true, path: [localUri], acceptTypes: ['message/cpim', 'text/plain'], setup: 'active' }] });
  const scscfPort = (scscf.address()).port;
  const req = createRequest({
    method: 'INVITE', uri: room, via: { transport: 'UDP', host: SCSCF_IP, port: scscfPort, rport: true },
    from: `<sip:${user}@${DOMAIN}>;tag=${newTag()}`, to: `<${room}>`, callId: newCallId(SCSCF_IP), cseq: 1,
    contact: `<sip:${user}@${IPS[user]}:5060>`,
    headers: [['P-Asserted-Identity', `<sip:${user}@${DOMAIN}>`], ['Record-Route', `<sip:${SCSCF_IP}:${scscfPort};lr>`]],
    body, contentType: 'application/sdp',
  });
  return { req, localUri };
}

async function joinRoom(user: User): Promise<Joined> {
  const { req, localUri } = invite(user);
  sendSip(req);
  const answer = await finalResponse(req.headers.get('Call-ID')!, 'INVITE');
  expect(answer.status).toBe(200);
  const dialog = createUacDialog(req, answer);
  sendSip(createAckFor2xx(dialog, 1, { via: { transport: 'UDP', host: SCSCF_IP, port: scscf.address().port, rport: true } }));
  const sdp = parseMsrpSdp(answer.body.toString('utf8'));
  if (!sdp.ok) throw sdp.error;
  return { user, invite: req, answer, dialog, localUri, serverPath: sdp.media[0]!.path };
}

interface Client {
  conn: MsrpConnection;
  session: MsrpSession;
  got: ReceivedMessage[];
}

/** TLS straight to the chat server (the relay's role), a session toward its a=path, and the bodiless bind SEND. */
async function connectAndBind(j: Joined): Promise<Client> {
  const conn = await connectMsrp({
    host: CHAT_IP, port: server.msrp.port, localAddress: IPS[j.user], tls: { ca: readFileSync(pki.caFile) },
    keylogFile: join(dir, `${j.user}.tls-keys.log`), transactionTimeoutMs: 5000,
  });
  conns.push(conn);
  const session = new MsrpSession({ connection: conn, localUri: j.localUri, toPath: j.serverPath });
  const got: ReceivedMessage[] = [];
  session.on('message', (m) => {
    if (m.body.length) got.push(m);
  });
  await session.send(Buffer.alloc(0), { contentType: 'text/plain' });
  return { conn, session, got };
}

function cpim(from: User, text: string): Buffer {
  return Buffer.from(`From: <sip:${from}@${DOMAIN}>\r\nTo: <${ROOM}>\r\nDateTime: 2026-12-02T19:00:00Z\r\n\r\nContent-Type: text/plain;charset=utf-8\r\n\r\n${text}\r\n`);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function rooms(): Promise<ChatRoomsDocument> {
  const r = await fetch(`http://${CHAT_IP}:${server.cfg.controlPort}/rooms`);
  expect(r.status).toBe(200);
  return (await r.json()) as ChatRoomsDocument;
}

function storeLines(): StoredChatMessage[] {
  const f = join(dir, 'run', 'chat-store', 'chat-team.jsonl');
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as StoredChatMessage) : [];
}

beforeAll(async () => {
  pki = ensurePki(join(dir, 'pki'), [{ name: 'chat', ips: [CHAT_IP] }]);
  scscf = createSocket('udp4');
  await new Promise<void>((r) => scscf.bind(0, SCSCF_IP, () => r()));
  scscf.on('message', (buf) => {
    const p = parseMessage(buf);
    if (!p.ok) return;
    if (p.message.kind === 'response') responses.push(p.message);
    else serverRequests.push(p.message);
  });
  const cfg = parseChatConfig({
    name: 'chat', address: CHAT_IP, sipPort: await freePort(CHAT_IP, 'udp'), controlPort: await freePort(CHAT_IP, 'tcp'), domain: DOMAIN,
    msrp: { port: await freePort(CHAT_IP, 'tcp'), tls: { caFile: pki.caFile, certFile: pki.certFile('chat'), keyFile: pki.keyFile('chat') }, keylogFile: join(dir, 'run', 'chat.tls-keys.log') },
    rooms: [{ user: 'chat-team', members: ['alice', 'bob', 'carol'].map((u) => `sip:${u}@${DOMAIN}`) }],
    store: { dir: join(dir, 'run', 'chat-store') },
  });
  server = await ChatServer.start(cfg, new SipLogger('chat', 'chat', (l) => logLines.push(l)));
}, 30_000);

afterAll(async () => {
  // CHAT_TEST_LOG=1 prints the server's log.
  if (process.env.CHAT_TEST_LOG) process.stderr.write(logLines.join('\n') + '\n');
  for (const c of conns) c.close();
  await server?.close();
  await new Promise<void>((r) => (scscf ? scscf.close(() => r()) : r()));
  if (!process.env.KEEP_CHAT_DIR) rmSync(dir, { recursive: true, force: true });
});

describe('chat server (MSRP over TLS, direct clients)', () => {
  let alice: Joined;
  let bob: Joined;
  let carol: Joined;
  let aliceC: Client;
  let bobC: Client;
  const marker = `imslab-chat-marker-${randomBytes(6).toString('hex')}`;

  it('answers a member 200 with its own msrps a=path (a session-id per participant), passive setup and the accept-types', async () => {
    alice = await joinRoom('alice');
    bob = await joinRoom('bob');
    for (const j of [alice, bob]) {
      expect(j.serverPath).toHaveLength(1);
      expect(j.serverPath[0]).toMatchObject({ scheme: 'msrps', host: CHAT_IP, port: server.msrp.port, transport: 'tcp' });
      const sdp = j.answer.body.toString('utf8');
      expect(sdp).toMatch(/^m=message \d+ TCP\/TLS\/MSRP \*/m);
      expect(sdp).toMatch(/^a=setup:passive/m);
      expect(sdp).toMatch(/^a=accept-types:message\/cpim application\/pkcs7-mime text\/plain/m);
      expect(j.answer.headers.get('Record-Route')).toContain(SCSCF_IP);
      expect(j.answer.headers.get('Contact')).toContain(`sip:chat@${CHAT_IP}`);
      expect(j.answer.headers.get('To')).toMatch(/;tag=/);
    }
    expect(alice.serverPath[0]!.sessionId).not.toBe(bob.serverPath[0]!.sessionId);
    const doc = await rooms();
    expect(doc.rooms[0]).toMatchObject({ user: 'chat-team', messages: 0 });
    expect(doc.rooms[0]!.participants.map((p) => [p.identity, p.connected])).toEqual([[`sip:alice@${DOMAIN}`, false], [`sip:bob@${DOMAIN}`, false]]);
  });

  it('refuses a non-member with 403 and an unknown room with 404, and an offer without MSRP over TLS with 488', async () => {
    const dave = invite('dave');
    sendSip(dave.req);
    expect((await finalResponse(dave.req.headers.get('Call-ID')!, 'INVITE')).status).toBe(403);
    const nope = invite('alice', `sip:chat-nope@${DOMAIN}`);
    sendSip(nope.req);
    expect((await finalResponse(nope.req.headers.get('Call-ID')!, 'INVITE')).status).toBe(404);
    const u: MsrpUri = { scheme: 'msrp', host: IPS.alice, port: 2855, sessionId: newSessionId(), transport: 'tcp', params: [] };
    const plain = invite('alice', ROOM, buildMsrpSdp({ address: IPS.alice, media: [{ port: 2855, tls: false, path: [u], acceptTypes: ['text/plain'] }] }));
    sendSip(plain.req);
    expect((await finalResponse(plain.req.headers.get('Call-ID')!, 'INVITE')).status).toBe(488);
    const garbled = invite('alice', ROOM, 'v=0\r\nthis is no sdp\r\n');
    sendSip(garbled.req);
    expect((await finalResponse(garbled.req.headers.get('Call-ID')!, 'INVITE')).status).toBe(488);
    expect((await rooms()).rooms[0]!.participants).toHaveLength(2);
  });

  it('re-sends a CPIM message byte for byte to the other participant only, stores it in the clear and reports success to the sender', async () => {
    aliceC = await connectAndBind(alice);
    bobC = await connectAndBind(bob);
    await waitFor('both connected', () => server.roomsDocument().rooms[0]!.participants.every((p) => p.connected));
    const body = cpim('alice', `hello room ${marker}`);
    const sent = await aliceC.session.send(body, { contentType: 'message/cpim', successReport: true });
    const report = await aliceC.session.waitForReport(sent.messageId, 5000);
    expect(report.status.code).toBe(200);
    await waitFor('bob receives', () => bobC.got.length === 1);
    const got = bobC.got[0]!;
    expect(Buffer.compare(got.body, body)).toBe(0);
    expect(sha(got.body)).toBe(sha(body));
    expect(got.contentType).toBe('message/cpim');
    // From-Path: the chat server's URI for bob's session (RFC 7701: the server is the sender on each link).
    expect(got.fromPath).toEqual([bob.serverPath[0]]);
    await new Promise((r) => setTimeout(r, 200));
    expect(aliceC.got).toEqual([]);
    const lines = storeLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ room: 'chat-team', sender: `sip:alice@${DOMAIN}`, contentType: 'message/cpim', encoding: 'utf8', sha256: sha(body), bytes: body.length });
    expect(lines[0]!.body).toContain(marker);
    // The server asked bob for a success REPORT, and logged it.
    await waitFor('REPORT from bob logged', () => logLines.some((l) => /REPORT 200/.test(l) && l.includes('sip:bob@')));
    expect((await rooms()).rooms[0]!.messages).toBe(1);
  });

  it('holds a message for a participant whose connection is not there yet, and sends it once its bind SEND arrives', async () => {
    carol = await joinRoom('carol');
    const body = cpim('bob', `held for carol ${marker}`);
    await bobC.session.send(body, { contentType: 'message/cpim' });
    await waitFor('alice receives', () => aliceC.got.length === 1);
    expect(Buffer.compare(aliceC.got[0]!.body, body)).toBe(0);
    await waitFor('held for carol', () => server.roomsDocument().rooms[0]!.participants.find((p) => p.callId === carol.invite.headers.get('Call-ID'))?.held === 1);
    const carolC = await connectAndBind(carol);
    await waitFor('carol receives the held message', () => carolC.got.length === 1);
    expect(sha(carolC.got[0]!.body)).toBe(sha(body));
    expect(server.roomsDocument().rooms[0]!.participants.find((p) => p.identity === `sip:carol@${DOMAIN}`)).toMatchObject({ connected: true, held: 0 });
  });

  it('logs and drops garbage: a malformed MSRP frame on a TLS connection and non-TLS bytes, and keeps serving', async () => {
    // A frame with a transaction id but a broken header block: answered 400 or the connection closed, never a crash.
    const raw = tlsConnect({ socket: netConnect({ host: CHAT_IP, port: server.msrp.port, localAddress: IPS.dave }), host: CHAT_IP, ca: readFileSync(pki.caFile) });
    await new Promise<void>((r, j) => raw.once('secureConnect', r).once('error', j));
    raw.on('error', () => undefined);
    let rawClosed = false;
    raw.once('close', () => (rawClosed = true));
    raw.write('MSRP abcd1234 SEND\r\nTo-Path this is not a header\r\n\u0000\u00ff\r\n-------abcd1234$\r\nMSRP\r\n\r\n');
    raw.write(randomBytes(2048));
    // Framing lost: the server closes that connection (RFC 4975 gives no way to resynchronise).
    await waitFor('the garbage connection closed by the server', () => rawClosed);
    const plain = netConnect({ host: CHAT_IP, port: server.msrp.port, localAddress: IPS.dave });
    plain.on('error', () => undefined);
    await new Promise<void>((r) => plain.once('connect', () => r()));
    plain.write('GET / HTTP/1.0\r\n\r\n');
    await new Promise<void>((r) => plain.once('close', () => r()));
    await waitFor('garbage logged', () => logLines.some((l) => /WARNING MSRP from 127\.9\.2\.5/.test(l)) && logLines.some((l) => /WARNING MSRP TLS from 127\.9\.2\.5.*refused/.test(l)));
    const body = cpim('alice', `after garbage ${marker}`);
    await aliceC.session.send(body, { contentType: 'message/cpim' });
    await waitFor('bob still receives', () => bobC.got.length === 2);
    expect(Buffer.compare(bobC.got[1]!.body, body)).toBe(0);
  });

  it('a garbled SIP datagram is logged and the server still answers', async () => {
    scscf.send(Buffer.from('INVITE nonsense\r\n\r\n'), server.cfg.sipPort, CHAT_IP);
    await waitFor('malformed SIP logged', () => logLines.some((l) => /malformed SIP/.test(l)));
    const opt = createRequest({
      method: 'OPTIONS', uri: ROOM, via: { transport: 'UDP', host: SCSCF_IP, port: scscf.address().port, rport: true },
      from: `<sip:alice@${DOMAIN}>;tag=${newTag()}`, to: `<${ROOM}>`, callId: newCallId(SCSCF_IP), cseq: 1,
    });
    sendSip(opt);
    expect((await finalResponse(opt.headers.get('Call-ID')!, 'OPTIONS')).status).toBe(200);
  });

  it('BYE ends a participation: 200, and it gets no more messages', async () => {
    const bye = createInDialogRequest(bob.dialog, 'BYE', { via: { transport: 'UDP', host: SCSCF_IP, port: scscf.address().port, rport: true } });
    sendSip(bye);
    expect((await finalResponse(bye.headers.get('Call-ID')!, 'BYE')).status).toBe(200);
    expect(server.roomsDocument().rooms[0]!.participants.map((p) => p.identity)).toEqual([`sip:alice@${DOMAIN}`, `sip:carol@${DOMAIN}`]);
    await aliceC.session.send(cpim('alice', 'after bob left'), { contentType: 'message/cpim' });
    await waitFor('stored', () => storeLines().length === 4);
    await new Promise((r) => setTimeout(r, 200));
    expect(bobC.got).toHaveLength(2);
  });

  it('writes the TLS secrets of the accepted connections to its key log', () => {
    const log = readFileSync(join(dir, 'run', 'chat.tls-keys.log'), 'utf8');
    expect(log).toMatch(/^(CLIENT_HANDSHAKE_TRAFFIC_SECRET|CLIENT_RANDOM) /m);
    // The client's own key log names the same secrets (the same TLS sessions).
    const firstSecret = log.split('\n').find((l) => l.startsWith('CLIENT_TRAFFIC_SECRET_0') || l.startsWith('CLIENT_RANDOM'))!;
    expect(readFileSync(join(dir, 'alice.tls-keys.log'), 'utf8') + readFileSync(join(dir, 'bob.tls-keys.log'), 'utf8') + readFileSync(join(dir, 'carol.tls-keys.log'), 'utf8')).toContain(firstSecret.split(' ')[1]!);
    expect(serverRequests).toEqual([]);
  });
});
