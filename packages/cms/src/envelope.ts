/**
 * Encryption for one or more recipients, one RecipientInfo each (RFC 5652
 * sec. 6.2), so a group exploder forwards the same bytes to every member:
 *
 * - AuthEnvelopedData with AES-GCM (RFC 5083, RFC 5084): RFC 8551 sec. 2.7's
 *   MUST, authenticated, the default;
 * - EnvelopedData with AES-CBC (RFC 5652 sec. 6, RFC 3565) for peers that
 *   lack AuthEnvelopedData: confidentiality only, integrity comes from the
 *   signature inside (RFC 8591 signs, then encrypts).
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { decodeAuthEnvelopedData, decodeGcmParameters, encodeAuthEnvelopedData, encodeGcmParameters } from './auth-enveloped-data.ts';
import { toArrayBuffer } from './bytes.ts';
import { contentTypeName, encodeContentInfo, fromSchema, parseContentInfo } from './content-info.ts';
import { subtle, type CmsCredential } from './credentials.ts';
import { CmsDecryptError, CmsError, CmsFormatError, asCmsError } from './errors.ts';
import { LIMITS } from './limits.ts';
import { OID } from './oids.ts';
import { describeRecipient, findRecipientInfo, makeRecipientInfos, unwrapCek } from './recipients.ts';

export type EnvelopeKind = 'auth-enveloped' | 'enveloped';
export type ContentCipher = 'aes-128-gcm' | 'aes-256-gcm' | 'aes-128-cbc' | 'aes-256-cbc';

const CIPHERS: Record<ContentCipher, { oid: string; alg: AesKeyAlgorithm; kind: EnvelopeKind }> = {
  'aes-128-gcm': { oid: OID.aes128Gcm, alg: { name: 'AES-GCM', length: 128 }, kind: 'auth-enveloped' },
  'aes-256-gcm': { oid: OID.aes256Gcm, alg: { name: 'AES-GCM', length: 256 }, kind: 'auth-enveloped' },
  'aes-128-cbc': { oid: OID.aes128Cbc, alg: { name: 'AES-CBC', length: 128 }, kind: 'enveloped' },
  'aes-256-cbc': { oid: OID.aes256Cbc, alg: { name: 'AES-CBC', length: 256 }, kind: 'enveloped' },
};
const CIPHER_BY_OID = new Map(Object.entries(CIPHERS).map(([name, c]) => [c.oid, { name: name as ContentCipher, ...c }]));

/** GCM tag length written: 16 octets, what OpenSSL writes (RFC 5084 sec. 3.2 allows 12-16). */
const GCM_ICV_LEN = 16;

export interface EncryptOptions {
  /** Default `auth-enveloped`. */
  kind?: EnvelopeKind;
  /** Default AES-128 in the kind's mode (RFC 8551 sec. 2.7). */
  cipher?: ContentCipher;
}

/** Encrypts `content` (a MIME entity, for S/MIME) to every certificate in `recipients`; returns ContentInfo DER. */
export async function encryptContent(content: Uint8Array, recipients: readonly pkijs.Certificate[], opts: EncryptOptions = {}): Promise<Uint8Array> {
  const kind = opts.kind ?? 'auth-enveloped';
  const cipherName = opts.cipher ?? (kind === 'auth-enveloped' ? 'aes-128-gcm' : 'aes-128-cbc');
  const cipher = CIPHERS[cipherName];
  if (cipher.kind !== kind) throw new CmsError('bad-argument', `${cipherName} does not go in ${kind} data: GCM needs AuthEnvelopedData (RFC 5084 sec. 1)`);
  if (recipients.length === 0) throw new CmsError('bad-argument', 'encryption needs at least one recipient');

  const cek = globalThis.crypto.getRandomValues(new Uint8Array(cipher.alg.length / 8));
  const key = await subtle.importKey('raw', cek, cipher.alg, false, ['encrypt']);
  const recipientInfos = await makeRecipientInfos(cek, recipients);

  if (kind === 'auth-enveloped') {
    // RFC 5084 sec. 3.2: a 12-octet nonce, never reused with a key; the CEK is fresh per message.
    const nonce = globalThis.crypto.getRandomValues(new Uint8Array(12));
    const sealed = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: nonce, tagLength: GCM_ICV_LEN * 8 }, key, toArrayBuffer(content)));
    const eci = new pkijs.EncryptedContentInfo({
      contentType: OID.data,
      contentEncryptionAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: cipher.oid, algorithmParams: encodeGcmParameters(nonce, GCM_ICV_LEN) }),
      encryptedContent: new asn1js.OctetString({ valueHex: sealed.subarray(0, sealed.length - GCM_ICV_LEN) }),
      disableSplit: true,
    });
    return encodeContentInfo(OID.authEnvelopedData, encodeAuthEnvelopedData({ recipientInfos, encryptedContentInfo: eci, mac: sealed.subarray(sealed.length - GCM_ICV_LEN) }));
  }
  // RFC 3565: the AES-CBC parameter is the 16-octet IV.
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const ct = await subtle.encrypt({ name: 'AES-CBC', iv }, key, toArrayBuffer(content));
  const env = new pkijs.EnvelopedData({
    // RFC 5652 sec. 6.1: version 0 when every RecipientInfo is version 0 (KeyTrans with issuerAndSerialNumber), else 2.
    version: recipientInfos.every((r) => r.variant === 1) ? 0 : 2,
    recipientInfos,
    encryptedContentInfo: new pkijs.EncryptedContentInfo({
      contentType: OID.data,
      contentEncryptionAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: cipher.oid, algorithmParams: new asn1js.OctetString({ valueHex: iv }) }),
      encryptedContent: new asn1js.OctetString({ valueHex: ct }),
      disableSplit: true,
    }),
    disableSplit: true,
  });
  return encodeContentInfo(OID.envelopedData, env.toSchema());
}

export interface DecryptedContent {
  kind: EnvelopeKind;
  cipher: ContentCipher;
  /** The encapsulated content type (id-data for S/MIME). */
  contentType: string;
  content: Uint8Array;
}

/**
 * Opens an EnvelopedData or AuthEnvelopedData with `recipient`'s key. Throws
 * only {@link CmsError}s: `not-a-recipient`, `key-unwrap-failed`,
 * `integrity-failure` (GCM tag, or CBC padding), `malformed`,
 * `unsupported-algorithm`, `unexpected-content-type`.
 */
export async function decryptContent(der: Uint8Array, recipient: CmsCredential): Promise<DecryptedContent> {
  try {
    const ci = parseContentInfo(der, [OID.authEnvelopedData, OID.envelopedData]);
    const kind: EnvelopeKind = ci.contentType === OID.authEnvelopedData ? 'auth-enveloped' : 'enveloped';
    const parts = kind === 'auth-enveloped'
      ? decodeAuthEnvelopedData(ci.content)
      : envelopedParts(fromSchema(() => new pkijs.EnvelopedData({ schema: ci.content }), 'EnvelopedData'));
    // Whether the message is ours at all comes first: "not for you" is the answer a stranger needs.
    const ri = findRecipientInfo(parts.recipientInfos, recipient.certificate);
    const eci = parts.encryptedContentInfo;
    const cipher = CIPHER_BY_OID.get(eci.contentEncryptionAlgorithm.algorithmId);
    if (!cipher) throw new CmsFormatError('unsupported-algorithm', `content encryption ${eci.contentEncryptionAlgorithm.algorithmId} is not AES-GCM or AES-CBC (RFC 8551 sec. 2.7)`);
    if (cipher.kind !== kind) throw new CmsFormatError('unsupported-algorithm', `${cipher.name} inside ${contentTypeName(ci.contentType)}: GCM belongs in AuthEnvelopedData, CBC in EnvelopedData`);
    if (!eci.encryptedContent) throw new CmsFormatError('malformed', 'no encryptedContent (detached ciphertext is not used in SIP)');
    const ciphertext = new Uint8Array(eci.getEncryptedContent());
    const key = await unwrapCek(ri, recipient, cipher.alg);
    let plain: ArrayBuffer;
    if (kind === 'auth-enveloped') {
      const { nonce, icvLen } = decodeGcmParameters(eci.contentEncryptionAlgorithm.algorithmParams);
      if (parts.mac.length !== icvLen) throw new CmsFormatError('malformed', `mac has ${parts.mac.length} octets, GCMParameters say ${icvLen}`);
      const sealed = new Uint8Array(ciphertext.length + parts.mac.length);
      sealed.set(ciphertext);
      sealed.set(parts.mac, ciphertext.length);
      plain = await subtle.decrypt({ name: 'AES-GCM', iv: toArrayBuffer(nonce), tagLength: icvLen * 8, ...(parts.aad ? { additionalData: toArrayBuffer(parts.aad) } : {}) }, key, toArrayBuffer(sealed)).catch(() => {
        throw new CmsDecryptError('integrity-failure', 'AES-GCM authentication tag does not verify: the ciphertext, tag or authenticated attributes were altered (RFC 5083 sec. 2.2)');
      });
    } else {
      const iv = eci.contentEncryptionAlgorithm.algorithmParams;
      if (!(iv instanceof asn1js.OctetString) || iv.valueBlock.valueHexView.length !== 16) throw new CmsFormatError('malformed', 'AES-CBC parameter is not a 16-octet IV (RFC 3565)');
      plain = await subtle.decrypt({ name: 'AES-CBC', iv: toArrayBuffer(iv.valueBlock.valueHexView) }, key, toArrayBuffer(ciphertext)).catch(() => {
        throw new CmsDecryptError('integrity-failure', 'AES-CBC padding is wrong: the ciphertext was altered or the key is wrong (EnvelopedData has no integrity check of its own)');
      });
    }
    return { kind, cipher: cipher.name, contentType: eci.contentType, content: new Uint8Array(plain) };
  } catch (e) {
    throw asCmsError(e, 'malformed', 'CMS decryption');
  }
}

/** Who a protected message is for, without decrypting: one line per RecipientInfo (for evidence and refusals). */
export function listRecipients(der: Uint8Array): string[] {
  try {
    const ci = parseContentInfo(der, [OID.authEnvelopedData, OID.envelopedData]);
    const parts = ci.contentType === OID.authEnvelopedData
      ? decodeAuthEnvelopedData(ci.content)
      : envelopedParts(fromSchema(() => new pkijs.EnvelopedData({ schema: ci.content }), 'EnvelopedData'));
    return parts.recipientInfos.map(describeRecipient);
  } catch (e) {
    throw asCmsError(e, 'malformed', 'CMS recipients');
  }
}

function envelopedParts(env: pkijs.EnvelopedData): { recipientInfos: pkijs.RecipientInfo[]; encryptedContentInfo: pkijs.EncryptedContentInfo; mac: Uint8Array; aad?: Uint8Array } {
  if (env.recipientInfos.length === 0) throw new CmsFormatError('malformed', 'EnvelopedData has no recipientInfos');
  if (env.recipientInfos.length > LIMITS.maxRecipients) throw new CmsFormatError('malformed', `${env.recipientInfos.length} recipientInfos exceed ${LIMITS.maxRecipients}`);
  return { recipientInfos: env.recipientInfos, encryptedContentInfo: env.encryptedContentInfo, mac: new Uint8Array(0) };
}
