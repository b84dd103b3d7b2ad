/**
 * The KMS's HTTPS interface: TS 33.328 carries the Ticket Request and
 * Ticket Resolve exchanges of RFC 6043 between UE and KMS over HTTP (the
 * testbed uses TLS 1.2+ with the testbed CA). One MIKEY message per POST:
 *
 *   POST /mikey/request  body REQUEST_INIT_PSK → 200 REQUEST_RESP
 *   POST /mikey/resolve  body RESOLVE_INIT_PSK → 200 RESOLVE_RESP
 *
 * Content-Type application/mikey both ways (RFC 3830 sec. 10). A refusal is
 * a 4xx with `{ "error": <reason>, "code": <short code> }`, an audit entry
 * and a log line; nothing a client sends can stop the server.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { AuditLog, auditEntry, type AuditDraft, type AuditOp } from './audit-log.ts';
import type { TlsMaterial } from './config.ts';
import { KmsRefusal } from './errors.ts';
import type { KmsCounters } from './kms-stats.ts';
import type { Logger } from './log.ts';
import { toRefusal } from './refusal.ts';
import { issueGroupMasterKey, provisionSakkeKeys } from './sakke-endpoint.ts';
import type { SakkeKms } from './sakke-kms.ts';
import { issueTicket, type TicketContext } from './ticket-issuer.ts';
import { resolveTicket } from './ticket-resolver.ts';

/** Content type of MIKEY messages (RFC 3830 sec. 10). */
export const MIKEY_CONTENT_TYPE = 'application/mikey';
/**
 * Largest accepted body. Our REQUEST_INIT is ~150 octets and a RESOLVE_INIT
 * carries a ticket of at most 4 KiB (mikey's MAX_TICKET_DATA); 16 KiB leaves
 * room without letting a client make the KMS buffer much.
 */
export const MAX_MIKEY_BODY = 16 * 1024;

const ROUTES: Readonly<Record<string, AuditOp>> = { '/mikey/request': 'issue', '/mikey/resolve': 'resolve', '/mikey/resolve-deferred': 'resolve', '/sakke/keys': 'provision', '/gms/gmk': 'gmk' };

/** What the endpoint needs. */
export interface MikeyEndpointDeps {
  ctx: TicketContext;
  /** SAKKE/ECCSI keys and the group management server (POST /sakke/keys, /gms/gmk). */
  sakke: SakkeKms;
  audit: AuditLog;
  counters: KmsCounters;
  log: Logger;
}

/**
 * Creates the HTTPS server (not yet listening). TLS secrets of every
 * connection go to `keylogFile` (SSLKEYLOGFILE format) so the captures of
 * the KMS link can be opened in Wireshark.
 */
export function createMikeyServer(tls: TlsMaterial, keylogFile: string, deps: MikeyEndpointDeps): { server: Server; keylog: WriteStream } {
  const keylog = createWriteStream(keylogFile, { flags: 'a' });
  keylog.on('error', (e) => deps.log.warn(`TLS key log ${keylogFile}: ${e.message}`));
  const server = createServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, (req, res) => {
    handle(req, res, deps).catch((e: unknown) => {
      // Last resort: handle() answers every request itself; this only guards against a bug there.
      deps.log.warn(`request handling failed: ${(e as Error)?.stack ?? String(e)}`);
      if (!res.headersSent) send(res, 500, { error: 'internal error', code: 'internal' });
    });
  });
  server.on('keylog', (line: Buffer) => keylog.write(line));
  server.on('tlsClientError', (e: Error & { code?: string }, socket) => deps.log.info(`TLS handshake with ${socket.remoteAddress}:${socket.remotePort} failed: ${e.code ?? e.message}`));
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  return { server, keylog };
}

/** The answer to one authenticated-or-refused request of `op`. */
function answerFor(op: AuditOp, path: string, bytes: Uint8Array, deps: MikeyEndpointDeps, draft: AuditDraft): Uint8Array {
  switch (op) {
    case 'issue':
      return issueTicket(bytes, deps.ctx, draft);
    case 'resolve':
      // resolve-deferred: the ticket came with a stored message (voicemail); its initiator is gone (TR 33.828 4.1.2).
      return resolveTicket(bytes, deps.ctx, draft, path === '/mikey/resolve-deferred');
    case 'provision':
      return provisionSakkeKeys(bytes, deps.ctx, deps.sakke, draft);
    case 'gmk':
      return issueGroupMasterKey(bytes, deps.ctx, deps.sakke, draft);
  }
}

function send(res: ServerResponse, status: number, body: object, extra: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...extra });
  res.end(data);
}

/** Reads the body up to `max` octets; a longer one is a 413 refusal. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.pause();
        reject(new KmsRefusal(413, 'too-large', `body larger than ${max} bytes; a MIKEY message for this KMS is far smaller`));
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: MikeyEndpointDeps): Promise<void> {
  const client = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
  const path = (req.url ?? '/').split('?')[0]!;
  const op = ROUTES[path];
  if (!op) {
    deps.log.info(`refused ${req.method} ${path} from ${client}: 404`);
    return send(res, 404, { error: `no such endpoint ${path}; use POST /mikey/request, /mikey/resolve, /mikey/resolve-deferred, /sakke/keys or /gms/gmk`, code: 'not-found' }, { connection: 'close' });
  }
  deps.counters.requests++;
  const draft: AuditDraft = { op, client };
  const t0 = deps.ctx.now();
  try {
    if (req.method !== 'POST') throw new KmsRefusal(405, 'method-not-allowed', `${req.method} ${path}: only POST is accepted`);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== MIKEY_CONTENT_TYPE) throw new KmsRefusal(415, 'unsupported-media-type', `Content-Type must be ${MIKEY_CONTENT_TYPE} (a binary MIKEY message), got ${type ? JSON.stringify(type) : 'none'}`);
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > MAX_MIKEY_BODY) throw new KmsRefusal(413, 'too-large', `body of ${declared} bytes is larger than ${MAX_MIKEY_BODY}; a MIKEY message for this KMS is far smaller`);
    const body = await readBody(req, MAX_MIKEY_BODY);
    if (body.length === 0) throw new KmsRefusal(400, 'empty-body', `the body must be a MIKEY ${op === 'resolve' ? 'RESOLVE_INIT_PSK' : 'REQUEST_INIT_PSK'} message`);
    const bytes = new Uint8Array(body.buffer, body.byteOffset, body.length);
    const answer = answerFor(op, path, bytes, deps, draft);
    const entry = auditEntry(draft, 'allowed', new Date(t0));
    try {
      deps.audit.append(entry);
    } catch (ae) {
      // No keys leave the KMS unaudited: fail closed.
      throw new KmsRefusal(503, 'audit-unavailable', `the audit log cannot be written (${(ae as Error).message}); refusing rather than handing out keys unrecorded`);
    }
    deps.counters[op === 'issue' ? 'issued' : op === 'resolve' ? 'resolved' : op === 'provision' ? 'provisioned' : 'gmks']++;
    deps.log.info(
      op === 'issue'
        ? `issued ticket ${entry.ticketId} ${entry.initiator} (${entry.initiatorDevice}) -> ${entry.responder} policy ${entry.policy} to ${client}`
        : op === 'resolve'
          ? `resolved ticket ${entry.ticketId} for ${entry.resolverDevice} (${entry.resolver}): ${entry.reason}`
          : `${op} to ${entry.initiatorDevice} (${entry.initiator}): ${entry.reason}`,
    );
    res.writeHead(200, { 'content-type': op === 'provision' ? 'application/json' : MIKEY_CONTENT_TYPE, 'content-length': answer.length, 'cache-control': 'no-store' });
    res.end(answer);
  } catch (e) {
    const r = toRefusal(e);
    deps.counters.refuse(r.code, r.unexpected);
    try {
      deps.audit.append(auditEntry(draft, 'refused', new Date(t0), r));
    } catch (ae) {
      deps.log.warn(`audit log write failed: ${(ae as Error).message}`);
    }
    deps.log.info(`refused ${op} from ${client}: ${r.status} ${r.code}: ${r.reason}`);
    if (r.unexpected) deps.log.warn(`unanticipated error class while handling ${op}: ${(e as Error)?.stack ?? String(e)}`);
    // After a 413 or an unread body, do not keep the connection: the rest of the body would follow.
    const close = r.status === 413 || !req.complete;
    send(res, r.status, { error: r.reason, code: r.code }, close ? { connection: 'close' } : r.status === 405 ? { allow: 'POST' } : {});
  }
}
