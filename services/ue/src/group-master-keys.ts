/**
 * A PoC member's group keys (TS 33.180): the GMKs it received by MIKEY-SAKKE
 * and the SRTP keys that derive from them. We send under our own key of the
 * newest GMK (MKI = GMK-ID || our GUK-ID); we receive a talker's packet under
 * the key its MKI names, derived from the GMK the MKI's GMK-ID names. A packet
 * naming a GMK we do not hold (a later epoch after we were removed, or
 * another group's) finds no key: it is counted, never decrypted.
 */
import { GMK_MKI_LENGTH, GmkStore, MikeyError, srtpKeyLengths, type ReceivedGmk } from '@imslab/mikey';
import { isSrtpProfileName, type SrtpProfileName } from '@imslab/srtp';
import { derivedSrtpKey, type GroupKeySet, type SrtpKey } from './media-security.ts';

/**
 * The profile when the I_MESSAGE has no SP payload: what TS 33.180 names for
 * MCPTT media (and what our GMS puts in the SP payload by default).
 */
const DEFAULT_GMK_SUITE: SrtpProfileName = 'AES_CM_128_HMAC_SHA1_80';

/** A GMK whose SP payload names a profile our SRTP cannot run (refused when it arrives, never used). */
export class UnsupportedGmkProfileError extends Error {
  constructor(readonly profile: string) {
    super(`the GMK's security policy (SP payload) asks for SRTP profile ${profile}, which this UE cannot run`);
    this.name = 'UnsupportedGmkProfileError';
  }
}

/** The GMKs of one group as this member holds them. */
export class GroupMasterKeys implements GroupKeySet {
  readonly mkiLength = GMK_MKI_LENGTH;
  private readonly store = new GmkStore();
  /** The SRTP profile of each GMK (its SP payload, TS 33.180 clause 7.4.2), by GMK-ID: the key lengths and the transform follow it. */
  private readonly suites = new Map<number, SrtpProfileName>();
  private newest: ReceivedGmk | undefined;
  /** Received but not yet sent under (a two-phase re-key: everyone receives first, then everyone switches). */
  private pending: ReceivedGmk | undefined;

  constructor(
    /** The group's URI (sip:poc-<name>@<domain>). */
    readonly group: string,
    /** The group's members, to name a talker from its GUK-ID (and refuse one that is nobody's). */
    private readonly members: readonly string[] | undefined = undefined,
  ) {}

  /**
   * Takes a GMK received from the group management server; with `activate`
   * (default) it becomes the one we send under. Throws
   * UnsupportedGmkProfileError for a profile we cannot run.
   */
  add(k: ReceivedGmk, activate = true): void {
    const suite = k.profile ?? DEFAULT_GMK_SUITE;
    if (!isSrtpProfileName(suite)) throw new UnsupportedGmkProfileError(suite);
    this.suites.set(k.gmkId, suite);
    this.store.put({ gmk: k.gmk, gmkId: k.gmkId, gukId: k.gukId, rand: k.rand, group: this.group });
    if (activate || !this.newest) this.newest = k;
    else this.pending = k;
  }

  /** Sends under the GMK received without activation; false when none waits. */
  activatePending(): boolean {
    if (!this.pending) return false;
    this.newest = this.pending;
    this.pending = undefined;
    return true;
  }

  /** GMK-ID of the key we send under, or undefined before the first GMK. */
  get currentGmkId(): number | undefined {
    return this.newest?.gmkId;
  }

  /** GMK-IDs held, as hex. */
  heldIds(): string[] {
    return this.store.ids().map((id) => `0x${id.toString(16).padStart(8, '0')}`);
  }

  /** Our send key under the newest GMK. */
  txKey(): SrtpKey {
    if (!this.newest) throw new Error(`no GMK of ${this.group} yet`);
    return derivedSrtpKey(this.newest.srtp, this.suites.get(this.newest.gmkId) ?? DEFAULT_GMK_SUITE, 'mikey-sakke');
  }

  keyFor(mki: Uint8Array): SrtpKey | undefined {
    if (mki.length !== GMK_MKI_LENGTH) return undefined;
    const suite = this.suites.get(Buffer.from(mki).readUInt32BE(0));
    if (suite === undefined) return undefined;
    try {
      return derivedSrtpKey(this.store.keysForMki(mki, { ...srtpKeyLengths(suite), ...(this.members ? { senders: this.members } : {}) }), suite, 'mikey-sakke');
    } catch (e) {
      if (e instanceof MikeyError) return undefined;
      throw e;
    }
  }
}
