import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** A route of the control API: returns a JSON-able body, or throws HttpError. */
export type ControlRoute = (req: IncomingMessage, body: unknown) => unknown | Promise<unknown>;

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * The HTTP/JSON control API every imslab service has: GET /health for the
 * runner's readiness check, plus the server's own routes (`GET /status`,
 * ...). Bodies are JSON; errors are `{ error }` with a status.
 */
export class ControlServer {
  private server: Server | undefined;

  constructor(
    readonly address: string,
    readonly port: number,
    private readonly routes: Record<string, ControlRoute>,
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new Error(`control port ${this.address}:${this.port} is in use: stop whatever holds it (imslab down)`) : e));
      server.listen(this.port, this.address, () => resolve());
    });
    this.server = server;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body) + '\n');
    };
    try {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const key = `${req.method ?? 'GET'} ${path}`;
      if (key === 'GET /health') return send(200, { ok: true });
      const route = this.routes[key];
      if (!route) return send(404, { error: `no route ${key}; routes: GET /health, ${Object.keys(this.routes).join(', ')}` });
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = undefined;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          return send(400, { error: 'the request body is not JSON' });
        }
      }
      send(200, await route(req, body));
    } catch (e) {
      send(e instanceof HttpError ? e.status : 500, { error: (e as Error).message });
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
