import { SipLogger, buildAnswer, closeQuietly, readOffer, SipEndpoint, userOf, type OfferedMedia, type UasCall } from '@imslab/app-server';
import { ControlServer, startBoth } from '@imslab/element-kit';
import { contextOptionsFromCrypto, formatCryptoAttribute, generateKeySalt, parseCryptoAttribute, SrtpContext, type CryptoAttribute } from '@imslab/srtp';
import { PocBox } from './box.ts';
import type { PocConfig } from './config.ts';
import { formatRecordingsNotice, RECORDINGS_ATTRIBUTE, RECORDINGS_HEADER, type PocBoxStatus, type PocStatus } from './contract.ts';
import { GroupSession } from './group-session.ts';
import { bindRtpPair } from './media-ports.ts';
import { MemberLeg, type FloorKeys } from './member-leg.ts';
import { SessionBox } from './session-box.ts';

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

/**
 * The PoC server (TR 33.828 4.2): pre-arranged groups by URI
 * (`sip:poc-<group>@domain`), group sessions with MCPTT floor control.
 * A member's INVITE offers RTP/SAVP with an SDES key (its client-server
 * key); the answer carries ours. e2e: that pair keys floor control only, and
 * the group key never appears in SIP (members get it from the KMS). e2m2e:
 * it keys the leg's media as well.
 */
export class PocServer {
  readonly sessions = new Map<string, GroupSession>();
  private legs = 0;

  private constructor(
    readonly cfg: PocConfig,
    private readonly sip: SipEndpoint,
    private readonly control: ControlServer,
    private readonly log: SipLogger,
    /** Recordings for members who are not joined (cfg.box); null: none are kept. */
    readonly box: PocBox | null,
  ) {
    for (const g of cfg.groups) {
      const sb = box && cfg.box ? new SessionBox(box, g, cfg.box, log) : null;
      this.sessions.set(g.user, new GroupSession(g, log, cfg.floorTimers, sb));
    }
  }

  static async start(cfg: PocConfig, log = new SipLogger('poc', cfg.name)): Promise<PocServer> {
    let srv: PocServer | undefined;
    // Opened first: recovery of what a previous process left runs before any member can join.
    const layouts = new Map(cfg.groups.filter((g) => g.mode === 'e2e').map((g) => [g.user, { mkiBytes: g.mkiBytes, tagBytes: g.tagBytes }]));
    const box = cfg.box ? PocBox.open(cfg.box.dir, cfg.box.limits, { layoutOf: (g) => layouts.get(g) ?? null }) : null;
    for (const p of box?.problems() ?? []) log.warn(`box: ${p}`);
    const sip = new SipEndpoint(cfg.address, cfg.sipPort, 'poc', log, (call) => srv!.onInvite(call));
    const control = new ControlServer(cfg.address, cfg.controlPort, { 'GET /status': () => srv!.status(), 'GET /box': () => srv!.boxStatus() });
    srv = new PocServer(cfg, sip, control, log, box);
    await startBoth(sip, control);
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
    try {
      offer = readOffer(call.offerSdp);
    } catch (e) {
      return call.reject(488, `Not Acceptable Here (${(e as Error).message})`);
    }
    const a = admission(this.sessions, call.requestUri, call.caller, offer);
    if ('status' in a) {
      this.log.info(`INVITE ${call.requestUri} from ${call.caller} refused: ${a.status} ${a.reason}`);
      return call.reject(a.status, a.reason);
    }
    const { session } = a;
    const theirs = clientServerKey(offer);
    if (!theirs) return call.reject(488, `Not Acceptable Here (${session.user}: offer an SDES ${FLOOR_SUITE} key, the client-server key, for ${session.group.mode === 'e2e' ? 'floor control; the media key comes from the group' : 'floor control and the leg\'s media'})`);
    if (offer.keyMgmt.length > 0) return call.reject(488, `Not Acceptable Here (${session.user} takes part in no MIKEY exchange: ${session.group.mode === 'e2e' ? 'the media key is the group\'s' : 'each leg is keyed by SDES with the server'})`);
    const ours: CryptoAttribute = { tag: theirs.tag, suite: FLOOR_SUITE, keyParams: [{ method: 'inline', keySalt: generateKeySalt(FLOOR_SUITE) }], sessionParams: [] };
    const pair = (): FloorKeys => ({ rx: new SrtpContext(contextOptionsFromCrypto(theirs)), tx: new SrtpContext(contextOptionsFromCrypto(ours)) });
    const keys = pair();
    // e2m2e: the same key pair keys the leg's media (the server decrypts and re-encrypts); e2e: the media key is the group's, never here.
    const mediaKeys = session.group.mode === 'e2m2e' ? pair() : null;
    const { rtp, rtcp, port } = await bindRtpPair(this.cfg.address, this.cfg.rtpPortMin, this.cfg.rtpPortMax);
    if (call.state !== 'offered') {
      closeQuietly(rtp);
      closeQuietly(rtcp);
      return;
    }
    const leg = new MemberLeg(++this.legs, call, rtp, rtcp, port, { address: offer.address, port: offer.port }, keys, mediaKeys);
    // Floor Idle/Taken only once the member has our answer (the ACK): before it, it could not read them.
    call.onConfirmed(() => session.join(leg));
    call.onEnded(() => {
      if (session.legs.has(leg.key)) session.leave(leg);
      else leg.close();
    });
    // The member is told what its box holds: in the SDP answer and in an X-PoC-Recordings header of the 200.
    const told = session.box ? formatRecordingsNotice(session.box.notice(call.caller)) : undefined;
    const notice = told ? [`${RECORDINGS_ATTRIBUTE}:${told}`] : [];
    const answer = buildAnswer({ address: this.cfg.address, port, profile: 'RTP/SAVP', direction: 'sendrecv', crypto: [formatCryptoAttribute(ours).replace(/^a=crypto:/, '')], attributes: notice });
    call.answer(answer, undefined, told ? [[RECORDINGS_HEADER, told]] : []);
  }

  async close(): Promise<void> {
    for (const s of this.sessions.values()) s.close();
    await this.box?.flush(); // bursts just finished reach the disk before the process goes
    await this.sip.close();
    await this.control.close();
  }
}
