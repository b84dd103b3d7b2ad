/**
 * One KMS: the HTTPS MIKEY endpoint, the control API, the audit log, and the
 * state behind them (ticket codec under the master key, replay cache,
 * subscriber directory). Both listeners bind to the configured address only.
 */
import { mkdirSync, type WriteStream } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { join } from 'node:path';
import type { ControlServer } from '@imslab/element-kit';
import { identityToString, KmsTicketCodec, ReplayCache } from '@imslab/mikey';
import { AuditLog } from './audit-log.ts';
import { readTlsMaterial, type KmsConfig, type TlsMaterial } from './config.ts';
import { createControlServer } from './control-api.ts';
import { KmsError, KmsPortInUseError } from './errors.ts';
import { KmsCounters, type KmsStatus } from './kms-stats.ts';
import { Logger } from './log.ts';
import { GroupKeys } from './group-keys.ts';
import { createMikeyServer } from './mikey-endpoint.ts';
import { kmsIdentities } from './peer-auth.ts';
import { SakkeKms } from './sakke-kms.ts';
import { SubscriberDirectory } from './subscriber-directory.ts';
import type { TicketContext } from './ticket-issuer.ts';

/** File name of the TLS key log in the run directory. */
export const KMS_TLS_KEYLOG = 'kms.tls-keys.log';
/** Key id of the configured master key in sealed tickets (one key; rotation would add ids). */
export const MASTER_KEY_ID = 1;

/** Options of {@link Kms.start}. */
export interface KmsStartOptions {
  /** TLS material (default: read from the files the config names). */
  tls?: TlsMaterial;
  /** Log sink, one line per call (default stderr). */
  log?: (line: string) => void;
  /** Clock in ms (default Date.now); tests move it to expire tickets. */
  now?: () => number;
  /** Allowed clock skew of message timestamps and replay window (default mikey's 5 min). */
  replayWindowMs?: number;
}

function listen(server: HttpsServer | NetServer, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      const where = `${host.includes(':') ? `[${host}]` : host}:${port}/tcp`;
      if (e.code === 'EADDRINUSE') reject(new KmsPortInUseError(where));
      else if (e.code === 'EADDRNOTAVAIL') reject(new KmsError(`kms: cannot bind ${where}: address not available on this host`));
      else reject(new KmsError(`kms: cannot listen on ${where}: ${e.message}`));
    };
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(s: HttpsServer): Promise<void> {
  return new Promise((resolve) => {
    s.closeAllConnections();
    s.close(() => resolve());
  });
}

/** A running KMS. */
export class Kms {
  /** Base URL of the MIKEY endpoint, e.g. `https://127.0.2.40:8443`. */
  readonly httpsUrl: string;
  /** Listeners on the access addresses, handing their connections to the HTTPS server. */
  extraListeners: NetServer[] = [];
  /** Base URL of the control API, e.g. `http://127.0.2.40:8000`. */
  readonly controlUrl: string;
  private readonly started = Date.now();
  private closing: Promise<void> | undefined;

  private constructor(
    readonly cfg: KmsConfig,
    readonly audit: AuditLog,
    private readonly ctx: TicketContext,
    private readonly counters: KmsCounters,
    private readonly https: HttpsServer,
    private readonly control: ControlServer,
    private readonly keylog: WriteStream,
    readonly log: Logger,
  ) {
    const host = cfg.address.includes(':') ? `[${cfg.address}]` : cfg.address;
    this.httpsUrl = `https://${host}:${cfg.httpsPort}`;
    this.controlUrl = `http://${host}:${cfg.controlPort}`;
  }

  /**
   * Starts both listeners. Rejects with {@link KmsPortInUseError} when the
   * HTTPS port is taken (element-kit's one-line error for the control port),
   * {@link KmsConfigError} when a TLS file is unreadable.
   */
  static async start(cfg: KmsConfig, o: KmsStartOptions = {}): Promise<Kms> {
    const tls = o.tls ?? readTlsMaterial(cfg);
    const log = new Logger(cfg.name, o.log);
    mkdirSync(cfg.runDir, { recursive: true });
    const dir = new SubscriberDirectory(cfg.users, cfg.domain);
    const ctx: TicketContext = {
      dir,
      codec: new KmsTicketCodec({ masterKeys: { [MASTER_KEY_ID]: cfg.masterKey }, currentKeyId: MASTER_KEY_ID }),
      kmsIds: kmsIdentities(cfg.address, cfg.httpsPort, cfg.name, cfg.domain),
      groups: new GroupKeys(cfg.masterKey, cfg.groups),
      replayCache: new ReplayCache(o.replayWindowMs !== undefined ? { windowMs: o.replayWindowMs } : {}),
      now: o.now ?? Date.now,
      maxValidityMs: cfg.maxTicketValidityMs,
    };
    const counters = new KmsCounters();
    const audit = new AuditLog(cfg.auditLog);
    const sakke = new SakkeKms(cfg.masterKey, identityToString(ctx.kmsIds[0]!), cfg.domain);
    const { server: https, keylog } = createMikeyServer(tls, join(cfg.runDir, KMS_TLS_KEYLOG), { ctx, sakke, audit, counters, log });
    let kms: Kms | undefined;
    const control = createControlServer(cfg.address, cfg.controlPort, { name: cfg.name, status: () => kms!.status(), auditEntries: () => audit.entries(), groups: ctx.groups!, log }, log);
    // The same TLS server answers on every access address: each extra listener
    // hands its connections over, so there is one handler, one audit log.
    const extra = cfg.accessAddresses.map(() => createNetServer((socket) => https.emit('connection', socket)));
    try {
      await listen(https, cfg.address, cfg.httpsPort);
      await control.start();
      for (const [i, a] of cfg.accessAddresses.entries()) await listen(extra[i]!, a, cfg.httpsPort);
    } catch (e) {
      for (const x of extra) if (x.listening) x.close();
      await control.close();
      if (https.listening) await closeServer(https);
      keylog.end();
      audit.close();
      throw e;
    }
    kms = new Kms(cfg, audit, ctx, counters, https, control, keylog, log);
    kms.extraListeners = extra;
    log.info(`MIKEY-TICKET on ${kms.httpsUrl} (POST /mikey/request, /mikey/resolve), control API on ${kms.controlUrl}; ${dir.users.length} users, ${dir.users.reduce((n, u) => n + u.devices.length, 0)} devices; audit ${cfg.auditLog}`);
    return kms;
  }

  /** Counters for `GET /status`. */
  status(): KmsStatus {
    const c = this.counters;
    const users = this.ctx.dir.users;
    return {
      name: this.cfg.name,
      uptimeS: Math.round((Date.now() - this.started) / 1000),
      requests: c.requests,
      issued: c.issued,
      resolved: c.resolved,
      provisioned: c.provisioned,
      gmks: c.gmks,
      refused: c.refused,
      refusedByCode: Object.fromEntries(c.refusedByCode),
      unexpected: c.unexpected,
      auditEntries: this.audit.count,
      replayCacheSize: this.ctx.replayCache.size,
      users: users.length,
      devices: users.reduce((n, u) => n + u.devices.length, 0),
      groups: this.ctx.groups?.list() ?? [],
    };
  }

  /** Stops both listeners and closes the logs. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const x of this.extraListeners) x.close();
      await Promise.all([closeServer(this.https), this.control.close()]);
      await new Promise<void>((r) => this.keylog.end(() => r()));
      this.audit.close();
      this.log.info('stopped');
    })();
    return this.closing;
  }
}
