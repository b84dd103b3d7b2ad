/**
 * ControlServer routing beyond plain routes: path parameters, the health
 * route of an element, error bodies with more fields, the body limit.
 * Loopback 127.0.8.1 only. (The plain behaviour is pinned in
 * packages/app-server/test/sip-endpoint.test.ts.)
 */
import { request as httpRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlServer, HttpError } from '../src/index.ts';

const ADDR = '127.0.8.1';
const PORT = 28_090;

/** One request on a fresh connection. */
function call(path: string, init: { method?: string; body?: string | Buffer } = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }>((resolve, reject) => {
    const req = httpRequest({ host: ADDR, port: PORT, path, method: init.method ?? 'GET', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
        } catch (e) {
          reject(e as Error);
        }
      });
      res.on('error', reject);
    });
    // The server may answer (413) and close before it read the whole body.
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    req.end(init.body);
  });
}

describe('ControlServer routes with path parameters', () => {
  let server: ControlServer;
  const warnings: string[] = [];
  beforeEach(async () => {
    warnings.length = 0;
    server = new ControlServer(ADDR, PORT, {
      'GET /health': () => ({ ok: true, name: 'ue-1', registered: false }),
      'GET /calls': () => ({ calls: ['a'] }),
      'GET /calls/current': () => ({ exact: true }),
      'GET /calls/:callId': (_req, _body, p) => {
        if (p['callId'] === 'gone') throw new HttpError(404, 'no call gone', { knownCallIds: ['a'] });
        return { callId: p['callId'] };
      },
      'POST /calls/:callId/secure': (_req, body, p) => ({ callId: p['callId'], got: body ?? null }),
      'POST /boom': () => {
        throw new Error('a bug');
      },
    }, { log: { warn: (t) => void warnings.push(t) } });
    await server.start();
  });
  afterEach(() => server.close());

  it('passes the decoded parameter; exact routes win; a trailing slash is ignored', async () => {
    expect(await call('/calls/abc%40127.0.0.1')).toMatchObject({ status: 200, body: { callId: 'abc@127.0.0.1' } });
    expect(await call(`/calls/${encodeURIComponent('x/y z')}`)).toMatchObject({ status: 200, body: { callId: 'x/y z' } });
    expect(await call('/calls/current')).toMatchObject({ status: 200, body: { exact: true } });
    expect(await call('/calls/')).toMatchObject({ status: 200, body: { calls: ['a'] } });
    expect(await call('/calls/q1/secure', { method: 'POST', body: '{"security":"e2e"}' })).toMatchObject({ status: 200, body: { callId: 'q1', got: { security: 'e2e' } } });
  });

  it('matches segment by segment and method by method', async () => {
    expect((await call('/calls/a/b')).status).toBe(404);
    expect((await call('/calls/q1/secure')).status).toBe(404);
    const r = await call('/calls/q1', { method: 'POST' });
    expect(r.body).toEqual({ error: 'no route POST /calls/q1; routes: GET /health, GET /calls, GET /calls/current, GET /calls/:callId, POST /calls/:callId/secure, POST /boom' });
  });

  it('refuses a parameter that is not valid percent-encoding with 400', async () => {
    expect(await call('/calls/%E0%A4%A')).toMatchObject({ status: 400, body: { error: '/calls/%E0%A4%A: bad percent-encoding in "%E0%A4%A"' } });
  });

  it('serves the element\'s own GET /health instead of the built-in one', async () => {
    expect(await call('/health')).toMatchObject({ status: 200, body: { ok: true, name: 'ue-1', registered: false } });
  });

  it('adds the extra fields of an HttpError to its body; logs a route\'s bug and answers 500', async () => {
    expect(await call('/calls/gone')).toMatchObject({ status: 404, body: { error: 'no call gone', knownCallIds: ['a'] } });
    expect(warnings).toEqual([]);
    expect(await call('/boom', { method: 'POST' })).toMatchObject({ status: 500, body: { error: 'a bug' } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^control API: POST \/boom failed: Error: a bug/);
  });

  it('answers a body above 64 KiB with 413 and closes the connection', async () => {
    const big = Buffer.alloc(70 * 1024, 0x20);
    const r = await call('/calls/q1/secure', { method: 'POST', body: big });
    expect(r).toMatchObject({ status: 413, body: { error: 'request body larger than 65536 bytes' } });
    expect(r.headers['connection']).toBe('close');
    // The server still serves.
    expect((await call('/calls')).status).toBe(200);
  });

  it('marks its answers not cacheable', async () => {
    expect((await call('/calls')).headers['cache-control']).toBe('no-store');
  });
});
