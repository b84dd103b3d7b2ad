/**
 * An MSRP endpoint session (RFC 4975 sec. 7) on a connection: sends messages
 * (chunked SENDs, sec. 7.1.1), receives them (reassembly with Byte-Range
 * checks, sec. 7.3.1), answers SENDs hop by hop (sec. 7.2) and exchanges
 * REPORTs (sec. 7.1.2). Behind relays (RFC 4976 sec. 6.1) the To-Path is our
 * own Use-Path followed by the peer's a=path: see {@link routeTo}.
 */
import { EventEmitter } from 'node:events';
import { buildReport, buildSend } from './build.ts';
import { chunkMessage, Reassembler } from './chunking.ts';
import { MSRP } from './constants.ts';
import { MsrpResponseError, MsrpTimeoutError, type MsrpByteRangeError, type MsrpError } from './errors.ts';
import type { MsrpRequest } from './frame.ts';
import type { ByteRange, FailureReport, ReportStatus } from './headers.ts';
import { newMessageId } from './ids.ts';
import type { MsrpConnection, RequestHandler } from './connection.ts';
import { acceptsType } from './sdp.ts';
import { msrpUrisEqual, type MsrpUri } from './uri.ts';
import type { FrameInfo } from './validate.ts';

/** The To-Path toward a peer: our relays (Use-Path) first, then the peer's a=path (RFC 4976 sec. 6.1). */
export function routeTo(ownUsePath: readonly MsrpUri[], peerPath: readonly MsrpUri[]): MsrpUri[] {
  return [...ownUsePath, ...peerPath];
}

export interface SessionOptions {
  connection: MsrpConnection;
  /** Our URI: the last entry of our a=path; its session-id binds incoming frames to this session. */
  localUri: MsrpUri;
  /** Where SENDs go (see routeTo). */
  toPath: MsrpUri[];
  /** Media types we accept (a=accept-types); everything when absent. 415 otherwise (sec. 7.3.1). */
  acceptTypes?: string[];
  chunkSize?: number;
  /** SEND chunks in flight before waiting for responses. */
  window?: number;
  maxMessageBytes?: number;
}

export interface SendOptions {
  contentType: string;
  messageId?: string;
  successReport?: boolean;
  failureReport?: FailureReport;
  chunkSize?: number;
}

export interface ReceivedMessage {
  messageId: string;
  contentType: string | undefined;
  body: Buffer;
  fromPath: MsrpUri[];
  chunks: number;
}

export interface ReceivedReport {
  messageId: string;
  status: ReportStatus;
  byteRange: ByteRange | undefined;
  fromPath: MsrpUri[];
}

export interface MsrpSessionEvents {
  message: [message: ReceivedMessage];
  report: [report: ReceivedReport];
  /** A chunk or message refused (Byte-Range lies, too large): what came before is kept. */
  'message-error': [error: MsrpByteRangeError];
  error: [error: MsrpError];
}

export class MsrpSession extends EventEmitter<MsrpSessionEvents> implements RequestHandler {
  readonly connection: MsrpConnection;
  readonly localUri: MsrpUri;
  toPath: MsrpUri[];
  private readonly reassembler: Reassembler;
  private readonly chunkCounts = new Map<string, number>();
  private readonly reports: ReceivedReport[] = [];
  private readonly reportWaiters = new Set<{ messageId: string; resolve: (r: ReceivedReport) => void }>();

  constructor(private readonly opts: SessionOptions) {
    super();
    if (opts.localUri.sessionId === undefined) throw new RangeError('an MSRP session URI needs a session-id (RFC 4975 sec. 6)');
    this.connection = opts.connection;
    this.localUri = opts.localUri;
    this.toPath = opts.toPath;
    this.reassembler = new Reassembler(opts.maxMessageBytes ?? MSRP.maxMessageBytes);
    this.connection.bind(opts.localUri.sessionId, this);
  }

  private fire<K extends keyof MsrpSessionEvents>(event: K, ...args: MsrpSessionEvents[K]): void {
    if (event === 'error' && this.listenerCount('error') === 0) return;
    try {
      (this.emit as (e: K, ...a: MsrpSessionEvents[K]) => boolean)(event, ...args);
    } catch (e) {
      process.emitWarning(`MSRP session ${String(event)} listener threw: ${(e as Error).message}`);
    }
  }

  /**
   * Sends a message in chunks. With Failure-Report yes (the default) every
   * chunk's 200 is awaited and a non-200 rejects with MsrpResponseError;
   * with partial or no nothing is awaited (sec. 7.1.1).
   */
  async send(body: Buffer | string, o: SendOptions): Promise<{ messageId: string; chunks: number }> {
    const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const messageId = o.messageId ?? newMessageId();
    const chunks = chunkMessage(data, o.chunkSize ?? this.opts.chunkSize ?? MSRP.defaultChunkSize);
    const wait = (o.failureReport ?? 'yes') === 'yes';
    const window = Math.max(1, this.opts.window ?? 16);
    const inFlight = new Set<Promise<void>>();
    let failure: MsrpError | undefined;
    for (const c of chunks) {
      if (failure) break;
      const req = buildSend({
        toPath: this.toPath,
        fromPath: [this.localUri],
        messageId,
        body: c.data,
        contentType: o.contentType,
        byteRange: c.byteRange,
        continuation: c.continuation,
        successReport: o.successReport,
        failureReport: o.failureReport,
      });
      if (!wait) {
        await this.connection.write(req);
        continue;
      }
      const p: Promise<void> = this.connection.transact(req).then(({ response }) => {
        if (response.status !== 200) throw new MsrpResponseError(response.status, response.comment, 'SEND', req.transactionId);
      }).catch((e: MsrpError) => {
        failure ??= e;
      }).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= window) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
    return { messageId, chunks: chunks.length };
  }

  /** Resolves with the first REPORT for the message (already received or to come); rejects after timeoutMs. */
  waitForReport(messageId: string, timeoutMs: number = MSRP.transactionTimeoutMs): Promise<ReceivedReport> {
    const have = this.reports.find((r) => r.messageId === messageId);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const w = {
        messageId,
        resolve: (r: ReceivedReport) => {
          clearTimeout(timer);
          this.reportWaiters.delete(w);
          resolve(r);
        },
      };
      const timer = setTimeout(() => {
        this.reportWaiters.delete(w);
        reject(new MsrpTimeoutError('REPORT', messageId, timeoutMs));
      }, timeoutMs);
      this.reportWaiters.add(w);
    });
  }

  /** Unbinds from the connection (the connection stays open for other sessions). */
  close(): void {
    this.connection.unbind(this.localUri.sessionId!);
  }

  /** RequestHandler: a request whose To-Path starts with our session-id. */
  handleRequest(frame: MsrpRequest, info: FrameInfo, conn: MsrpConnection): void {
    if (frame.method === 'REPORT') return this.onReport(info);
    const failureReport = info.failureReport;
    // Failure-Report "no": no response at all; "partial": only negative ones (sec. 7.1.1, 7.2).
    const answer = (status: number, comment?: string) => {
      if (failureReport === 'no' || (failureReport === 'partial' && status === 200)) return;
      conn.respond({ transactionId: frame.transactionId, fromPath: info.fromPath }, this.localUri, status, comment);
    };
    if (frame.method !== 'SEND') return answer(501);
    // Sec. 7.3.1: the leftmost To-Path URI must be ours (sec. 6.1 comparison), else 481.
    if (!msrpUrisEqual(info.toPath[0]!, this.localUri) || info.toPath.length !== 1) return answer(481);
    if (this.opts.acceptTypes && info.contentType !== undefined && !acceptsType(this.opts.acceptTypes, info.contentType)) return answer(415);
    const messageId = info.messageId!;
    const body = frame.body ?? Buffer.alloc(0);
    const range = info.byteRange ?? { start: 1, end: undefined, total: undefined };
    const r = this.reassembler.add(messageId, { byteRange: range, data: body, continuation: frame.continuation });
    this.chunkCounts.set(messageId, (this.chunkCounts.get(messageId) ?? 0) + 1);
    if (!r.ok) {
      this.fire('message-error', r.error);
      // A gap is found when the last chunk arrives: that chunk itself was stored, so the transaction succeeded.
      if (r.error.code === 'range-gap') {
        answer(200);
        if (failureReport !== 'no') this.report(info, 400, { start: 1, end: undefined, total: range.total }, 'message incomplete');
        return;
      }
      return answer(r.error.code === 'message-too-large' ? 413 : 400, r.error.message.slice(0, 100));
    }
    answer(200);
    if (r.state === 'complete') {
      const chunks = this.chunkCounts.get(messageId) ?? 1;
      this.chunkCounts.delete(messageId);
      // Sec. 7.1.2: a success REPORT covers the whole message.
      if (info.successReport) this.report(info, 200, { start: 1, end: r.body.length, total: r.body.length });
      this.fire('message', { messageId, contentType: info.contentType, body: r.body, fromPath: info.fromPath, chunks });
    } else if (r.state === 'aborted') {
      this.chunkCounts.delete(messageId);
    }
  }

  private report(info: FrameInfo, status: number, byteRange: ByteRange, reason?: string): void {
    try {
      const rep = buildReport({ sendFromPath: info.fromPath, localUri: this.localUri, messageId: info.messageId!, byteRange, status, reason });
      this.connection.write(rep).catch((e: MsrpError) => this.fire('error', e));
    } catch (e) {
      this.fire('error', e as MsrpError);
    }
  }

  private onReport(info: FrameInfo): void {
    if (!msrpUrisEqual(info.toPath[0]!, this.localUri)) return; // not for us: REPORTs are never answered (sec. 7.1.2)
    const rep: ReceivedReport = { messageId: info.messageId!, status: info.status!, byteRange: info.byteRange, fromPath: info.fromPath };
    this.reports.push(rep);
    for (const w of [...this.reportWaiters]) if (w.messageId === rep.messageId) w.resolve(rep);
    this.fire('report', rep);
  }
}
