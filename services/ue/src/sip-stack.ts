import {
  createResponse, TransactionLayer, type ClientTransaction, type ClientTransactionHandlers, type ResponseSpec,
  type ServerTransaction, type SipMessage, type SipParseError, type SipRequest, type SipResponse, type TimerBase, type ViaSpec,
} from '@imslab/sip';
import type { TransportName, UeConfig } from './config.ts';
import type { Logger } from './log.ts';
import { SipTransport, type Flow } from './sip-transport.ts';
import { refusalOfMalformed, screenRequest } from './uas-screen.ts';

/** What the UA core does with requests and stray responses. */
export interface CoreHandlers {
  /** A new request with its server transaction (answer through `respond`). */
  onRequest(req: SipRequest, txn: ServerTransaction, flow: Flow): void;
  /** An ACK for a 2xx (no transaction). */
  onAck(req: SipRequest, flow: Flow): void;
  /** A response that matched no client transaction (a 2xx retransmission after Timer M). */
  onStrayResponse(res: SipResponse): void;
}

/**
 * The UE's SIP stack: the transport, the transaction layer of @imslab/sip
 * and the identity-dependent bits every request needs (Via, Contact, the
 * preloaded route to the P-CSCF). Every inbound handler is wrapped so a bug
 * or a hostile packet never crashes the process.
 */
export class SipStack {
  readonly layer: TransactionLayer;
  readonly transport: SipTransport;
  handlers: CoreHandlers = { onRequest: () => undefined, onAck: () => undefined, onStrayResponse: () => undefined };

  constructor(
    readonly cfg: UeConfig,
    readonly log: Logger,
    keylog: (line: Buffer) => void,
    timers: Partial<TimerBase> = {},
  ) {
    this.layer = new TransactionLayer(timers);
    this.transport = new SipTransport(cfg, log, { onMessage: (m, f) => this.receive(m, f), onMalformed: (e, f, p) => this.malformed(e, f, p) }, keylog);
  }

  get transportName(): TransportName {
    return this.cfg.transport;
  }

  /**
   * Our Via for a new request (sec. 18.1.1): the transport toward the P-CSCF,
   * our listening port, rport; on TCP/TLS also `alias` (RFC 5923), so the
   * P-CSCF sends requests for us over the connection we opened (as IMS UEs
   * expect) rather than opening TLS connections toward us.
   */
  via(): ViaSpec {
    const t = this.cfg.transport;
    return { transport: t.toUpperCase(), host: this.cfg.address, port: this.transport.listenPort(t), rport: true, alias: t !== 'udp' };
  }

  /** Our Contact: `<sip:user@address:port;transport=t>` with the port of the chosen transport. */
  contact(): string {
    const t = this.cfg.transport;
    return `<sip:${this.cfg.user}@${this.cfg.address}:${this.transport.listenPort(t)};transport=${t}>`;
  }

  /** The preloaded Route to the P-CSCF (TS 24.229 sec. 5.1.2A.1): `<sip:host:port;transport=t;lr>`. */
  outboundRoute(): string {
    const { host, udpPort, tcpPort, tlsPort } = this.cfg.pcscf;
    const t = this.cfg.transport;
    const port = t === 'udp' ? udpPort : t === 'tcp' ? tcpPort : tlsPort;
    return `<sip:${host}:${port};transport=${t};lr>`;
  }

  /** Starts a client transaction toward the P-CSCF. */
  sendRequest(req: SipRequest, handlers: ClientTransactionHandlers): ClientTransaction {
    return this.layer.sendRequest(req, this.transport.pcscfSender(), handlers);
  }

  /** Sends a request outside any transaction (the ACK for a 2xx, sec. 13.2.2.4). */
  sendStateless(req: SipRequest): void {
    this.transport.sendToPcscf(req).catch((e: Error) => this.log.warn(`sending ${req.method} failed: ${e.message}`));
  }

  /** Builds and sends a response through a server transaction. */
  respond(txn: ServerTransaction, status: number, spec: ResponseSpec = {}): SipResponse {
    const res = createResponse(txn.request, status, spec);
    txn.respond(res);
    return res;
  }

  /** Sends a response directly on a flow (2xx retransmissions by the TU, sec. 13.3.1.4). */
  resend(res: SipResponse, flow: Flow): void {
    this.transport.sendResponse(res, flow).catch((e: Error) => this.log.warn(`re-sending ${res.status} failed: ${e.message}`));
  }

  private receive(m: SipMessage, flow: Flow): void {
    try {
      if (m.kind === 'response') {
        if (!this.layer.receiveResponse(m)) this.handlers.onStrayResponse(m);
        return;
      }
      const d = this.layer.receiveRequest(m, this.transport.senderFor(flow));
      if (d.kind === 'new') {
        const refusal = screenRequest(m);
        if (refusal) {
          this.respond(d.txn, refusal.status, { reason: refusal.reason, headers: refusal.headers });
          return;
        }
        try {
          this.handlers.onRequest(m, d.txn, flow);
        } catch (e) {
          this.log.warn(`handler for ${m.method} failed: ${(e as Error).stack ?? e}`);
          if (!d.txn.answered) this.respond(d.txn, 500, { reason: 'Server Internal Error' });
        }
      } else if (d.kind === 'ack') this.handlers.onAck(m, flow);
    } catch (e) {
      this.log.warn(`error processing ${m.kind === 'request' ? m.method : m.status}: ${(e as Error).stack ?? e}`);
    }
  }

  /** sec. 8.2: answer 400, 505 or 501 when the garbage still names where to respond (uas-screen.ts); otherwise drop. */
  private malformed(err: SipParseError, flow: Flow, partial: SipMessage | undefined): void {
    if (!partial) return;
    try {
      const res = refusalOfMalformed(partial, err.status, `Bad Request (${err.message.slice(0, 80).replace(/[\r\n]/g, ' ')})`);
      if (res) this.transport.sendResponse(res, flow).catch(() => undefined);
    } catch {
      // Not even Via usable: drop silently (sec. 18.3 / 16.3 spirit).
    }
  }

  async close(): Promise<void> {
    this.layer.dispose();
    await this.transport.close();
  }
}
