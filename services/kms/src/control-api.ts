/**
 * The HTTP/JSON control API every imslab element has (plain HTTP on the
 * element's control port): `GET /health`, `GET /audit`, `GET /status`.
 * The runner checks readiness with /health and reads the audit after a
 * scenario to see who obtained which keys.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { KmsStatus } from './kms-stats.ts';
import type { AuditEntry } from './audit-log.ts';

/** What the control API shows. */
export interface ControlSource {
  name: string;
  status(): KmsStatus;
  auditEntries(): AuditEntry[];
}

const ENDPOINTS = 'GET /health, GET /audit, GET /status';

function send(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), 'cache-control': 'no-store' });
  res.end(data);
}

/** Creates the control server (not yet listening). Request bodies are ignored. */
export function createControlServer(src: ControlSource): Server {
  const server = createServer((req, res) => {
    try {
      req.resume();
      const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '') || '/';
      const known = path === '/health' || path === '/audit' || path === '/status';
      if (!known) return send(res, 404, { error: `no such endpoint ${path}; endpoints: ${ENDPOINTS}`, code: 'not-found' });
      if (req.method !== 'GET') return send(res, 405, { error: `${req.method} ${path}: only GET is accepted; endpoints: ${ENDPOINTS}`, code: 'method-not-allowed' });
      if (path === '/health') return send(res, 200, { ok: true, name: src.name });
      if (path === '/audit') return send(res, 200, { entries: src.auditEntries() });
      return send(res, 200, src.status());
    } catch (e) {
      if (!res.headersSent) send(res, 500, { error: (e as Error).message, code: 'internal' });
    }
  });
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  return server;
}
