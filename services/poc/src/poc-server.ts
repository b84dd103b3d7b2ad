import { SipLogger, buildAnswer, closeQuietly, readExtraStreams, readOffer, SipEndpoint, userOf, type OfferedMedia, type OfferedStream, type UasCall } from '@imslab/app-server';
import { ControlServer, startBoth } from '@imslab/element-kit';
import { contextOptionsFromCrypto, formatCryptoAttribute, generateKeySalt, parseCryptoAttribute, SrtpContext, type CryptoAttribute } from '@imslab/srtp';
import { PocBox } from './box.ts';
import { CskReceiver, CskRefusal, cskContextOptions, type SakkeKeySource } from './client-server-key.ts';
import type { PocConfig } from './config.ts';
import { formatRecordingsNotice, RECORDINGS_ATTRIBUTE, RECORDINGS_HEADER, type PocBoxStatus, type PocStatus } from './contract.ts';
import { GroupSession } from './group-session.ts';
import { bindRtpPair } from './media-ports.ts';
import { MemberLeg, type FloorKeys } from './member-leg.ts';
import type { ClientServerKeying } from './contract.ts';
import { SessionBox } from './session-box.ts';
import { answerWith, bindStreams, closeBound, planStreams } from './extra-streams.ts';

/** The suite of the client-server key (floor control SRTCP). */
export const FLOOR_SUITE = 'AES_CM_128_HMAC_SHA1_80';

/** Why an INVITE cannot join, as the SIP status and reason phrase it gets. */
export interface Refusal {
  status: 403 | 404 | 488;
  reason: string;
}

/**
 * Which group session an INVITE joins, or why not (pure): an unknown group
 * is a 404 listing the groups, a caller that is not a member a 403, an
 * offer without SRTP a 488.
 */
export function admission(sessions: ReadonlyMap<string, GroupSession>, requestUri: string, caller: string, offer: OfferedMedia): { session: GroupSession } | Refusal {
  const user = userOf(requestUri);
  const session = user ? sessions.get(user) : undefined;
  if (!session) return { status: 404, reason: `Not Found (no PoC group ${user ?? requestUri}; groups: ${[...sessions.keys()].join(', ') || 'none'})` };
  if (!session.admits(caller)) return { status: 403, reason: `Forbidden (${caller} is not a member of ${session.user})` };
  if (offer.profile !== 'RTP/SAVP') return { status: 488, reason: `Not Acceptable Here (${session.user} carries SRTP only; ${offer.profile} offered)` };
  return { session };
}

/**
 * The member's client-server key from the offer: the first a=crypto line of
 * our suite that parses (RFC 4568 sec. 7.1.2: answer with one we support).
 * In e2e it keys floor control only (the media is under the group key, which
 * the offer does not carry and the server never learns); in e2m2e it keys
 * the leg's media too.
 */
export function clientServerKey(offer: OfferedMedia): CryptoAttribute | undefined {
  for (const line of offer.crypto) {
    try {
      const c = parseCryptoAttribute(line);
      if (c.suite === FLOOR_SUITE) return c;
    } catch {
      // malformed or unsupported parameters: try the next line
    }
  }
  return undefined;
}

/** A leg's client-server keys: how they came, what the answer carries, fresh SRTP contexts for each use. */
interface LegKeys {
  by: ClientServerKeying;
  answerCrypto: string[];
  pair: () => FloorKeys;
}

/**
 * The PoC server (TR 33.828 4.2): pre-arranged groups by URI
 * (`sip:poc-<group>@domain`), group sessions with MCPTT floor control.
 * A member's INVITE offers RTP/SAVP with its client-server key: a CSK in a
 * MIKEY-SAKKE I_MESSAGE that only this server can open (TS 33.180 7.3, what
 * our UEs send), or an SDES key, to which the answer adds ours (readable on
 * every hop of plaintext SIP). e2e: that key keys floor control only, and
 * the group key never appears in SIP (members get it from the KMS). e2m2e:
 * it keys the leg's media as well. Video and text after the audio (e2e
 * only) get a port pair each and follow the audio's floor (extra-streams.ts).
 */
export class PocServer {
  readonly sessions = new Map<string, GroupSession>();
  private legs = 0;

  /** Opens the members' CSKs (MIKEY-SAKKE); null without a KMS section: SDES client-server keys only. */
  private readonly csk: CskReceiver | null;

  private constructor(
    readonly cfg: PocConfig,
    private readonly sip: SipEndpoint,
    private readonly control: ControlServer,
    private readonly log: SipLogger,
    /** Recordings for members who are not joined (cfg.box); null: none are kept. */
    readonly box: PocBox | null,
    cskSource: (() => SakkeKeySource) | undefined,
  ) {
    this.csk = cfg.kms ? new CskReceiver(cfg.kms, cfg.domain, cskSource) : null;
    for (const g of cfg.groups) {
      const sb = box && cfg.box ? new SessionBox(box, g, cfg.box, log) : null;
      this.sessions.set(g.user, new GroupSession(g, log, cfg.floorTimers, sb));
    }
  }

  /** `o.cskSource`: the KMS as the server reaches it for its own SAKKE key (default an HTTPS KmsClient on cfg.kms; tests give a stand-in). */
  static async start(cfg: PocConfig, log = new SipLogger('poc', cfg.name), o: { cskSource?: () => SakkeKeySource } = {}): Promise<PocServer> {
    let srv: PocServer | undefined;
    // Opened first: recovery of what a previous process left runs before any member can join.
    const layouts = new Map(cfg.groups.filter((g) => g.mode === 'e2e').map((g) => [g.user, { mkiBytes: g.mkiBytes, tagBytes: g.tagBytes }]));
    const box = cfg.box ? PocBox.open(cfg.box.dir, cfg.box.limits, { layoutOf: (g) => layouts.get(g) ?? null }) : null;
    for (const p of box?.problems() ?? []) log.warn(`box: ${p}`);
    const sip = new SipEndpoint(cfg.address, cfg.sipPort, 'poc', log, (call) => srv!.onInvite(call));
    const control = new ControlServer(cfg.address, cfg.controlPort, { 'GET /status': () => srv!.status(), 'GET /box': () => srv!.boxStatus() });
    srv = new PocServer(cfg, sip, control, log, box, o.cskSource);
    await startBoth(sip, control);
    // The server's own SAKKE key, fetched ahead of the first CSK (an RSK takes the KMS a while to make); a
    // failure (no KMS in this network, or not up yet) is not kept: the first offer asks again.
    srv.csk?.keys().catch(() => undefined);
    const u = box?.usage();
    log.info(`listening on ${cfg.address}:${cfg.sipPort}/udp, control http://${cfg.address}:${cfg.controlPort}; groups: ${cfg.groups.map((g) => `${g.user} (${g.mode}, ${g.contention}, ${g.members.length} members)`).join(', ') || 'none'}; box: ${box ? `${box.dir}, ${u!.bursts} bursts, ${u!.bytes} bytes` : 'none'}`);
    return srv;
  }

  status(): PocStatus {
    return { name: this.cfg.name, groups: [...this.sessions.values()].map((s) => s.status()), box: this.boxStatus() };
  }

  /** GET /box: the box as a whole; each group's part of it is in its status. */
  boxStatus(): PocBoxStatus | null {
    if (!this.box) return null;
    return { dir: this.box.dir, limits: this.box.limits, bytes: this.box.usage().bytes, problems: this.box.problems() };
  }

  private async onInvite(call: UasCall): Promise<void> {
    let offer: OfferedMedia;
    let further: OfferedStream[];
    try {
      offer = readOffer(call.offerSdp);
      // Its video and text after the audio (an offer with anything before the audio is refused: the answer keeps the offer's order).
      further = readExtraStreams(call.offerSdp);
    } catch (e) {
      return call.reject(488, `Not Acceptable Here (${(e as Error).message})`);
    }
    const a = admission(this.sessions, call.requestUri, call.caller, offer);
    if ('status' in a) {
      this.log.info(`INVITE ${call.requestUri} from ${call.caller} refused: ${a.status} ${a.reason}`);
      return call.reject(a.status, a.reason);
    }
    const { session } = a;
    const keyed = offer.keyMgmt.length > 0 ? await this.cskKeys(call, offer) : this.sdesKeys(session, offer);
    if ('status' in keyed) {
      this.log.info(`INVITE ${call.requestUri} from ${call.caller} refused: ${keyed.status} ${keyed.reason}`);
      return call.reject(keyed.status, keyed.reason);
    }
    const keys = keyed.pair();
    // e2m2e: the same key pair keys the leg's media (the server decrypts and re-encrypts); e2e: the media key is the group's, never here.
    const mediaKeys = session.group.mode === 'e2m2e' ? keyed.pair() : null;
    const bindPair = () => bindRtpPair(this.cfg.address, this.cfg.rtpPortMin, this.cfg.rtpPortMax);
    const { rtp, rtcp, port } = await bindPair();
    // A pair per video/text stream it takes (e2e only); the others are answered with port 0.
    const bound = await bindStreams(planStreams(further, session.group.mode), bindPair);
    if (call.state !== 'offered') {
      closeQuietly(rtp);
      closeQuietly(rtcp);
      closeBound(bound);
      return;
    }
    // The member is told what its box holds: in the SDP answer and in an X-PoC-Recordings header of the 200.
    const told = session.box ? formatRecordingsNotice(session.box.notice(call.caller)) : undefined;
    const notice = told ? [`${RECORDINGS_ATTRIBUTE}:${told}`] : [];
    // A CSK needs no answer (RFC 6509: a one-message exchange); an SDES offer gets our key. One m= section per offered one, in order (RFC 3264 sec. 6).
    const answer = answerWith(bound, (extraMedia) => buildAnswer({ address: this.cfg.address, port, profile: 'RTP/SAVP', direction: 'sendrecv', crypto: keyed.answerCrypto, attributes: notice, extraMedia }));
    if (answer.failed) this.log.warn(`${call.caller}: its video/text refused, the answer could not carry them: ${answer.failed.message}`);
    for (const s of answer.streams.status) if (s.refused) this.log.info(`${call.caller}: m=${s.type} (m= section ${s.index + 1}) answered with port 0: ${s.refused}`);
    const leg = new MemberLeg(++this.legs, call, rtp, rtcp, port, { address: offer.address, port: offer.port }, keys, mediaKeys, keyed.by, answer.streams);
    // Floor Idle/Taken only once the member has our answer (the ACK): before it, it could not read them.
    call.onConfirmed(() => session.join(leg));
    call.onEnded(() => {
      if (session.legs.has(leg.key)) session.leave(leg);
      else leg.close();
    });
    call.answer(answer.sdp, undefined, told ? [[RECORDINGS_HEADER, told]] : []);
  }

  /**
   * The client-server key by MIKEY-SAKKE (TS 33.180 7.3): one a=key-mgmt
   * line, an I_MESSAGE to this server signed by the asserted caller. The
   * member and the server send under the one CSK (their SSRCs differ).
   */
  private async cskKeys(call: UasCall, offer: OfferedMedia): Promise<LegKeys | Refusal> {
    if (!this.csk) return { status: 488, reason: 'Not Acceptable Here (this PoC server has no KMS: offer the client-server key by SDES)' };
    if (offer.keyMgmt.length > 1) return { status: 488, reason: `Not Acceptable Here (${offer.keyMgmt.length} a=key-mgmt lines: offer one CSK I_MESSAGE)` };
    if (offer.crypto.length > 0) return { status: 488, reason: 'Not Acceptable Here (both a=key-mgmt and a=crypto offered: the client-server key comes one way)' };
    try {
      const csk = await this.csk.open(offer.keyMgmt[0]!, call.caller);
      this.log.info(`${call.caller}: CSK-ID 0x${csk.cskId.toString(16).padStart(8, '0')} by MIKEY-SAKKE`);
      const o = cskContextOptions(csk);
      return { by: 'mikey-sakke', answerCrypto: [], pair: () => ({ rx: new SrtpContext(o), tx: new SrtpContext(o) }) };
    } catch (e) {
      if (e instanceof CskRefusal) return { status: 488, reason: `Not Acceptable Here (${e.message})` };
      throw e;
    }
  }

  /** The client-server key by SDES (RFC 4568): theirs from the offer, ours in the answer. */
  private sdesKeys(session: GroupSession, offer: OfferedMedia): LegKeys | Refusal {
    const theirs = clientServerKey(offer);
    if (!theirs) return { status: 488, reason: `Not Acceptable Here (${session.user}: offer the client-server key, a CSK by MIKEY-SAKKE or an SDES ${FLOOR_SUITE} key, for ${session.group.mode === 'e2e' ? 'floor control; the media key comes from the group' : 'floor control and the leg\'s media'})` };
    const ours: CryptoAttribute = { tag: theirs.tag, suite: FLOOR_SUITE, keyParams: [{ method: 'inline', keySalt: generateKeySalt(FLOOR_SUITE) }], sessionParams: [] };
    return {
      by: 'sdes', answerCrypto: [formatCryptoAttribute(ours).replace(/^a=crypto:/, '')],
      pair: () => ({ rx: new SrtpContext(contextOptionsFromCrypto(theirs)), tx: new SrtpContext(contextOptionsFromCrypto(ours)) }),
    };
  }

  async close(): Promise<void> {
    this.csk?.close();
    for (const s of this.sessions.values()) s.close();
    await this.box?.flush(); // bursts just finished reach the disk before the process goes
    await this.sip.close();
    await this.control.close();
  }
}
