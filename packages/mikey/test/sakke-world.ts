/**
 * A MIKEY-SAKKE world for the tests: one KMS (ECCSI KSAK/KPAK and SAKKE
 * master secret), a group management server with its ECCSI key, members
 * alice and bob with their RSKs, and mallory, a user of the same KMS with
 * a valid key of her own. Keys are made once per test file (SAKKE is slow).
 */
import { eccsiIssue, eccsiKmsKeys, generateSakkeMasterSecret, mikeySakkeIdentifier, sakkeKmsPublicKey, sakkeRsk, type EccsiUserKey } from '@imslab/sakke';
import { buildGmkIMessage, ReplayCache, type GmkIMessageInput, type ReceiveGmkOptions } from '../src/index.ts';

/** A fixed instant (Dec 2026) so the identifiers' month is known. */
export const NOW = Date.UTC(2026, 11, 2, 10, 0, 0);
export const KMS_URI = 'https://kms.ims.example';
export const GMS_URI = 'sip:gms@ims.example';

export interface SakkeWorld {
  kpak: Uint8Array;
  Z: Uint8Array;
  gmsKey: EccsiUserKey;
  malloryKey: EccsiUserKey;
  rsk: Record<'alice' | 'bob', Uint8Array>;
  gmk: Uint8Array;
  gmkId: number;
  /** An I_MESSAGE for `to`, optionally changed. */
  build(to: 'alice' | 'bob', change?: Partial<GmkIMessageInput>): ReturnType<typeof buildGmkIMessage>;
  /** Receive options of a member, with a fresh replay cache unless one is given. */
  opts(who: 'alice' | 'bob', change?: Partial<ReceiveGmkOptions>): ReceiveGmkOptions;
}

export const uriOf = (who: string): string => `sip:${who}@ims.example`;

export function sakkeWorld(): SakkeWorld {
  const at = new Date(NOW);
  const kms = eccsiKmsKeys();
  const z = generateSakkeMasterSecret();
  const Z = sakkeKmsPublicKey(z);
  const gmsKey = eccsiIssue(kms, mikeySakkeIdentifier(GMS_URI, at));
  const malloryKey = eccsiIssue(kms, mikeySakkeIdentifier(uriOf('mallory'), at));
  const rsk = { alice: sakkeRsk(z, mikeySakkeIdentifier(uriOf('alice'), at)), bob: sakkeRsk(z, mikeySakkeIdentifier(uriOf('bob'), at)) };
  const gmk = new Uint8Array(16).map((_, i) => 0xa0 + i);
  const gmkId = 0x0123abcd;
  return {
    kpak: kms.kpak,
    Z,
    gmsKey,
    malloryKey,
    rsk,
    gmk,
    gmkId,
    build: (to, change = {}) =>
      buildGmkIMessage({
        gmk,
        gmkId,
        initiator: { uri: GMS_URI, kmsUri: KMS_URI, kpak: kms.kpak, key: gmsKey },
        responder: { uri: uriOf(to), kmsUri: KMS_URI, kmsPublicKey: Z },
        nowMs: NOW,
        ...change,
      }),
    opts: (who, change = {}) => ({
      uri: uriOf(who),
      rsk: rsk[who],
      kmsPublicKey: Z,
      kpakFor: (u) => (u === KMS_URI ? kms.kpak : undefined),
      trustedInitiators: [GMS_URI],
      replay: new ReplayCache(),
      nowMs: NOW + 1000,
      ...change,
    }),
  };
}
