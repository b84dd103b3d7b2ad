import { randomBytes } from 'node:crypto';
import { devicePskId, identifierMonth, KmsClient, KmsError, openSakkeProvision, type HeldSakkeKeys } from '@imslab/kms-client';
import {
  buildCskIMessage, buildRequestInit, buildResolveInit, encodeKeyMgmtAttribute, identityToString, MikeyError, newCskId, naiIdentity, receiveGmkIMessage, ReplayCache, uriIdentity, verifyRequestResp, verifyResolveResp,
  type BuiltCskIMessage, type MikeyIdentity, type ReceivedGmk, type RequestResult, type ResolutionPolicy, type ResolveResult, type TicketPayload,
} from '@imslab/mikey';
import { impuDomain, type KmsConfig, type UeConfig } from './config.ts';
import { UeError } from './errors.ts';

/** Why a KMS exchange gave no usable keys: no answer, a refusal, or an answer that did not verify. */
export type KmsFailureKind = 'not-configured' | 'unreachable' | 'refused' | 'bad-response';

/**
 * A KMS exchange failed. `reason` is the KMS's own text for a refusal (it
 * goes into the 488 Warning and the call's failure reason).
 */
export class KmsFailure extends UeError {
  override name = 'KmsFailure';
  constructor(
    readonly kind: KmsFailureKind,
    readonly reason: string,
  ) {
    super(kmsFailureText(kind, reason));
  }
}

/** The one-line description used in call failures, e.g. "KMS unreachable: ECONNREFUSED ...". */
export function kmsFailureText(kind: KmsFailureKind, reason: string): string {
  switch (kind) {
    case 'not-configured':
      return `no MIKEY-TICKET key management: ${reason}`;
    case 'unreachable':
      return `KMS unreachable: ${reason}`;
    case 'refused':
      return `KMS refused: ${reason}`;
    case 'bad-response':
      return `KMS answer rejected: ${reason}`;
  }
}

/** The KMS's HTTP side as the agent uses it (KmsClient, or a stand-in in tests). */
export interface KmsTransport {
  request(requestInit: Uint8Array): Promise<Uint8Array>;
  resolve(resolveInit: Uint8Array, o?: { deferred?: boolean }): Promise<Uint8Array>;
  /** POST /sakke/keys (absent in stand-ins without MIKEY-SAKKE). */
  sakkeKeys?(requestInit: Uint8Array): Promise<Uint8Array>;
  /** POST /gms/gmk (absent in stand-ins without MIKEY-SAKKE). */
  groupMasterKey?(requestInit: Uint8Array): Promise<Uint8Array>;
  close(): void;
}

export type { HeldSakkeKeys };

/**
 * The UE's side of the TS 33.328 KMS: the PSK-variant Ticket Request
 * (RFC 6043 sec. 4.1) for calls we place and Ticket Resolve (sec. 4.3) for
 * calls we receive, over HTTPS with @imslab/kms-client.
 *
 * Identities (the convention shared with services/kms, see
 * @imslab/kms-client kms-identity.ts): IDRi / IDRr = the user's SIP URI,
 * IDRpsk = the device NAI `<device name>@<domain>` naming this device's
 * pre-shared key, IDRkms = the KMS's HTTPS origin.
 */
export class KmsAgent {
  /** Our user's identity (IDRi when calling, IDRr when called). */
  readonly user: MikeyIdentity;
  /** This device's PSK name (IDRpsk) and the responder identity of 'designated-device' tickets. */
  readonly device: MikeyIdentity;
  readonly kmsId: MikeyIdentity;
  /** Replay cache for TRANSFER_INIT messages we accept (RFC 3830 sec. 5.4). */
  readonly replay = new ReplayCache();
  private transport: KmsTransport | undefined;
  /** Replay cache for GMK I_MESSAGEs (RFC 3830 sec. 5.4). */
  private readonly sakkeReplay = new ReplayCache();
  private sakke: HeldSakkeKeys | undefined;

  constructor(
    private readonly cfg: KmsConfig,
    private readonly psk: Uint8Array,
    deviceNai: string,
    private readonly makeTransport: () => KmsTransport,
  ) {
    this.user = uriIdentity(cfg.identity);
    this.device = naiIdentity(deviceNai);
    this.kmsId = uriIdentity(cfg.kmsIdentity);
  }

  /**
   * The agent for a UE config: undefined without a `kms` section; an agent
   * whose exchanges fail with 'not-configured' when the secret is null.
   */
  static forConfig(ue: UeConfig, keylogFile: string, transport?: () => KmsTransport): KmsAgent | undefined {
    const k = ue.kms;
    if (!k) return undefined;
    const make = transport ?? (() => new KmsClient({ url: k.url, caFile: ue.tls?.caFile, localAddress: ue.address, timeoutMs: k.timeoutMs, keylogFile }));
    return new KmsAgent(k, k.secret ?? new Uint8Array(0), devicePskId(ue.name, impuDomain(ue)), make);
  }

  /** The device NAI for a device name in a domain (the 'designated-device' responder). */
  static deviceIdentity(name: string, domain: string): MikeyIdentity {
    return naiIdentity(name.includes('@') ? name : devicePskId(name, domain));
  }

  get userText(): string {
    return identityToString(this.user);
  }

  private checkProvisioned(): void {
    if (this.psk.length === 0) throw new KmsFailure('not-configured', 'this device has no pre-shared key with the KMS (kms.secret is null)');
  }

  private client(): KmsTransport {
    this.transport ??= this.makeTransport();
    return this.transport;
  }

  /**
   * Ticket Request (RFC 6043 sec. 4.1): a ticket for `responder` under
   * `policy`. Throws KmsFailure; never a raw transport or MIKEY error.
   */
  async requestTicket(responder: MikeyIdentity, policy: ResolutionPolicy): Promise<RequestResult> {
    this.checkProvisioned();
    const init = guard(() => buildRequestInit({ initiator: this.user, kms: this.kmsId, psk: this.psk, pskId: this.device, responders: [responder], policy }), 'cannot build REQUEST_INIT', 'not-configured');
    const resp = await this.exchange(() => this.client().request(init.bytes));
    return guard(() => verifyRequestResp(resp, init.state), 'REQUEST_RESP');
  }

  /**
   * Ticket Resolve (RFC 6043 sec. 4.3): MPKr and TGK of a ticket we received
   * in TRANSFER_INIT. The KMS applies the ticket's resolution policy to this
   * device; a refusal is KmsFailure('refused') with the KMS's reason.
   */
  async resolveTicket(ticket: TicketPayload, o: { deferred?: boolean } = {}): Promise<ResolveResult> {
    this.checkProvisioned();
    const init = guard(() => buildResolveInit({ ticket, responder: this.user, kms: this.kmsId, psk: this.psk, pskId: this.device }), 'cannot build RESOLVE_INIT', 'not-configured');
    const resp = await this.exchange(() => this.client().resolve(init.bytes, o));
    return guard(() => verifyResolveResp(resp, init.state, o), 'RESOLVE_RESP');
  }

  /**
   * This user's SAKKE RSK and ECCSI key for the current month, from the KMS
   * (POST /sakke/keys), unwrapped with this device's transport key and
   * validated before use; kept for the month.
   */
  async sakkeKeys(now = new Date()): Promise<HeldSakkeKeys> {
    const month = identifierMonth(now);
    if (this.sakke?.month === month) return this.sakke;
    this.checkProvisioned();
    const t = this.client();
    if (!t.sakkeKeys) throw new KmsFailure('not-configured', 'this KMS transport has no MIKEY-SAKKE key provisioning');
    const init = guard(() => buildRequestInit({ initiator: this.user, kms: this.kmsId, psk: this.psk, pskId: this.device, responders: [this.user], policy: 'any-device-of-user' }), 'cannot build REQUEST_INIT', 'not-configured');
    const body = await this.exchange(() => t.sakkeKeys!(init.bytes));
    this.sakke = guard(() => openSakkeProvision(body, { uri: this.userText, psk: this.psk, now }), 'key provision');
    return this.sakke;
  }

  /**
   * The current GMK of a group from the group management server
   * (POST /gms/gmk): a MIKEY-SAKKE I_MESSAGE checked as RFC 6509 says (signed
   * by the GMS under the KMS's KPAK, addressed to us, fresh, not replayed) and
   * opened with our RSK. A removed member or a non-member gets
   * KmsFailure('refused') with the KMS's reason.
   */
  async groupMasterKey(group: MikeyIdentity, gmsUri: string): Promise<ReceivedGmk> {
    const keys = await this.sakkeKeys();
    const t = this.client();
    if (!t.groupMasterKey) throw new KmsFailure('not-configured', 'this KMS transport has no group management server');
    const init = guard(() => buildRequestInit({ initiator: this.user, kms: this.kmsId, psk: this.psk, pskId: this.device, responders: [group], policy: 'group' }), 'cannot build REQUEST_INIT', 'not-configured');
    const bytes = await this.exchange(() => t.groupMasterKey!(init.bytes));
    return guard(
      () => receiveGmkIMessage(bytes, { uri: this.userText, rsk: keys.rsk, kmsPublicKey: keys.sakkePublicKey, kpakFor: (k) => (k === keys.kmsUri ? keys.kpak : undefined), trustedInitiators: [gmsUri], replay: this.sakkeReplay }),
      'GMK I_MESSAGE',
    );
  }

  /**
   * A fresh client-server key for `serverUri` (TS 33.180 clause 7.3): a CSK
   * with its CSK-ID (purpose tag 2) in a MIKEY-SAKKE I_MESSAGE encrypted to
   * the server's identity and signed with this user's ECCSI key, as the
   * `a=key-mgmt` value of the INVITE; and our SRTP(CP) master key from it.
   */
  async clientServerKey(serverUri: string): Promise<{ keyMgmt: string; cskId: number; srtp: BuiltCskIMessage['srtp'] }> {
    const keys = await this.sakkeKeys();
    const cskId = newCskId();
    const built = guard(() => buildCskIMessage({
      csk: new Uint8Array(randomBytes(16)), cskId,
      initiator: { uri: this.userText, kmsUri: keys.kmsUri, kpak: keys.kpak, key: keys.eccsi },
      responder: { uri: serverUri, kmsUri: keys.kmsUri, kmsPublicKey: keys.sakkePublicKey },
    }), 'cannot build the CSK I_MESSAGE', 'not-configured');
    return { keyMgmt: encodeKeyMgmtAttribute(built.bytes), cskId, srtp: built.srtp };
  }

  private async exchange(send: () => Promise<Uint8Array>): Promise<Uint8Array> {
    try {
      return await send();
    } catch (e) {
      if (e instanceof KmsFailure) throw e;
      if (e instanceof KmsError) {
        if (e.status === null) throw new KmsFailure('unreachable', e.reason);
        throw new KmsFailure(e.code === 'bad-response' ? 'bad-response' : 'refused', e.reason);
      }
      throw new KmsFailure('unreachable', (e as Error).message);
    }
  }

  /** Closes the HTTPS connections (shutdown). */
  close(): void {
    this.transport?.close();
    this.transport = undefined;
  }
}

/** Runs a MIKEY step; its errors become KmsFailure of `kind` (or stay KmsFailure). */
function guard<T>(fn: () => T, what: string, kind: KmsFailureKind = 'bad-response'): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof KmsFailure) throw e;
    const msg = e instanceof MikeyError || e instanceof Error ? e.message : String(e);
    throw new KmsFailure(kind, `${what}: ${msg}`);
  }
}
