import { readFileSync } from 'node:fs';
import {
  authenticate, buildMsrpSdp, connectMsrp, MsrpSession, newSessionId, parseMsrpSdp, routeTo,
  type FileSelector, type MsrpConnection, type MsrpUri, type ReceivedMessage as MsrpReceived,
} from '@imslab/msrp';
import {
  callIdOf, createAckFor2xx, createInDialogRequest, createRequest, createResponse, createUacDialog, createUasDialog, fromOf, nameAddrsOf, newTag,
  tagOf, toOf, type Dialog, type ServerTransaction, type SipRequest, type SipResponse,
} from '@imslab/sip';
import type { UeConfig } from './config.ts';
import type { Logger } from './log.ts';
import type { Registration } from './registration.ts';
import type { SipStack } from './sip-stack.ts';

/**
 * Session-mode messaging (TR 33.828 sec. 4.3, RFC 4975 MSRP) through the
 * network's MSRP relay (RFC 4976): a session is an INVITE whose SDP has one
 * m=message (TCP/TLS/MSRP) section; each side opens TLS to the relay on its
 * own access network, AUTHs with the user's credentials and puts the relay's
 * Use-Path before its own URI in a=path, so every SEND crosses the relay,
 * which terminates TLS on every leg (hop-by-hop protection; end to end only
 * with CMS inside the SEND, RFC 8591). The TLS secrets go to the UE's key
 * log, which is how the captures are opened.
 *
 * One message per session, as the runner's `message` step with `mode:
 * session` uses it: INVITE, SEND with a success REPORT, BYE.
 */

/** What the sender learns about one message delivered in a session. */
export interface SessionDelivery {
  status: number;
  reason: string;
  msrpMessageId?: string;
  /** Size of the MSRP body (the CPIM or the CMS). */
  bytes: number;
}

/** An incoming SEND, with the session's SIP identities, for the messaging layer to open. */
export interface SessionMessage {
  callId: string;
  from: string;
  asserted: string | null;
  to: string;
  contentType: string;
  body: Buffer;
  msrpMessageId: string;
  /** RFC 5547: the session was a file transfer; the offer's file-selector. */
  fileSelector?: FileSelector;
}

/** An RFC 5547 file transfer offer: what a=file-selector and a=file-transfer-id say. */
export interface FileOffer {
  selector: FileSelector;
  transferId: string;
}

/** MSRP unusable here (no relay configured, relay unreachable, AUTH refused). */
export class MsrpUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MsrpUnavailableError';
  }
}

/** Types we accept in a session: CPIM in the clear and S/MIME (RFC 8591 sec. 4). */
const ACCEPT_TYPES = ['message/cpim', 'application/pkcs7-mime', 'text/plain'];
/** Tries of the bodiless first SEND, and how long each waits for the peer's REPORT. */
const BIND_TRIES = 3;
const BIND_REPORT_WAIT_MS = 2000;
/** How long the sender waits for the INVITE's answer, the SEND's REPORT and the BYE's answer, each. */
const STEP_CAP_MS = 15_000;

interface Live {
  callId: string;
  /** A chat room we joined (and stay in until leave). */
  room?: string;
  session?: MsrpSession;
  /** RFC 5547: the offer's file-selector, when the session is a file transfer. */
  file?: FileOffer;
  dialog?: Dialog;
  conn?: MsrpConnection;
  /** INVITE server transaction of an incoming session (the 2xx goes through it). */
  txn?: ServerTransaction;
  closed: boolean;
}

export class MsrpSessions {
  private readonly live = new Map<string, Live>();

  constructor(
    private readonly cfg: UeConfig,
    private readonly stack: SipStack,
    private readonly registration: Registration,
    private readonly keylogFile: string,
    private readonly log: Logger,
    private readonly onMessage: (m: SessionMessage) => void,
  ) {}

  /** An INVITE outside a dialog whose SDP offers MSRP (and nothing the calls would take). */
  static isOffer(req: SipRequest): boolean {
    if (req.method !== 'INVITE' || tagOf(toOf(req)) !== undefined || !req.body.length) return false;
    const sdp = parseMsrpSdp(req.body.toString('utf8'));
    return sdp.ok && sdp.media.length > 0;
  }

  /** Whether a request belongs to one of our session dialogs. */
  owns(callId: string): boolean {
    return this.live.has(callId);
  }

  /** TLS to the relay on our access network, AUTH; our URI and a=path. */
  private async attach(callId: string): Promise<{ conn: MsrpConnection; localUri: MsrpUri; usePath: MsrpUri[] }> {
    const relay = this.cfg.msrpRelay;
    if (!relay) throw new MsrpUnavailableError(`${this.cfg.name} has no MSRP relay configured (no "msrpRelay" in its configuration)`);
    let conn: MsrpConnection;
    try {
      conn = await connectMsrp({
        host: relay.host, port: relay.port, localAddress: this.cfg.address, keylogFile: this.keylogFile,
        tls: { ca: readFileSync(this.cfg.tls?.caFile ?? '') }, connectTimeoutMs: 5000, transactionTimeoutMs: 10_000,
      });
    } catch (e) {
      throw new MsrpUnavailableError(`cannot reach the MSRP relay at ${relay.host}:${relay.port} over TLS: ${(e as Error).message} (is "msrp-relay" in the scenario's network.servers?)`);
    }
    const live = this.live.get(callId);
    if (live) live.conn = conn;
    // Our own URI: nobody connects to it; the relay sends to us on the connection we opened (RFC 4976 sec. 6).
    const localUri: MsrpUri = { scheme: 'msrps', host: this.cfg.address, port: relay.port, sessionId: newSessionId(), transport: 'tcp', params: [] };
    const relayUri: MsrpUri = { scheme: 'msrps', host: relay.host, port: relay.port, transport: 'tcp', params: [] };
    try {
      const auth = await authenticate(conn, { relayUri, localUri, credentials: { username: this.cfg.user, password: this.cfg.password } });
      return { conn, localUri, usePath: auth.usePath };
    } catch (e) {
      conn.close();
      throw new MsrpUnavailableError(`AUTH at the MSRP relay ${relay.host}:${relay.port} failed: ${(e as Error).message}`);
    }
  }

  /** Our SDP: one m=message with our a=path; a file transfer adds the selector, sendonly (offer) or recvonly (answer) (RFC 5547 sec. 8). */
  private sdp(localUri: MsrpUri, usePath: MsrpUri[], file?: FileOffer, role: 'offer' | 'answer' = 'offer'): Buffer {
    const acceptTypes = file?.selector.type && role === 'answer' ? [...ACCEPT_TYPES, file.selector.type] : ACCEPT_TYPES;
    return Buffer.from(buildMsrpSdp({
      address: this.cfg.address,
      media: [{
        port: localUri.port ?? 2855, tls: true, path: [...usePath, localUri], acceptTypes, setup: role === 'offer' ? 'active' : 'passive',
        ...(file ? { fileSelector: file.selector, fileTransferId: file.transferId, direction: role === 'offer' ? 'sendonly' as const : 'recvonly' as const } : {}),
      }],
    }));
  }

  /**
   * Sets up a session to `to`, sends `body` as one message with a success
   * REPORT, and ends the session. Never throws for a refusal by the network
   * or the peer: the outcome says what happened (a 4xx/5xx to the INVITE, or
   * the SEND's status). Throws MsrpUnavailableError when our side cannot
   * reach or AUTH at the relay.
   */
  async deliver(callId: string, to: string, body: Buffer, contentType: string, file?: FileOffer): Promise<SessionDelivery> {
    const live: Live = { callId, closed: false, ...(file ? { file } : {}) };
    this.live.set(callId, live);
    try {
      const up = await this.establish(live, to);
      if ('status' in up) return { ...up, bytes: body.length };
      let out: SessionDelivery;
      try {
        const sent = await up.session.send(body, { contentType, successReport: true });
        const report = await up.session.waitForReport(sent.messageId, STEP_CAP_MS);
        out = { status: report.status.code, reason: report.status.reason ?? (report.status.code === 200 ? 'OK' : 'REPORT'), msrpMessageId: sent.messageId, bytes: body.length };
        this.log.info(`MSRP ${callId}: SEND ${sent.messageId} (${body.length} bytes, ${sent.chunks} chunk(s)) to ${to}: REPORT ${report.status.code}`);
      } catch (e) {
        const status = (e as { status?: number }).status ?? 408;
        out = { status, reason: `SEND failed: ${(e as Error).message}`, bytes: body.length };
      }
      up.session.close();
      await this.bye(live);
      return out;
    } finally {
      this.end(live);
    }
  }

  /**
   * Joins a chat room (RFC 7701 style: the room's server terminates MSRP and
   * re-sends each participant's messages to the others) and stays in it
   * until {@link leave}: INVITE, then the bodiless SEND of {@link establish}
   * (RFC 4975 sec. 5.4), so the relay connects to the room's server and
   * messages can flow to us.
   * Messages that arrive are recorded like any other. Resolves with the
   * INVITE's final status.
   */
  async join(callId: string, room: string): Promise<{ status: number; reason: string }> {
    const live: Live = { callId, closed: false, room };
    this.live.set(callId, live);
    const up = await this.establish(live, room).catch((e: Error) => {
      this.end(live);
      throw e;
    });
    if ('status' in up) {
      this.end(live);
      return up;
    }
    live.session = up.session;
    this.log.info(`MSRP ${callId}: joined ${room}`);
    return { status: 200, reason: 'OK' };
  }

  /** Leaves every session joined to `room` (BYE). Resolves with how many were left. */
  async leave(room: string): Promise<number> {
    const joined = [...this.live.values()].filter((l) => l.room === room && !l.closed);
    await Promise.all(joined.map(async (l) => {
      l.session?.close();
      await this.bye(l);
      this.end(l);
    }));
    return joined.length;
  }

  /** The rooms this UE is in, for GET /messages. */
  get rooms(): string[] {
    return [...this.live.values()].filter((l) => l.room && !l.closed).map((l) => l.room!);
  }

  /** INVITE with our a=path (after AUTH at the relay), ACK, the session toward the answer's a=path; or the failure. */
  private async establish(live: Live, to: string): Promise<{ session: MsrpSession } | { status: number; reason: string }> {
    const { callId } = live;
    const { conn, localUri, usePath } = await this.attach(callId);
    const { cfg, stack } = this;
    const invite = createRequest({
      method: 'INVITE', uri: to, via: stack.via(), from: `<${cfg.impu}>;tag=${newTag()}`, to: `<${to}>`, callId, cseq: 1,
      routes: [stack.outboundRoute(), ...this.registration.serviceRoute],
      contact: stack.contact(),
      headers: [['P-Preferred-Identity', `<${cfg.impu}>`], ['User-Agent', 'imslab-ue']],
      body: this.sdp(localUri, usePath, live.file),
    });
    const answer = await new Promise<SipResponse | { status: number; reason: string }>((resolve) => {
      let first: SipResponse | undefined;
      stack.sendRequest(invite, {
        onResponse: (r) => {
          if (r.status < 200) return;
          if (first && r.status < 300 && tagOf(toOf(r)) !== tagOf(toOf(first))) return this.dropFork(invite, r);
          first ??= r;
          resolve(r);
        },
        onTimeout: () => resolve({ status: 408, reason: 'Request Timeout (no final response to INVITE)' }),
        onTransportError: (e) => resolve({ status: 503, reason: `transport error: ${e.message}` }),
      });
      setTimeout(() => resolve({ status: 408, reason: `no final response within ${STEP_CAP_MS / 1000} s` }), STEP_CAP_MS).unref();
    });
    if (!('headers' in answer) || answer.status >= 300) return { status: answer.status, reason: answer.reason };
    const dialog = createUacDialog(invite, answer);
    live.dialog = dialog;
    stack.sendStateless(createAckFor2xx(dialog, 1, { via: stack.via() }));
    const peer = parseMsrpSdp(answer.body.toString('utf8'));
    if (!peer.ok || !peer.media[0]) {
      await this.bye(live);
      return { status: 488, reason: `the answer has no usable m=message: ${peer.ok ? 'none' : peer.error.message}` };
    }
    const session = new MsrpSession({ connection: conn, localUri, toPath: routeTo(usePath, peer.media[0].path), acceptTypes: ACCEPT_TYPES });
    this.listen(session, live, { from: to, asserted: null, to: cfg.impu });
    // RFC 4975 sec. 5.4: the active side sends a bodiless SEND first. It lets the relay open its
    // next-hop connection (to a chat server, or to itself for the peer's session) before a message's
    // chunks are in flight: Kamailio 5.6 answered chunks 481 "Cannot reach next hop" while it was still
    // connecting (seen with a 1 MB file sent first, packages/msrp/bench/relay-throughput-bench.ts).
    // The relay's 200 to that SEND comes before it has forwarded it, so the path is proven only by the
    // peer's success REPORT coming back (seen in a fresh-clone run: a 200 kB file 481'd after the 200).
    await this.bind(session, callId, to);
    return { session };
  }

  /** The bodiless SEND with a success REPORT, until the REPORT comes back (at most BIND_TRIES tries). */
  private async bind(session: MsrpSession, callId: string, to: string): Promise<void> {
    for (let i = 1; i <= BIND_TRIES; i++) {
      try {
        const sent = await session.send(Buffer.alloc(0), { contentType: 'text/plain', successReport: true });
        await session.waitForReport(sent.messageId, BIND_REPORT_WAIT_MS);
        return;
      } catch (e) {
        this.log.warn(`MSRP ${callId}: bodiless SEND ${i}/${BIND_TRIES} to ${to}: ${(e as Error).message}`);
      }
    }
  }

  /** Every message of a session to the messaging layer; bodiless SENDs (bind, RFC 4975 sec. 5.4) are no messages. */
  private listen(session: MsrpSession, live: Live, ids: { from: string; asserted: string | null; to: string }): void {
    session.on('message', (m: MsrpReceived) => {
      if (m.body.length === 0) return;
      this.log.info(`MSRP ${live.callId}: SEND ${m.messageId} from ${ids.asserted ?? ids.from} (${m.body.length} bytes, ${m.chunks} chunk(s))`);
      this.onMessage({ callId: live.callId, ...ids, contentType: m.contentType ?? '', body: m.body, msrpMessageId: m.messageId, ...(live.file ? { fileSelector: live.file.selector } : {}) });
    });
    session.on('message-error', (e) => this.log.warn(`MSRP ${live.callId}: message refused: ${e.message}`));
  }

  /** A 2xx from a second fork (sec. 13.2.2.4): ACK it and end that dialog with BYE; one session is enough. */
  private dropFork(invite: SipRequest, res: SipResponse): void {
    try {
      const d = createUacDialog(invite, res);
      this.stack.sendStateless(createAckFor2xx(d, 1, { via: this.stack.via() }));
      this.stack.sendRequest(createInDialogRequest(d, 'BYE', { via: this.stack.via() }), { onResponse: () => undefined });
      this.log.info(`MSRP ${callIdOf(invite)}: a second fork answered (to-tag ${d.remoteTag}): ACK and BYE it`);
    } catch (e) {
      this.log.warn(`MSRP ${callIdOf(invite)}: cannot end the extra fork: ${(e as Error).message}`);
    }
  }

  private bye(live: Live): Promise<void> {
    const d = live.dialog;
    if (!d || live.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.stack.sendRequest(createInDialogRequest(d, 'BYE', { via: this.stack.via() }), {
        onResponse: (r) => r.status >= 200 && resolve(),
        onTimeout: () => resolve(),
        onTransportError: () => resolve(),
      });
      setTimeout(resolve, STEP_CAP_MS).unref();
    });
  }

  private end(live: Live): void {
    if (live.closed) return;
    live.closed = true;
    live.session?.close();
    live.conn?.close();
    // Kept a little for a late BYE or ACK retransmission, then forgotten.
    setTimeout(() => this.live.delete(live.callId), 32_000).unref();
  }

  /** A new INVITE offering MSRP: AUTH at our relay, answer with our a=path, hand every message to the messaging layer. Never throws. */
  onInvite(req: SipRequest, txn: ServerTransaction): void {
    const callId = callIdOf(req);
    if (this.live.has(callId)) {
      this.stack.respond(txn, 482, { reason: 'Loop Detected' });
      return;
    }
    const live: Live = { callId, txn, closed: false };
    this.live.set(callId, live);
    this.stack.respond(txn, 100);
    void this.accept(req, txn, live).catch((e: Error) => {
      this.log.warn(`MSRP session ${callId} refused: ${e.message}`);
      if (!txn.answered) this.stack.respond(txn, e instanceof MsrpUnavailableError ? 480 : 500, { toTag: newTag(), reason: e instanceof MsrpUnavailableError ? 'Temporarily Unavailable (MSRP relay)' : 'Server Internal Error' });
      this.end(live);
    });
  }

  private async accept(req: SipRequest, txn: ServerTransaction, live: Live): Promise<void> {
    const offer = parseMsrpSdp(req.body.toString('utf8'));
    const media = offer.ok ? offer.media[0] : undefined;
    const tag = newTag();
    if (!media || !media.tls) {
      this.stack.respond(txn, 488, { toTag: tag, reason: `Not Acceptable Here (${media ? 'MSRP without TLS is not offered here' : 'no usable m=message'})` });
      this.end(live);
      return;
    }
    if (media.fileSelector) live.file = { selector: media.fileSelector, transferId: media.fileTransferId ?? '' };
    const { conn, localUri, usePath } = await this.attach(live.callId);
    if (live.closed) return conn.close();
    const session = new MsrpSession({ connection: conn, localUri, toPath: routeTo(usePath, media.path), acceptTypes: live.file?.selector.type ? [...ACCEPT_TYPES, live.file.selector.type] : ACCEPT_TYPES });
    this.listen(session, live, { from: fromOf(req).uri, asserted: nameAddrsOf(req, 'P-Asserted-Identity')[0]?.uri ?? null, to: toOf(req).uri });
    live.dialog = createUasDialog(req, tag);
    const headers: Array<[string, string]> = req.headers.getAll('Record-Route').map((v) => ['Record-Route', v] as [string, string]);
    headers.push(['Contact', this.stack.contact()]);
    txn.respond(createResponse(req, 200, { toTag: tag, headers, body: this.sdp(localUri, usePath, live.file, 'answer') }));
  }

  /** A request inside one of our session dialogs: BYE ends it; anything else is refused. */
  onInDialogRequest(req: SipRequest, txn: ServerTransaction): void {
    const live = this.live.get(callIdOf(req));
    if (!live || !live.dialog || tagOf(toOf(req)) !== live.dialog.localTag) {
      this.stack.respond(txn, 481);
      return;
    }
    if (req.method === 'BYE') {
      this.stack.respond(txn, 200);
      live.dialog = undefined;
      this.end(live);
      return;
    }
    this.stack.respond(txn, req.method === 'INVITE' ? 488 : 405, req.method === 'INVITE' ? { reason: 'Not Acceptable Here (no re-INVITE in an MSRP session)' } : { headers: [['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS']] });
  }

  /** Ends every session (shutdown). */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.live.values()].filter((l) => !l.closed).map(async (l) => {
      await this.bye(l);
      this.end(l);
    }));
  }
}
