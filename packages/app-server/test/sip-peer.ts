/**
 * A tiny raw-UDP SIP peer for tests: it sends hand-written SIP text from a
 * dgram socket and collects what comes back, parsed with @imslab/sip. No
 * transaction layer on purpose: the tests see every datagram, retransmissions
 * included. Also a bare RTP socket that records what arrives.
 */
import { createSocket, type Socket } from 'node:dgram';
import { newBranch, newTag, parseMessage, type SipMessage, type SipRequest, type SipResponse } from '@imslab/sip';

export interface Received {
  msg: SipMessage;
  from: { address: string; port: number };
  /** performance.now() at arrival. */
  at: number;
}

type Waiter = { pred: (r: Received) => boolean; resolve: (r: Received) => void };

export class SipPeer {
  /** Every parsed datagram, consumed or not. */
  readonly log: Received[] = [];
  /** Datagrams that did not parse. */
  readonly garbage: Buffer[] = [];
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
      const w = this.waiters.find((x) => x.pred(rec));
      if (w) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(rec);
      } else this.pending.push(rec);
    });
  }

  static async open(address: string): Promise<SipPeer> {
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, address, () => resolve());
    });
    return new SipPeer(s, address, s.address().port);
  }

  send(data: string | Buffer, host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(typeof data === 'string' ? Buffer.from(data) : data, port, host, (e) => (e ? reject(e) : resolve())));
  }

  /** The first not yet consumed message matching `pred` (waits up to timeoutMs). */
  nextReceived(pred: (m: SipMessage) => boolean, what: string, timeoutMs = 3000): Promise<Received> {
    const i = this.pending.findIndex((r) => pred(r.msg));
    if (i >= 0) return Promise.resolve(this.pending.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        pred: (r) => pred(r.msg),
        resolve: (r) => {
          clearTimeout(t);
          resolve(r);
        },
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got: ${this.log.map((r) => describeMsg(r.msg)).join(', ') || 'nothing'}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  async next(pred: (m: SipMessage) => boolean, what: string, timeoutMs = 3000): Promise<SipMessage> {
    return (await this.nextReceived(pred, what, timeoutMs)).msg;
  }

  /** The next response with this status to a request with this CSeq method (and Call-ID, if given). */
  async response(status: number, method: string, callId?: string, timeoutMs = 3000): Promise<SipResponse> {
    return (await this.next(
      (m) => m.kind === 'response' && m.status === status && cseqMethod(m) === method && (callId === undefined || m.headers.get('Call-ID') === callId),
      `${status} to ${method}${callId ? ` (${callId})` : ''}`,
      timeoutMs,
    )) as SipResponse;
  }

  /** The next request of this method. */
  async request(method: string, callId?: string, timeoutMs = 3000): Promise<SipRequest> {
    return (await this.next((m) => m.kind === 'request' && m.method === method && (callId === undefined || m.headers.get('Call-ID') === callId), `${method} request`, timeoutMs)) as SipRequest;
  }

  /** Everything received (consumed or not) matching `pred`. */
  count(pred: (m: SipMessage) => boolean): number {
    return this.log.filter((r) => pred(r.msg)).length;
  }

  close(): Promise<void> {
    return new Promise((r) => {
      try {
        this.socket.close(() => r());
      } catch {
        r();
      }
    });
  }
}

export function cseqMethod(m: SipMessage): string {
  return (m.headers.get('CSeq') ?? '').trim().split(/\s+/)[1] ?? '';
}

export function describeMsg(m: SipMessage): string {
  return m.kind === 'request' ? m.method : `${m.status} ${cseqMethod(m)}`;
}

/** The tag parameter of a To/From value. */
export function tagParam(v: string | undefined): string | undefined {
  return /;\s*tag=([^;>\s]+)/i.exec(v ?? '')?.[1];
}

export interface RawRequest {
  method: string;
  uri: string;
  via: string;
  from: string;
  to: string;
  callId: string;
  cseq: string;
  headers?: Array<[string, string]>;
  body?: string;
  /** Leave Max-Forwards out (a malformed request). */
  noMaxForwards?: boolean;
}

/** Hand-written SIP request text. */
export function rawRequest(r: RawRequest): string {
  const body = r.body ?? '';
  const lines = [
    `${r.method} ${r.uri} SIP/2.0`,
    `Via: ${r.via}`,
    ...(r.noMaxForwards ? [] : ['Max-Forwards: 70']),
    `From: ${r.from}`,
    `To: ${r.to}`,
    `Call-ID: ${r.callId}`,
    `CSeq: ${r.cseq}`,
    ...(r.headers ?? []).map(([n, v]) => `${n}: ${v}`),
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return lines.join('\r\n') + '\r\n\r\n' + body;
}

export interface SdpSpec {
  address: string;
  port: number;
  profile?: string;
  direction?: string;
  extra?: string[];
}

/** An offer in the shape a UE sends. */
export function offerSdp(s: SdpSpec): string {
  return [
    'v=0',
    `o=ue 1 1 IN IP4 ${s.address}`,
    's=-',
    `c=IN IP4 ${s.address}`,
    't=0 0',
    `m=audio ${s.port} ${s.profile ?? 'RTP/AVP'} 0`,
    'a=rtpmap:0 PCMU/8000',
    `a=${s.direction ?? 'sendrecv'}`,
    ...(s.extra ?? []),
  ].join('\r\n') + '\r\n';
}

export interface UacSpec {
  /** Where the requests go (the server's SIP socket). */
  host: string;
  port: number;
  uri: string;
  from: string;
  to: string;
  /** Contact URI; defaults to the peer's own address. Null: no Contact header. */
  contact?: string | null;
  headers?: Array<[string, string]>;
}

/**
 * The caller side of one INVITE dialog, hand-written: the INVITE, its
 * CANCEL and ACKs, an in-dialog BYE.
 */
export class UacCall {
  readonly callId = `${newTag()}@test.invalid`;
  readonly fromTag = newTag();
  readonly branch = newBranch();
  toTag: string | undefined;
  cseq = 1;

  constructor(readonly peer: SipPeer, readonly spec: UacSpec) {}

  private via(branch: string): string {
    return `SIP/2.0/UDP ${this.peer.address}:${this.peer.port};branch=${branch};rport`;
  }

  private get from(): string {
    return `<${this.spec.from}>;tag=${this.fromTag}`;
  }

  private get to(): string {
    return `<${this.spec.to}>${this.toTag ? `;tag=${this.toTag}` : ''}`;
  }

  inviteText(body = '', extraHeaders: Array<[string, string]> = []): string {
    const contact = this.spec.contact === undefined ? `sip:ue@${this.peer.address}:${this.peer.port}` : this.spec.contact;
    return rawRequest({
      method: 'INVITE',
      uri: this.spec.uri,
      via: this.via(this.branch),
      from: this.from,
      to: `<${this.spec.to}>`,
      callId: this.callId,
      cseq: '1 INVITE',
      headers: [...(contact ? ([['Contact', `<${contact}>`]] as Array<[string, string]>) : []), ...(this.spec.headers ?? []), ...extraHeaders],
      body,
    });
  }

  invite(body = '', extraHeaders: Array<[string, string]> = []): Promise<void> {
    return this.peer.send(this.inviteText(body, extraHeaders), this.spec.host, this.spec.port);
  }

  /** The final response to our INVITE; remembers its To tag. */
  async final(timeoutMs = 3000): Promise<SipResponse> {
    const r = (await this.peer.next((m) => m.kind === 'response' && m.status >= 200 && cseqMethod(m) === 'INVITE' && m.headers.get('Call-ID') === this.callId, `final response to INVITE ${this.callId}`, timeoutMs)) as SipResponse;
    this.toTag = tagParam(r.headers.get('To'));
    return r;
  }

  cancel(): Promise<void> {
    return this.peer.send(rawRequest({ method: 'CANCEL', uri: this.spec.uri, via: this.via(this.branch), from: this.from, to: `<${this.spec.to}>`, callId: this.callId, cseq: '1 CANCEL' }), this.spec.host, this.spec.port);
  }

  /** ACK for a non-2xx final response: same branch as the INVITE, part of its transaction. */
  ackNon2xx(res: SipResponse): Promise<void> {
    return this.peer.send(rawRequest({ method: 'ACK', uri: this.spec.uri, via: this.via(this.branch), from: this.from, to: res.headers.get('To') ?? '', callId: this.callId, cseq: '1 ACK' }), this.spec.host, this.spec.port);
  }

  /** ACK for a 2xx: its own transaction (new branch), to the Contact of the 2xx. */
  ack2xx(res: SipResponse): Promise<void> {
    this.toTag = tagParam(res.headers.get('To'));
    const contact = /<([^>]+)>/.exec(res.headers.get('Contact') ?? '')?.[1] ?? this.spec.uri;
    return this.peer.send(rawRequest({ method: 'ACK', uri: contact, via: this.via(newBranch()), from: this.from, to: this.to, callId: this.callId, cseq: '1 ACK' }), this.spec.host, this.spec.port);
  }

  bye(): Promise<void> {
    this.cseq += 1;
    return this.peer.send(rawRequest({ method: 'BYE', uri: this.spec.uri, via: this.via(newBranch()), from: this.from, to: this.to, callId: this.callId, cseq: `${this.cseq} BYE` }), this.spec.host, this.spec.port);
  }

  /** Our 200 OK to a request the server sent us (its BYE). */
  okTo(req: SipRequest, toHost: string, toPort: number): Promise<void> {
    const lines = [
      'SIP/2.0 200 OK',
      ...req.headers.getAll('Via').map((v) => `Via: ${v}`),
      `From: ${req.headers.get('From')}`,
      `To: ${req.headers.get('To')}`,
      `Call-ID: ${req.headers.get('Call-ID')}`,
      `CSeq: ${req.headers.get('CSeq')}`,
      'Content-Length: 0',
    ];
    return this.peer.send(lines.join('\r\n') + '\r\n\r\n', toHost, toPort);
  }
}

/** A bare UDP socket that records every datagram (an RTP receiver). */
export class RtpSink {
  readonly packets: Array<{ data: Buffer; at: number }> = [];
  private constructor(readonly socket: Socket, readonly address: string, readonly port: number) {
    socket.on('message', (data) => this.packets.push({ data, at: performance.now() }));
  }

  static async open(address: string): Promise<RtpSink> {
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, address, () => resolve());
    });
    return new RtpSink(s, address, s.address().port);
  }

  close(): Promise<void> {
    return new Promise((r) => {
      try {
        this.socket.close(() => r());
      } catch {
        r();
      }
    });
  }
}

/** Polls `f` until it returns true (or throws after timeoutMs). */
export async function until(f: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!f()) {
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(10);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
