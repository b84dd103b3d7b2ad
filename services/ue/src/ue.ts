import type { ControlServer } from '@imslab/element-kit';
import { callIdOf, tagOf, toOf, type TimerBase } from '@imslab/sip';
import { CallManager } from './call-manager.ts';
import type { CallContext } from './call-context.ts';
import type { UeConfig } from './config.ts';
import { createControlApi, type ControlledUe } from './control-api.ts';
import { KeyLog } from './key-log.ts';
import { KmsAgent } from './kms-agent.ts';
import { Logger } from './log.ts';
import { Messaging } from './messaging.ts';
import { MsrpSessions } from './msrp-sessions.ts';
import { PortAllocator } from './port-allocator.ts';
import { Registration } from './registration.ts';
import { SipStack } from './sip-stack.ts';

/** Options for embedding a UE (tests). */
export interface UeOptions {
  logger?: Logger;
  timers?: Partial<TimerBase>;
  /** Called by POST /shutdown after the UE stopped; main.ts exits the process here. */
  exit?: (code: number) => void;
}

/** Cap on the best-effort unregister at shutdown. */
export const SHUTDOWN_UNREGISTER_CAP_MS = 1000;

/**
 * One UE: SIP stack, registration, calls, control API. `Ue.start` binds every
 * socket (throwing PortInUseError when a SIP port is taken, element-kit's
 * one-line error for the control port); `shutdown` hangs up,
 * unregisters best effort and closes everything.
 */
export class Ue implements ControlledUe {
  readonly log: Logger;
  readonly keylog: KeyLog;
  readonly stack: SipStack;
  readonly registration: Registration;
  readonly calls: CallManager;
  /** MIKEY-TICKET access to the KMS (undefined without a `kms` config). */
  readonly kms: KmsAgent | undefined;
  /** Pager-mode messages (SIP MESSAGE, RFC 3428; S/MIME per RFC 8591). */
  readonly messaging: Messaging;
  private readonly api: ControlServer;

  get sipDroppedFromStrangers(): number {
    return this.stack.transport.droppedFromStrangers;
  }
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly cfg: UeConfig,
    private readonly options: UeOptions,
  ) {
    this.log = options.logger ?? new Logger(cfg.name);
    this.keylog = new KeyLog(cfg.name, cfg.runDir, (m) => this.log.warn(m));
    this.stack = new SipStack(cfg, this.log, (line) => this.keylog.tls(line), options.timers);
    this.registration = new Registration(cfg, this.stack, this.log);
    // The KMS link's TLS secrets go to the same key log as SIP's (the analyser reads one file per element).
    this.kms = KmsAgent.forConfig(cfg, this.keylog.tlsPath);
    const ctx: CallContext = {
      cfg,
      stack: this.stack,
      log: this.log,
      keylog: this.keylog,
      ports: new PortAllocator(cfg.address, cfg.media.portMin, cfg.media.portMax),
      registration: this.registration,
      kms: this.kms,
    };
    this.calls = new CallManager(ctx);
    this.messaging = new Messaging(cfg, this.stack, this.registration, this.log, this.keylog.tlsPath);
    this.stack.handlers = {
      onRequest: (req, txn, flow) => {
        const sessions = this.messaging.sessions;
        // A MESSAGE outside a dialog (no To tag) is pager mode (RFC 3428); an INVITE offering MSRP and the
        // requests of its dialog are session mode; everything else is the calls'.
        if (req.method === 'MESSAGE' && tagOf(toOf(req)) === undefined) this.messaging.onRequest(req, txn);
        else if (sessions.owns(callIdOf(req)) && req.method !== 'CANCEL') sessions.onInDialogRequest(req, txn);
        else if (MsrpSessions.isOffer(req)) sessions.onInvite(req, txn);
        else this.calls.onRequest(req, txn, flow);
      },
      onAck: (req) => (this.messaging.sessions.owns(callIdOf(req)) ? undefined : this.calls.onAck(req)),
      onStrayResponse: (res) => this.calls.onStrayResponse(res),
    };
    this.api = createControlApi(this);
  }

  /** Creates and binds a UE. */
  static async start(cfg: UeConfig, options: UeOptions = {}): Promise<Ue> {
    const ue = new Ue(cfg, options);
    try {
      await ue.stack.transport.start();
      await ue.api.start();
    } catch (e) {
      await ue.stack.close().catch(() => undefined);
      await ue.api.close().catch(() => undefined);
      throw e;
    }
    ue.log.info(`listening on ${cfg.address}: sip ${cfg.sipPort}/udp+tcp${cfg.sipTlsPort ? `, ${cfg.sipTlsPort}/tls` : ''}, control http://${cfg.address}:${cfg.controlPort}; P-CSCF ${cfg.pcscf.host} over ${cfg.transport}`);
    if (cfg.autoRegister) void ue.registration.register();
    return ue;
  }

  /** Hangs up and unregisters (best effort, together capped at 1 s), closes every socket. Idempotent. */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('shutting down');
      this.registration.stop();
      // Hang up and unregister in parallel, best effort, within one cap.
      const work = Promise.allSettled([
        this.calls.hangupAll(SHUTDOWN_UNREGISTER_CAP_MS),
        this.messaging.sessions.closeAll(),
        this.registration.registered ? this.registration.unregister() : Promise.resolve(),
      ]);
      await Promise.race([work, new Promise((r) => setTimeout(r, SHUTDOWN_UNREGISTER_CAP_MS).unref())]);
      await this.api.close();
      await this.stack.close();
      this.kms?.close();
    })();
    return this.stopping;
  }

  /** Shutdown then exit through the embedding's exit hook (POST /shutdown). */
  async shutdownAndExit(code: number): Promise<void> {
    await this.shutdown();
    this.options.exit?.(code);
  }
}
