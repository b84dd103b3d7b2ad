import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isValidUri } from '@imslab/sip';
import type { TicketOptions } from './call.ts';
import { SECURITY_MODES, TICKET_POLICIES, type SecurityMode, type TicketPolicy } from './config.ts';
import { HttpError, PortInUseError } from './errors.ts';
import { IncomingCall } from './incoming-call.ts';
import type { Ue } from './ue.ts';

const MAX_BODY = 64 * 1024;
const ENDPOINTS = 'GET /health, POST /register, POST /unregister, POST /call, POST /answer, POST /hangup, POST /busy, GET /calls, GET /calls/<callId>, POST /calls/<callId>/secure, POST /shutdown';

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, `request body larger than ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) return resolve({});
      try {
        const v: unknown = JSON.parse(text);
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return reject(new HttpError(400, 'body must be a JSON object'));
        resolve(v as Record<string, unknown>);
      } catch (e) {
        reject(new HttpError(400, `body is not valid JSON: ${(e as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}

function securityField(body: Record<string, unknown>, dflt: SecurityMode | undefined): SecurityMode {
  const security = body['security'] ?? dflt;
  if (!SECURITY_MODES.includes(security as SecurityMode)) throw new HttpError(400, `field "security" must be one of ${SECURITY_MODES.join(', ')}${dflt ? " (default: the config's defaultSecurity)" : ''}`);
  return security as SecurityMode;
}

/** `policy` and `designatedDevice` of a body (TR 33.828 sec. 4.1.1: protection for any answering party or only the designated user and terminal). */
function ticketFields(body: Record<string, unknown>, dflt: TicketPolicy): Partial<TicketOptions> {
  const policy = body['policy'] ?? dflt;
  if (!TICKET_POLICIES.includes(policy as TicketPolicy)) throw new HttpError(400, `field "policy" must be one of ${TICKET_POLICIES.join(', ')} (default: the config's defaultPolicy)`);
  const device = body['designatedDevice'];
  if (device !== undefined && (typeof device !== 'string' || !/^[A-Za-z0-9._-]+(@[A-Za-z0-9.-]+)?$/.test(device))) throw new HttpError(400, 'field "designatedDevice" must be a device name like "bob-1" (or an NAI like "bob-1@ims.test")');
  if (policy === 'designated-device' && device === undefined) throw new HttpError(400, 'policy "designated-device" needs field "designatedDevice" naming the device, e.g. "bob-1"');
  return { policy: policy as TicketPolicy, designatedDevice: device as string | undefined };
}

function callIdField(body: Record<string, unknown>): string {
  const id = body['callId'];
  if (typeof id !== 'string' || !id) throw new HttpError(400, 'field "callId" (string) is required; GET /calls lists the call ids');
  return id;
}

/**
 * The UE's HTTP/JSON control API on address:controlPort. Errors are JSON
 * `{error}` with a 4xx/5xx status and a message saying what to do.
 */
export class ControlApi {
  private server: Server | undefined;

  constructor(private readonly ue: Ue) {}

  async start(): Promise<void> {
    const { address, controlPort, name } = this.ue.cfg;
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new PortInUseError(name, `${address}:${controlPort}/tcp (control API)`) : e));
      server.listen({ host: address, port: controlPort, exclusive: true }, () => resolve());
    });
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections?.();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      const data = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
      res.end(data);
    };
    try {
      const url = new URL(req.url ?? '/', 'http://ue');
      const route = `${req.method} ${url.pathname.replace(/\/+$/, '') || '/'}`;
      const result = await this.route(route, url.pathname, req);
      send(result.status ?? 200, result.body);
      if (result.after) setImmediate(result.after);
    } catch (e) {
      if (e instanceof HttpError) send(e.status, { error: e.message, ...e.extra });
      else {
        this.ue.log.warn(`control API error: ${(e as Error).stack ?? e}`);
        send(500, { error: `internal error: ${(e as Error).message}` });
      }
    }
  }

  private async route(route: string, path: string, req: IncomingMessage): Promise<{ status?: number; body: unknown; after?: () => void }> {
    const ue = this.ue;
    if (route === 'GET /health') {
      return { body: { ok: true, name: ue.cfg.name, registered: ue.registration.registered, e2aeConfirmed: ue.registration.e2aeConfirmed, busy: ue.cfg.busy, kms: ue.kms ? ue.kms.userText : null } };
    }
    if (route === 'POST /register') {
      const body = await readJson(req);
      const expires = body['expires'] ?? 600;
      if (typeof expires !== 'number' || !Number.isInteger(expires) || expires < 0) throw new HttpError(400, 'field "expires" must be an integer number of seconds >= 0 (default 600)');
      const o = await ue.registration.register(expires);
      if (!o.ok) throw new HttpError(502, `REGISTER failed: ${o.reason}`, { status: o.status });
      return { body: { registered: ue.registration.registered, status: o.status, expires: o.expires, serviceRoute: o.serviceRoute, securityServer: o.securityServer, e2aeConfirmed: ue.registration.e2aeConfirmed } };
    }
    if (route === 'POST /unregister') {
      await readJson(req);
      const o = await ue.registration.unregister();
      if (!o.ok) throw new HttpError(502, `REGISTER (unregister) failed: ${o.reason}`, { status: o.status });
      return { body: { registered: false, status: o.status } };
    }
    if (route === 'POST /call') {
      const body = await readJson(req);
      const to = body['to'];
      if (typeof to !== 'string' || !isValidUri(to)) throw new HttpError(400, 'field "to" must be a SIP or tel URI, e.g. "sip:bob@ims.test"');
      const security = securityField(body, ue.cfg.defaultSecurity);
      const call = ue.calls.placeCall(to, security, ticketFields(body, ue.cfg.defaultPolicy));
      await Promise.resolve();
      const status = call.toStatus();
      return { body: status.state === 'failed' ? { callId: call.callId, state: status.state, failure: status.failure } : { callId: call.callId } };
    }
    if (route === 'POST /answer') {
      const id = callIdField(await readJson(req));
      const call = this.find(id);
      if (!(call instanceof IncomingCall)) throw new HttpError(409, `call ${id} is outgoing: only incoming calls can be answered`);
      if (!call.answerable) throw new HttpError(409, `call ${id} is ${call.state}, not ringing: nothing to answer`);
      call.answer();
      return { body: { callId: id, state: call.state } };
    }
    if (route === 'POST /hangup') {
      const id = callIdField(await readJson(req));
      const call = this.find(id);
      await call.hangup();
      return { body: { callId: id, state: call.state } };
    }
    if (route === 'POST /busy') {
      const busy = (await readJson(req))['busy'];
      if (typeof busy !== 'boolean') throw new HttpError(400, 'field "busy" must be true or false');
      ue.cfg.busy = busy;
      ue.log.info(`busy ${busy ? 'on: new calls get 486 Busy Here' : 'off'}`);
      return { body: { busy } };
    }
    const secure = /^POST \/calls\/([^/]+)\/secure$/.exec(route);
    if (secure) {
      const call = this.find(decodeURIComponent(secure[1]!));
      const body = await readJson(req);
      const security = securityField(body, undefined);
      const ticket = body['policy'] !== undefined || body['designatedDevice'] !== undefined ? ticketFields(body, ue.cfg.defaultPolicy) : undefined;
      const busy = call.updater.cannotUpdate();
      if (busy) throw new HttpError(409, busy);
      const r = await call.updater.secure(security, ticket ? { policy: ticket.policy!, designatedDevice: ticket.designatedDevice } : undefined);
      return { body: { callId: call.callId, state: call.state, ...r, securityHistory: call.securityHistory } };
    }
    if (route === 'GET /calls') return { body: { calls: ue.calls.list().map((c) => c.toStatus()) } };
    if (req.method === 'GET' && path.startsWith('/calls/')) return { body: this.find(decodeURIComponent(path.slice('/calls/'.length))).toStatus() };
    if (route === 'POST /shutdown') return { body: { ok: true, shuttingDown: true }, after: () => void ue.shutdownAndExit(0) };
    throw new HttpError(404, `no endpoint ${route}; endpoints: ${ENDPOINTS}`);
  }

  private find(id: string) {
    const call = this.ue.calls.get(id);
    if (!call) throw new HttpError(404, `no call ${id}; known call ids: ${this.ue.calls.list().map((c) => c.callId).join(', ') || 'none'}`, { knownCallIds: this.ue.calls.list().map((c) => c.callId) });
    return call;
  }
}
