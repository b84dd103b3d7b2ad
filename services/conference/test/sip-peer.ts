import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { readOffer, type OfferedMedia } from '@imslab/app-server';
import { parseMessage, type SipResponse } from '@imslab/sip';
import { formatCryptoAttribute, generateKeySalt, parseCryptoAttribute, SrtpContext, contextOptionsFromCrypto } from '@imslab/srtp';

/**
 * Test-only raw-UDP SIP peer: hand-written INVITE/ACK/BYE with a
 * P-Asserted-Identity, an SDP offer pointing at its own RTP socket, and a
 * record of every RTP datagram that arrives there.
 */

export const SUITE = 'AES_CM_128_HMAC_SHA1_80';

/** Polls `f` until it returns a truthy value; throws `what` after `timeoutMs`. */
export async function waitFor<T>(f: () => T | undefined | null | false, what: string, timeoutMs = 3000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function bindUdp(address: string): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => resolve());
  });
  s.on('error', () => undefined);
  return s;
}

export interface OfferOptions {
  /** Media profile of the m= line, RTP/SAVP by default. */
  profile?: string;
  /** Raw a=crypto values (after `a=crypto:`). */
  crypto?: string[];
}

export interface PeerCall {
  callId: string;
  fromTag: string;
  requestUri: string;
  identity: string;
  response: SipResponse;
  toHeader: string;
  /** Parsed SDP answer of a 2xx. */
  answer?: OfferedMedia;
}

/** A fresh SDES key line for our a=crypto offer, and the contexts it implies for our sending side. */
export function newSdesKey(tag = 1): { line: string; keySalt: Buffer } {
  const keySalt = generateKeySalt(SUITE);
  return { keySalt, line: formatCryptoAttribute({ tag, suite: SUITE, keyParams: [{ method: 'inline', keySalt }], sessionParams: [] }) };
}

/** SrtpContext from an a=crypto value (ours for sending, the bridge's for receiving). */
export function contextFromCryptoLine(line: string): SrtpContext {
  return new SrtpContext(contextOptionsFromCrypto(parseCryptoAttribute(line)));
}

export class SipPeer {
  readonly responses: SipResponse[] = [];
  /** Every datagram received on the RTP socket, in arrival order. */
  readonly media: Buffer[] = [];
  private seq = 0;

  private constructor(
    readonly address: string,
    readonly sip: Socket,
    readonly rtp: Socket,
    private readonly server: { address: string; port: number },
  ) {
    sip.on('message', (data) => {
      const r = parseMessage(data);
      if (r.ok && r.message.kind === 'response') this.responses.push(r.message);
    });
    rtp.on('message', (data) => this.media.push(Buffer.from(data)));
  }

  static async open(address: string, server: { address: string; port: number }): Promise<SipPeer> {
    const sip = await bindUdp(address);
    const rtp = await bindUdp(address);
    return new SipPeer(address, sip, rtp, server);
  }

  get sipPort(): number {
    return this.sip.address().port;
  }

  get rtpPort(): number {
    return this.rtp.address().port;
  }

  offerSdp(o: OfferOptions = {}): string {
    const lines = [
      'v=0',
      `o=- 1 1 IN IP4 ${this.address}`,
      's=-',
      `c=IN IP4 ${this.address}`,
      't=0 0',
      `m=audio ${this.rtpPort} ${o.profile ?? 'RTP/SAVP'} 0`,
      'a=rtpmap:0 PCMU/8000',
      'a=ptime:20',
      'a=sendrecv',
      ...(o.crypto ?? []).map((c) => `a=crypto:${c}`),
    ];
    return lines.join('\r\n') + '\r\n';
  }

  private sendRaw(text: string): Promise<void> {
    return new Promise((resolve, reject) => this.sip.send(Buffer.from(text, 'utf8'), this.server.port, this.server.address, (e) => (e ? reject(e) : resolve())));
  }

  private request(method: string, uri: string, headers: string[], body = ''): Promise<void> {
    const len = Buffer.byteLength(body, 'utf8');
    const text = [`${method} ${uri} SIP/2.0`, ...headers, 'Max-Forwards: 70', ...(body ? ['Content-Type: application/sdp'] : []), `Content-Length: ${len}`, '', ''].join('\r\n') + body;
    return this.sendRaw(text);
  }

  private via(branch: string): string {
    return `Via: SIP/2.0/UDP ${this.address}:${this.sipPort};branch=${branch};rport`;
  }

  private finalResponse(callId: string, method: string, timeoutMs = 3000): Promise<SipResponse> {
    return waitFor(
      () => this.responses.find((r) => r.status >= 200 && r.headers.get('Call-ID') === callId && (r.headers.get('CSeq') ?? '').trim().endsWith(` ${method}`)),
      `a final response to ${method} (call ${callId})`,
      timeoutMs,
    );
  }

  /** Sends an INVITE and waits for its final response; ACKs it (2xx: new transaction; error: same branch). */
  async invite(requestUri: string, identity: string, sdp: string): Promise<PeerCall> {
    const callId = `${randomBytes(6).toString('hex')}@${this.address}`;
    const fromTag = randomBytes(4).toString('hex');
    const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
    const common = [`From: <${identity}>;tag=${fromTag}`, `Call-ID: ${callId}`];
    await this.request('INVITE', requestUri, [
      this.via(branch),
      ...common,
      `To: <${requestUri}>`,
      'CSeq: 1 INVITE',
      `Contact: <sip:member@${this.address}:${this.sipPort};transport=udp>`,
      `P-Asserted-Identity: <${identity}>`,
    ], sdp);
    const response = await this.finalResponse(callId, 'INVITE');
    const toHeader = response.headers.get('To') ?? '';
    const call: PeerCall = { callId, fromTag, requestUri, identity, response, toHeader };
    if (response.status >= 200 && response.status < 300) {
      call.answer = readOffer(response.body.toString('utf8'));
      const contact = /<([^>]+)>/.exec(response.headers.get('Contact') ?? '')?.[1] ?? requestUri;
      await this.request('ACK', contact, [this.via(`z9hG4bK${randomBytes(6).toString('hex')}`), ...common, `To: ${toHeader}`, 'CSeq: 1 ACK']);
    } else {
      await this.request('ACK', requestUri, [this.via(branch), ...common, `To: ${toHeader}`, 'CSeq: 1 ACK']);
    }
    return call;
  }

  /** BYE within the dialog of `call`; waits for the final response. */
  async bye(call: PeerCall): Promise<SipResponse> {
    await this.request('BYE', call.requestUri, [
      this.via(`z9hG4bK${randomBytes(6).toString('hex')}`),
      `From: <${call.identity}>;tag=${call.fromTag}`,
      `To: ${call.toHeader}`,
      `Call-ID: ${call.callId}`,
      `CSeq: ${2 + this.seq++} BYE`,
    ]);
    return this.finalResponse(call.callId, 'BYE');
  }

  /** Sends one RTP/SRTP datagram to the bridge's media address of `call`. */
  sendMedia(call: PeerCall, packet: Buffer): Promise<void> {
    const a = call.answer;
    if (!a) throw new Error('the call has no answer');
    return new Promise((resolve, reject) => this.rtp.send(packet, a.port, a.address, (e) => (e ? reject(e) : resolve())));
  }

  close(): void {
    for (const s of [this.sip, this.rtp]) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
  }
}

/** A plain RTP packet: PCMU, no CSRC, no extension. */
export function rtpPacket(seq: number, timestamp: number, ssrc: number, payload: Buffer, pt = 0): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = pt & 0x7f;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(timestamp >>> 0, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  return Buffer.concat([h, payload]);
}
