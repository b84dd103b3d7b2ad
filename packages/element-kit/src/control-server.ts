import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A route of the control API: returns a JSON-able body, or throws HttpError.
 * `params` holds the decoded path parameters of a pattern route
 * (`'GET /calls/:callId'` -> `{ callId }`); `{}` for a plain route.
 */
export type ControlRoute = (req: IncomingMessage, body: unknown, params: Record<string, string>) => unknown | Promise<unknown>;

/** A request the control API answers with `status` and `{ error: message, ...extra }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** More fields of the error body (e.g. the known ids after a 404). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Options of a {@link ControlServer}. */
export interface ControlServerOptions {
  /** Where a route's unexpected error (a bug, answered 500) is logged. */
  log?: { warn(text: string): void };
}

/** Largest request body a control API reads (its bodies are a few small JSON fields). */
export const MAX_CONTROL_BODY = 64 * 1024;

/** A route whose path has `:name` segments. */
interface PatternRoute {
  method: string;
  /** Literal segment, or null for a parameter. */
  segments: Array<{ literal: string } | { param: string }>;
  route: ControlRoute;
}

/**
 * The HTTP/JSON control API every imslab service has: GET /health for the
 * runner's readiness check (a route `'GET /health'` replaces the built-in
 * `{ ok: true }`), plus the server's own routes (`'GET /status'`, ...; a
 * segment `:name` matches one path segment, passed decoded in `params`;
 * exact routes win over patterns). A trailing `/` is ignored. Bodies are
 * JSON of at most {@link MAX_CONTROL_BODY} octets; errors are `{ error }`
 * with a status.
 */
export class ControlServer {
  private server: Server | undefined;
  private readonly exact = new Map<string, ControlRoute>();
  private readonly patterns: PatternRoute[] = [];

  constructor(
    readonly address: string,
    readonly port: number,
    private readonly routes: Record<string, ControlRoute>,
    private readonly options: ControlServerOptions = {},
  ) {
    for (const [key, route] of Object.entries(routes)) {
      const [method, path = ''] = key.split(' ', 2);
      const parts = path.split('/').slice(1);
      if (!parts.some((p) => p.startsWith(':'))) {
        this.exact.set(key, route);
        continue;
      }
      this.patterns.push({ method: method!, segments: parts.map((p) => (p.startsWith(':') ? { param: p.slice(1) } : { literal: p })), route });
    }
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.headersTimeout = 5_000;
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new Error(`control port ${this.address}:${this.port} is in use: stop whatever holds it (imslab down)`) : e));
      server.listen(this.port, this.address, () => resolve());
    });
    this.server = server;
  }

  /** The route for `method path`, with its parameters (throws HttpError 400 on bad percent-encoding). */
  private find(method: string, path: string): { route: ControlRoute; params: Record<string, string> } | undefined {
    const route = this.exact.get(`${method} ${path}`);
    if (route) return { route, params: {} };
    const parts = path.split('/').slice(1);
    for (const p of this.patterns) {
      if (p.method !== method || p.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const hit = p.segments.every((s, i) => {
        const part = parts[i]!;
        if ('literal' in s) return s.literal === part;
        if (!part) return false;
        try {
          params[s.param] = decodeURIComponent(part);
        } catch {
          throw new HttpError(400, `${path}: bad percent-encoding in "${part}"`);
        }
        return true;
      });
      if (hit) return { route: p.route, params };
    }
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const data = JSON.stringify(body) + '\n';
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), 'cache-control': 'no-store', ...headers });
      res.end(data);
    };
    let key = '';
    try {
      const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/+$/, '') || '/';
      const method = req.method ?? 'GET';
      key = `${method} ${path}`;
      const found = this.find(method, path);
      if (!found) {
        if (key === 'GET /health') return send(200, { ok: true });
        const known = ['GET /health', ...Object.keys(this.routes).filter((k) => k !== 'GET /health')];
        return send(404, { error: `no route ${key}; routes: ${known.join(', ')}` });
      }
      const text = await readBody(req);
      let body: unknown = undefined;
      if (text.trim()) {
        try {
          body = JSON.parse(text);
        } catch {
          return send(400, { error: 'the request body is not JSON' });
        }
      }
      send(200, await found.route(req, body, found.params));
    } catch (e) {
      if (res.headersSent) return;
      if (e instanceof HttpError) return send(e.status, { error: e.message, ...e.extra }, e.status === 413 ? { connection: 'close' } : {});
      this.options.log?.warn(`control API: ${key} failed: ${(e as Error)?.stack ?? String(e)}`);
      send(500, { error: (e as Error)?.message ?? String(e) });
    }
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

/** The body as text; more than {@link MAX_CONTROL_BODY} octets is a 413 (the rest is not read: the answer closes the connection). */
function readBody(req: IncomingMessage): Promise<string> {
  const tooLarge = () => new HttpError(413, `request body larger than ${MAX_CONTROL_BODY} bytes`);
  if (Number(req.headers['content-length'] ?? 0) > MAX_CONTROL_BODY) {
    req.pause();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= MAX_CONTROL_BODY) return void chunks.push(c);
      req.off('data', onData);
      req.pause();
      reject(tooLarge());
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts a server's SIP endpoint and control API together; if the second fails the first is closed again. */
export async function startBoth(sip: { start(): Promise<void>; close(): Promise<void> }, control: ControlServer): Promise<void> {
  await sip.start();
  try {
    await control.start();
  } catch (e) {
    await sip.close();
    throw e;
  }
}
