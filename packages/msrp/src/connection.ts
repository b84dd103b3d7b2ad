/**
 * One MSRP connection (RFC 4975 sec. 6.2: TCP, TLS for msrps) to a relay or
 * a peer, on node:net / node:tls. It frames bytes with the streaming parser,
 * matches responses to requests by transaction id with a timeout (sec. 7.1.1,
 * 408 locally), hands incoming requests to the sessions bound to it, and
 * writes the TLS secrets in NSS key log format (SSLKEYLOGFILE) so captures
 * can be decrypted.
 *
 * A peer that breaks the framing gets the connection closed (nothing else
 * can resynchronise an MSRP stream); a frame that is framed but malformed
 * gets a 400 when it is a request that can be answered (sec. 10.2). No input
 * makes it throw, and a throwing listener cannot corrupt its state.
 */
import { EventEmitter } from 'node:events';
import { appendFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { buildResponse } from './build.ts';
import { MSRP } from './constants.ts';
import { MsrpConnectionError, MsrpTimeoutError, type MsrpError } from './errors.ts';
import { getHeader, serializeFrame, type MsrpFrame, type MsrpRequest, type MsrpResponse } from './frame.ts';
import { H } from './headers.ts';
import { MsrpStreamParser, type ParseEvent } from './parser.ts';
import { inspectFrame, type FrameInfo } from './validate.ts';
import { parseMsrpUriList, type MsrpUri } from './uri.ts';

export interface TlsOptions {
  /** CA certificate(s) that must have signed the peer's certificate (the testbed CA). */
  ca: string | Buffer;
  /** Our certificate and key, for peers that ask for one. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Name to check in the peer's certificate when `host` is not what it names. */
  servername?: string;
}

export interface ConnectOptions {
  host: string;
  port: number;
  /** TLS (msrps) when given, plain TCP otherwise. */
  tls?: TlsOptions;
  /** Source address to bind (every element binds its own address, see notes/kamailio-rtpengine.md). */
  localAddress?: string;
  /** Append TLS secrets here (NSS key log format, one line per `keylog` event). */
  keylogFile?: string;
  connectTimeoutMs?: number;
  transactionTimeoutMs?: number;
}

/** Where incoming requests go: a session bound by its session-id. */
export interface RequestHandler {
  handleRequest(frame: MsrpRequest, info: FrameInfo, conn: MsrpConnection): void;
}

interface Pending {
  method: string;
  resolve: (r: { response: MsrpResponse; info: FrameInfo | undefined }) => void;
  reject: (e: MsrpError) => void;
  timer: NodeJS.Timeout;
}

export interface MsrpConnectionEvents {
  /** A request for which no session is bound (after the connection answered it, when it could). */
  request: [frame: MsrpRequest, info: FrameInfo];
  /** Anything that went wrong; the connection may go on (`closed` false) or not. */
  error: [error: MsrpError];
  close: [];
}

export class MsrpConnection extends EventEmitter<MsrpConnectionEvents> {
  private readonly parser = new MsrpStreamParser();
  private readonly pending = new Map<string, Pending>();
  private readonly sessions = new Map<string, RequestHandler>();
  private closedWith: MsrpError | undefined;
  private draining: Promise<void> | undefined;
  /** Frames received and sent, for tests and diagnostics. */
  readonly stats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, invalidIn: 0 };

  constructor(
    readonly socket: Socket | TLSSocket,
    readonly transactionTimeoutMs: number = MSRP.transactionTimeoutMs,
  ) {
    super();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.shutdown(new MsrpConnectionError('closed', `socket error: ${e.message}`, e)));
    socket.on('close', () => this.shutdown(new MsrpConnectionError('closed', 'connection closed')));
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Routes requests whose first To-Path URI has this session-id to `handler`. */
  bind(sessionId: string, handler: RequestHandler): void {
    this.sessions.set(sessionId, handler);
  }

  unbind(sessionId: string): void {
    this.sessions.delete(sessionId);
  }

  /** Emits without letting a listener's exception reach the socket callbacks (mediasoup's safeEmit). */
  private fire<K extends keyof MsrpConnectionEvents>(event: K, ...args: MsrpConnectionEvents[K]): void {
    if (event === 'error' && this.listenerCount('error') === 0) return;
    try {
      (this.emit as (e: K, ...a: MsrpConnectionEvents[K]) => boolean)(event, ...args);
    } catch (e) {
      process.emitWarning(`MSRP connection ${String(event)} listener threw: ${(e as Error).message}`);
    }
  }

  /** Writes a frame; resolves once the socket accepted it (waits for 'drain' under back-pressure). */
  write(frame: MsrpFrame): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const bytes = serializeFrame(frame);
    this.stats.framesOut++;
    this.stats.bytesOut += bytes.length;
    return new Promise((resolve, reject) => {
      const ok = this.socket.write(bytes, (err) => {
        if (err) reject(new MsrpConnectionError('closed', `write failed: ${err.message}`, err));
      });
      if (ok) resolve();
      else void this.drain().then(resolve);
    });
  }

  /**
   * One wait for 'drain' shared by every write that met back-pressure (a
   * window of chunks in flight would otherwise add a listener each); a
   * closed socket ends the wait too (the write callbacks report the error).
   */
  private drain(): Promise<void> {
    this.draining ??= new Promise<void>((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        this.draining = undefined;
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
    return this.draining;
  }

  /**
   * Sends a request and resolves with its response, whatever the status;
   * rejects with MsrpTimeoutError (408) or MsrpConnectionError.
   */
  transact(req: MsrpRequest, timeoutMs: number = this.transactionTimeoutMs): Promise<{ response: MsrpResponse; info: FrameInfo | undefined }> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(req.transactionId);
        reject(new MsrpTimeoutError(req.method, req.transactionId, timeoutMs));
      }, timeoutMs);
      this.pending.set(req.transactionId, { method: req.method, resolve, reject, timer });
      this.write(req).catch((e: MsrpError) => {
        clearTimeout(timer);
        this.pending.delete(req.transactionId);
        reject(e);
      });
    });
  }

  /** Closes the connection (no more frames in or out). */
  close(): void {
    this.socket.end();
    this.shutdown(new MsrpConnectionError('closed', 'closed locally'));
  }

  private shutdown(err: MsrpError): void {
    if (this.closedWith) return;
    this.closedWith = err;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    if (!this.socket.destroyed) this.socket.destroy();
    this.fire('close');
  }

  private onData(chunk: Buffer): void {
    this.stats.bytesIn += chunk.length;
    let events: ParseEvent[];
    try {
      events = this.parser.push(chunk);
    } catch {
      events = []; // unreachable: the parser is total
    }
    for (const ev of events) {
      if (this.closedWith) return;
      if (ev.kind === 'error') {
        // Framing lost: RFC 4975 gives no way to find the next frame; close.
        const err = new MsrpConnectionError('malformed-frame', `malformed MSRP from the peer, closing: ${ev.error.message}`, ev.error);
        this.fire('error', err);
        this.shutdown(err);
        return;
      }
      if (ev.kind === 'invalid') {
        this.stats.invalidIn++;
        this.fire('error', ev.error);
        if (ev.method !== undefined && ev.method !== 'REPORT') this.answerInvalid(ev.transactionId, ev.headers, ev.error.message);
        continue;
      }
      this.stats.framesIn++;
      this.onFrame(ev.frame);
    }
  }

  /** 400 to a request that was framed but malformed, when its From-Path says where to (sec. 7.2, 10.2). */
  private answerInvalid(transactionId: string, headers: { name: string; value: string }[], why: string): void {
    const from = getHeader({ headers }, H.fromPath);
    const to = getHeader({ headers }, H.toPath);
    const fromPath = from === undefined ? undefined : parseMsrpUriList(from);
    const toPath = to === undefined ? undefined : parseMsrpUriList(to);
    if (!fromPath?.ok || !toPath?.ok) return;
    this.respond({ transactionId, fromPath: fromPath.uris }, toPath.uris[0]!, 400, why.slice(0, 100));
  }

  /** Writes a response to a request; errors are reported, not thrown. */
  respond(req: { transactionId: string; fromPath: readonly MsrpUri[] }, localUri: MsrpUri, status: number, comment?: string, extra: { name: string; value: string }[] = []): void {
    try {
      this.write(buildResponse(req, localUri, status, comment?.replace(/[\r\n]/g, ' '), extra)).catch((e: MsrpError) => this.fire('error', e));
    } catch (e) {
      this.fire('error', e as MsrpError);
    }
  }

  private onFrame(frame: MsrpFrame): void {
    const checked = inspectFrame(frame);
    if (frame.kind === 'response') {
      const p = this.pending.get(frame.transactionId);
      // A response to nothing we wait for (late, or a relay's duplicate) is dropped (sec. 7.2 responses are hop by hop).
      if (!p) return;
      this.pending.delete(frame.transactionId);
      clearTimeout(p.timer);
      p.resolve({ response: frame, info: checked.ok ? checked.info : undefined });
      return;
    }
    if (!checked.ok) {
      this.fire('error', checked.error);
      if (frame.method !== 'REPORT') this.answerInvalid(frame.transactionId, frame.headers, checked.error.message);
      return;
    }
    const info = checked.info;
    const sessionId = info.toPath[0]?.sessionId;
    const handler = sessionId === undefined ? undefined : this.sessions.get(sessionId);
    if (handler) {
      try {
        handler.handleRequest(frame, info, this);
      } catch (e) {
        process.emitWarning(`MSRP session handler threw: ${(e as Error).message}`);
      }
      return;
    }
    // No session here: 481 (sec. 10.8), except for REPORT which is never answered (sec. 7.1.2).
    if (frame.method === 'SEND') this.respond({ transactionId: frame.transactionId, fromPath: info.fromPath }, info.toPath[0]!, 481);
    else if (frame.method !== 'REPORT') this.respond({ transactionId: frame.transactionId, fromPath: info.fromPath }, info.toPath[0]!, 501);
    this.fire('request', frame, info);
  }
}

/** Opens a TCP or TLS connection; rejects with MsrpConnectionError('connect-failed') naming the cause. */
export function connectMsrp(opts: ConnectOptions): Promise<MsrpConnection> {
  const timeoutMs = opts.connectTimeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    let socket: Socket | TLSSocket;
    const where = `${opts.tls ? 'msrps' : 'msrp'}://${opts.host}:${opts.port}`;
    const fail = (e: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new MsrpConnectionError('connect-failed', `cannot connect to ${where}: ${e.message}`, e));
    };
    const timer = setTimeout(() => fail(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
    const ready = () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.setNoDelay(true);
      resolve(new MsrpConnection(socket, opts.transactionTimeoutMs));
    };
    if (opts.tls) {
      const t = opts.tls;
      // The TCP socket first, bound to our own address; TLS on top of it.
      const tcp = netConnect({ host: opts.host, port: opts.port, localAddress: opts.localAddress });
      const tlsSocket = tlsConnect({
        socket: tcp,
        host: opts.host,
        ca: t.ca,
        cert: t.cert,
        key: t.key,
        servername: t.servername,
        minVersion: 'TLSv1.2',
      });
      const file = opts.keylogFile;
      if (file !== undefined) {
        // Synchronous appends: the secrets are on disk before any application data flows.
        tlsSocket.on('keylog', (line: Buffer) => {
          try {
            appendFileSync(file, line);
          } catch (e) {
            process.emitWarning(`MSRP TLS key log ${file}: ${(e as Error).message}`);
          }
        });
      }
      socket = tlsSocket;
      tcp.once('error', fail);
      tlsSocket.once('secureConnect', () => {
        tcp.off('error', fail);
        ready();
      });
    } else {
      socket = netConnect({ host: opts.host, port: opts.port, localAddress: opts.localAddress });
      socket.once('connect', ready);
    }
    socket.once('error', fail);
  });
}
