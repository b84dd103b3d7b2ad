import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { SipLogger, SipPortInUseError, readSipDatagram } from '@imslab/app-server';
import { ControlServer, startBoth } from '@imslab/element-kit';
import {
  TransactionLayer, callIdOf, createRequest, createResponse, fromOf, nameAddrsOf, newCallId, newTag, parseSipUri, serializeMessage,
  type ServerTransaction, type SipMessage, type SipRequest, type TxnSender,
} from '@imslab/sip';
import type { ImConfig } from './config.ts';
import type { ImForward, ImMessageRecord, ImRecipientState, ImStatus } from './contract.ts';
import { MessageStore, sha256 } from './message-store.ts';

/** Records kept for GET /status, oldest dropped first. */
const MAX_RECORDS = 1000;
/** Final responses that mean "the member is not reachable now": keep the message for later. */
/** Forwards kept per message record (live ones and attempts from the store). */
const MAX_FORWARDS_KEPT = 64;
const OFFLINE = new Set([404, 408, 480]);
const ALLOW = 'MESSAGE, OPTIONS';

/** `sip:user@host` of a URI, lower-case host, no port or parameters: how members are compared. */
export function identityOf(uri: string | null | undefined): string | null {
  const u = parseSipUri(uri ?? '');
  if (!u || u.user === undefined) return null;
  return `sip:${u.user}@${u.host.toLowerCase()}`;
}

interface SendOutcome { status: number; reason: string }

/**
 * The IM server (TR 33.828 4.3, RFC 3428 pager mode): a MESSAGE to
 * `sip:im-<group>@<domain>` from a member (by P-Asserted-Identity) is answered
 * 202 Accepted and sent on to every other member as a new MESSAGE through the
 * S-CSCF, with the same body bytes and Content-Type: the sender encrypted it
 * with one RecipientInfo per member, and the server holds no key. A member the
 * S-CSCF cannot reach (404, 408, 480) gets it from the store later: when that
 * member next sends anything to the server, or on the retry timer.
 */
export class ImServer {
  private readonly layer = new TransactionLayer();
  private socket: Socket | undefined;
  private readonly records: ImMessageRecord[] = [];
  private readonly refused: ImStatus['refused'] = [];
  private readonly groups: Map<string, string[]>;
  private retry: NodeJS.Timeout | undefined;
  private readonly delivering = new Set<string>();

  private constructor(readonly cfg: ImConfig, private readonly control: ControlServer, private readonly log: SipLogger, readonly store: MessageStore | null) {
    this.groups = new Map(cfg.groups.map((g) => [g.user, g.members.map((m) => identityOf(m) ?? m)]));
  }

  static async start(cfg: ImConfig, log = new SipLogger('im', cfg.name)): Promise<ImServer> {
    const store = cfg.store ? MessageStore.open(cfg.store.dir, { maxMessages: cfg.store.maxMessages, maxBytes: cfg.store.maxBytes }) : null;
    for (const p of store?.problems() ?? []) log.warn(`store: ${p}`);
    let srv: ImServer | undefined;
    const control = new ControlServer(cfg.address, cfg.controlPort, { 'GET /status': () => srv!.status() });
    srv = new ImServer(cfg, control, log, store);
    await startBoth({ start: () => srv!.startSip(), close: () => srv!.closeSip() }, control);
    if (store && cfg.store) srv.retry = setInterval(() => void srv!.deliverPending(undefined, 'retry-timer'), cfg.store.retryMs);
    srv.retry?.unref();
    const u = store?.usage();
    log.info(`listening on ${cfg.address}:${cfg.sipPort}/udp, control http://${cfg.address}:${cfg.controlPort}; S-CSCF ${cfg.scscf.address}:${cfg.scscf.port}; groups: ${cfg.groups.map((g) => `${g.user} (${g.members.length} members)`).join(', ') || 'none'}; store: ${store ? `${store.dir}, ${u!.pending} pending` : 'none'}`);
    return srv;
  }

  private async startSip(): Promise<void> {
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new SipPortInUseError(`SIP port ${this.cfg.address}:${this.cfg.sipPort}/udp is in use: stop whatever holds it (imslab down)`) : e));
      s.bind(this.cfg.sipPort, this.cfg.address, () => resolve());
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
      if (d.kind === 'new') this.request(m, d.txn);
    } catch (e) {
      this.log.warn(`error handling ${m.kind === 'request' ? m.method : m.status}: ${(e as Error).stack ?? e}`);
    }
  }

  private request(req: SipRequest, txn: ServerTransaction): void {
    const from = identityOf(nameAddrsOf(req, 'P-Asserted-Identity')[0]?.uri) ?? identityOf(fromOf(req).uri);
    // Anything a member sends is a sign of life: offer what waits for it.
    if (from && this.store) setImmediate(() => void this.deliverPending(from, 'member-activity'));
    switch (req.method) {
      case 'MESSAGE':
        this.onMessage(req, txn, from);
        return;
      case 'OPTIONS':
        txn.respond(createResponse(req, 200, { headers: [['Allow', ALLOW]] }));
        return;
      case 'ACK':
        return;
      default:
        txn.respond(createResponse(req, 405, { headers: [['Allow', ALLOW]] }));
    }
  }

  private refuse(req: SipRequest, txn: ServerTransaction, from: string | null, status: number, reason: string): void {
    txn.respond(createResponse(req, status, { reason }));
    this.keep(this.refused, { callId: callIdOf(req), from: from ?? fromOf(req).uri, to: req.uri, status, reason, at: new Date().toISOString() });
    this.log.warn(`MESSAGE ${callIdOf(req)} from ${from ?? '?'} to ${req.uri}: ${status} ${reason}`);
  }

  private onMessage(req: SipRequest, txn: ServerTransaction, from: string | null): void {
    const user = parseSipUri(req.uri)?.user?.toLowerCase() ?? '';
    const members = this.groups.get(user);
    if (!members) return this.refuse(req, txn, from, 404, 'Not Found (no such group)');
    if (!from || !members.includes(from)) return this.refuse(req, txn, from, 403, 'Forbidden (not a member of the group)');
    if (!req.body.length) return this.refuse(req, txn, from, 400, 'Bad Request (empty MESSAGE)');
    const contentType = req.headers.get('Content-Type') ?? '';
    const rec: ImMessageRecord = {
      id: `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
      group: user, sender: from, callId: callIdOf(req), receivedAt: new Date().toISOString(), contentType,
      bodyBytes: req.body.length, bodySha256: sha256(req.body), response: { status: 202, reason: 'Accepted' },
      recipients: members.filter((m) => m !== from).map((member) => ({ member, state: 'sending' })),
      forwards: [],
    };
    this.keep(this.records, rec);
    txn.respond(createResponse(req, 202, { reason: 'Accepted' }));
    this.log.info(`MESSAGE ${rec.callId} from ${from} to ${user}: ${rec.bodyBytes} bytes ${contentType}, sha256 ${rec.bodySha256.slice(0, 16)}; forwarding to ${rec.recipients.map((r) => r.member).join(', ') || 'nobody'}`);
    const body = Buffer.from(req.body);
    const disposition = req.headers.get('Content-Disposition') ?? null;
    for (const r of rec.recipients) void this.forwardLive(rec, r, body, disposition);
  }

  private async forwardLive(rec: ImMessageRecord, r: ImRecipientState, body: Buffer, disposition: string | null): Promise<void> {
    const out = await this.forward(rec, r.member, body, rec.contentType, disposition, 'live', 1);
    if (out.status >= 200 && out.status < 300) {
      r.state = 'delivered';
      return;
    }
    if (!OFFLINE.has(out.status) || !this.store) {
      r.state = 'failed';
      return;
    }
    try {
      const kept = this.store.put({ messageId: rec.id, group: rec.group, member: r.member, sender: rec.sender, callId: rec.callId, receivedAt: rec.receivedAt, contentType: rec.contentType, contentDisposition: disposition }, body);
      r.state = kept ? 'stored' : 'store-full';
      this.log.info(`MESSAGE ${rec.callId} for ${r.member}: ${out.status}; ${kept ? `stored as ${kept.entry}` : 'store full: dropped'}`);
    } catch (e) {
      r.state = 'failed';
      this.log.warn(`MESSAGE ${rec.callId} for ${r.member}: not stored: ${(e as Error).message}`);
    }
  }

  /** One new MESSAGE to a member through the S-CSCF, the body unchanged; resolves with the final response. */
  private forward(rec: ImMessageRecord | undefined, member: string, body: Buffer, contentType: string, disposition: string | null, kind: ImForward['from'], attempt: number, sender = rec?.sender ?? ''): Promise<SendOutcome> {
    const { cfg } = this;
    const callId = newCallId(cfg.address);
    const headers: Array<[string, string]> = [['P-Asserted-Identity', `<${sender}>`], ['User-Agent', 'imslab-im']];
    if (disposition) headers.push(['Content-Disposition', disposition]);
    const req = createRequest({
      method: 'MESSAGE', uri: member, via: { transport: 'UDP', host: cfg.address, port: cfg.sipPort, rport: true },
      from: `<${sender}>;tag=${newTag()}`, to: `<${member}>`, callId, cseq: 1, headers, body, contentType,
    });
    const fwd: ImForward = { member, callId, bodySha256: sha256(req.body), bodyBytes: req.body.length, status: null, reason: '', attempt, at: new Date().toISOString(), from: kind };
    if (rec) {
      // Bounded: retries from the store to a member still offline are dropped first, oldest first.
      if (rec.forwards.length >= MAX_FORWARDS_KEPT) {
        const i = rec.forwards.findIndex((f) => f.from === 'store' && f.status !== null && (f.status < 200 || f.status >= 300));
        rec.forwards.splice(i >= 0 ? i : 0, 1);
      }
      rec.forwards.push(fwd);
    }
    return new Promise((resolve) => {
      const done = (status: number, reason: string): void => {
        if (fwd.status !== null) return;
        fwd.status = status;
        fwd.reason = reason;
        this.log.info(`forward ${callId} (${kind}) of ${rec?.callId ?? '?'} to ${member}: ${status} ${reason}`);
        resolve({ status, reason });
      };
      try {
        this.layer.sendRequest(req, this.sender(cfg.scscf.address, cfg.scscf.port), {
          onResponse: (r) => r.status >= 200 && done(r.status, r.reason),
          onTimeout: () => done(408, 'Request Timeout (no final response)'),
          onTransportError: (e) => done(503, `transport error: ${e.message}`),
        });
      } catch (e) {
        done(503, `not sent: ${(e as Error).message}`);
      }
    });
  }

  /** Offers the stored messages of a member (every member when omitted) again; each entry is tried by one delivery at a time. */
  async deliverPending(member: string | undefined, by: 'member-activity' | 'retry-timer'): Promise<void> {
    const store = this.store;
    if (!store) return;
    for (const meta of store.pending(member)) {
      if (this.delivering.has(meta.entry)) continue;
      this.delivering.add(meta.entry);
      try {
        const m = store.load(meta.entry);
        if (!m) continue;
        const rec = this.records.find((x) => x.id === m.messageId);
        const attempt = (rec?.forwards.filter((f) => f.member === m.member).length ?? 0) + 1;
        const out = await this.forward(rec, m.member, m.body, m.contentType, m.contentDisposition, 'store', attempt, m.sender);
        if (out.status >= 200 && out.status < 300) {
          store.markDelivered(m.entry, by);
          const r = rec?.recipients.find((x) => x.member === m.member);
          if (r) Object.assign(r, { state: 'delivered', deliveredBy: by });
          this.log.info(`stored message ${m.entry} delivered to ${m.member} (${by})`);
        } else if (!OFFLINE.has(out.status)) {
          this.log.warn(`stored message ${m.entry} for ${m.member}: ${out.status} ${out.reason}; kept`);
        }
      } catch (e) {
        this.log.warn(`stored message ${meta.entry}: ${(e as Error).message}`);
      } finally {
        this.delivering.delete(meta.entry);
      }
    }
  }

  status(): ImStatus {
    const u = this.store?.usage();
    return {
      name: this.cfg.name,
      groups: [...this.groups].map(([user, members]) => ({ user, members })),
      messages: this.records,
      refused: this.refused,
      store: { dir: this.store?.dir ?? null, pending: u?.pending ?? 0, bytes: u?.bytes ?? 0, problems: this.store?.problems() ?? [] },
    };
  }

  private keep<T>(list: T[], item: T): void {
    list.push(item);
    if (list.length > MAX_RECORDS) list.shift();
  }

  private async closeSip(): Promise<void> {
    this.layer.dispose();
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  async close(): Promise<void> {
    if (this.retry) clearInterval(this.retry);
    await this.closeSip();
    await this.control.close();
  }
}
