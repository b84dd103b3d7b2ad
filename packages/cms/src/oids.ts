/** Object identifiers this package writes or recognises, with the RFC that assigns each. */
export const OID = {
  // RFC 5652 sec. 4-9: content types
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  digestedData: '1.2.840.113549.1.7.5',
  encryptedData: '1.2.840.113549.1.7.6',
  authenticatedData: '1.2.840.113549.1.9.16.1.2',
  // RFC 5083 sec. 1: id-ct-authEnvelopedData
  authEnvelopedData: '1.2.840.113549.1.9.16.1.23',
  // RFC 5652 sec. 11: signed attributes
  contentTypeAttr: '1.2.840.113549.1.9.3',
  messageDigestAttr: '1.2.840.113549.1.9.4',
  signingTimeAttr: '1.2.840.113549.1.9.5',
  // RFC 3565 (AES-CBC), RFC 5084 sec. 3.2 (AES-GCM), RFC 3394 and RFC 3565 (AES key wrap)
  aes128Cbc: '2.16.840.1.101.3.4.1.2',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  aes128Gcm: '2.16.840.1.101.3.4.1.6',
  aes256Gcm: '2.16.840.1.101.3.4.1.46',
  aes128Wrap: '2.16.840.1.101.3.4.1.5',
  aes256Wrap: '2.16.840.1.101.3.4.1.45',
  // RFC 8017 / RFC 4055: RSA
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaesOaep: '1.2.840.113549.1.1.7',
  mgf1: '1.2.840.113549.1.1.8',
  // RFC 5480: EC keys and curves
  ecPublicKey: '1.2.840.10045.2.1',
  p256: '1.2.840.10045.3.1.7',
  // RFC 5753 sec. 7.1 and SEC 1: ephemeral-static ECDH with the X9.63 KDF
  ecdhSha1Kdf: '1.3.133.16.840.63.0.2',
  ecdhSha256Kdf: '1.3.132.1.11.1',
  ecdhSha384Kdf: '1.3.132.1.11.2',
  ecdhSha512Kdf: '1.3.132.1.11.3',
  // NIST hashes (RFC 5754)
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  // RFC 5280 extensions, RFC 8550 sec. 4.4.4 key purposes
  subjectAltName: '2.5.29.17',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  anyExtendedKeyUsage: '2.5.29.37.0',
  emailProtection: '1.3.6.1.5.5.7.3.4',
} as const;

/** Content-type OIDs by the name a reader knows them by (for error messages and `describeCms`). */
export const CONTENT_TYPE_NAMES: Readonly<Record<string, string>> = {
  [OID.data]: 'data',
  [OID.signedData]: 'signedData',
  [OID.envelopedData]: 'envelopedData',
  [OID.digestedData]: 'digestedData',
  [OID.encryptedData]: 'encryptedData',
  [OID.authenticatedData]: 'authenticatedData',
  [OID.authEnvelopedData]: 'authEnvelopedData',
};
