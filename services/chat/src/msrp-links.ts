import { formatMsrpUri, MsrpSession, type MsrpConnection, type MsrpServer, type RequestHandler } from '@imslab/msrp';
import type { SipLogger } from '@imslab/app-server';
import type { ChatMessage, Participant } from './rooms.ts';

/** Types the server takes in a session (our answer's a=accept-types). */
export const ACCEPT_TYPES = ['message/cpim', 'application/pkcs7-mime', 'text/plain'];
/** How long a re-sent message waits for its success REPORT before that is logged as missing. */
const REPORT_WAIT_MS = 15_000;

interface Link {
  p: Participant;
  /** The session on the newest connection its frames arrived on; undefined until the bind SEND (or after that connection closed). */
  session?: MsrpSession;
  /** Messages for it while there is no connection, oldest first. */
  held: Array<{ from: Participant; m: ChatMessage }>;
  /** Every session made for it (one per connection), to close them when it leaves. */
  sessions: Set<MsrpSession>;
}

/**
 * The MSRP side of the participants: each one's session-id is routed on
 * every connection the server accepts. The connection its first frame (the
 * bodiless bind SEND, RFC 4975 sec. 5.4) arrives on is the one we send to
 * it on: behind a relay, the connection the relay opened for it (RFC 4976
 * sec. 6.1: we never connect to the relay ourselves); without one, the
 * participant's own. What is for a participant before that connection
 * exists is held, then sent in order.
 */
export class MsrpLinks {
  private readonly links = new Map<string, Link>();

  constructor(
    private readonly server: MsrpServer,
    private readonly log: SipLogger,
    private readonly maxHeld: number,
    private readonly onMessage: (p: Participant, m: ChatMessage) => void,
  ) {}

  private sid(p: Participant): string {
    return p.localUri.sessionId!;
  }

  /** Routes the participant's session-id on every connection. */
  attach(p: Participant): void {
    const link: Link = { p, held: [], sessions: new Set() };
    this.links.set(this.sid(p), link);
    const dispatch: RequestHandler = {
      handleRequest: (frame, info, conn) => {
        if (this.links.get(this.sid(p)) !== link) return;
        const s = this.sessionOn(link, conn);
        s.handleRequest(frame, info, conn);
      },
    };
    this.server.route(this.sid(p), dispatch);
  }

  /** Forgets the participant: no more frames for its session-id, held messages dropped. */
  detach(p: Participant): void {
    const link = this.links.get(this.sid(p));
    if (!link) return;
    this.links.delete(this.sid(p));
    this.server.unroute(this.sid(p));
    for (const s of link.sessions) s.removeAllListeners();
    if (link.held.length) this.log.warn(`MSRP ${p.identity} (${p.callId}) left ${p.room} with ${link.held.length} message(s) never sent to it`);
  }

  /** Whether the participant's connection is there, and how many messages wait for it. */
  state(p: Participant): { connected: boolean; held: number } {
    const link = this.links.get(this.sid(p));
    return { connected: !!link?.session && !link.session.connection.closed, held: link?.held.length ?? 0 };
  }

  /** The session of this participant on `conn`, made on its first frame there. */
  private sessionOn(link: Link, conn: MsrpConnection): MsrpSession {
    if (link.session && link.session.connection === conn) return link.session;
    const { p } = link;
    // Binds the session-id on this connection to the session itself (replacing the dispatcher there).
    const s = new MsrpSession({ connection: conn, localUri: p.localUri, toPath: p.toPath, acceptTypes: ACCEPT_TYPES });
    link.sessions.add(s);
    link.session = s;
    s.on('message', (m) => {
      if (m.body.length === 0) {
        this.log.info(`MSRP ${p.identity} (${p.callId}) in ${p.room}: bind SEND ${m.messageId}, connection ready`);
        return;
      }
      this.onMessage(p, { messageId: m.messageId, contentType: m.contentType ?? 'text/plain', body: m.body });
    });
    s.on('message-error', (e) => this.log.warn(`MSRP ${p.identity} (${p.callId}): message refused: ${e.message}`));
    s.on('error', (e) => this.log.warn(`MSRP ${p.identity} (${p.callId}): ${e.message}`));
    conn.once('close', () => {
      if (link.session === s) link.session = undefined;
      link.sessions.delete(s);
    });
    this.log.info(`MSRP ${p.identity} (${p.callId}) in ${p.room}: session ${formatMsrpUri(p.localUri)} on a connection; sending to ${p.toPath.map(formatMsrpUri).join(' ')}`);
    // Flushed once this frame has been answered (the caller handles it right after).
    setImmediate(() => this.flush(link));
    return s;
  }

  /** Sends `m` from `from` to participant `to` now, or holds it until its connection exists. */
  send(to: Participant, from: Participant, m: ChatMessage): void {
    const link = this.links.get(this.sid(to));
    if (!link) return;
    if (!link.session || link.session.connection.closed) {
      link.held.push({ from, m });
      if (link.held.length > this.maxHeld) {
        const dropped = link.held.shift()!;
        this.log.warn(`MSRP ${to.identity} (${to.callId}): more than ${this.maxHeld} messages held, dropped ${dropped.m.messageId} from ${dropped.from.identity}`);
      }
      this.log.info(`MSRP ${to.identity} (${to.callId}): no connection yet, holding ${m.messageId} from ${from.identity} (${link.held.length} held)`);
      return;
    }
    void this.sendOn(link.session, to, from, m);
  }

  private flush(link: Link): void {
    const s = link.session;
    if (!s || s.connection.closed || this.links.get(this.sid(link.p)) !== link) return;
    for (const h of link.held.splice(0)) void this.sendOn(s, link.p, h.from, h.m);
  }

  /** One SEND (chunked as needed) with the body bytes unchanged, asking for a success REPORT; every failure is logged. */
  private async sendOn(s: MsrpSession, to: Participant, from: Participant, m: ChatMessage): Promise<void> {
    const what = `${m.messageId} from ${from.identity} to ${to.identity} (${to.callId})`;
    try {
      const sent = await s.send(m.body, { contentType: m.contentType, successReport: true });
      this.log.info(`MSRP re-sent ${what} as ${sent.messageId} (${m.body.length} bytes, ${sent.chunks} chunk(s))`);
      const rep = await s.waitForReport(sent.messageId, REPORT_WAIT_MS);
      this.log.info(`MSRP ${sent.messageId} to ${to.identity}: REPORT ${rep.status.code}${rep.status.reason ? ` ${rep.status.reason}` : ''}`);
    } catch (e) {
      this.log.warn(`MSRP re-send of ${what} failed: ${(e as Error).message}`);
    }
  }

  close(): void {
    for (const l of [...this.links.values()]) this.detach(l.p);
  }
}
