/**
 * The accepting side: listenMsrp over TCP and TLS, sessions routed on every
 * connection (open before or after the route), the server's TLS key log,
 * and handshake garbage reported, not thrown.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensurePki } from '@imslab/topology';
import {
  connectMsrp, listenMsrp, MsrpSession, newSessionId,
  type MsrpConnection, type MsrpServer, type MsrpUri, type ReceivedMessage,
} from '../src/index.ts';

const HOST = '127.9.2.40';
const CLIENT = '127.9.2.41';
const dir = mkdtempSync(join(tmpdir(), 'imslab-msrp-server-'));
const pki = ensurePki(join(dir, 'pki'), [{ name: 'srv', ips: [HOST] }]);
const open: Array<MsrpServer | MsrpConnection> = [];

afterAll(async () => {
  for (const o of open.reverse()) await o.close();
  rmSync(dir, { recursive: true, force: true });
});

const uri = (host: string, port: number, scheme: 'msrp' | 'msrps'): MsrpUri => ({ scheme, host, port, sessionId: newSessionId(), transport: 'tcp', params: [] });

async function echoPair(srv: MsrpServer, tls: boolean) {
  const scheme = tls ? 'msrps' : 'msrp';
  const serverUri = uri(HOST, srv.port, scheme);
  const clientUri = uri(CLIENT, 2855, scheme);
  const got: ReceivedMessage[] = [];
  // Routed before the client connects: the binding reaches the connection accepted later.
  srv.route(serverUri.sessionId!, {
    handleRequest: (frame, info, conn) => {
      const s = new MsrpSession({ connection: conn, localUri: serverUri, toPath: [clientUri] });
      s.on('message', (m) => got.push(m));
      s.handleRequest(frame, info, conn);
    },
  });
  const conn = await connectMsrp({ host: HOST, port: srv.port, localAddress: CLIENT, ...(tls ? { tls: { ca: readFileSync(pki.caFile) }, keylogFile: join(dir, 'client.keys') } : {}) });
  open.push(conn);
  const client = new MsrpSession({ connection: conn, localUri: clientUri, toPath: [serverUri] });
  return { client, got, serverUri };
}

describe('listenMsrp', () => {
  it('accepts TCP connections and routes a session-id routed before the connection existed', async () => {
    const srv = await listenMsrp({ host: HOST, port: 0 });
    open.push(srv);
    const { client, got } = await echoPair(srv, false);
    await client.send('over tcp', { contentType: 'text/plain' });
    expect(got.map((m) => m.body.toString())).toEqual(['over tcp']);
    expect(srv.connections.size).toBe(1);
    // A session-id nobody routed: 481 (RFC 4975 sec. 10.8), the connection stays.
    const stray = new MsrpSession({ connection: client.connection, localUri: uri(CLIENT, 2855, 'msrp'), toPath: [uri(HOST, srv.port, 'msrp')] });
    await expect(stray.send('x', { contentType: 'text/plain' })).rejects.toMatchObject({ status: 481 });
    expect(client.connection.closed).toBe(false);
  });

  it('accepts TLS, writes the server side key log, and reports garbage instead of a handshake', async () => {
    const keylogFile = join(dir, 'server.tls-keys.log');
    const srv = await listenMsrp({
      host: HOST, port: 0, keylogFile,
      tls: { cert: readFileSync(pki.certFile('srv')), key: readFileSync(pki.keyFile('srv')), ca: readFileSync(pki.caFile) },
    });
    open.push(srv);
    const errors: string[] = [];
    srv.on('client-error', (e, peer) => errors.push(`${peer.address}: ${e.message}`));
    const peers: string[] = [];
    srv.on('connection', (_c, peer) => peers.push(peer.address));
    const { client, got } = await echoPair(srv, true);
    await client.send('over tls', { contentType: 'text/plain' });
    expect(got.map((m) => m.body.toString())).toEqual(['over tls']);
    expect(peers).toEqual([CLIENT]);
    const serverKeys = readFileSync(keylogFile, 'utf8');
    const clientKeys = readFileSync(join(dir, 'client.keys'), 'utf8');
    expect(serverKeys.trim().split('\n').length).toBeGreaterThan(0);
    for (const line of serverKeys.trim().split('\n')) expect(clientKeys).toContain(line);
    const raw = netConnect({ host: HOST, port: srv.port, localAddress: CLIENT });
    raw.on('error', () => undefined);
    await new Promise<void>((r) => raw.once('connect', () => r()));
    raw.write('definitely not a TLS ClientHello\r\n\r\n');
    await new Promise<void>((r) => raw.once('close', () => r()));
    for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(errors.length).toBe(1);
    expect(errors[0]).toContain(CLIENT);
    // Still serving.
    await client.send('after garbage', { contentType: 'text/plain' });
    expect(got.map((m) => m.body.toString())).toEqual(['over tls', 'after garbage']);
  });

  it('unroute removes the session-id from every connection', async () => {
    const srv = await listenMsrp({ host: HOST, port: 0 });
    open.push(srv);
    const { client, serverUri } = await echoPair(srv, false);
    await client.send('bound', { contentType: 'text/plain' });
    srv.unroute(serverUri.sessionId!);
    await expect(client.send('gone', { contentType: 'text/plain' })).rejects.toMatchObject({ status: 481 });
  });

  it('names the address when the port is taken', async () => {
    const a = await listenMsrp({ host: HOST, port: 0 });
    open.push(a);
    await expect(listenMsrp({ host: HOST, port: a.port })).rejects.toThrow(/in use/);
  });
});
