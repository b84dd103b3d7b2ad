import { readFileSync } from 'node:fs';
import { SipEndpoint, SipLogger, userOf, type UasCall } from '@imslab/app-server';
import { ControlServer, startBoth } from '@imslab/element-kit';
import { buildMsrpSdp, formatMsrpUri, listenMsrp, newSessionId, parseMsrpSdp, type MsrpServer, type MsrpUri } from '@imslab/msrp';
import type { ChatConfig } from './config.ts';
import type { ChatRoomsDocument } from './contract.ts';
import { ACCEPT_TYPES, MsrpLinks } from './msrp-links.ts';
import { RoomStore } from './room-store.ts';
import { CHAT_FACTORY_USER, Rooms, identityOf, type ChatMessage, type Participant } from './rooms.ts';

/**
 * The chat server (TR 33.828 4.4, RFC 7701 style). A member joins room
 * `sip:chat-<group>@<domain>`, or creates an ad-hoc room through the
 * conference-factory URI `sip:chat-factory@<domain>` (the answer's Contact
 * names it: `chat-adhoc-<n>`, a focus), with an INVITE offering one m=message
 * TCP/TLS/MSRP section; the answer's a=path is our own MSRPS URI with a
 * session-id for that participant. MSRP over TLS ends here (the relay, or the
 * participant, connects to us): every message is stored in the clear and
 * re-sent, same bytes, to every other participant of the room. Protection is
 * per link only: the server reads everything, which is the point of 4.4.
 */
export class ChatServer {
  private constructor(
    readonly cfg: ChatConfig,
    private readonly sip: SipEndpoint,
    private readonly control: ControlServer,
    readonly msrp: MsrpServer,
    readonly rooms: Rooms,
    private readonly links: MsrpLinks,
    readonly store: RoomStore,
    private readonly log: SipLogger,
  ) {}

  static async start(cfg: ChatConfig, log = new SipLogger('chat', cfg.name)): Promise<ChatServer> {
    const store = RoomStore.open(cfg.store.dir, cfg.store.maxBytes);
    const tls = { ca: readFileSync(cfg.msrp.tls.caFile), cert: readFileSync(cfg.msrp.tls.certFile), key: readFileSync(cfg.msrp.tls.keyFile) };
    let srv: ChatServer | undefined;
    const msrp = await listenMsrp({ host: cfg.address, port: cfg.msrp.port, tls, keylogFile: cfg.msrp.keylogFile }, (conn, peer) => {
      log.info(`MSRP connection from ${peer.address}:${peer.port}`);
      conn.on('error', (e) => log.warn(`MSRP from ${peer.address}:${peer.port}: ${e.message}`));
      conn.on('request', (f, info) => log.warn(`MSRP ${f.method} from ${peer.address}:${peer.port} for no session here (${info.toPath.map(formatMsrpUri).join(' ')})`));
      conn.once('close', () => log.info(`MSRP connection from ${peer.address}:${peer.port} closed`));
    });
    msrp.on('client-error', (e, peer) => log.warn(`MSRP TLS from ${peer.address ?? '?'}:${peer.port ?? '?'} refused: ${e.message}`));
    msrp.on('error', (e) => log.warn(e.message));
    const links = new MsrpLinks(msrp, log, cfg.maxHeld, (p, m) => srv?.rooms.received(p, m));
    const rooms = new Rooms(cfg.rooms, {
      store: (p, m) => srv!.keep(p, m),
      deliver: (to, from, m) => links.send(to, from, m),
    }, cfg.domain);
    const sip = new SipEndpoint(cfg.address, cfg.sipPort, 'chat', log, (call) => srv!.onInvite(call));
    const control = new ControlServer(cfg.address, cfg.controlPort, { 'GET /rooms': () => srv!.roomsDocument() }, { log });
    srv = new ChatServer(cfg, sip, control, msrp, rooms, links, store, log);
    try {
      await startBoth(sip, control);
    } catch (e) {
      await msrp.close();
      throw e;
    }
    // What a crash left in the store (a message cut short) is said at once, and stays in GET /rooms.
    for (const p of store.problems()) log.warn(`store: ${p}`);
    log.info(`listening on ${cfg.address}:${cfg.sipPort}/udp, MSRP msrps://${cfg.address}:${msrp.port}, control http://${cfg.address}:${cfg.controlPort}; rooms: ${cfg.rooms.map((r) => `${r.user} (${r.members.length} members)`).join(', ') || 'none'}; store ${store.dir}; TLS key log ${cfg.msrp.keylogFile ?? 'none'}`);
    return srv;
  }

  /** Our MSRP URI for a new participation (a fresh session-id per participant). */
  private newLocalUri(): MsrpUri {
    return { scheme: 'msrps', host: this.cfg.address, port: this.msrp.port, sessionId: newSessionId(), transport: 'tcp', params: [] };
  }

  private onInvite(call: UasCall): void {
    const requested = userOf(call.requestUri) ?? '';
    const identity = identityOf(call.caller);
    const who = `${identity ?? call.caller} (${call.callId})`;
    const refuse = (status: number, reason: string) => {
      this.log.warn(`INVITE ${who} to ${requested || call.requestUri}: ${status} ${reason}`);
      call.reject(status, reason);
    };
    let room = requested;
    const check = this.rooms.check(room, identity);
    if (!check.ok) return refuse(check.status, check.reason);
    const offer = parseMsrpSdp(call.offerSdp);
    if (!offer.ok) return refuse(488, `Not Acceptable Here (${offer.error.message.slice(0, 80)})`);
    if (offer.media.length !== 1) return refuse(488, `Not Acceptable Here (offer one m=message section, not ${offer.media.length})`);
    const media = offer.media[0]!;
    if (!media.tls) return refuse(488, 'Not Acceptable Here (MSRP over TLS only: TCP/TLS/MSRP)');
    if (media.path.length === 0 || media.path.some((u) => u.scheme !== 'msrps')) return refuse(488, 'Not Acceptable Here (a=path must list msrps URIs)');
    // The factory makes a room and its creator joins it: the answer's Contact names the room (a focus, RFC 4579).
    let contact: string | undefined;
    if (room === CHAT_FACTORY_USER) {
      room = this.rooms.createAdhoc();
      // Our address, not the domain: in-dialog requests go to the Contact (the P-CSCF resolves no domain).
      contact = `<sip:${room}@${this.cfg.address}:${this.cfg.sipPort};transport=udp>;isfocus`;
      this.log.info(`${who} created the ad-hoc chat room ${room}`);
    }
    const localUri = this.newLocalUri();
    const p: Participant = { callId: call.callId, room, identity: identity!, localUri, toPath: media.path, joinedAt: new Date().toISOString() };
    this.rooms.join(p);
    this.links.attach(p);
    call.onEnded((reason) => this.leave(p, reason));
    const sdp = buildMsrpSdp({ address: this.cfg.address, media: [{ port: localUri.port!, tls: true, path: [localUri], acceptTypes: ACCEPT_TYPES, setup: 'passive' }] });
    call.answer(sdp, contact);
    this.log.info(`${who} joined ${room} as ${formatMsrpUri(localUri)}; its path ${media.path.map(formatMsrpUri).join(' ')}; ${this.rooms.in(room).length} participant(s)`);
  }

  private leave(p: Participant, reason: string): void {
    if (this.rooms.get(p.callId) !== p) return;
    this.rooms.leave(p.callId);
    this.links.detach(p);
    this.log.info(`${p.identity} (${p.callId}) left ${p.room} (${reason}); ${this.rooms.in(p.room).length} participant(s)`);
  }

  /** Stores and logs a message; a store failure is logged, the message is still relayed. */
  private keep(p: Participant, m: ChatMessage): void {
    try {
      const rec = this.store.append(p.room, p.identity, m);
      const others = this.rooms.in(p.room).filter((x) => x.callId !== p.callId).map((x) => x.identity);
      this.log.info(`message ${m.messageId} from ${p.identity} in ${p.room}: ${m.body.length} bytes ${m.contentType}, sha256 ${(rec?.sha256 ?? '').slice(0, 16)}${rec ? '' : ' (store full: not stored)'}; to ${others.join(', ') || 'nobody'}`);
    } catch (e) {
      this.log.warn(`message ${m.messageId} from ${p.identity} in ${p.room}: not stored: ${(e as Error).message}`);
    }
  }

  roomsDocument(): ChatRoomsDocument {
    return {
      name: this.cfg.name,
      store: { bytes: this.store.usedBytes, problems: this.store.problems(), partial: this.store.partial() },
      rooms: this.rooms.list().map((r) => ({
        user: r.user, members: r.members, messages: r.messages,
        participants: r.participants.map((p) => ({
          identity: p.identity, callId: p.callId, uri: formatMsrpUri(p.localUri), toPath: p.toPath.map(formatMsrpUri), joinedAt: p.joinedAt, ...this.links.state(p),
        })),
      })),
    };
  }

  async close(): Promise<void> {
    await this.sip.close();
    this.links.close();
    await this.msrp.close();
    await this.control.close();
  }
}
