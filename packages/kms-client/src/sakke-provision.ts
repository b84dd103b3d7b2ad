/**
 * Opening the KMS's key provision (TS 33.180 clause 5.3's KeyProvision, in
 * JSON): the same checks for every holder of identity-based keys, a UE or
 * the PoC server. The secrets unwrap under the device's transport key, and
 * both keys are validated before use (RFC 6508 sec. 6.1.2 for the SAKKE
 * RSK, RFC 6507 sec. 5.1.2 for the ECCSI SSK/PVT pair), so a provision for
 * another identifier, another month or another KMS never gets used.
 */
import { eccsiValidate, fromHex, mikeySakkeIdentifier, validateSakkeRsk, type EccsiUserKey } from '@imslab/sakke';
import { unwrapForDevice, type SakkeKeyProvision } from './transport-key.ts';

/** A user's identity-based keys for one month, checked on receipt. */
export interface HeldSakkeKeys {
  /** "YYYY-MM" of the identifier the keys belong to. */
  month: string;
  /** The KMS URI (IDRkmsi / IDRkmsr). */
  kmsUri: string;
  /** SAKKE KMS public key Z. */
  sakkePublicKey: Uint8Array;
  /** ECCSI KMS public authentication key. */
  kpak: Uint8Array;
  /** SAKKE receiver secret key. */
  rsk: Uint8Array;
  /** ECCSI signing key (SSK, PVT and the HS that signing needs). */
  eccsi: EccsiUserKey;
}

/** The month ("YYYY-MM", UTC) whose identifier applies at `at` (RFC 6509 sec. 3.2). */
export function identifierMonth(at: Date): string {
  return at.toISOString().slice(0, 7);
}

/**
 * Reads and validates the provision the KMS answered to `uri`'s device.
 * Throws an Error saying what did not match (the user, the identifier's
 * month, the wrapping, a key that does not belong to the identifier).
 */
export function openSakkeProvision(body: Uint8Array, o: { uri: string; psk: Uint8Array; now: Date }): HeldSakkeKeys {
  let p: SakkeKeyProvision;
  try {
    p = JSON.parse(Buffer.from(body).toString('utf8')) as SakkeKeyProvision;
  } catch (e) {
    throw new Error(`the key provision is not JSON: ${(e as Error).message}`);
  }
  for (const f of ['kmsUri', 'user', 'identifier', 'sakkePublicKey', 'kpak', 'rsk', 'ssk', 'pvt'] as const) {
    if (typeof p?.[f] !== 'string') throw new Error(`the key provision has no ${f}`);
  }
  if (p.user !== o.uri) throw new Error(`keys are for ${p.user}, not ${o.uri}`);
  const month = identifierMonth(o.now);
  const id = mikeySakkeIdentifier(o.uri, o.now);
  if (Buffer.from(id).toString('hex') !== p.identifier.toLowerCase()) throw new Error(`the identifier is not ${o.uri}'s for ${month}`);
  const Z = fromHex(p.sakkePublicKey);
  const kpak = fromHex(p.kpak);
  const pvt = fromHex(p.pvt);
  const rsk = new Uint8Array(unwrapForDevice(o.psk, Buffer.from(p.rsk, 'base64')));
  const ssk = new Uint8Array(unwrapForDevice(o.psk, Buffer.from(p.ssk, 'base64')));
  validateSakkeRsk(Z, id, rsk);
  const hs = eccsiValidate(kpak, id, ssk, pvt);
  return { month, kmsUri: p.kmsUri, sakkePublicKey: Z, kpak, rsk, eccsi: { ssk, pvt, hs } };
}
