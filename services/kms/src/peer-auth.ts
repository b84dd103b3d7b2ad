/**
 * How the KMS knows who is talking: which pre-shared key a message is
 * protected with (RFC 6043 sec. 4.1.1 / 4.3.1: IDRpsk "MAY be used to
 * identify the pre-shared key"), that the key's device belongs to the user
 * the message claims (IDRi / IDRr), and which KMS identity the message is
 * addressed to (IDRkms, bound into every MAC by RFC 6043 sec. 5.5).
 *
 * Convention shared with the UE (see @imslab/kms-client's kms-identity.ts):
 * IDRi / IDRr = the user's SIP URI, IDRpsk = `<device>@<domain>` (NAI),
 * IDRkms = the KMS's HTTPS origin as a URI.
 */
import { kmsIdentityUri } from '@imslab/kms-client';
import { IdRole, IdType, identitiesEqual, identityOf, identityToString, naiIdentity, uriIdentity, type MikeyIdentity, type MikeyMessage, type PskLookup } from '@imslab/mikey';
import { KmsRefusal } from './errors.ts';
import type { DeviceEntry, SubscriberDirectory } from './subscriber-directory.ts';

/**
 * The identities this KMS answers to, canonical first: its HTTPS origin
 * (`https://127.0.2.40:8443`, also with a trailing slash), and `kms@<domain>`
 * as NAI and as SIP URI. There is one KMS per network, so accepting these
 * aliases loses nothing of what the IDRkms binding protects against
 * (a message meant for another KMS).
 */
export function kmsIdentities(address: string, httpsPort: number, name: string, domain: string): MikeyIdentity[] {
  const host = address.includes(':') ? `[${address}]` : address;
  const origin = kmsIdentityUri(`https://${host}:${httpsPort}`);
  return [uriIdentity(origin), uriIdentity(`${origin}/`), naiIdentity(`${name}@${domain}`), uriIdentity(`sip:${name}@${domain}`)];
}

/** The IDR payload of a role as an identity, when present. */
export function idrOf(m: MikeyMessage, role: number): MikeyIdentity | undefined {
  const p = m.payloads.find((x) => x.kind === 'IDR' && x.role === role);
  return p && p.kind === 'IDR' ? identityOf(p) : undefined;
}

/**
 * The KMS identity to verify (and answer) a message with: the IDRkms it
 * carries when that names this KMS, the canonical one when it carries none.
 */
export function chooseKmsIdentity(m: MikeyMessage, accepted: readonly MikeyIdentity[]): MikeyIdentity {
  const claimed = idrOf(m, IdRole.KMS);
  if (!claimed) return accepted[0]!;
  const hit = accepted.find((a) => identitiesEqual(a, claimed));
  if (!hit) throw new KmsRefusal(400, 'wrong-kms', `IDRkms ${identityToString(claimed)} does not name this KMS (${identityToString(accepted[0]!)})`);
  return hit;
}

/** "sip:bob@ims.test / bob-1@ims.test": what an unauthenticated message claims, for the audit. */
export function claimOf(m: MikeyMessage, role: number): string | undefined {
  const id = idrOf(m, role);
  const psk = idrOf(m, IdRole.PSK);
  if (!id && !psk) return undefined;
  return [id ? identityToString(id) : '(no identity)', psk ? identityToString(psk) : '(no IDRpsk)'].join(' / ');
}

/**
 * A mikey {@link PskLookup} over the directory. It selects the device by
 * IDRpsk (or, without IDRpsk, the only device of the claimed user), checks
 * the device belongs to the claimed user, reports the device through
 * `onDevice`, and returns the claimed identity so the MAC is checked over
 * exactly the ID data the peer used. Refusals are 401 with a reason.
 */
export function deviceLookup(dir: SubscriberDirectory, idrName: 'IDRi' | 'IDRr', onDevice: (d: DeviceEntry) => void): PskLookup {
  return ({ identity, pskId }) => {
    let dev: DeviceEntry | undefined;
    if (pskId) {
      dev = dir.deviceByPskId(pskId);
      if (!dev) {
        throw new KmsRefusal(
          401,
          'unknown-device',
          pskId.idType !== IdType.NAI
            ? `IDRpsk must be the device's NAI (<device>@${dir.domain}), got ${identityToString(pskId)} (ID type ${pskId.idType})`
            : `IDRpsk ${identityToString(pskId)} names no device known to this KMS`,
        );
      }
    } else {
      const user = identity && dir.userOf(identity);
      if (!user) throw new KmsRefusal(401, 'unknown-user', identity ? `${idrName} ${identityToString(identity)} is not a subscriber of this KMS` : `the message names neither ${idrName} nor IDRpsk`);
      if (user.devices.length !== 1) {
        throw new KmsRefusal(401, 'psk-id-missing', `${user.uri} has ${user.devices.length} devices (${user.devices.map((d) => d.nai).join(', ')}); name the device's key in IDRpsk, e.g. ${user.devices[0]!.nai}`);
      }
      dev = user.devices[0]!;
    }
    if (identity) {
      const u = dir.userOf(identity);
      if (!u) throw new KmsRefusal(401, 'unknown-user', `${idrName} ${identityToString(identity)} is not a subscriber of this KMS`);
      // A device NAI as IDRi/IDRr must be the very device whose key is used.
      if (u !== dev.user || (identity.idType === IdType.NAI && dir.deviceByPskId(identity) !== dev)) {
        throw new KmsRefusal(401, 'device-not-of-user', `device ${dev.nai} does not belong to ${identityToString(identity)}`);
      }
    }
    onDevice(dev);
    return { psk: dev.secret, identity: identity ?? uriIdentity(dev.user.uri) };
  };
}
