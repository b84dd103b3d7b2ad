/**
 * @imslab/cms: CPIM (RFC 3862) inside CMS (RFC 5652) for SIP MESSAGE, as
 * RFC 8591 describes: SignedData with a signed signing time, AuthEnvelopedData
 * with AES-GCM (RFC 5083/5084), EnvelopedData with AES-CBC, one RecipientInfo
 * per recipient. Pure: no sockets, no files; CMS structures from pkijs and
 * asn1js, cryptography from Node's WebCrypto.
 */
export * from './errors.ts';
export { LIMITS, RFC3428_UNKNOWN_PATH_LIMIT, DEFAULT_SIGNING_TIME_WINDOW } from './limits.ts';
export { OID, CONTENT_TYPE_NAMES } from './oids.ts';
export { buildCpim, parseCpim, type CpimAddress, type CpimHeader, type CpimInput, type CpimMessage } from './cpim.ts';
export { buildMimeEntity, parseMimeEntity, parseContentType, mimeHeader, type MimeEntity, type MimeHeader, type ContentType } from './mime.ts';
export {
  certificateFromDer,
  certificateIdentities,
  certificateToDer,
  certificateToPem,
  describeCertificate,
  keyTypeOf,
  loadCredential,
  parseCertificate,
  parseCertificates,
  type CmsCredential,
  type KeyType,
} from './credentials.ts';
export { createCa, issueUserCertificate, type IssueOptions, type IssuedCredential } from './certificates.ts';
export { parseContentInfo, contentTypeName, type ParsedContentInfo } from './content-info.ts';
export { signContent, verifySignedContent, type SignOptions, type VerifyOptions, type VerifiedContent } from './signed-data.ts';
export { encryptContent, decryptContent, listRecipients, type ContentCipher, type DecryptedContent, type EncryptOptions, type EnvelopeKind } from './envelope.ts';
export {
  buildSecureMessage,
  openSecureMessage,
  sealCpim,
  smimeContentType,
  CPIM_CONTENT_TYPE,
  SMIME_CONTENT_DISPOSITION,
  type OpenOptions,
  type OpenedMessage,
  type SealOptions,
  type SipBody,
  type SmimeType,
} from './secure-message.ts';
