/**
 * MsrpConnection / MsrpSession between two of our endpoints over TLS on
 * loopback (no relay): messages and chunked files with REPORTs, the TLS key
 * log, 4xx answers, timeouts (408 locally), and a peer that sends malformed
 * frames or lying Byte-Ranges. The Kamailio relay is in relay-interop.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensurePki, type PkiFiles } from '@imslab/topology';
import {
  connectMsrp, MsrpConnection, MsrpConnectionError, MsrpResponseError, MsrpSession, MsrpTimeoutError, newSessionId, parseFrames,
  type MsrpByteRangeError, type MsrpError, type MsrpUri, type ReceivedMessage,
} from '../src/index.ts';

const PEER_IP = '127.9.0.11';
const CLIENT_IP = '127.9.0.12';
const dir = mkdtempSync(join(tmpdir(), 'imslab-msrp-session-'));
let pki: PkiFiles;
let server: Server;
let port: number;
/** The server side's connection for the current test. */
let serverSide: Promise<MsrpConnection>;
let onServerConnection: (c: MsrpConnection) => void;
const cleanups: Array<() => void> = [];

const uri = (ip: string, sessionId = newSessionId()): MsrpUri => ({ scheme: 'msrps', host: ip, port: 2855, sessionId, transport: 'tcp', params: [] });

beforeAll(async () => {
  pki = ensurePki(join(dir, 'pki'), [{ name: 'msrp-peer', ips: [PEER_IP] }]);
  server = createServer({ cert: readFileSync(pki.certFile('msrp-peer')), key: readFileSync(pki.keyFile('msrp-peer')) }, (s: TLSSocket) => {
    onServerConnection(new MsrpConnection(s, 2000));
  });
  await new Promise<void>((r) => server.listen(0, PEER_IP, r));
  port = (server.address() as { port: number }).port;
}, 30_000);

afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function pair(keylogFile?: string): Promise<{ client: MsrpConnection; peer: MsrpConnection }> {
  serverSide = new Promise((r) => (onServerConnection = r));
  const client = await connectMsrp({ host: PEER_IP, port, localAddress: CLIENT_IP, tls: { ca: readFileSync(pki.caFile) }, keylogFile, transactionTimeoutMs: 2000 });
  const peer = await serverSide;
  cleanups.push(() => client.close(), () => peer.close());
  return { client, peer };
}

describe('MSRP sessions over TLS, endpoint to endpoint', () => {
  it('sends a message and a chunked 300 kB file with success REPORTs, and logs the TLS secrets', async () => {
    const keylog = join(dir, 'client.tls-keys.log');
    const { client, peer } = await pair(keylog);
    const a = uri(CLIENT_IP);
    const b = uri(PEER_IP);
    const alice = new MsrpSession({ connection: client, localUri: a, toPath: [b] });
    const bob = new MsrpSession({ connection: peer, localUri: b, toPath: [a] });
    const got: ReceivedMessage[] = [];
    bob.on('message', (m) => got.push(m));
    const text = await alice.send('hello', { contentType: 'text/plain', successReport: true });
    expect((await alice.waitForReport(text.messageId, 2000)).status.code).toBe(200);
    const file = randomBytes(300_000);
    const sent = await alice.send(file, { contentType: 'image/jpeg', successReport: true, chunkSize: 4096 });
    const rep = await alice.waitForReport(sent.messageId, 2000);
    expect(rep.byteRange).toEqual({ start: 1, end: file.length, total: file.length });
    expect(got.map((m) => m.body.length)).toEqual([5, file.length]);
    expect(got[1]!.body.equals(file)).toBe(true);
    expect(got[1]!.chunks).toBe(Math.ceil(file.length / 4096));
    // Bob answers Alice too, on the same connection.
    const back = new Promise<ReceivedMessage>((r) => alice.once('message', r));
    await bob.send('hi', { contentType: 'text/plain' });
    expect((await back).body.toString()).toBe('hi');
    expect(readFileSync(keylog, 'utf8')).toMatch(/^(CLIENT_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|CLIENT_RANDOM) [0-9a-f]+ [0-9a-f]+$/m);
  });

  it('a type the peer does not accept is answered 415 (RFC 4975 sec. 7.3.1)', async () => {
    const { client, peer } = await pair();
    const a = uri(CLIENT_IP);
    const b = uri(PEER_IP);
    new MsrpSession({ connection: peer, localUri: b, toPath: [a], acceptTypes: ['text/plain'] });
    const alice = new MsrpSession({ connection: client, localUri: a, toPath: [b] });
    const e = await alice.send('x', { contentType: 'image/png' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MsrpResponseError);
    expect((e as MsrpResponseError).status).toBe(415);
  });

  it('a SEND to a session the peer does not have is answered 481 (sec. 10.8)', async () => {
    const { client } = await pair();
    const alice = new MsrpSession({ connection: client, localUri: uri(CLIENT_IP), toPath: [uri(PEER_IP, 'nosuchsession')] });
    const e = await alice.send('x', { contentType: 'text/plain' }).catch((x: unknown) => x);
    expect((e as MsrpResponseError).status).toBe(481);
  });

  it('a peer that never answers: the SEND fails with a 408 timeout, and a REPORT wait times out', async () => {
    const { client, peer } = await pair();
    peer.socket.pause(); // reads nothing, answers nothing
    const alice = new MsrpSession({ connection: client, localUri: uri(CLIENT_IP), toPath: [uri(PEER_IP)] });
    const t0 = Date.now();
    const e = await alice.send('x', { contentType: 'text/plain' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MsrpTimeoutError);
    expect((e as MsrpTimeoutError).status).toBe(408);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    await expect(alice.waitForReport('nothing', 50)).rejects.toBeInstanceOf(MsrpTimeoutError);
  });

  it('malformed bytes from the peer: an error event, the connection closed, pending requests failed, no crash', async () => {
    const { client, peer } = await pair();
    const errors: MsrpError[] = [];
    client.on('error', (e) => errors.push(e));
    const closed = new Promise<void>((r) => client.once('close', r));
    const alice = new MsrpSession({ connection: client, localUri: uri(CLIENT_IP), toPath: [uri(PEER_IP)] });
    peer.socket.pause();
    const pending = alice.send('x', { contentType: 'text/plain' }).catch((x: unknown) => x);
    peer.socket.write('HTTP/1.1 400 Bad Request\r\n\r\n');
    await closed;
    expect(errors[0]).toBeInstanceOf(MsrpConnectionError);
    expect((errors[0] as MsrpConnectionError).code).toBe('malformed-frame');
    expect(client.closed).toBe(true);
    expect(await pending).toBeInstanceOf(MsrpConnectionError);
  });

  it('a framed but invalid request gets 400 and the connection goes on; a lying Byte-Range gets 400 and loses nothing', async () => {
    const { client, peer } = await pair();
    const a = uri(CLIENT_IP, 'alicesess');
    const b = uri(PEER_IP, 'bobsess');
    const alice = new MsrpSession({ connection: client, localUri: a, toPath: [b] });
    const refusals: MsrpByteRangeError[] = [];
    alice.on('message-error', (e) => refusals.push(e));
    const msgs: ReceivedMessage[] = [];
    alice.on('message', (m) => msgs.push(m));
    // The peer writes raw frames: we read the client's answers off the wire.
    const answers: string[] = [];
    peer.socket.removeAllListeners('data');
    peer.socket.on('data', (c: Buffer) => {
      for (const e of parseFrames(c).events) if (e.kind === 'frame' && e.frame.kind === 'response') answers.push(`${e.frame.transactionId} ${e.frame.status}`);
    });
    const head = (tid: string, range: string) => `MSRP ${tid} SEND\r\nTo-Path: msrps://${CLIENT_IP}:2855/alicesess;tcp\r\nFrom-Path: msrps://${PEER_IP}:2855/bobsess;tcp\r\nMessage-ID: msg12345\r\nByte-Range: ${range}\r\nContent-Type: text/plain\r\n\r\n`;
    peer.socket.write(`MSRP noMsgId1 SEND\r\nTo-Path: msrps://${CLIENT_IP}:2855/alicesess;tcp\r\nFrom-Path: msrps://${PEER_IP}:2855/bobsess;tcp\r\nContent-Type: text/plain\r\n\r\nx\r\n-------noMsgId1$\r\n`);
    peer.socket.write(`${head('chunk0001', '1-4/8')}abcd\r\n-------chunk0001+\r\n`);
    peer.socket.write(`${head('chunk0002', '3-6/8')}XXef\r\n-------chunk0002+\r\n`); // overlap, other bytes
    peer.socket.write(`${head('chunk0003', '5-8/8')}efgh\r\n-------chunk0003$\r\n`);
    for (let i = 0; i < 100 && answers.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
    expect(answers).toEqual(['noMsgId1 400', 'chunk0001 200', 'chunk0002 400', 'chunk0003 200']);
    expect(refusals.map((e) => e.code)).toEqual(['range-overlap']);
    expect(msgs.map((m) => m.body.toString())).toEqual(['abcdefgh']);
    expect(client.closed).toBe(false);
  });
});

describe('connectMsrp failures', () => {
  it('a certificate not from the given CA is refused', async () => {
    const other = ensurePki(join(dir, 'other-pki'), [{ name: 'x', ips: [PEER_IP] }]);
    const e = await connectMsrp({ host: PEER_IP, port, tls: { ca: readFileSync(other.caFile) } }).catch((x: unknown) => x);
    expect((e as MsrpConnectionError).code).toBe('connect-failed');
    onServerConnection = () => undefined;
  }, 30_000);

  it('nothing listening: connect-failed', async () => {
    const s: TcpServer = createTcpServer();
    await new Promise<void>((r) => s.listen(0, PEER_IP, r));
    const free = (s.address() as { port: number }).port;
    await new Promise<void>((r) => s.close(() => r()));
    const e = await connectMsrp({ host: PEER_IP, port: free }).catch((x: unknown) => x);
    expect((e as MsrpConnectionError).code).toBe('connect-failed');
  });
});

