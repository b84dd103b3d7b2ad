/**
 * User certificates for S/MIME in SIP (RFC 8550, RFC 8591): the
 * subjectAltName carries the user's SIP URI, which a receiver compares with
 * the CPIM From exactly. The testbed CA that scripts/pki.ts keeps (RSA 2048,
 * node-forge) issues them through {@link issueUserCertificate}; its element
 * certificates name IP addresses and are for TLS, not for messages.
 *
 * One key per user serves both signing and key management, which is the
 * testbed's simplification (RFC 8550 sec. 4.4.2 allows separate certificates).
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { certificateToPem, engine, privateKeyFor, subtle, toPem, type CmsCredential, type KeyType } from './credentials.ts';
import { toArrayBuffer } from './bytes.ts';
import { CmsError } from './errors.ts';
import { OID } from './oids.ts';

export interface IssuedCredential {
  credential: CmsCredential;
  certificatePem: string;
  /** PKCS#8 PEM ("PRIVATE KEY"). */
  privateKeyPem: string;
}

export interface IssueOptions {
  /** subjectAltName URIs, e.g. `sip:alice@ims.example` (RFC 8591: the receiver compares it with the sender). */
  uris?: string[];
  /** subjectAltName rfc822Names. */
  emails?: string[];
  commonName?: string;
  /** Default `rsa`, what the testbed PKI uses. */
  keyType?: KeyType;
  notBefore?: Date;
  notAfter?: Date;
  /** Key purposes; default emailProtection (RFC 8550 sec. 4.4.4). Tests pass others to show the refusal. */
  extKeyUsage?: string[];
}

const DAY = 86400_000;

/** A self-signed CA for tests and tools that have no testbed PKI at hand. */
export async function createCa(opts: { commonName?: string; keyType?: KeyType; notBefore?: Date; notAfter?: Date } = {}): Promise<IssuedCredential> {
  const keys = await newKeyPair(opts.keyType ?? 'rsa');
  const cert = baseCertificate(opts.commonName ?? 'imslab S/MIME test CA', opts.notBefore, opts.notAfter);
  cert.issuer = cert.subject;
  cert.extensions = [
    new pkijs.Extension({ extnID: OID.basicConstraints, critical: true, extnValue: new pkijs.BasicConstraints({ cA: true }).toSchema().toBER(false) }),
    keyUsage(0x06, 1), // keyCertSign | cRLSign
  ];
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey, engine);
  cert.extensions.push(await subjectKeyId(cert));
  await cert.sign(keys.privateKey, 'SHA-256', engine);
  return finish(cert, keys, opts.keyType ?? 'rsa');
}

/** Issues a user certificate signed by `issuer` (a CA credential: the testbed CA loaded with loadCredential). */
export async function issueUserCertificate(issuer: CmsCredential, opts: IssueOptions): Promise<IssuedCredential> {
  const keyType = opts.keyType ?? 'rsa';
  const names = [...(opts.uris ?? []).map((v) => new pkijs.GeneralName({ type: 6, value: v })), ...(opts.emails ?? []).map((v) => new pkijs.GeneralName({ type: 1, value: v }))];
  if (names.length === 0) throw new CmsError('bad-argument', 'a user certificate needs at least one URI or e-mail subjectAltName');
  const keys = await newKeyPair(keyType);
  const cert = baseCertificate(opts.commonName ?? opts.uris?.[0] ?? opts.emails![0]!, opts.notBefore, opts.notAfter);
  cert.issuer = issuer.certificate.subject;
  cert.extensions = [
    new pkijs.Extension({ extnID: OID.basicConstraints, critical: true, extnValue: new pkijs.BasicConstraints({ cA: false }).toSchema().toBER(false) }),
    // RFC 8550 sec. 4.4.2: digitalSignature, plus keyEncipherment (RSA) or keyAgreement (ECDH).
    keyType === 'rsa' ? keyUsage(0xa0, 5) : keyUsage(0x88, 3),
    new pkijs.Extension({ extnID: OID.extKeyUsage, extnValue: new pkijs.ExtKeyUsage({ keyPurposes: opts.extKeyUsage ?? [OID.emailProtection] }).toSchema().toBER(false) }),
    new pkijs.Extension({ extnID: OID.subjectAltName, extnValue: new pkijs.AltName({ altNames: names }).toSchema().toBER(false) }),
  ];
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey, engine);
  cert.extensions.push(await subjectKeyId(cert));
  const signKey = issuer.keyType === 'rsa'
    ? await privateKeyFor(issuer, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, ['sign'])
    : await privateKeyFor(issuer, { name: 'ECDSA', namedCurve: 'P-256' }, ['sign']);
  await cert.sign(signKey, 'SHA-256', engine);
  return finish(cert, keys, keyType);
}

function baseCertificate(cn: string, notBefore?: Date, notAfter?: Date): pkijs.Certificate {
  const cert = new pkijs.Certificate();
  cert.version = 2;
  const serial = globalThis.crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive and without a leading zero octet (RFC 5280 sec. 4.1.2.2)
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  cert.subject.typesAndValues.push(
    new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: cn }) }),
    new pkijs.AttributeTypeAndValue({ type: '2.5.4.10', value: new asn1js.Utf8String({ value: 'imslab testbed' }) }),
  );
  cert.notBefore.value = notBefore ?? new Date(Date.now() - DAY);
  cert.notAfter.value = notAfter ?? new Date(Date.now() + 825 * DAY);
  return cert;
}

function keyUsage(bits: number, unused: number): pkijs.Extension {
  return new pkijs.Extension({ extnID: OID.keyUsage, critical: true, extnValue: new asn1js.BitString({ valueHex: new Uint8Array([bits]), unusedBits: unused }).toBER(false) });
}

async function subjectKeyId(cert: pkijs.Certificate): Promise<pkijs.Extension> {
  // RFC 5280 sec. 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits.
  const id = await subtle.digest('SHA-1', toArrayBuffer(cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView));
  return new pkijs.Extension({ extnID: OID.subjectKeyIdentifier, extnValue: new asn1js.OctetString({ valueHex: id }).toBER(false) });
}

async function newKeyPair(keyType: KeyType): Promise<CryptoKeyPair> {
  return keyType === 'rsa'
    ? subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])
    : subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
}

async function finish(cert: pkijs.Certificate, keys: CryptoKeyPair, keyType: KeyType): Promise<IssuedCredential> {
  const pkcs8 = new Uint8Array(await subtle.exportKey('pkcs8', keys.privateKey));
  // Re-parse so extensions carry their parsed values, as for any received certificate.
  const parsed = pkijs.Certificate.fromBER(cert.toSchema(true).toBER(false));
  return {
    credential: { certificate: parsed, privateKeyPkcs8: pkcs8, keyType, chain: [] },
    certificatePem: certificateToPem(parsed),
    privateKeyPem: toPem(pkcs8, 'PRIVATE KEY'),
  };
}
