/**
 * The accepting side of MSRP (RFC 4975 sec. 6.2, RFC 4976 sec. 6): a TCP or
 * TLS listener whose accepted sockets run as MsrpConnection, for endpoints
 * that others connect to (a chat server behind an MSRP relay: the relay
 * opens the connection when a SEND for us arrives, RFC 4976 sec. 6.1).
 *
 * A session-id is not tied to a connection in advance: the peer (or a
 * relay, for many sessions at once) may open any number of connections, so
 * {@link MsrpServer.route} binds a handler for a session-id on every
 * connection open now and accepted later. The TLS secrets of every accepted
 * connection go to the key log (NSS format) so captures can be decrypted.
 * A failed handshake or garbage before it is reported, never thrown.
 */
import { EventEmitter } from 'node:events';
import { appendFileSync } from 'node:fs';
import { createServer as netServer, type Server, type Socket } from 'node:net';
import { createServer as tlsServer, type TLSSocket } from 'node:tls';
import { MsrpConnection, type RequestHandler } from './connection.ts';

export interface ListenTlsOptions {
  /** Our certificate and key (PEM). */
  cert: string | Buffer;
  key: string | Buffer;
  /** CA certificate(s) for peers that present one (asked for, not required). */
  ca?: string | Buffer;
}

export interface ListenOptions {
  host: string;
  /** 0 for any free port (see {@link MsrpServer.port}). */
  port: number;
  /** TLS (msrps) when given, plain TCP otherwise. */
  tls?: ListenTlsOptions;
  /** Append the TLS secrets of every accepted connection here (NSS key log format). */
  keylogFile?: string;
  /** A TLS handshake not done by then is dropped (a peer that connects and says nothing). */
  handshakeTimeoutMs?: number;
  transactionTimeoutMs?: number;
}

/** Where a connection came from. */
export interface MsrpPeer {
  address: string;
  port: number;
}

export interface MsrpServerEvents {
  /** A connection accepted (after the TLS handshake for msrps). */
  connection: [conn: MsrpConnection, peer: MsrpPeer];
  /** A connection that never became one: failed handshake, garbage instead of TLS, socket error. */
  'client-error': [error: Error, peer: Partial<MsrpPeer>];
  /** The key log could not be written. */
  error: [error: Error];
}

export class MsrpServer extends EventEmitter<MsrpServerEvents> {
  /** Connections open now. */
  readonly connections = new Set<MsrpConnection>();
  private readonly routes = new Map<string, RequestHandler>();

  private constructor(private readonly server: Server, readonly opts: ListenOptions) {
    super();
  }

  /** The port listened on (the one chosen when `port` was 0). */
  get port(): number {
    const a = this.server.address();
    return a && typeof a === 'object' ? a.port : this.opts.port;
  }

  get host(): string {
    return this.opts.host;
  }

  /** Requests for `sessionId` go to `handler` on every connection, open now or accepted later. */
  route(sessionId: string, handler: RequestHandler): void {
    this.routes.set(sessionId, handler);
    for (const c of this.connections) c.bind(sessionId, handler);
  }

  /** Removes the route and any binding of the session-id (a session made on a connection included). */
  unroute(sessionId: string): void {
    this.routes.delete(sessionId);
    for (const c of this.connections) c.unbind(sessionId);
  }

  private fire<K extends keyof MsrpServerEvents>(event: K, ...args: MsrpServerEvents[K]): void {
    if ((event === 'error' || event === 'client-error') && this.listenerCount(event) === 0) return;
    try {
      (this.emit as (e: K, ...a: MsrpServerEvents[K]) => boolean)(event, ...args);
    } catch (e) {
      process.emitWarning(`MSRP server ${String(event)} listener threw: ${(e as Error).message}`);
    }
  }

  /** @internal an accepted (and, for TLS, handshaken) socket. */
  adopt(socket: Socket | TLSSocket): void {
    const peer = { address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 };
    socket.setNoDelay(true);
    const conn = new MsrpConnection(socket, this.opts.transactionTimeoutMs);
    this.connections.add(conn);
    conn.once('close', () => this.connections.delete(conn));
    for (const [sid, h] of this.routes) conn.bind(sid, h);
    this.fire('connection', conn, peer);
  }

  /** @internal */
  clientError(e: Error, socket: { remoteAddress?: string | undefined; remotePort?: number | undefined } | undefined): void {
    this.fire('client-error', e, { address: socket?.remoteAddress, port: socket?.remotePort });
  }

  /** @internal */
  keylog(line: Buffer): void {
    const file = this.opts.keylogFile;
    if (file === undefined) return;
    try {
      // Synchronous: the secrets are on disk before any application data flows.
      appendFileSync(file, line);
    } catch (e) {
      this.fire('error', new Error(`MSRP TLS key log ${file}: ${(e as Error).message}`));
    }
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    for (const c of [...this.connections]) c.close();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** @internal */
  static create(server: Server, opts: ListenOptions): MsrpServer {
    return new MsrpServer(server, opts);
  }
}

/**
 * Listens for MSRP connections (TLS when `opts.tls`); `onConnection`, when
 * given, is added as a 'connection' listener. Rejects when the address
 * cannot be bound (EADDRINUSE named).
 */
export async function listenMsrp(opts: ListenOptions, onConnection?: (conn: MsrpConnection, peer: MsrpPeer) => void): Promise<MsrpServer> {
  let srv: MsrpServer | undefined;
  let server: Server;
  if (opts.tls) {
    const t = opts.tls;
    const s = tlsServer({ cert: t.cert, key: t.key, ca: t.ca, requestCert: false, minVersion: 'TLSv1.2', handshakeTimeout: opts.handshakeTimeoutMs ?? 10_000 });
    s.on('secureConnection', (sock) => srv!.adopt(sock));
    s.on('tlsClientError', (e, sock) => srv!.clientError(e, sock));
    s.on('keylog', (line) => srv!.keylog(line));
    server = s;
  } else {
    server = netServer((sock) => srv!.adopt(sock));
  }
  srv = MsrpServer.create(server, opts);
  if (onConnection) srv.on('connection', onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new Error(`MSRP port ${opts.host}:${opts.port}/tcp is in use`) : e));
    server.listen(opts.port, opts.host, () => resolve());
  });
  server.on('error', (e) => srv!.clientError(e, undefined));
  return srv;
}
