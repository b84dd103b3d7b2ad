/**
 * SignedData (RFC 5652 sec. 5) over a MIME entity, as RFC 8591 uses it: one
 * signer, the signer's certificate inside (RFC 3261 sec. 23.2), and signed
 * attributes content-type, message-digest and signing-time (RFC 5652
 * sec. 11.1-11.3), so the time of the message is covered by the signature.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toArrayBuffer } from './bytes.ts';
import { encodeContentInfo, fromSchema, parseContentInfo } from './content-info.ts';
import { certificateIdentities, describeCertificate, engine, privateKeyFor, subtle, type CmsCredential } from './credentials.ts';
import { CmsError, CmsFormatError, CmsVerifyError, asCmsError } from './errors.ts';
import { DEFAULT_SIGNING_TIME_WINDOW } from './limits.ts';
import { OID } from './oids.ts';

export interface SignOptions {
  /** The signing-time attribute; default now. Encoded as UTCTime, so whole seconds (RFC 5652 sec. 11.3). */
  signingTime?: Date;
  /** Leave the content out of the SignedData (for multipart/signed); default false (encapsulated). */
  detached?: boolean;
}

/** Signs `content` as id-data with SHA-256 and the credential's key (RSA PKCS#1 v1.5 or ECDSA P-256). Returns ContentInfo DER. */
export async function signContent(content: Uint8Array, signer: CmsCredential, opts: SignOptions = {}): Promise<Uint8Array> {
  const signingTime = opts.signingTime ?? new Date();
  if (Number.isNaN(signingTime.getTime())) throw new CmsError('bad-argument', 'signingTime is an invalid Date');
  const digest = await subtle.digest('SHA-256', toArrayBuffer(content));
  const attrs = [
    new pkijs.Attribute({ type: OID.contentTypeAttr, values: [new asn1js.ObjectIdentifier({ value: OID.data })] }),
    new pkijs.Attribute({ type: OID.signingTimeAttr, values: [timeValue(signingTime)] }),
    new pkijs.Attribute({ type: OID.messageDigestAttr, values: [new asn1js.OctetString({ valueHex: digest })] }),
  ];
  const signerInfo = new pkijs.SignerInfo({
    version: 1,
    sid: new pkijs.IssuerAndSerialNumber({ issuer: signer.certificate.issuer, serialNumber: signer.certificate.serialNumber }),
    // DER orders a SET OF by encoding (X.690 sec. 11.6); verifiers that re-encode (OpenSSL) depend on it.
    signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes: sortByEncoding(attrs) }),
  });
  const sd = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: OID.data,
      ...(opts.detached ? {} : { eContent: new asn1js.OctetString({ valueHex: toArrayBuffer(content) }) }),
    }),
    signerInfos: [signerInfo],
    certificates: [signer.certificate, ...signer.chain],
  });
  const key = signer.keyType === 'rsa'
    ? await privateKeyFor(signer, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, ['sign'])
    : await privateKeyFor(signer, { name: 'ECDSA', namedCurve: 'P-256' }, ['sign']);
  await sd.sign(key, 0, 'SHA-256', undefined, engine);
  return encodeContentInfo(OID.signedData, sd.toSchema(true));
}

export interface VerifyOptions {
  /** Certificates to trust (the testbed CA). */
  trustAnchors: readonly pkijs.Certificate[];
  /** "Now" for certificate validity and the signing-time window; default the clock. */
  now?: Date;
  /**
   * How old or early a signing time may be; `false` accepts a SignedData
   * without one (only for foreign samples such as RFC 4134's).
   */
  signingTimeWindow?: { maxAgeMs: number; maxFutureMs: number } | false;
  /** The sender's identity as the message states it (CPIM From, P-Asserted-Identity): must be one of the certificate's, exactly. */
  expectedIdentity?: string;
  /** The content of a detached signature. */
  detachedContent?: Uint8Array;
  /** Accept SHA-1 digests (RFC 4134's samples); RFC 8551 sec. 2.1 has it only for old messages. Default false. */
  acceptSha1?: boolean;
}

export interface VerifiedContent {
  content: Uint8Array;
  /** Encapsulated content type (id-data for S/MIME). */
  contentType: string;
  signer: pkijs.Certificate;
  /** The signer certificate's subjectAltName URIs (and rfc822Names as mailto:). */
  signerIdentities: string[];
  signingTime?: Date;
}

const DIGESTS: Record<string, string> = { [OID.sha256]: 'SHA-256', [OID.sha384]: 'SHA-384', [OID.sha512]: 'SHA-512', [OID.sha1]: 'SHA-1' };
// RFC 5754 / RFC 8551 sec. 2.2: what WebCrypto can verify. DSA (RFC 4134's DSS samples) is not among them.
const SIGNATURES = new Set([
  OID.rsaEncryption,
  '1.2.840.113549.1.1.5', '1.2.840.113549.1.1.11', '1.2.840.113549.1.1.12', '1.2.840.113549.1.1.13', // sha{1,256,384,512}WithRSAEncryption
  '1.2.840.113549.1.1.10', // RSASSA-PSS
  '1.2.840.10045.4.1', '1.2.840.10045.4.3.2', '1.2.840.10045.4.3.3', '1.2.840.10045.4.3.4', // ecdsa-with-SHA{1,256,384,512}
]);

/**
 * Verifies a SignedData: the signature over the signed attributes, the
 * message digest, the signer's chain to a trust anchor, the signer
 * certificate's purpose, the signing time and the signer's identity, in that
 * order. Throws only {@link CmsError}s (see {@link CmsErrorCode}).
 */
export async function verifySignedContent(der: Uint8Array, opts: VerifyOptions): Promise<VerifiedContent> {
  try {
    return await verify(der, opts);
  } catch (e) {
    throw asCmsError(e, 'malformed', 'SignedData');
  }
}

async function verify(der: Uint8Array, opts: VerifyOptions): Promise<VerifiedContent> {
  const now = opts.now ?? new Date();
  const ci = parseContentInfo(der, [OID.signedData]);
  const sd = fromSchema(() => new pkijs.SignedData({ schema: ci.content }), 'SignedData');
  // RFC 3261 sec. 23.3: one signer per S/MIME body; a certs-only SignedData signs nothing.
  const si = sd.signerInfos[0];
  if (!si) throw new CmsFormatError('malformed', 'SignedData has no SignerInfo (certs-only): nothing is signed');
  const digest = DIGESTS[si.digestAlgorithm.algorithmId];
  if (!digest || (digest === 'SHA-1' && !opts.acceptSha1)) throw new CmsFormatError('unsupported-algorithm', `digest ${digest ?? si.digestAlgorithm.algorithmId} is not accepted (RFC 8551 sec. 2.1: SHA-256 or SHA-512)`);
  if (!SIGNATURES.has(si.signatureAlgorithm.algorithmId)) throw new CmsFormatError('unsupported-algorithm', `signature algorithm ${si.signatureAlgorithm.algorithmId} is not RSA or ECDSA (RFC 8551 sec. 2.2)`);
  const eContent = sd.encapContentInfo.eContent;
  if (!eContent && !opts.detachedContent) throw new CmsFormatError('malformed', 'detached SignedData but no content was given');
  if (si.signedAttrs) checkContentTypeAttr(si.signedAttrs, sd.encapContentInfo.eContentType);

  let result: pkijs.SignedDataVerifyResult;
  try {
    result = await sd.verify({ signer: 0, checkChain: false, extendedMode: true, checkDate: now, ...(opts.detachedContent ? { data: toArrayBuffer(opts.detachedContent) } : {}) }, engine);
  } catch (e) {
    throw fromPkijsVerifyError(e);
  }
  const signer = result.signerCertificate;
  if (!signer) throw new CmsVerifyError('no-signer-certificate', 'the signer certificate is not in the SignedData (RFC 3261 sec. 23.2 requires it)');
  const identities = certificateIdentities(signer);
  if (!result.signatureVerified) throw new CmsVerifyError('bad-signature', `the signature of ${describeCertificate(signer)} does not verify`, identities);

  await checkChain(signer, sd, opts.trustAnchors, now, identities);
  checkPurpose(signer, identities);
  const signingTime = si.signedAttrs ? signingTimeOf(si.signedAttrs) : undefined;
  if (opts.signingTimeWindow !== false) {
    const w = opts.signingTimeWindow ?? DEFAULT_SIGNING_TIME_WINDOW;
    if (!signingTime) throw new CmsVerifyError('missing-signing-time', 'no signing-time signed attribute (RFC 5652 sec. 11.3): the message time is not covered by the signature', identities);
    const age = now.getTime() - signingTime.getTime();
    if (age > w.maxAgeMs) throw new CmsVerifyError('signing-time-expired', `signed at ${signingTime.toISOString()}, ${Math.round(age / 1000)} s before ${now.toISOString()}: older than ${w.maxAgeMs / 1000} s`, identities);
    if (-age > w.maxFutureMs) throw new CmsVerifyError('signing-time-future', `signed at ${signingTime.toISOString()}, ${Math.round(-age / 1000)} s after ${now.toISOString()}: more than ${w.maxFutureMs / 1000} s ahead`, identities);
  }
  if (opts.expectedIdentity !== undefined && !identities.includes(opts.expectedIdentity)) {
    throw new CmsVerifyError('identity-mismatch', `the message says it is from ${opts.expectedIdentity} but the signer's certificate names ${identities.join(', ') || 'no URI or e-mail identity'} (RFC 8591: signer and sender must be the same identity)`, identities);
  }
  const content = eContent ? new Uint8Array(eContent.getValue()) : opts.detachedContent!;
  return { content, contentType: sd.encapContentInfo.eContentType, signer, signerIdentities: identities, ...(signingTime ? { signingTime } : {}) };
}

function fromPkijsVerifyError(e: unknown): CmsError {
  const code = e instanceof pkijs.SignedDataVerifyError ? e.code : -1;
  const msg = e instanceof Error ? e.message : String(e);
  if (code === 2 || code === 3) return new CmsVerifyError('no-signer-certificate', `the signer certificate is not in the SignedData: ${msg}`);
  if (code === 7) return new CmsFormatError('unsupported-algorithm', msg);
  if (code === 9 || code === 10) return new CmsFormatError('malformed', `${msg} (RFC 5652 sec. 5.3)`);
  // Code 15 covers a wrong message digest and a signature value that does not even decode: both are forgeries or damage.
  return new CmsVerifyError('bad-signature', `signature verification failed: ${msg}`);
}

function checkContentTypeAttr(attrs: pkijs.SignedAndUnsignedAttributes, eContentType: string): void {
  const ct = attrs.attributes.find((a) => a.type === OID.contentTypeAttr)?.values[0];
  // RFC 5652 sec. 11.1: the content-type attribute must equal the eContentType it signs.
  if (ct instanceof asn1js.ObjectIdentifier && ct.valueBlock.toString() !== eContentType) {
    throw new CmsVerifyError('bad-signature', `signed content-type attribute ${ct.valueBlock.toString()} differs from eContentType ${eContentType}`);
  }
}

function signingTimeOf(attrs: pkijs.SignedAndUnsignedAttributes): Date | undefined {
  const found = attrs.attributes.filter((a) => a.type === OID.signingTimeAttr);
  if (found.length === 0) return undefined;
  const v = found[0]!.values[0];
  // RFC 5652 sec. 11.3: exactly one attribute with exactly one Time value.
  if (found.length > 1 || found[0]!.values.length !== 1 || !(v instanceof asn1js.UTCTime || v instanceof asn1js.GeneralizedTime)) {
    throw new CmsFormatError('malformed', 'signing-time must be one attribute holding one UTCTime or GeneralizedTime (RFC 5652 sec. 11.3)');
  }
  const d = v.toDate();
  if (Number.isNaN(d.getTime())) throw new CmsFormatError('malformed', 'signing-time does not decode to a date');
  return d;
}

async function checkChain(signer: pkijs.Certificate, sd: pkijs.SignedData, anchors: readonly pkijs.Certificate[], now: Date, identities: string[]): Promise<void> {
  const certs = (sd.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  const chain = new pkijs.CertificateChainValidationEngine({ trustedCerts: [...anchors], certs: [...certs.filter((c) => c !== signer), signer], checkDate: now });
  let res: pkijs.CertificateChainValidationEngineVerifyResult;
  try {
    res = await chain.verify({}, engine);
  } catch (e) {
    const m = e && typeof e === 'object' && 'resultMessage' in e ? String((e as { resultMessage: unknown }).resultMessage) : String(e);
    throw new CmsVerifyError('untrusted-certificate', `the signer ${describeCertificate(signer)} does not chain to a trusted CA: ${m}`, identities);
  }
  if (!res.result) throw new CmsVerifyError('untrusted-certificate', `the signer ${describeCertificate(signer)} does not chain to a trusted CA: ${res.resultMessage}`, identities);
}

/** RFC 8550 sec. 4.4.2 / 4.4.4: a signing certificate may sign, and protects e-mail (S/MIME) if it lists key purposes at all. */
function checkPurpose(cert: pkijs.Certificate, identities: string[]): void {
  const ku = cert.extensions?.find((e) => e.extnID === OID.keyUsage)?.parsedValue;
  if (ku instanceof asn1js.BitString) {
    const bits = ku.valueBlock.valueHexView;
    // digitalSignature is bit 0, nonRepudiation bit 1 (RFC 5280 sec. 4.2.1.3), the two top bits of the first octet.
    if (((bits[0] ?? 0) & 0xc0) === 0) throw new CmsVerifyError('certificate-purpose', `the signer's keyUsage allows neither digitalSignature nor nonRepudiation`, identities);
  }
  const eku = cert.extensions?.find((e) => e.extnID === OID.extKeyUsage)?.parsedValue as pkijs.ExtKeyUsage | undefined;
  if (eku && !eku.keyPurposes.some((p) => p === OID.emailProtection || p === OID.anyExtendedKeyUsage)) {
    throw new CmsVerifyError('certificate-purpose', `the signer's extendedKeyUsage (${eku.keyPurposes.join(', ')}) lacks emailProtection (RFC 8550 sec. 4.4.4)`, identities);
  }
}

function timeValue(d: Date): asn1js.UTCTime | asn1js.GeneralizedTime {
  // RFC 5652 sec. 11.3: UTCTime for 1950-2049, GeneralizedTime otherwise.
  const y = d.getUTCFullYear();
  return y >= 1950 && y < 2050 ? new asn1js.UTCTime({ valueDate: d }) : new asn1js.GeneralizedTime({ valueDate: d });
}

function sortByEncoding(attrs: pkijs.Attribute[]): pkijs.Attribute[] {
  const enc = attrs.map((a) => ({ a, b: Buffer.from(a.toSchema().toBER(false)) }));
  enc.sort((x, y) => Buffer.compare(x.b, y.b));
  return enc.map((e) => e.a);
}
