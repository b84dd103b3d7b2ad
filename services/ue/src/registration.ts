import {
  buildDigestAuthorization, createRequest, newCallId, newTag, nameAddrsOf, parseDigestChallenge, type SipRequest, type SipResponse,
} from '@imslab/sip';
import { impuDomain, type UeConfig } from './config.ts';
import type { Logger } from './log.ts';
import type { SipStack } from './sip-stack.ts';

/** Outcome of a REGISTER (a value: a 403 is not an exception). */
export type RegisterOutcome =
  | { ok: true; status: number; expires: number; serviceRoute: string[]; securityServer: string | null }
  | { ok: false; status: number; reason: string };

/** Default registration lifetime in seconds (Contact ;expires=600). */
export const DEFAULT_EXPIRES = 600;
/** Authentication rounds before giving up (a second 401 with stale=true is allowed one more). */
const MAX_AUTH_ROUNDS = 3;

/**
 * The UE's registration with the IMS (RFC 3261 sec. 10, TS 24.229 sec. 5.1.1):
 * REGISTER to the IMPU's domain via the P-CSCF, digest answer to 401/407 as a
 * new transaction (new branch, CSeq+1, same Call-ID), Service-Route and
 * Security-Server remembered from the responses, refresh before expiry.
 */
export class Registration {
  private readonly callId: string;
  private readonly fromTag = newTag();
  private cseq = 0;
  private nonceCounts = new Map<string, number>();
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  registered = false;
  serviceRoute: string[] = [];
  securityServer: string | null = null;
  lastOutcome: RegisterOutcome | undefined;

  constructor(
    private readonly cfg: UeConfig,
    private readonly stack: SipStack,
    private readonly log: Logger,
  ) {
    this.callId = newCallId(cfg.address);
  }

  /** True when the P-CSCF's Security-Server named `mediasec` (TS 33.328 e2ae). */
  get e2aeConfirmed(): boolean {
    return this.securityServer !== null && /mediasec/i.test(this.securityServer);
  }

  /** Registers (or refreshes) with `expires` seconds; resolves with the outcome. Serialised. */
  register(expires = DEFAULT_EXPIRES): Promise<RegisterOutcome> {
    const p = this.queue.then(() => this.run(expires));
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Unregisters (Expires 0). */
  unregister(): Promise<RegisterOutcome> {
    return this.register(0);
  }

  /** Stops refreshing (shutdown). */
  stop(): void {
    if (this.refreshTimer !== undefined) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  private build(expires: number, auth?: { header: string; value: string }): SipRequest {
    const domain = impuDomain(this.cfg);
    const identity = this.cfg.displayName ? `"${this.cfg.displayName.replace(/"/g, '')}" <${this.cfg.impu}>` : `<${this.cfg.impu}>`;
    const headers: Array<[string, string]> = [['Expires', String(expires)], ['Supported', 'path']];
    if (this.cfg.e2aeCapable) headers.push(['Security-Client', 'sdes-srtp;mediasec']);
    // TS 33.203/24.229 style: echo the server's mechanisms once known.
    if (this.cfg.e2aeCapable && this.securityServer) headers.push(['Security-Verify', this.securityServer]);
    if (auth) headers.push([auth.header, auth.value]);
    else {
      // TS 24.229 sec. 5.1.1.2.1: the initial REGISTER carries an Authorization with the IMPI and empty nonce/response.
      headers.push(['Authorization', `Digest username="${this.cfg.impi}", realm="${this.cfg.realm}", uri="sip:${domain}", nonce="", response=""`]);
    }
    headers.push(['User-Agent', 'imslab-ue']);
    return createRequest({
      method: 'REGISTER',
      uri: `sip:${domain}`,
      via: this.stack.via(),
      from: `${identity};tag=${this.fromTag}`,
      to: identity,
      callId: this.callId,
      cseq: ++this.cseq,
      contact: `${this.stack.contact()};expires=${expires}`,
      headers,
    });
  }

  private send(req: SipRequest): Promise<SipResponse | { timeout: true } | { error: string }> {
    return new Promise((resolve) => {
      this.stack.sendRequest(req, {
        onResponse: (res) => {
          if (res.status >= 200) resolve(res);
        },
        onTimeout: () => resolve({ timeout: true }),
        onTransportError: (e) => resolve({ error: e.message }),
      });
    });
  }

  private async run(expires: number): Promise<RegisterOutcome> {
    let auth: { header: string; value: string } | undefined;
    for (let round = 0; round < MAX_AUTH_ROUNDS; round++) {
      const req = this.build(expires, auth);
      const res = await this.send(req);
      if ('timeout' in res) return this.done({ ok: false, status: 408, reason: 'Request Timeout (no final response from the P-CSCF)' });
      if ('error' in res) return this.done({ ok: false, status: 503, reason: `transport error: ${res.error}` });
      this.noteSecurityServer(res);
      if (res.status === 401 || res.status === 407) {
        const header = res.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
        const challengeText = res.headers.getAll(header).find((v) => /^\s*digest/i.test(v));
        if (!challengeText) return this.done({ ok: false, status: res.status, reason: `${res.status} ${res.reason} without a Digest challenge` });
        const c = parseDigestChallenge(challengeText);
        if (!c.ok) return this.done({ ok: false, status: res.status, reason: `${res.status} with a bad challenge: ${c.error.message}` });
        if (round > 0 && !c.challenge.stale) return this.done({ ok: false, status: res.status, reason: `${res.status} ${res.reason} (credentials rejected for ${this.cfg.impi})` });
        const nc = (this.nonceCounts.get(c.challenge.nonce) ?? 0) + 1;
        this.nonceCounts.set(c.challenge.nonce, nc);
        const a = buildDigestAuthorization(c.challenge, { username: this.cfg.impi, password: this.cfg.password }, { method: 'REGISTER', uri: req.uri }, nc);
        if (!a.ok) return this.done({ ok: false, status: res.status, reason: a.error.message });
        auth = { header: res.status === 401 ? 'Authorization' : 'Proxy-Authorization', value: a.value };
        continue;
      }
      if (res.status >= 200 && res.status < 300) {
        const granted = expires === 0 ? 0 : this.grantedExpires(res, expires);
        this.serviceRoute = expires === 0 ? [] : res.headers.getAll('Service-Route');
        this.registered = granted > 0;
        this.scheduleRefresh(granted);
        return this.done({ ok: true, status: res.status, expires: granted, serviceRoute: this.serviceRoute, securityServer: this.securityServer });
      }
      return this.done({ ok: false, status: res.status, reason: `${res.status} ${res.reason}` });
    }
    return this.done({ ok: false, status: 401, reason: 'authentication did not succeed after several challenges' });
  }

  private noteSecurityServer(res: SipResponse): void {
    const values = res.headers.getAll('Security-Server');
    if (values.length) this.securityServer = values.join(', ');
  }

  /** Expiry granted: our Contact's expires param in the 200, else Expires, else what we asked (sec. 10.2.4). */
  private grantedExpires(res: SipResponse, asked: number): number {
    const ours = `${this.cfg.address}:${this.stack.transport.listenPort(this.cfg.transport)}`;
    for (const c of nameAddrsOf(res, 'Contact')) {
      if (c.uri.includes(ours)) {
        const e = Number(c.params.get('expires'));
        if (Number.isFinite(e)) return e;
      }
    }
    const h = Number(res.headers.get('Expires'));
    return Number.isFinite(h) && res.headers.has('Expires') ? h : asked;
  }

  private scheduleRefresh(granted: number): void {
    this.stop();
    if (granted <= 0) return;
    // Refresh well before expiry: 30 s early for long registrations, at half-time for short ones.
    const at = granted > 60 ? granted - 30 : granted / 2;
    this.refreshTimer = setTimeout(() => {
      this.register(DEFAULT_EXPIRES).then(
        (o) => !o.ok && this.log.warn(`re-REGISTER failed: ${o.reason}`),
        () => undefined,
      );
    }, at * 1000);
    this.refreshTimer.unref();
  }

  private done(o: RegisterOutcome): RegisterOutcome {
    this.lastOutcome = o;
    if (!o.ok) {
      this.log.warn(`REGISTER failed: ${o.reason}`);
      this.registered = false;
    } else this.log.info(o.expires > 0 ? `registered for ${o.expires} s, Service-Route ${JSON.stringify(o.serviceRoute)}, Security-Server ${o.securityServer ?? 'none'}` : 'unregistered');
    return o;
  }
}
