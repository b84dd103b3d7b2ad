/**
 * A MIKEY-SAKKE world for the PoC server's tests: a KMS made here (SAKKE
 * master secret, ECCSI KSAK) that provisions the server's receiver secret
 * key as the real KMS does (secrets wrapped under the device's transport
 * key), and members who sign CSK I_MESSAGEs (TS 33.180 7.3) with their ECCSI
 * keys. SAKKE is slow: make one world per test file.
 */
import { randomBytes } from 'node:crypto';
import { wrapForDevice, type SakkeKeyProvision } from '@imslab/kms-client';
import { buildCskIMessage, encodeKeyMgmtAttribute, newCskId, type BuiltCskIMessage } from '@imslab/mikey';
import { eccsiIssue, eccsiKmsKeys, generateSakkeMasterSecret, mikeySakkeIdentifier, sakkeKmsPublicKey, sakkeRsk, toHex, type EccsiUserKey } from '@imslab/sakke';
import type { SakkeKeySource } from '../src/client-server-key.ts';
import type { PocKmsConfig } from '../src/config.ts';

export const SERVER_URI = 'sip:poc@ims.test';
export const KMS_URI = 'https://127.0.2.40:8443';

export interface CskOffer {
  /** The a=key-mgmt value. */
  keyMgmt: string;
  built: BuiltCskIMessage;
}

export interface CskWorld {
  psk: Buffer;
  /** The server's kms config section (the stand-in source ignores url and caFile). */
  cfg(change?: Partial<PocKmsConfig>): PocKmsConfig;
  /** The provision the KMS answers for `uri`. */
  provision(uri: string, at: Date): SakkeKeyProvision;
  /** A KMS stand-in answering the server's provisioning requests; `fail` first ones fail. */
  kms(o?: { fail?: number }): SakkeKeySource & { asked: Uint8Array[] };
  /** `uri`'s ECCSI signing key for the month of `at`. */
  userKey(uri: string, at: Date): EccsiUserKey;
  /** A member's CSK offer: from `as` (signed with `key`, default its own), to `to` (default the server). */
  offer(as: string, o?: { to?: string; key?: EccsiUserKey; nowMs?: number }): CskOffer;
}

export function cskWorld(): CskWorld {
  const z = generateSakkeMasterSecret();
  const eccsi = eccsiKmsKeys();
  const Z = sakkeKmsPublicKey(z);
  const psk = randomBytes(32);
  const userKey = (uri: string, at: Date) => eccsiIssue(eccsi, mikeySakkeIdentifier(uri, at));
  const provision = (uri: string, at: Date): SakkeKeyProvision => {
    const id = mikeySakkeIdentifier(uri, at);
    const k = eccsiIssue(eccsi, id);
    return {
      kmsUri: KMS_URI, user: uri, identifier: toHex(id), sakkePublicKey: toHex(Z), kpak: toHex(eccsi.kpak),
      rsk: wrapForDevice(psk, sakkeRsk(z, id)).toString('base64'), ssk: wrapForDevice(psk, k.ssk).toString('base64'), pvt: toHex(k.pvt),
    };
  };
  return {
    psk, provision, userKey,
    cfg: (change = {}) => ({ url: KMS_URI, identity: SERVER_URI, device: 'poc', secret: psk.toString('hex'), caFile: '/nonexistent/ca.pem', timeoutMs: 1000, ...change }),
    kms: (o = {}) => {
      let fail = o.fail ?? 0;
      const asked: Uint8Array[] = [];
      return {
        asked,
        async sakkeKeys(init) {
          asked.push(init);
          if (fail-- > 0) throw new Error('connection refused');
          return new TextEncoder().encode(JSON.stringify(provision(SERVER_URI, new Date())));
        },
        close() {},
      };
    },
    offer: (as, o = {}) => {
      const now = o.nowMs ?? Date.now();
      const built = buildCskIMessage({
        csk: new Uint8Array(randomBytes(16)), cskId: newCskId(), nowMs: now,
        initiator: { uri: as, kmsUri: KMS_URI, kpak: eccsi.kpak, key: o.key ?? userKey(as, new Date(now)) },
        responder: { uri: o.to ?? SERVER_URI, kmsUri: KMS_URI, kmsPublicKey: Z },
      });
      return { keyMgmt: encodeKeyMgmtAttribute(built.bytes), built };
    },
  };
}
