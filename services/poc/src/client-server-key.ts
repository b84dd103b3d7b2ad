/**
 * The PoC server's side of TS 33.180's client-server key (clause 7.3): a
 * member generates a CSK, encrypts it by SAKKE to the server's identity,
 * signs the MIKEY-SAKKE I_MESSAGE (RFC 6509) with its ECCSI key and offers it
 * in `a=key-mgmt:mikey` of its INVITE. The server opens it with its own
 * receiver secret key, which the KMS provisions after the same device
 * authentication as a UE's (POST /sakke/keys). Unlike an SDES key, the CSK is
 * readable by no element the INVITE crosses (the P-CSCFs, the S-CSCF, a tap
 * on the plaintext core): only the server can open it, and only the member
 * the network asserted can have signed it.
 */
import { devicePskId, identifierMonth, KmsClient, KmsError, kmsIdentityUri, openSakkeProvision, type HeldSakkeKeys } from '@imslab/kms-client';
import { buildRequestInit, decodeKeyMgmtAttribute, MikeyError, naiIdentity, receiveCskIMessage, ReplayCache, uriIdentity, type ReceivedCsk } from '@imslab/mikey';
import type { SrtpContextOptions } from '@imslab/srtp';
import type { PocKmsConfig } from './config.ts';

/** The one SRTP profile of the CSK (TS 33.180 names AES-CM-128 with HMAC-SHA1-80 for floor control). */
export const CSK_PROFILE = 'AES_CM_128_HMAC_SHA1_80';

/** Why a CSK offer was not taken: the 488's reason. */
export class CskRefusal extends Error {
  override name = 'CskRefusal';
}

/** The KMS's key provisioning endpoint as the server uses it (KmsClient, or a stand-in in tests). */
export interface SakkeKeySource {
  sakkeKeys(requestInit: Uint8Array): Promise<Uint8Array>;
  close(): void;
}

/**
 * Opens members' CSK I_MESSAGEs. The server's keys are fetched on the first
 * offer of each month (the identifier changes monthly, RFC 6509 sec. 3.2) and
 * kept; a failed fetch is not kept, so the next offer tries again.
 */
export class CskReceiver {
  private readonly replay = new ReplayCache();
  private held: Promise<HeldSakkeKeys> | undefined;
  private heldMonth = '';
  private source: SakkeKeySource | undefined;

  constructor(
    private readonly cfg: PocKmsConfig,
    private readonly domain: string,
    private readonly makeSource: () => SakkeKeySource = () => new KmsClient({ url: cfg.url, caFile: cfg.caFile, timeoutMs: cfg.timeoutMs }),
  ) {}

  /** This month's keys of the server, from the KMS. */
  keys(now = new Date()): Promise<HeldSakkeKeys> {
    const month = identifierMonth(now);
    if (!this.held || this.heldMonth !== month) {
      this.heldMonth = month;
      this.held = this.fetch(now);
      this.held.catch(() => {
        this.held = undefined;
      });
    }
    return this.held;
  }

  private async fetch(now: Date): Promise<HeldSakkeKeys> {
    if (this.cfg.secret === null) throw new CskRefusal('this PoC server has no pre-shared key with the KMS (kms.secret is null): it cannot open a CSK');
    const psk = Buffer.from(this.cfg.secret, 'hex');
    const user = uriIdentity(this.cfg.identity);
    const init = buildRequestInit({
      initiator: user, kms: uriIdentity(this.cfg.kmsIdentity ?? kmsIdentityUri(this.cfg.url)), psk, pskId: naiIdentity(devicePskId(this.cfg.device, this.domain)),
      responders: [user], policy: 'any-device-of-user',
    });
    this.source ??= this.makeSource();
    let body: Uint8Array;
    try {
      body = await this.source.sakkeKeys(init.bytes);
    } catch (e) {
      throw new CskRefusal(`the server's SAKKE key: ${e instanceof KmsError ? e.reason : (e as Error).message}`);
    }
    try {
      return openSakkeProvision(body, { uri: this.cfg.identity, psk, now });
    } catch (e) {
      throw new CskRefusal(`the server's SAKKE key provision: ${(e as Error).message}`);
    }
  }

  /**
   * The CSK of an `a=key-mgmt` value from `caller` (the identity the network
   * asserted): the I_MESSAGE must be addressed to this server, signed by the
   * caller under the KMS's KPAK, fresh and not replayed, and carry a CSK
   * (purpose tag 2). Throws CskRefusal saying which check failed.
   */
  async open(keyMgmt: string, caller: string, now = new Date()): Promise<ReceivedCsk> {
    let bytes: Uint8Array;
    try {
      bytes = decodeKeyMgmtAttribute(keyMgmt).bytes;
    } catch (e) {
      throw new CskRefusal(`a=key-mgmt unreadable: ${(e as Error).message}`);
    }
    const k = await this.keys(now);
    try {
      return receiveCskIMessage(bytes, {
        uri: this.cfg.identity, rsk: k.rsk, kmsPublicKey: k.sakkePublicKey, kpakFor: (u) => (u === k.kmsUri ? k.kpak : undefined),
        expectedInitiator: caller, replay: this.replay, nowMs: now.getTime(),
      });
    } catch (e) {
      if (e instanceof MikeyError) throw new CskRefusal(`CSK I_MESSAGE refused: ${e.message}`);
      throw e;
    }
  }

  close(): void {
    this.source?.close();
    this.source = undefined;
  }
}

/** SRTCP context options of a CSK (both directions: the member and the server send under different SSRCs). */
export function cskContextOptions(csk: ReceivedCsk): SrtpContextOptions {
  return { profile: CSK_PROFILE, masterKey: csk.srtp.masterKey, masterSalt: csk.srtp.masterSalt };
}
