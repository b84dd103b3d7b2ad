import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, connect as netConnect, isIP, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type ConnectionOptions, type Server as TlsServer, type TLSSocket } from 'node:tls';
import {
  parseMessage, parseVia, serializeMessage, StreamFramer, formatVia, type SipMessage, type SipParseError, type TxnSender, type Via,
} from '@imslab/sip';
import type { TransportName, UeConfig } from './config.ts';
import { PortInUseError } from './errors.ts';
import type { Logger } from './log.ts';

/** Where a message came from, so that the response goes back the same way (sec. 18.2.2). */
export interface Flow {
  transport: TransportName;
  remoteAddress: string;
  remotePort: number;
  /** For TCP/TLS: the connection the message arrived on. */
  connectionId?: number | undefined;
}

/** Callbacks of the transport; both are wrapped so a throwing handler never kills a socket. */
export interface TransportHandlers {
  onMessage(message: SipMessage, flow: Flow): void;
  onMalformed(error: SipParseError, flow: Flow, partial: SipMessage | undefined): void;
}

interface Connection {
  id: number;
  socket: Socket | TLSSocket;
  transport: 'tcp' | 'tls';
  framer: StreamFramer;
  remote: string;
}

/**
 * The top Via alone, which is all a response is routed by (sec. 18.2.2): a
 * malformed value below it (RFC 4475 3.1.2.1) must not cost the 400 its route.
 */
function topVia(m: SipMessage): Via {
  const via = parseVia(m.headers.getAll('Via')[0] ?? '');
  if (!via) throw new Error('no usable top Via');
  return via;
}

const flowText = (f: Flow) => `${f.remoteAddress}:${f.remotePort}/${f.transport}`;

/**
 * The UE's SIP sockets, every one bound to `address`: UDP on sipPort, a TCP
 * server on sipPort, a TLS server on sipTlsPort, and one persistent outbound
 * TCP/TLS connection to the P-CSCF (re-opened when closed). Frames streams by
 * Content-Length, stamps `received`/`rport` on incoming requests
 * (sec. 18.2.1, RFC 3581), and writes TLS secrets to the key log.
 */
export class SipTransport {
  private udp: UdpSocket | undefined;
  private tcpServer: Server | undefined;
  private tlsServer: TlsServer | undefined;
  private readonly connections = new Map<number, Connection>();
  private nextId = 1;
  private outbound: Promise<Connection> | undefined;
  private closed = false;
  private readonly tlsMaterial: { ca: Buffer; cert: Buffer; key: Buffer } | undefined;

  constructor(
    private readonly cfg: UeConfig,
    private readonly log: Logger,
    private readonly handlers: TransportHandlers,
    private readonly keylog: (line: Buffer) => void,
  ) {
    if (cfg.tls) {
      this.tlsMaterial = { ca: readFileSync(cfg.tls.caFile), cert: readFileSync(cfg.tls.certFile), key: readFileSync(cfg.tls.keyFile) };
    }
  }

  /** Binds every socket; throws PortInUseError naming the first busy one. */
  async start(): Promise<void> {
    const { address, sipPort } = this.cfg;
    this.udp = createSocket({ type: 'udp4' });
    this.udp.on('message', (data, rinfo) => this.onBytes(data, { transport: 'udp', remoteAddress: rinfo.address, remotePort: rinfo.port }));
    await this.bindUdp(this.udp, address, sipPort, `${address}:${sipPort}/udp`);
    this.udp.on('error', (e) => this.log.warn(`udp socket error: ${e.message}`));
    this.tcpServer = createServer((s) => this.accept(s, 'tcp'));
    await this.listen(this.tcpServer, address, sipPort, `${address}:${sipPort}/tcp`);
    if (this.tlsMaterial && this.cfg.sipTlsPort !== undefined) {
      const server = createTlsServer({ ...this.tlsMaterial, minVersion: 'TLSv1.2' }, (s) => this.accept(s, 'tls'));
      server.on('keylog', (line: Buffer) => this.keylog(line));
      server.on('tlsClientError', (e) => this.log.warn(`TLS handshake from a client failed: ${e.message}`));
      this.tlsServer = server;
      await this.listen(server, address, this.cfg.sipTlsPort, `${address}:${this.cfg.sipTlsPort}/tls`);
    }
  }

  private bindUdp(sock: UdpSocket, address: string, port: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new PortInUseError(this.cfg.name, what) : e);
      sock.once('error', onError);
      sock.bind({ address, port, exclusive: true }, () => {
        sock.off('error', onError);
        resolve();
      });
    });
  }

  private listen(server: Server, address: string, port: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new PortInUseError(this.cfg.name, what) : e);
      server.once('error', onError);
      server.listen({ host: address, port, exclusive: true }, () => {
        server.off('error', onError);
        server.on('error', (e) => this.log.warn(`${what} server error: ${e.message}`));
        resolve();
      });
    });
  }

  /** Port we listen on for a transport (for Via sent-by and Contact). */
  listenPort(t: TransportName): number {
    return t === 'tls' ? (this.cfg.sipTlsPort ?? 5061) : this.cfg.sipPort;
  }

  /** An inbound connection: only our P-CSCF may open one (see onBytes); anyone else is closed before a byte is buffered. */
  private accept(socket: Socket | TLSSocket, transport: 'tcp' | 'tls'): void {
    if (socket.remoteAddress !== this.cfg.pcscf.host) {
      if (this.droppedFromStrangers++ < 5) this.log.warn(`refused a ${transport} connection from ${socket.remoteAddress}:${socket.remotePort}: not our P-CSCF (${this.cfg.pcscf.host})`);
      socket.destroy();
      return;
    }
    this.adopt(socket, transport);
  }

  private adopt(socket: Socket | TLSSocket, transport: 'tcp' | 'tls'): Connection {
    const conn: Connection = {
      id: this.nextId++,
      socket,
      transport,
      framer: new StreamFramer(),
      remote: `${socket.remoteAddress}:${socket.remotePort}`,
    };
    this.connections.set(conn.id, conn);
    socket.on('data', (chunk: Buffer) => {
      for (const item of conn.framer.push(chunk)) {
        if (item.kind === 'message') {
          this.onBytes(item.data, { transport, remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0, connectionId: conn.id });
        } else if (item.kind === 'keepalive') {
          // RFC 5626 sec. 4.4.1: answer a double-CRLF ping with a single-CRLF pong.
          if (item.ping) socket.write('\r\n');
        } else {
          // end(), not destroy(): the 400 to the head the framer handed up first still goes out.
          this.log.warn(`closing ${transport} connection from ${conn.remote}: ${item.error.message}`);
          socket.end();
          setTimeout(() => socket.destroy(), 2000).unref();
        }
      }
    });
    socket.on('error', (e) => this.log.warn(`${transport} connection ${conn.remote}: ${e.message}`));
    socket.on('close', () => this.connections.delete(conn.id));
    socket.setKeepAlive?.(true, 30_000);
    return conn;
  }

  /** SIP from anyone but our P-CSCF, dropped unread (see onBytes). */
  droppedFromStrangers = 0;

  private onBytes(data: Buffer, flow: Flow): void {
    // TS 24.229 sec. 5.1.1.3 / TS 33.203: a UE takes SIP only from its
    // P-CSCF, over the flow it registered through. Anyone else on the access
    // link could otherwise ring us past the P-CSCF and assert any identity
    // (scenario spoofed-call-past-the-pcscf). Dropped before parsing: a
    // stranger's bytes get no answer at all.
    if (flow.remoteAddress !== this.cfg.pcscf.host) {
      if (this.droppedFromStrangers++ < 5) this.log.warn(`dropped SIP from ${flowText(flow)}: not our P-CSCF (${this.cfg.pcscf.host})`);
      return;
    }
    try {
      const r = parseMessage(data);
      if (!r.ok) {
        this.log.warn(`malformed message from ${flowText(flow)}: ${r.error.message}`);
        if (r.partial?.kind === 'request') {
          try {
            this.stampReceived(r.partial, flow);
          } catch {
            // Via unusable: the response (if any) cannot be routed by Via.
          }
        }
        this.handlers.onMalformed(r.error, flow, r.partial);
        return;
      }
      const m = r.message;
      if (m.kind === 'request') this.stampReceived(m, flow);
      this.log.sip('in', m, flowText(flow));
      this.handlers.onMessage(m, flow);
    } catch (e) {
      this.log.warn(`error handling a message from ${flowText(flow)}: ${(e as Error).stack ?? e}`);
    }
  }

  /**
   * sec. 18.2.1: "the server MUST add a 'received' parameter" when the sent-by
   * differs from the packet source; RFC 3581 sec. 4: fill in `rport` with the
   * source port when the client asked for it.
   */
  private stampReceived(m: SipMessage, flow: Flow): void {
    const via = topVia(m);
    let changed = false;
    if (via.host !== flow.remoteAddress) {
      via.params.set('received', flow.remoteAddress);
      changed = true;
    }
    if (via.params.has('rport') && via.params.get('rport') === null) {
      via.params.set('rport', String(flow.remotePort));
      via.params.set('received', flow.remoteAddress);
      changed = true;
    }
    if (!changed) return;
    const values = m.headers.getAll('Via');
    m.headers.remove('Via');
    const rebuilt = [formatVia(via), ...values.slice(1)];
    // Via must stay the first header group; re-insert in front.
    for (const v of rebuilt.reverse()) m.headers.prepend('Via', v);
  }

  /** Sends a request toward the P-CSCF over the configured transport. */
  async sendToPcscf(m: SipMessage): Promise<void> {
    const { host, udpPort } = this.cfg.pcscf;
    if (this.cfg.transport === 'udp') return this.sendUdp(m, host, udpPort);
    const conn = await this.outboundConnection();
    this.write(conn, m);
  }

  /**
   * Sends a response back where the request came from (sec. 18.2.2): on the
   * same connection for TCP/TLS (or a new one to the Via sent-by if it is
   * gone); for UDP to `received`:`rport` (RFC 3581) or the sent-by port.
   */
  async sendResponse(m: SipMessage, flow: Flow): Promise<void> {
    if (flow.transport === 'udp') {
      const via = topVia(m);
      const rport = via.params.get('rport');
      const host = via.params.get('received') ?? flow.remoteAddress;
      const port = rport ? Number(rport) : (via.port ?? 5060);
      return this.sendUdp(m, host, port);
    }
    const conn = flow.connectionId !== undefined ? this.connections.get(flow.connectionId) : undefined;
    if (conn && !conn.socket.destroyed) return this.write(conn, m);
    const via = topVia(m);
    const target = { host: via.params.get('received') ?? via.host, port: via.port ?? (flow.transport === 'tls' ? 5061 : 5060) };
    const fresh = await this.open(flow.transport, target.host, target.port);
    this.write(fresh, m);
  }

  /** A TxnSender answering on `flow`. */
  senderFor(flow: Flow): TxnSender {
    return { reliable: flow.transport !== 'udp', send: (m) => this.sendResponse(m, flow) };
  }

  /** A TxnSender toward the P-CSCF. */
  pcscfSender(): TxnSender {
    return { reliable: this.cfg.transport !== 'udp', send: (m) => this.sendToPcscf(m) };
  }

  /** Raw datagram (tests send malformed input this way). */
  private sendUdp(m: SipMessage, host: string, port: number): Promise<void> {
    const sock = this.udp;
    if (!sock || this.closed) return Promise.reject(new Error('transport closed'));
    const data = serializeMessage(m);
    this.log.sip('out', m, `${host}:${port}/udp`);
    return new Promise((resolve, reject) => sock.send(data, port, host, (e) => (e ? reject(e) : resolve())));
  }

  private write(conn: Connection, m: SipMessage): void {
    this.log.sip('out', m, `${conn.remote}/${conn.transport}`);
    conn.socket.write(serializeMessage(m));
  }

  private outboundConnection(): Promise<Connection> {
    if (!this.outbound) {
      const { host, tcpPort, tlsPort } = this.cfg.pcscf;
      const t = this.cfg.transport === 'tls' ? 'tls' : 'tcp';
      const p = this.open(t, host, t === 'tls' ? tlsPort : tcpPort);
      this.outbound = p;
      p.then(
        (c) => c.socket.once('close', () => {
          if (this.outbound === p) this.outbound = undefined;
        }),
        () => {
          if (this.outbound === p) this.outbound = undefined;
        },
      );
    }
    return this.outbound;
  }

  /** Opens a TCP/TLS connection from `address` (TLS verifies the peer against caFile). */
  private open(t: 'tcp' | 'tls', host: string, port: number): Promise<Connection> {
    if (this.closed) return Promise.reject(new Error('transport closed'));
    return new Promise((resolve, reject) => {
      let socket: Socket | TLSSocket;
      const fail = (e: Error) => reject(new Error(`cannot connect to ${host}:${port}/${t}: ${e.message}`));
      if (t === 'tls') {
        if (!this.tlsMaterial) return reject(new Error('TLS requested but no tls config'));
        const servername = this.cfg.tls?.serverName ?? (isIP(host) ? undefined : host);
        // tls.connect accepts every socket.connect() option (Node docs), localAddress included.
        const options: ConnectionOptions & { localAddress: string } = { host, port, localAddress: this.cfg.address, ...this.tlsMaterial, servername, minVersion: 'TLSv1.2' };
        const s = tlsConnect(options);
        s.on('keylog', (line: Buffer) => this.keylog(line));
        s.once('secureConnect', () => {
          s.off('error', fail);
          resolve(this.adopt(s, 'tls'));
        });
        socket = s;
      } else {
        const s = netConnect({ host, port, localAddress: this.cfg.address });
        s.once('connect', () => {
          s.off('error', fail);
          resolve(this.adopt(s, 'tcp'));
        });
        socket = s;
      }
      socket.once('error', fail);
      socket.setTimeout(10_000, () => socket.destroy(new Error('connect timeout')));
      socket.once('connect', () => socket.setTimeout(0));
      socket.once('secureConnect', () => socket.setTimeout(0));
    });
  }

  /** Closes every socket. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.connections.values()) c.socket.destroy();
    this.connections.clear();
    await Promise.all([
      new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r())),
      new Promise<void>((r) => (this.tcpServer ? this.tcpServer.close(() => r()) : r())),
      new Promise<void>((r) => (this.tlsServer ? this.tlsServer.close(() => r()) : r())),
    ]);
  }
}
