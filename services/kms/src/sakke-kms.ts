/**
 * The KMS's identity-based keys (TS 33.180 clause 5.3) and its group
 * management function (clause 5.2.2, 7.4): a SAKKE master secret (RFC 6508)
 * and an ECCSI KSAK (RFC 6507), both derived from the KMS master key so a
 * restart keeps the public keys every device holds; per user and month a
 * SAKKE receiver secret key and an ECCSI signing key; and MIKEY-SAKKE
 * I_MESSAGEs (RFC 6509) that carry a group's GMK to one member, signed by the
 * group management server `sip:gms@<domain>`.
 *
 * SAKKE key derivation is slow (a 1024-bit curve in bigint): keys are made
 * once per identifier and kept.
 */
import { createHmac } from 'node:crypto';
import { buildGmkIMessage } from '@imslab/mikey';
import { eccsiIssue, eccsiKmsKeys, mikeySakkeIdentifier, os2ip, P256, SAKKE_PARAMS_1, sakkeKmsPublicKey, sakkeRsk, toHex, type EccsiKmsKeys, type EccsiUserKey } from '@imslab/sakke';
import { wrapForDevice, type SakkeKeyProvision } from '@imslab/kms-client';
import type { EpochGmk } from './group-keys.ts';

/** Keys of one identifier (one user, one month). */
interface UserKeys {
  identifier: Uint8Array;
  rsk: Uint8Array;
  eccsi: EccsiUserKey;
}

/** A scalar in [2, q-1] from the master key and a label (no bias worth naming: 512 bits reduced mod q). */
function scalarFrom(masterKey: Uint8Array, label: string, q: bigint): bigint {
  const a = createHmac('sha512', masterKey).update(`${label}\0a`).digest();
  const b = createHmac('sha512', masterKey).update(`${label}\0b`).digest();
  return (os2ip(new Uint8Array(Buffer.concat([a, b]))) % (q - 2n)) + 2n;
}

/** The KMS's SAKKE and ECCSI keys and the group management server's signing side. */
export class SakkeKms {
  /** SAKKE KMS public key Z_S (0x04 || x || y). */
  readonly sakkePublicKey: Uint8Array;
  readonly eccsi: EccsiKmsKeys;
  /** The group management server's identity: the initiator of every GMK I_MESSAGE. */
  readonly gmsUri: string;
  private readonly z: bigint;
  private readonly keys = new Map<string, UserKeys>();

  constructor(
    masterKey: Uint8Array,
    /** This KMS's URI (IDRkmsi / IDRkmsr). */
    readonly kmsUri: string,
    domain: string,
  ) {
    this.z = scalarFrom(masterKey, 'imslab SAKKE master secret', SAKKE_PARAMS_1.curve.q);
    this.sakkePublicKey = sakkeKmsPublicKey(this.z);
    this.eccsi = eccsiKmsKeys(scalarFrom(masterKey, 'imslab ECCSI KSAK', P256.q));
    this.gmsUri = `sip:gms@${domain}`;
  }

  /** The keys of `uri` for the month of `at` (made on first use). */
  userKeys(uri: string, at: Date): UserKeys {
    const identifier = mikeySakkeIdentifier(uri, at);
    const k = toHex(identifier);
    let keys = this.keys.get(k);
    if (!keys) {
      keys = { identifier, rsk: sakkeRsk(this.z, identifier), eccsi: eccsiIssue(this.eccsi, identifier) };
      this.keys.set(k, keys);
    }
    return keys;
  }

  /** The key provision for a user's device: secret keys wrapped under the device's transport key. */
  provision(uri: string, devicePsk: Uint8Array, at: Date): SakkeKeyProvision {
    const k = this.userKeys(uri, at);
    return {
      kmsUri: this.kmsUri,
      user: uri,
      identifier: toHex(k.identifier),
      sakkePublicKey: toHex(this.sakkePublicKey),
      kpak: toHex(this.eccsi.kpak),
      rsk: wrapForDevice(devicePsk, k.rsk).toString('base64'),
      ssk: wrapForDevice(devicePsk, k.eccsi.ssk).toString('base64'),
      pvt: toHex(k.eccsi.pvt),
    };
  }

  /** A MIKEY-SAKKE I_MESSAGE carrying `gmk` to `member`, signed by the group management server. */
  gmkIMessage(gmk: EpochGmk, member: string, nowMs: number): Uint8Array {
    const gms = this.userKeys(this.gmsUri, new Date(nowMs));
    return buildGmkIMessage({
      gmk: gmk.gmk,
      gmkId: gmk.gmkId,
      rand: gmk.rand,
      nowMs,
      initiator: { uri: this.gmsUri, kmsUri: this.kmsUri, kpak: this.eccsi.kpak, key: gms.eccsi },
      responder: { uri: member, kmsUri: this.kmsUri, kmsPublicKey: this.sakkePublicKey },
    }).bytes;
  }
}
