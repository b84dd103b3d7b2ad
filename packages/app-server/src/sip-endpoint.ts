import { createSocket, type Socket } from 'node:dgram';
import { createInDialogRequest, createResponse, createUasDialog, parseNameAddr, parseSipUri, serializeMessage, TransactionLayer, type ServerTransaction, type SipMessage, type SipRequest, type TxnSender } from '@imslab/sip';
import type { SipLogger } from './sip-log.ts';
import { readSipDatagram } from './sip-datagram.ts';
import { UasCall } from './uas-call.ts';

/** What the server does with a new call; it answers or rejects through the UasCall. */
export type InviteHandler = (call: UasCall) => void | Promise<void>;

/** Thrown when the SIP port is taken (the runner reports it instead of a stack trace). */
export class SipPortInUseError extends Error {}

/**
 * The SIP side of an application server: one UDP socket in the core (the
 * S-CSCF is the only peer), @imslab/sip's transaction layer, and the
 * incoming-call dialogs. Malformed datagrams are answered 400 when they
 * name a Via, otherwise dropped: a bad packet never stops the server.
 */
export class SipEndpoint {
  readonly calls = new Map<string, UasCall>();
  private readonly layer = new TransactionLayer();
  private socket: Socket | undefined;

  constructor(
    readonly address: string,
    readonly port: number,
    readonly user: string,
    private readonly log: SipLogger,
    private readonly onInvite: InviteHandler,
  ) {}

  get contact(): string {
    return `<sip:${this.user}@${this.address}:${this.port};transport=udp>`;
  }

  async start(): Promise<void> {
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new SipPortInUseError(`SIP port ${this.address}:${this.port}/udp is in use: stop whatever holds it (imslab down)`) : e));
      s.bind(this.port, this.address, () => resolve());
    });
    s.on('error', (e) => this.log.warn(`SIP socket: ${e.message}`));
    s.on('message', (buf, r) => this.receive(buf, r.address, r.port));
    this.socket = s;
  }

  private sender(host: string, port: number): TxnSender {
    return { reliable: false, send: (m) => this.send(m, host, port) };
  }

  private send(m: SipMessage, host: string, port: number): Promise<void> {
    const s = this.socket;
    if (!s) return Promise.reject(new Error('SIP socket closed'));
    this.log.sip('out', m, `${host}:${port}`);
    return new Promise((resolve, reject) => s.send(serializeMessage(m), port, host, (e) => (e ? reject(e) : resolve())));
  }

  private receive(buf: Buffer, host: string, port: number): void {
    const m = readSipDatagram(buf, host, port, this.log, (r) => this.send(r, host, port));
    if (!m) return;
    try {
      if (m.kind === 'response') {
        this.layer.receiveResponse(m);
        return;
      }
      const d = this.layer.receiveRequest(m, this.sender(host, port));
      if (d.kind === 'ack') this.calls.get(m.headers.get('Call-ID') ?? '')?.acked();
      else if (d.kind === 'new') this.request(m, d.txn, host, port);
    } catch (e) {
      this.log.warn(`error handling ${m.kind === 'request' ? m.method : m.status}: ${(e as Error).stack ?? e}`);
    }
  }

  private request(req: SipRequest, txn: ServerTransaction, host: string, port: number): void {
    const callId = req.headers.get('Call-ID') ?? '';
    const call = this.calls.get(callId);
    switch (req.method) {
      case 'INVITE': {
        if (call) {
          // A re-INVITE (session refresh): keep the session as it is.
          if (call.state === 'ended') txn.respond(createResponse(req, 481));
          else txn.respond(createResponse(req, 200, { toTag: call.toTag, headers: [['Contact', this.contact]], body: call.lastAnswer ?? '' }));
          return;
        }
        if (/;tag=/.test(req.headers.get('To') ?? '')) {
          txn.respond(createResponse(req, 481, { reason: 'Call/Transaction Does Not Exist' }));
          return;
        }
        const c = new UasCall(req, txn, this.contact, (res) => void this.send(res, host, port).catch(() => undefined), this.log);
        this.calls.set(callId, c);
        c.onEnded(() => setTimeout(() => this.calls.delete(callId), 32_000).unref());
        txn.respond(createResponse(req, 100));
        Promise.resolve()
          .then(() => this.onInvite(c))
          .catch((e: Error) => {
            this.log.warn(`INVITE handler failed for ${callId}: ${e.stack ?? e}`);
            c.reject(500, `Server Internal Error (${e.message.slice(0, 60)})`);
          });
        return;
      }
      case 'BYE':
        txn.respond(createResponse(req, call ? 200 : 481));
        call?.end('bye');
        return;
      case 'CANCEL':
        txn.respond(createResponse(req, call ? 200 : 481));
        // sec. 9.2: a CANCEL after the final response changes nothing.
        if (call && call.state === 'offered') call.reject(487, 'Request Terminated', [], 'cancel');
        return;
      case 'OPTIONS':
        txn.respond(createResponse(req, 200, { headers: [['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS']] }));
        return;
      default:
        txn.respond(createResponse(req, 405, { headers: [['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS']] }));
    }
  }

  /**
   * Ends a confirmed call from our side (the end of a playback): BYE within
   * the dialog (sec. 15.1.1), sent to the first hop of its route set.
   */
  bye(call: UasCall): Promise<void> {
    if (call.state !== 'confirmed') return Promise.resolve();
    let req;
    let uri;
    try {
      req = createInDialogRequest(createUasDialog(call.invite, call.toTag), 'BYE', { via: { transport: 'UDP', host: this.address, port: this.port, rport: true } });
      const first = req.headers.getAll('Route')[0];
      uri = parseSipUri(first ? (parseNameAddr(first)?.uri ?? '') : req.uri);
      if (!uri) throw new Error(`no next hop for the BYE of ${call.callId}`);
    } catch (e) {
      // The session ends here anyway: stop its media even if the peer cannot be told.
      call.end('bye-sent');
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    call.end('bye-sent');
    return new Promise((resolve) => {
      this.layer.sendRequest(req, this.sender(uri.host, uri.port ?? 5060), {
        onResponse: (r) => r.status >= 200 && resolve(),
        onTimeout: () => resolve(),
        onTransportError: () => resolve(),
      });
    });
  }

  async close(): Promise<void> {
    for (const c of this.calls.values()) c.end('shutdown');
    this.layer.dispose();
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
