/**
 * KmsClient against stand-in servers: success and refusal parsing, keep-alive,
 * TLS key log, and the failures without an HTTP answer (status null):
 * unreachable, timeout, untrusted certificate, closed client.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePki } from '@imslab/topology';
import { KmsClient, KmsClientOptionsError, KmsError, devicePskId, kmsIdentityUri } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'imslab-kms-client-'));
const pkiA = ensurePki(join(dir, 'a'), [{ name: 'kms', ips: ['127.0.6.20', '127.0.6.23'] }]);
const pkiB = ensurePki(join(dir, 'b'), [{ name: 'kms', ips: ['127.0.6.20'] }]);

async function error(p: Promise<unknown>): Promise<KmsError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(KmsError);
  return e as KmsError;
}

let server: Server;
let connections = 0;

beforeAll(async () => {
  // A stand-in KMS: echoes reversed bytes on /mikey/request, refuses /mikey/resolve like the KMS, 500s with text elsewhere.
  server = createHttpsServer({ cert: readFileSync(pkiA.certFile('kms')), key: readFileSync(pkiA.keyFile('kms')) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/mikey/request' && req.headers['content-type'] === 'application/mikey') {
        res.writeHead(200, { 'content-type': 'application/mikey' });
        res.end(Buffer.from(body).reverse());
      } else if (req.url === '/mikey/resolve') {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'ticket for sip:bob@ims.test (policy any-device-of-user) not resolvable by sip:carol@ims.test', code: 'not-a-device-of-user' }));
      } else {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('boom');
      }
    });
  });
  server.on('secureConnection', () => connections++);
  await new Promise<void>((r) => server.listen(8443, '127.0.6.20', r));
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('KmsClient', () => {
  it('posts application/mikey and returns the answer bytes, over one kept-alive connection', async () => {
    const keylogFile = join(dir, 'client.tls-keys.log');
    const c = new KmsClient({ url: 'https://127.0.6.20:8443/', caFile: pkiA.caFile, keylogFile, localAddress: '127.0.6.29' });
    try {
      const before = connections;
      expect([...(await c.request(new Uint8Array([1, 2, 3])))]).toEqual([3, 2, 1]);
      expect([...(await c.request(new Uint8Array([4, 5])))]).toEqual([5, 4]);
      expect(connections - before).toBe(1);
    } finally {
      c.close();
    }
    // close() ends the key log stream asynchronously: wait for the lines to land (bounded).
    const readLog = () => {
      try {
        return readFileSync(keylogFile, 'utf8');
      } catch {
        return '';
      }
    };
    for (let i = 0; i < 100 && !readLog().includes('\n'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(readLog()).toMatch(/^(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0) [0-9a-f]+ [0-9a-f]+$/m);
  });

  it('a kept-alive socket that dies under a request is retried once on a fresh one', async () => {
    const perSocket = new WeakMap<object, number>();
    const flaky = createHttpsServer({ cert: readFileSync(pkiA.certFile('kms')), key: readFileSync(pkiA.keyFile('kms')) }, (req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      req.resume();
      // The second request on a connection: the server drops it (as when its idle timer fires).
      if (n === 2) return req.socket.destroy();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/mikey' });
        res.end(Buffer.from([n]));
      });
    });
    await new Promise<void>((r) => flaky.listen(8443, '127.0.6.23', r));
    const c = new KmsClient({ url: 'https://127.0.6.23:8443', caFile: pkiA.caFile });
    try {
      expect([...(await c.request(new Uint8Array([1])))]).toEqual([1]);
      expect([...(await c.request(new Uint8Array([1])))]).toEqual([1]);
    } finally {
      c.close();
      flaky.closeAllConnections();
      flaky.close();
    }
  });

  it('a refusal carries the KMS’s status, code and reason', async () => {
    const c = new KmsClient({ url: 'https://127.0.6.20:8443', ca: readFileSync(pkiA.caFile) });
    try {
      const e = await error(c.resolve(new Uint8Array([1])));
      expect([e.status, e.code]).toEqual([403, 'not-a-device-of-user']);
      expect(e.reason).toContain('not resolvable by sip:carol@ims.test');
      expect(e.message).toBe(`KMS https://127.0.6.20:8443/mikey/resolve refused with 403 not-a-device-of-user: ${e.reason}`);
    } finally {
      c.close();
    }
  });

  it('unreachable KMS → status null, code unreachable, the cause in the message', async () => {
    const c = new KmsClient({ url: 'https://127.0.6.21:8443', caFile: pkiA.caFile });
    const e = await error(c.request(new Uint8Array([1])));
    expect(e.status).toBeNull();
    expect(e.code).toBe('unreachable');
    expect(e.message).toMatch(/^KMS https:\/\/127\.0\.6\.21:8443\/mikey\/request: ECONNREFUSED: connection refused/);
    c.close();
  });

  it('a KMS that accepts but never answers → timeout after timeoutMs', async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(8443, '127.0.6.22', r));
    const c = new KmsClient({ url: 'https://127.0.6.22:8443', caFile: pkiA.caFile, timeoutMs: 300 });
    try {
      const t0 = Date.now();
      const e = await error(c.request(new Uint8Array([1])));
      const took = Date.now() - t0;
      expect([e.status, e.code]).toEqual([null, 'timeout']);
      expect(e.reason).toBe('no answer within 300 ms');
      expect(took).toBeGreaterThanOrEqual(250);
      expect(took).toBeLessThan(3000);
    } finally {
      c.close();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('a certificate from another CA → status null, code tls', async () => {
    const c = new KmsClient({ url: 'https://127.0.6.20:8443', caFile: pkiB.caFile });
    const e = await error(c.request(new Uint8Array([1])));
    expect([e.status, e.code]).toEqual([null, 'tls']);
    expect(e.reason).toMatch(/certificate/i);
    c.close();
  });

  it('a certificate that does not name the KMS address → status null, code tls', async () => {
    const other = createHttpsServer({ cert: readFileSync(pkiA.certFile('kms')), key: readFileSync(pkiA.keyFile('kms')) }, (_req, res) => res.end());
    await new Promise<void>((r) => other.listen(8443, '127.0.6.24', r));
    const c = new KmsClient({ url: 'https://127.0.6.24:8443', caFile: pkiA.caFile });
    try {
      const e = await error(c.request(new Uint8Array([1])));
      expect([e.status, e.code]).toEqual([null, 'tls']);
      expect(e.reason).toContain('does not name the address');
    } finally {
      c.close();
      other.close();
    }
  });

  it('a non-KMS answer and a closed client', async () => {
    const c = new KmsClient({ url: 'https://127.0.6.20:8443', caFile: pkiA.caFile });
    const e = await error((c as unknown as { post(p: string, b: Uint8Array): Promise<Uint8Array> }).post('/other', new Uint8Array([1])));
    expect([e.status, e.code, e.reason]).toEqual([500, 'http-500', 'boom']);
    c.close();
    expect((await error(c.request(new Uint8Array([1])))).code).toBe('closed');
  });

  it('refuses unusable options', () => {
    expect(() => new KmsClient({ url: 'http://127.0.6.20:8443' })).toThrow(KmsClientOptionsError);
    expect(() => new KmsClient({ url: 'https://127.0.6.20:8443/mikey' })).toThrow(/without a path/);
    expect(() => new KmsClient({ url: 'https://127.0.6.20:8443', caFile: '/nonexistent.pem' })).toThrow(/option 'caFile'/);
    expect(() => new KmsClient({ url: 'https://127.0.6.20:8443', timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});

describe('identity conventions', () => {
  it('IDRkms is the origin with an explicit port; IDRpsk is <device>@<domain>', () => {
    expect(kmsIdentityUri('https://127.0.2.40:8443/')).toBe('https://127.0.2.40:8443');
    expect(kmsIdentityUri('https://kms.ims.test')).toBe('https://kms.ims.test:443');
    expect(devicePskId('bob-1', 'ims.test')).toBe('bob-1@ims.test');
  });
});
