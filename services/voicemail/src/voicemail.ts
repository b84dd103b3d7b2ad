import { SipLogger, readOffer, SdpError, SipEndpoint, uriParam, userOf, type UasCall } from '@imslab/app-server';
import { ControlServer, startBoth, HttpError } from '@imslab/element-kit';
import type { VoicemailConfig } from './config.ts';
import { deposit } from './deposit.ts';
import { playback, type PlaybackRecord } from './playback.ts';
import { StoreError, VoicemailStore, type MessageMeta } from './store.ts';
import { swapFor } from './swap-attack.ts';

/**
 * The voicemail application server (TR 33.828 4.1.2). The S-CSCF forwards
 * unanswered or busy calls here (a Diversion header names the mailbox);
 * a direct call to its URI retrieves the oldest message of the caller's
 * mailbox (or `;mailbox=<user>` and `;msg=<id>` in the Request-URI).
 */
export class Voicemail {
  readonly playbacks: PlaybackRecord[] = [];
  private constructor(
    readonly cfg: VoicemailConfig,
    readonly store: VoicemailStore,
    private readonly sip: SipEndpoint,
    private readonly control: ControlServer,
    private readonly log: SipLogger,
  ) {}

  static async start(cfg: VoicemailConfig, log = new SipLogger('voicemail', cfg.name)): Promise<Voicemail> {
    const store = VoicemailStore.open(cfg.storeDir, cfg.limits);
    for (const p of store.problems()) log.warn(`store: ${p}`);
    let vm: Voicemail | undefined;
    const sip = new SipEndpoint(cfg.address, cfg.sipPort, 'voicemail', log, (call) => vm!.onInvite(call));
    const control = new ControlServer(cfg.address, cfg.controlPort, {
      'GET /status': () => vm!.status(),
      'GET /messages': (req) => {
        const box = new URL(req.url ?? '/', 'http://x').searchParams.get('mailbox');
        if (!box) throw new HttpError(400, 'give ?mailbox=<user>');
        try {
          return { messages: store.list(box) };
        } catch (e) {
          throw new HttpError(400, (e as Error).message);
        }
      },
    });
    vm = new Voicemail(cfg, store, sip, control, log);
    await startBoth(sip, control);
    const u = store.usage();
    log.info(`listening on ${cfg.address}:${cfg.sipPort}/udp, control http://${cfg.address}:${cfg.controlPort}; store ${cfg.storeDir}: ${u.messages} messages, ${u.bytes} bytes; mailbox access ${cfg.mailboxAccess}${cfg.attack ? `; COMPROMISED: ${cfg.attack} on retrieval` : ''}`);
    return vm;
  }

  status(): Record<string, unknown> {
    return { name: this.cfg.name, usage: this.store.usage(), problems: this.store.problems(), playbacks: this.playbacks, mailboxAccess: this.cfg.mailboxAccess };
  }

  private async onInvite(call: UasCall): Promise<void> {
    let offer;
    try {
      offer = readOffer(call.offerSdp);
    } catch (e) {
      if (e instanceof SdpError || e instanceof Error) return call.reject(488, `Not Acceptable Here (${e.message})`);
      throw e;
    }
    const diverted = userOf(call.divertedFrom);
    if (diverted) return deposit(call, diverted, offer, this.cfg, this.store, this.log);
    const caller = userOf(call.caller);
    const mailbox = uriParam(call.requestUri, 'mailbox')?.toLowerCase() ?? caller;
    if (!mailbox) return call.reject(400, 'Bad Request (no mailbox: call from a known user, or name ;mailbox=<user>)');
    if (this.cfg.mailboxAccess === 'owner' && mailbox !== caller) {
      this.log.info(`refused ${call.caller}: mailbox ${mailbox} is not theirs`);
      return call.reject(403, `Forbidden (mailbox ${mailbox} belongs to sip:${mailbox}@${this.cfg.domain}, not ${call.caller})`);
    }
    let meta: MessageMeta | undefined;
    try {
      const wanted = uriParam(call.requestUri, 'msg');
      const list = this.store.list(mailbox).filter((m) => m.state !== 'recording');
      meta = wanted ? list.find((m) => m.id === wanted) : list[0];
      if (!meta) return call.reject(404, `Not Found (${wanted ? `no message ${wanted}` : 'no messages'} in mailbox ${mailbox})`);
      const swap = this.cfg.attack ? swapFor(this.cfg.attack, meta, list) : null;
      if (swap) this.log.warn(swap.note);
      const { packets } = await this.store.readAsync((swap?.played ?? meta).id);
      const record = (r: PlaybackRecord) => this.playbacks.push(swap ? { ...r, attack: swap.note } : r);
      return playback(call, swap?.meta ?? meta, packets, offer, this.cfg, this.log, record, () => void this.sip.bye(call).catch((e: Error) => this.log.warn(`BYE for ${call.callId}: ${e.message}`)));
    } catch (e) {
      if (e instanceof StoreError) return call.reject(e.code === 'corrupt' ? 500 : 400, `${e.code === 'corrupt' ? 'Server Internal Error' : 'Bad Request'} (${e.message.slice(0, 100)})`);
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.sip.close();
    await this.control.close();
  }
}
