/**
 * RecipientInfos (RFC 5652 sec. 6.2): the content-encryption key (CEK)
 * wrapped once per recipient, shared by EnvelopedData and AuthEnvelopedData.
 * pkijs supplies the ASN.1 classes; the key handling is here because pkijs's
 * EnvelopedData hides the CEK inside its own encrypt/decrypt, and
 * AuthEnvelopedData (RFC 5083) needs the same CEK for AES-GCM.
 *
 * - RSA recipients: KeyTransRecipientInfo with RSAES-OAEP and SHA-256
 *   (RFC 8551 sec. 2.3 SHOULD+, parameters as RFC 4055 sec. 4.1).
 * - EC P-256 recipients: KeyAgreeRecipientInfo, ephemeral-static ECDH with
 *   the X9.63 KDF and AES key wrap (RFC 5753 sec. 3.1, RFC 8551 sec. 2.3 MUST).
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toArrayBuffer } from './bytes.ts';
import { describeCertificate, engine, keyTypeOf, privateKeyFor, subtle, type CmsCredential } from './credentials.ts';
import { CmsDecryptError, CmsFormatError } from './errors.ts';
import { OID } from './oids.ts';

const HASH_BY_OID: Record<string, string> = { [OID.sha1]: 'SHA-1', [OID.sha256]: 'SHA-256', [OID.sha384]: 'SHA-384', [OID.sha512]: 'SHA-512' };
const KDF_HASH: Record<string, string> = { [OID.ecdhSha1Kdf]: 'SHA-1', [OID.ecdhSha256Kdf]: 'SHA-256', [OID.ecdhSha384Kdf]: 'SHA-384', [OID.ecdhSha512Kdf]: 'SHA-512' };
const WRAP_BITS: Record<string, number> = { [OID.aes128Wrap]: 128, '2.16.840.1.101.3.4.1.25': 192, [OID.aes256Wrap]: 256 };

/** Wraps `cek` (raw AES key bytes) for each recipient certificate. */
export async function makeRecipientInfos(cek: Uint8Array, recipients: readonly pkijs.Certificate[]): Promise<pkijs.RecipientInfo[]> {
  const out: pkijs.RecipientInfo[] = [];
  for (const cert of recipients) {
    out.push(keyTypeOf(cert) === 'rsa' ? await keyTrans(cek, cert) : await keyAgree(cek, cert));
  }
  return out;
}

async function keyTrans(cek: Uint8Array, cert: pkijs.Certificate): Promise<pkijs.RecipientInfo> {
  const pub = await subtle.importKey('spki', spkiOf(cert), { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['encrypt']);
  const sha256 = new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha256 });
  // RFC 4055 sec. 4.1: hash and MGF1 hash both SHA-256; pSourceAlgorithm left at its default (empty label).
  const params = new pkijs.RSAESOAEPParams({
    hashAlgorithm: sha256,
    maskGenAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID.mgf1, algorithmParams: sha256.toSchema() }),
  });
  const ktri = new pkijs.KeyTransRecipientInfo({
    version: 0,
    rid: new pkijs.IssuerAndSerialNumber({ issuer: cert.issuer, serialNumber: cert.serialNumber }),
    keyEncryptionAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID.rsaesOaep, algorithmParams: params.toSchema() }),
    encryptedKey: new asn1js.OctetString({ valueHex: await subtle.encrypt({ name: 'RSA-OAEP' }, pub, toArrayBuffer(cek)) }),
  });
  return new pkijs.RecipientInfo({ variant: 1, value: ktri });
}

async function keyAgree(cek: Uint8Array, cert: pkijs.Certificate): Promise<pkijs.RecipientInfo> {
  const recipientPub = await subtle.importKey('spki', spkiOf(cert), { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const eph = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
  const z = await subtle.deriveBits({ name: 'ECDH', public: recipientPub }, eph.privateKey, 256);
  // The wrap key is as strong as the CEK (RFC 5753 sec. 7.2 pairs AES-128 wrap with P-256).
  const wrapOid = cek.length === 32 ? OID.aes256Wrap : OID.aes128Wrap;
  const wrapAlg = new pkijs.AlgorithmIdentifier({ algorithmId: wrapOid });
  const kek = await deriveKek(z, 'SHA-256', wrapAlg, WRAP_BITS[wrapOid]!, undefined, ['wrapKey']);
  const cekKey = await subtle.importKey('raw', toArrayBuffer(cek), { name: 'AES-CBC' }, true, ['encrypt']);
  const wrapped = await subtle.wrapKey('raw', cekKey, kek, { name: 'AES-KW' });
  const ephPoint = await subtle.exportKey('raw', eph.publicKey);
  const kari = new pkijs.KeyAgreeRecipientInfo({
    version: 3,
    // RFC 5753 sec. 3.1.1: originatorKey, id-ecPublicKey with absent parameters, the ECPoint as the bit string.
    originator: new pkijs.OriginatorIdentifierOrKey({
      variant: 3,
      value: new pkijs.OriginatorPublicKey({ algorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID.ecPublicKey }), publicKey: new asn1js.BitString({ valueHex: ephPoint }) }),
    }),
    keyEncryptionAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID.ecdhSha256Kdf, algorithmParams: wrapAlg.toSchema() }),
    recipientEncryptedKeys: new pkijs.RecipientEncryptedKeys({
      encryptedKeys: [new pkijs.RecipientEncryptedKey({
        rid: new pkijs.KeyAgreeRecipientIdentifier({ variant: 1, value: new pkijs.IssuerAndSerialNumber({ issuer: cert.issuer, serialNumber: cert.serialNumber }) }),
        encryptedKey: new asn1js.OctetString({ valueHex: wrapped }),
      })],
    }),
  });
  return new pkijs.RecipientInfo({ variant: 2, value: kari });
}

/** X9.63 KDF over ECC-CMS-SharedInfo (RFC 5753 sec. 7.2), imported as an AES-KW key. */
async function deriveKek(z: ArrayBuffer, hash: string, wrapAlg: pkijs.AlgorithmIdentifier, bits: number, ukm: asn1js.OctetString | undefined, usages: KeyUsage[]): Promise<CryptoKey> {
  const supp = new Uint8Array(4);
  new DataView(supp.buffer).setUint32(0, bits);
  const sharedInfo = new pkijs.ECCCMSSharedInfo({
    keyInfo: wrapAlg,
    ...(ukm ? { entityUInfo: ukm } : {}),
    suppPubInfo: new asn1js.OctetString({ valueHex: supp.buffer }),
  }).toSchema().toBER(false);
  const raw = await pkijs.kdf(hash, z, bits, sharedInfo, engine);
  return subtle.importKey('raw', raw, { name: 'AES-KW' }, false, usages);
}

/** How a RecipientInfo names its recipient, for "not a recipient" messages and for analysis. */
export function describeRecipient(ri: pkijs.RecipientInfo): string {
  const rid = ridOf(ri);
  if (!rid) return `recipient of kind ${ri.variant} (not certificate-based)`;
  if (rid instanceof pkijs.IssuerAndSerialNumber) {
    const cn = rid.issuer.typesAndValues.find((t) => t.type === '2.5.4.3')?.value.valueBlock.value;
    return `issuer ${cn ?? '(no CN)'} serial ${Buffer.from(rid.serialNumber.valueBlock.valueHexView).toString('hex')}`;
  }
  return `subjectKeyIdentifier ${Buffer.from(rid.valueBlock.valueHexView).toString('hex')}`;
}

/** The certificate identifier of a KeyTrans or (single-key) KeyAgree RecipientInfo. */
function ridOf(ri: pkijs.RecipientInfo): pkijs.IssuerAndSerialNumber | asn1js.OctetString | undefined {
  if (ri.variant === 1) return (ri.value as pkijs.KeyTransRecipientInfo).rid;
  if (ri.variant === 2) {
    const rek = (ri.value as pkijs.KeyAgreeRecipientInfo).recipientEncryptedKeys.encryptedKeys[0];
    return rek ? karRid(rek) : undefined;
  }
  return undefined;
}

/** Whether a RecipientInfo carries a key for `cert` (a KeyAgreeRecipientInfo may hold several). */
function addresses(ri: pkijs.RecipientInfo, cert: pkijs.Certificate): boolean {
  if (ri.variant === 2) return (ri.value as pkijs.KeyAgreeRecipientInfo).recipientEncryptedKeys.encryptedKeys.some((k) => matches(karRid(k), cert));
  return matches(ridOf(ri), cert);
}

function karRid(k: pkijs.RecipientEncryptedKey): pkijs.IssuerAndSerialNumber | asn1js.OctetString {
  return k.rid.variant === 1 ? (k.rid.value as pkijs.IssuerAndSerialNumber) : (k.rid.value as pkijs.RecipientKeyIdentifier).subjectKeyIdentifier;
}

function matches(rid: pkijs.IssuerAndSerialNumber | asn1js.OctetString | undefined, cert: pkijs.Certificate): boolean {
  if (!rid) return false;
  if (rid instanceof pkijs.IssuerAndSerialNumber) return rid.issuer.isEqual(cert.issuer) && rid.serialNumber.isEqual(cert.serialNumber);
  const ski = cert.extensions?.find((e) => e.extnID === OID.subjectKeyIdentifier)?.parsedValue as asn1js.OctetString | undefined;
  return !!ski && Buffer.from(ski.valueBlock.valueHexView).equals(Buffer.from(rid.valueBlock.valueHexView));
}

/** The RecipientInfo naming `cert`; a message not addressed to it is {@link CmsDecryptError} `not-a-recipient`. */
export function findRecipientInfo(infos: readonly pkijs.RecipientInfo[], cert: pkijs.Certificate): pkijs.RecipientInfo {
  const ri = infos.find((r) => addresses(r, cert));
  if (!ri) throw new CmsDecryptError('not-a-recipient', `${describeCertificate(cert)} is not among the ${infos.length} recipient(s): ${infos.map(describeRecipient).join('; ')}`);
  return ri;
}

/** Unwraps the CEK from `ri` as a key for `cipher`; a wrapped key that does not open is `key-unwrap-failed`. */
export async function unwrapCek(ri: pkijs.RecipientInfo, cred: CmsCredential, cipher: AesKeyAlgorithm): Promise<CryptoKey> {
  try {
    if (ri.variant === 1) return await unwrapKeyTrans(ri.value as pkijs.KeyTransRecipientInfo, cred, cipher);
    return await unwrapKeyAgree(ri.value as pkijs.KeyAgreeRecipientInfo, cred, cipher);
  } catch (e) {
    if (e instanceof CmsFormatError || e instanceof CmsDecryptError) throw e;
    throw new CmsDecryptError('key-unwrap-failed', `the content-encryption key for ${describeCertificate(cred.certificate)} did not unwrap: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function unwrapKeyTrans(ktri: pkijs.KeyTransRecipientInfo, cred: CmsCredential, cipher: AesKeyAlgorithm): Promise<CryptoKey> {
  const alg = ktri.keyEncryptionAlgorithm.algorithmId;
  if (alg === OID.rsaEncryption) {
    // Node refuses PKCS#1 v1.5 decryption (Marvin attack, CVE-2023-46809); RFC 8551 sec. 2.3 ranks it MUST- below OAEP.
    throw new CmsFormatError('unsupported-algorithm', 'key transport with RSA PKCS#1 v1.5 (rsaEncryption) is refused: send RSAES-OAEP (RFC 8551 sec. 2.3)');
  }
  if (alg !== OID.rsaesOaep) throw new CmsFormatError('unsupported-algorithm', `key transport algorithm ${alg} is not RSAES-OAEP`);
  if (cred.keyType !== 'rsa') throw new CmsFormatError('unsupported-algorithm', 'RSA key transport to a credential whose key is not RSA');
  const params = ktri.keyEncryptionAlgorithm.algorithmParams
    ? new pkijs.RSAESOAEPParams({ schema: ktri.keyEncryptionAlgorithm.algorithmParams })
    : new pkijs.RSAESOAEPParams();
  const hash = HASH_BY_OID[params.hashAlgorithm.algorithmId];
  // WebCrypto's RSA-OAEP uses one hash for both the label and MGF1: refuse mixed parameters rather than guess.
  const mgfHash = params.maskGenAlgorithm.algorithmParams ? new pkijs.AlgorithmIdentifier({ schema: params.maskGenAlgorithm.algorithmParams }).algorithmId : OID.sha1;
  if (!hash || params.maskGenAlgorithm.algorithmId !== OID.mgf1 || HASH_BY_OID[mgfHash] !== hash) {
    throw new CmsFormatError('unsupported-algorithm', `RSAES-OAEP with hash ${params.hashAlgorithm.algorithmId} and MGF ${params.maskGenAlgorithm.algorithmId}/${mgfHash} is not supported`);
  }
  const key = await privateKeyFor(cred, { name: 'RSA-OAEP', hash }, ['decrypt']);
  const raw = await subtle.decrypt({ name: 'RSA-OAEP' }, key, toArrayBuffer(ktri.encryptedKey.valueBlock.valueHexView));
  return importCek(raw, cipher);
}

async function unwrapKeyAgree(kari: pkijs.KeyAgreeRecipientInfo, cred: CmsCredential, cipher: AesKeyAlgorithm): Promise<CryptoKey> {
  const hash = KDF_HASH[kari.keyEncryptionAlgorithm.algorithmId];
  if (!hash) throw new CmsFormatError('unsupported-algorithm', `key agreement algorithm ${kari.keyEncryptionAlgorithm.algorithmId} is not dhSinglePass-stdDH with an X9.63 KDF (RFC 5753)`);
  if (cred.keyType !== 'ec') throw new CmsFormatError('unsupported-algorithm', 'ECDH key agreement to a credential whose key is not EC');
  if (!kari.keyEncryptionAlgorithm.algorithmParams) throw new CmsFormatError('malformed', 'KeyAgreeRecipientInfo without its key-wrap algorithm');
  const wrapAlg = new pkijs.AlgorithmIdentifier({ schema: kari.keyEncryptionAlgorithm.algorithmParams });
  const bits = WRAP_BITS[wrapAlg.algorithmId];
  if (!bits) throw new CmsFormatError('unsupported-algorithm', `key wrap algorithm ${wrapAlg.algorithmId} is not AES key wrap`);
  if (kari.originator.variant !== 3) throw new CmsFormatError('unsupported-algorithm', 'KeyAgreeRecipientInfo whose originator is not an ephemeral key (RFC 5753 sec. 3.1.1)');
  const point = (kari.originator.value as pkijs.OriginatorPublicKey).publicKey.valueBlock.valueHexView;
  const eph = await subtle.importKey('raw', toArrayBuffer(point), { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const priv = await privateKeyFor(cred, { name: 'ECDH', namedCurve: 'P-256' }, ['deriveBits']);
  const z = await subtle.deriveBits({ name: 'ECDH', public: eph }, priv, 256);
  const kek = await deriveKek(z, hash, wrapAlg, bits, kari.ukm, ['unwrapKey']);
  const rek = kari.recipientEncryptedKeys.encryptedKeys.find((k) => matches(karRid(k), cred.certificate));
  if (!rek) throw new CmsDecryptError('not-a-recipient', `${describeCertificate(cred.certificate)} has no encrypted key in the KeyAgreeRecipientInfo`);
  return subtle.unwrapKey('raw', toArrayBuffer(rek.encryptedKey.valueBlock.valueHexView), kek, { name: 'AES-KW' }, cipher, false, ['decrypt']);
}

function importCek(raw: ArrayBuffer, cipher: AesKeyAlgorithm): Promise<CryptoKey> {
  if (raw.byteLength * 8 !== cipher.length) {
    throw new CmsDecryptError('key-unwrap-failed', `the unwrapped key has ${raw.byteLength * 8} bits; ${cipher.name} needs ${cipher.length}`);
  }
  return subtle.importKey('raw', raw, cipher, false, ['decrypt']);
}

function spkiOf(cert: pkijs.Certificate): ArrayBuffer {
  return cert.subjectPublicKeyInfo.toSchema().toBER(false);
}
