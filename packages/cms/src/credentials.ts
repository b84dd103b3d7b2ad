/**
 * Certificates and private keys as this package uses them: a
 * {@link CmsCredential} is one user's certificate, private key and the
 * intermediate certificates to send along. Input is PEM or DER as the testbed
 * PKI writes it (node-forge writes RSA keys as PKCS#1 "RSA PRIVATE KEY"; Node
 * converts any PEM key to the PKCS#8 WebCrypto imports).
 */
import { createPrivateKey } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toArrayBuffer } from './bytes.ts';
import { CmsError, CmsFormatError } from './errors.ts';
import { OID } from './oids.ts';

/** The engine every pkijs call of this package uses: Node's WebCrypto, passed explicitly (no global state). */
export const engine = new pkijs.CryptoEngine({ name: 'imslab-cms', crypto: globalThis.crypto });
export const subtle: SubtleCrypto = globalThis.crypto.subtle;

/** Key types the testbed uses: RSA (what scripts/pki.ts issues today) and EC P-256 (RFC 8551's MUST). */
export type KeyType = 'rsa' | 'ec';

export interface CmsCredential {
  certificate: pkijs.Certificate;
  /** PKCS#8 DER of the private key (imported on demand, one CryptoKey per algorithm). */
  privateKeyPkcs8: Uint8Array;
  keyType: KeyType;
  /** Intermediates to include in SignedData (RFC 3261 sec. 23.2: the signer's certificate must be there). */
  chain: pkijs.Certificate[];
}

/** Parses one certificate: PEM (the first CERTIFICATE block) or DER. */
export function parseCertificate(input: string | Uint8Array): pkijs.Certificate {
  const der = typeof input === 'string' ? pemBlocks(input, 'CERTIFICATE')[0] : input;
  if (!der) throw new CmsFormatError('malformed', 'no CERTIFICATE block in the PEM text');
  return certificateFromDer(der);
}

/** Every certificate of a PEM bundle, in order. */
export function parseCertificates(pem: string): pkijs.Certificate[] {
  return pemBlocks(pem, 'CERTIFICATE').map(certificateFromDer);
}

export function certificateFromDer(der: Uint8Array): pkijs.Certificate {
  try {
    return pkijs.Certificate.fromBER(toArrayBuffer(der));
  } catch (e) {
    throw new CmsFormatError('malformed', `not an X.509 certificate: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function certificateToDer(cert: pkijs.Certificate): Uint8Array {
  return new Uint8Array(cert.toSchema(true).toBER(false));
}

export function certificateToPem(cert: pkijs.Certificate): string {
  return toPem(certificateToDer(cert), 'CERTIFICATE');
}

export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Builds a credential from a certificate and its private key (PEM in any form Node reads, or PKCS#8 DER). */
export function loadCredential(opts: {
  certificate: string | Uint8Array | pkijs.Certificate;
  privateKey: string | Uint8Array;
  chain?: Array<string | Uint8Array | pkijs.Certificate>;
}): CmsCredential {
  const certificate = opts.certificate instanceof pkijs.Certificate ? opts.certificate : parseCertificate(opts.certificate);
  let pkcs8: Uint8Array;
  try {
    const key = typeof opts.privateKey === 'string'
      ? createPrivateKey(opts.privateKey)
      : createPrivateKey({ key: Buffer.from(opts.privateKey), format: 'der', type: 'pkcs8' });
    pkcs8 = new Uint8Array(key.export({ format: 'der', type: 'pkcs8' }));
  } catch (e) {
    throw new CmsError('bad-argument', `private key could not be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  const chain = (opts.chain ?? []).map((c) => (c instanceof pkijs.Certificate ? c : parseCertificate(c)));
  return { certificate, privateKeyPkcs8: pkcs8, keyType: keyTypeOf(certificate), chain };
}

/** RSA or EC P-256, from the certificate's SubjectPublicKeyInfo (RFC 5480 sec. 2). */
export function keyTypeOf(cert: pkijs.Certificate): KeyType {
  const alg = cert.subjectPublicKeyInfo.algorithm;
  if (alg.algorithmId === OID.rsaEncryption) return 'rsa';
  if (alg.algorithmId === OID.ecPublicKey) {
    const curve = alg.algorithmParams instanceof asn1js.ObjectIdentifier ? alg.algorithmParams.valueBlock.toString() : '';
    if (curve === OID.p256) return 'ec';
    throw new CmsFormatError('unsupported-algorithm', `EC curve ${curve || '(none)'} is not P-256 (RFC 8551 sec. 2.2)`);
  }
  throw new CmsFormatError('unsupported-algorithm', `public key algorithm ${alg.algorithmId} is neither RSA nor EC`);
}

/**
 * The identities a certificate vouches for (RFC 8591, on certificates: the
 * subjectAltName): each uniformResourceIdentifier as written (e.g.
 * `sip:alice@ims.example`) and each rfc822Name as `mailto:<address>`.
 */
export function certificateIdentities(cert: pkijs.Certificate): string[] {
  const ext = cert.extensions?.find((e) => e.extnID === OID.subjectAltName);
  const names = (ext?.parsedValue as pkijs.AltName | undefined)?.altNames ?? [];
  const out: string[] = [];
  for (const n of names) {
    if (n.type === 6 && typeof n.value === 'string') out.push(n.value);
    if (n.type === 1 && typeof n.value === 'string') out.push(`mailto:${n.value}`);
  }
  return out;
}

/** Issuer and serial as a printable string, for messages and for matching RecipientInfos. */
export function describeCertificate(cert: pkijs.Certificate): string {
  const cn = cert.subject.typesAndValues.find((t) => t.type === '2.5.4.3')?.value.valueBlock.value;
  return `${cn ?? '(no CN)'} serial ${Buffer.from(cert.serialNumber.valueBlock.valueHexView).toString('hex')}`;
}

const keyCache = new WeakMap<CmsCredential, Map<string, Promise<CryptoKey>>>();

/** The credential's private key as a WebCrypto key for one algorithm (cached per credential). */
export function privateKeyFor(cred: CmsCredential, algorithm: RsaHashedImportParams | EcKeyImportParams, usages: KeyUsage[]): Promise<CryptoKey> {
  let byAlg = keyCache.get(cred);
  if (!byAlg) keyCache.set(cred, (byAlg = new Map()));
  const id = JSON.stringify([algorithm, usages]);
  let key = byAlg.get(id);
  if (!key) {
    key = subtle.importKey('pkcs8', toArrayBuffer(cred.privateKeyPkcs8), algorithm, false, usages);
    byAlg.set(id, key);
  }
  return key;
}

function pemBlocks(pem: string, label: string): Uint8Array[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  return [...pem.matchAll(re)].map((m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
}
