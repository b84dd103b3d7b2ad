/**
 * A MIKEY-SAKKE world for the tests: one KMS (ECCSI KSAK/KPAK and SAKKE
 * master secret), a group management server with its ECCSI key, members
 * alice and bob with their RSKs, and mallory, a user of the same KMS with
 * a valid key of her own. Keys are made once per test file (SAKKE is slow).
 *
 * {@link cskWorld} adds, on the same KMS, what the client-server key
 * (TS 33.180 clause 7.3) needs: the MCPTT server's RSK, alice's and bob's
 * ECCSI keys as signing clients, and a stranger whose KMS the server does
 * not know. Only the CSK tests pay for these keys.
 */
import { eccsiIssue, eccsiKmsKeys, generateSakkeMasterSecret, mikeySakkeIdentifier, sakkeKmsPublicKey, sakkeRsk, type EccsiKmsKeys, type EccsiUserKey } from '@imslab/sakke';
import { buildCskIMessage, buildGmkIMessage, ReplayCache, type BuiltCskIMessage, type CskIMessageInput, type GmkIMessageInput, type ReceiveCskOptions, type ReceiveGmkOptions } from '../src/index.ts';

/** A fixed instant (Dec 2026) so the identifiers' month is known. */
export const NOW = Date.UTC(2026, 11, 2, 10, 0, 0);
export const KMS_URI = 'https://kms.ims.example';
export const GMS_URI = 'sip:gms@ims.example';
/** The MCPTT server that receives clients' CSKs. */
export const SERVER_URI = 'sip:mcptt-server@ims.example';
/** A KMS the server has no KPAK of. */
export const OTHER_KMS_URI = 'https://kms.elsewhere.example';

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
  /** The KMS's ECCSI keys and SAKKE master secret, for worlds built on this one ({@link cskWorld}). */
  kms: EccsiKmsKeys;
  z: bigint;
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
    kms,
    z,
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

/** The client-server key part of the world (TS 33.180 clause 7.3), on the KMS of a {@link SakkeWorld}. */
export interface CskWorld {
  /** The MCPTT server's RSK for this month's identifier. */
  serverRsk: Uint8Array;
  /** ECCSI keys of the clients, issued by the world's KMS. */
  clientKey: Record<'alice' | 'bob', EccsiUserKey>;
  /** A client of another KMS ({@link OTHER_KMS_URI}): its KPAK and its valid key there. */
  stranger: { uri: string; kpak: Uint8Array; key: EccsiUserKey };
  csk: Uint8Array;
  cskId: number;
  /** A CSK I_MESSAGE from `from` to the server, signed with `from`'s key, optionally changed. */
  build(from: 'alice' | 'bob', change?: Partial<CskIMessageInput>): BuiltCskIMessage;
  /** The server's receive options, expecting `from` as the authenticated sender, with a fresh replay cache unless one is given. */
  opts(from: 'alice' | 'bob', change?: Partial<ReceiveCskOptions>): ReceiveCskOptions;
  /** A GMK I_MESSAGE from the group management server addressed to the server (the wrong purpose for it). */
  gmkToServer(): ReturnType<typeof buildGmkIMessage>;
}

export function cskWorld(w: SakkeWorld): CskWorld {
  const at = new Date(NOW);
  const serverRsk = sakkeRsk(w.z, mikeySakkeIdentifier(SERVER_URI, at));
  const clientKey = { alice: eccsiIssue(w.kms, mikeySakkeIdentifier(uriOf('alice'), at)), bob: eccsiIssue(w.kms, mikeySakkeIdentifier(uriOf('bob'), at)) };
  const otherKms = eccsiKmsKeys();
  const strangerUri = uriOf('stranger');
  const stranger = { uri: strangerUri, kpak: otherKms.kpak, key: eccsiIssue(otherKms, mikeySakkeIdentifier(strangerUri, at)) };
  const csk = new Uint8Array(16).map((_, i) => 0xc0 + i);
  const cskId = 0x2456cdef;
  const server = { uri: SERVER_URI, kmsUri: KMS_URI, kmsPublicKey: w.Z };
  return {
    serverRsk,
    clientKey,
    stranger,
    csk,
    cskId,
    build: (from, change = {}) =>
      buildCskIMessage({
        csk,
        cskId,
        initiator: { uri: uriOf(from), kmsUri: KMS_URI, kpak: w.kpak, key: clientKey[from] },
        responder: server,
        nowMs: NOW,
        ...change,
      }),
    opts: (from, change = {}) => ({
      uri: SERVER_URI,
      rsk: serverRsk,
      kmsPublicKey: w.Z,
      kpakFor: (u) => (u === KMS_URI ? w.kpak : undefined),
      expectedInitiator: uriOf(from),
      replay: new ReplayCache(),
      nowMs: NOW + 1000,
      ...change,
    }),
    gmkToServer: () =>
      buildGmkIMessage({ gmk: w.gmk, gmkId: w.gmkId, initiator: { uri: GMS_URI, kmsUri: KMS_URI, kpak: w.kpak, key: w.gmsKey }, responder: server, nowMs: NOW }),
  };
}
