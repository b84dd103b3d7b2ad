/**
 * @imslab/sip/test-peer: the raw-UDP SIP peer of every test and bench that
 * talks SIP to an element (app-server, voicemail, conference, the UE). It sends what
 * the test builds (a message from @imslab/sip's builders, or raw text and
 * bytes for malformed input) and queues every datagram that comes back,
 * parsed by @imslab/sip. No transaction layer on purpose: a test sees every
 * datagram, retransmissions included, and may send what no real UA would.
 */
import type { Socket } from 'node:dgram';
import { createResponse, serializeMessage, parseMessage, type ResponseSpec, type SipMessage, type SipRequest, type SipResponse } from '../src/index.ts';
import { brief, isRequest, isResponse } from './match.ts';
import { bindUdp, closeUdp } from './media.ts';


export interface Endpoint {
  address: string;
  port: number;
}

export interface Received {
  msg: SipMessage;
  from: Endpoint;
  /** performance.now() at arrival. */
  at: number;
}

interface Waiter {
  pred: (m: SipMessage) => boolean;
  resolve: (r: Received) => void;
}

export class SipPeer {
  /** Every datagram that parsed, in arrival order, consumed or not. */
  readonly log: Received[] = [];
  /** Datagrams that did not parse. */
  readonly garbage: Buffer[] = [];
  /** Not yet consumed by next(). */
  private readonly pending: Received[] = [];
  private waiters: Waiter[] = [];

  private constructor(readonly socket: Socket, readonly address: string, readonly port: number) {
    socket.on('message', (buf, r) => {
      const p = parseMessage(buf);
      if (!p.ok) {
        this.garbage.push(buf);
        return;
      }
      const rec: Received = { msg: p.message, from: { address: r.address, port: r.port }, at: performance.now() };
      this.log.push(rec);
      const w = this.waiters.find((x) => x.pred(rec.msg));
      if (w) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(rec);
      } else this.pending.push(rec);
    });
  }

  /** A peer on `address`; port 0 (default) takes any free port, a fixed one stands in for a proxy. */
  static async open(address: string, port = 0): Promise<SipPeer> {
    const s = await bindUdp(address, port);
    return new SipPeer(s, address, s.address().port);
  }

  send(data: SipMessage | string | Buffer, host: string, port: number): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.isBuffer(data) ? data : serializeMessage(data);
    return new Promise((resolve, reject) => this.socket.send(bytes, port, host, (e) => (e ? reject(e) : resolve())));
  }

  /** Answers a request that came from `to` (createResponse: Via, From, To, Call-ID, CSeq copied). */
  reply(req: SipRequest, status: number, to: Endpoint, spec?: ResponseSpec): Promise<void> {
    return this.send(createResponse(req, status, spec), to.address, to.port);
  }

  /** Consumes the first message matching `pred`, waiting up to timeoutMs for it. */
  nextReceived(pred: (m: SipMessage) => boolean, what: string, timeoutMs = 3000): Promise<Received> {
    const i = this.pending.findIndex((r) => pred(r.msg));
    if (i >= 0) return Promise.resolve(this.pending.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        pred,
        resolve: (r) => {
          clearTimeout(t);
          resolve(r);
        },
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got: ${this.log.map((r) => brief(r.msg)).join(', ') || 'nothing'}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  async next(pred: (m: SipMessage) => boolean, what: string, timeoutMs = 3000): Promise<SipMessage> {
    return (await this.nextReceived(pred, what, timeoutMs)).msg;
  }

  /** The next response with this status ('final': >= 200) to a request of this method (and Call-ID). */
  async response(status: number | 'final', method: string, callId?: string, timeoutMs = 3000): Promise<SipResponse> {
    return (await this.next(isResponse(status, method, callId), `${status} to ${method}${callId ? ` (${callId})` : ''}`, timeoutMs)) as SipResponse;
  }

  /** The next request of this method (and Call-ID). */
  async request(method: string, callId?: string, timeoutMs = 3000): Promise<SipRequest> {
    return (await this.next(isRequest(method, callId), `${method} request${callId ? ` (${callId})` : ''}`, timeoutMs)) as SipRequest;
  }

  /** Everything received, consumed or not, that matches `pred`. */
  all(pred: (m: SipMessage) => boolean): SipMessage[] {
    return this.log.map((r) => r.msg).filter(pred);
  }

  close(): Promise<void> {
    return closeUdp(this.socket);
  }
}
