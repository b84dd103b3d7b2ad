import { SipLogger, bindRtp, buildAnswer, closeQuietly, readOffer, SipEndpoint, userOf, type OfferedMedia, type UasCall } from '@imslab/app-server';
import { ControlServer, startBoth } from '@imslab/element-kit';
import { contextOptionsFromCrypto, formatCryptoAttribute, generateKeySalt, parseCryptoAttribute, SrtpContext } from '@imslab/srtp';
import { Bridge } from './bridge.ts';
import type { ConferenceServerConfig } from './config.ts';
import { Leg } from './leg.ts';

/** Request-URI user of the conference factory: an INVITE to it creates an ad-hoc (e2m2e) conference. */
export const FACTORY_USER = 'conference-factory';
const LEG_SUITE = 'AES_CM_128_HMAC_SHA1_80';

/**
 * The conference application server (TR 33.828 4.1.3): conferences by URI
 * (`sip:conf-<name>@domain`), each group-key e2e or e2m2e, plus a factory
 * URI that creates ad-hoc e2m2e conferences (answered with the new
 * conference's URI as Contact, `;isfocus`, RFC 4579).
 */
export class ConferenceServer {
  readonly bridges = new Map<string, Bridge>();
  private adhoc = 0;
  private legs = 0;

  private constructor(
    readonly cfg: ConferenceServerConfig,
    private readonly sip: SipEndpoint,
    private readonly control: ControlServer,
    private readonly log: SipLogger,
  ) {
    for (const c of cfg.conferences) this.bridges.set(c.user, new Bridge(c.user, c.mode, c.members, log));
  }

  static async start(cfg: ConferenceServerConfig, log = new SipLogger('conference', cfg.name)): Promise<ConferenceServer> {
    let srv: ConferenceServer | undefined;
    const sip = new SipEndpoint(cfg.address, cfg.sipPort, FACTORY_USER, log, (call) => srv!.onInvite(call));
    const control = new ControlServer(cfg.address, cfg.controlPort, { 'GET /status': () => srv!.status() });
    srv = new ConferenceServer(cfg, sip, control, log);
    await startBoth(sip, control);
    log.info(`listening on ${cfg.address}:${cfg.sipPort}/udp, control http://${cfg.address}:${cfg.controlPort}; conferences: ${cfg.conferences.map((c) => `${c.user} (${c.mode}, ${c.members.length} members)`).join(', ') || 'none'}; factory sip:${FACTORY_USER}@${cfg.domain}`);
    return srv;
  }

  status(): Record<string, unknown> {
    return {
      name: this.cfg.name,
      conferences: [...this.bridges.values()].map((b) => ({ user: b.user, mode: b.mode, members: [...b.legs.values()].map((l) => l.stats), left: b.past })),
    };
  }

  private async onInvite(call: UasCall): Promise<void> {
    let offer: OfferedMedia;
    try {
      offer = readOffer(call.offerSdp);
    } catch (e) {
      return call.reject(488, `Not Acceptable Here (${(e as Error).message})`);
    }
    const user = userOf(call.requestUri);
    let contact: string | undefined;
    // An ad-hoc conference exists only once its creator's INVITE is accepted (below).
    let created: Bridge | undefined;
    if (user === FACTORY_USER) {
      const name = `conf-adhoc-${this.adhoc + 1}`;
      created = new Bridge(name, 'e2m2e', [], this.log);
      contact = `<sip:${name}@${this.cfg.address}:${this.cfg.sipPort};transport=udp>;isfocus`;
    }
    const bridge = created ?? (user ? this.bridges.get(user) : undefined);
    if (!bridge) return call.reject(404, `Not Found (no conference ${user ?? call.requestUri}; conferences: ${[...this.bridges.keys()].join(', ') || 'none'})`);
    if (!bridge.admits(call.caller)) return call.reject(403, `Forbidden (${call.caller} is not a member of ${bridge.user})`);
    if (offer.profile !== 'RTP/SAVP') return call.reject(488, `Not Acceptable Here (${bridge.user} carries SRTP only; ${offer.profile} offered)`);
    let crypto: { rx: SrtpContext; tx: SrtpContext } | null = null;
    let answerCrypto: string[] = [];
    if (bridge.mode === 'e2e') {
      if (offer.crypto.length > 0) return call.reject(488, `Not Acceptable Here (${bridge.user} is end-to-end with a group key: join with security group-e2e; the bridge takes no key)`);
    } else {
      // The first usable line of our suite; lines we cannot parse or use are skipped (RFC 4568 sec. 7.1.2: answer with one we support).
      let rx: SrtpContext | undefined;
      let tag = 0;
      for (const line of offer.crypto) {
        try {
          const c = parseCryptoAttribute(line);
          if (c.suite !== LEG_SUITE) continue;
          rx = new SrtpContext(contextOptionsFromCrypto(c));
          tag = c.tag;
          break;
        } catch {
          // malformed or unsupported parameters: try the next line
        }
      }
      if (!rx) return call.reject(488, `Not Acceptable Here (${bridge.user} is e2m2e: offer a usable SDES ${LEG_SUITE} key for the leg)`);
      const ours = { tag, suite: LEG_SUITE, keyParams: [{ method: 'inline' as const, keySalt: generateKeySalt(LEG_SUITE) }], sessionParams: [] };
      crypto = { rx, tx: new SrtpContext(contextOptionsFromCrypto(ours)) };
      answerCrypto = [formatCryptoAttribute(ours).replace(/^a=crypto:/, '')];
    }
    const { socket, port } = await bindRtp(this.cfg.address, this.cfg.rtpPortMin, this.cfg.rtpPortMax);
    if (call.state !== 'offered') {
      closeQuietly(socket);
      return;
    }
    if (created) {
      this.adhoc++;
      this.bridges.set(created.user, created);
      this.log.info(`${call.caller} created the ad-hoc conference ${created.user} (e2m2e)`);
    }
    const leg = new Leg(`leg-${++this.legs}`, call, socket, port, { address: offer.address, port: offer.port }, crypto);
    bridge.join(leg);
    call.onEnded(() => {
      bridge.leave(leg);
      // An ad-hoc conference ends with its last member.
      if (bridge.members.length === 0 && bridge.legs.size === 0 && bridge.user.startsWith('conf-adhoc-')) this.bridges.delete(bridge.user);
    });
    call.answer(buildAnswer({ address: this.cfg.address, port, profile: 'RTP/SAVP', direction: 'sendrecv', crypto: answerCrypto }), contact);
  }

  async close(): Promise<void> {
    for (const b of this.bridges.values()) b.close();
    await this.sip.close();
    await this.control.close();
  }
}
