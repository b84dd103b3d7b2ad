/**
 * The RFC 8591 layering for pager-mode messages: a CPIM message (RFC 3862) in
 * a `message/cpim` MIME entity, signed (SignedData, `smime-type=signed-data`),
 * that signed entity encrypted to every recipient (AuthEnvelopedData or
 * EnvelopedData), the result the body of a SIP MESSAGE (RFC 3428). Sign
 * first, then encrypt (as RFC 8591 layers them), so the signature is hidden from
 * the servers and still proves the sender to each recipient.
 */
import type * as pkijs from 'pkijs';
import { buildCpim, parseCpim, type CpimInput, type CpimMessage } from './cpim.ts';
import type { CmsCredential } from './credentials.ts';
import { decryptContent, encryptContent, type ContentCipher, type EnvelopeKind } from './envelope.ts';
import { CmsError, CmsFormatError, CmsVerifyError, asCmsError } from './errors.ts';
import { LIMITS } from './limits.ts';
import { buildMimeEntity, mimeHeader, parseContentType, parseMimeEntity } from './mime.ts';
import { signContent, verifySignedContent } from './signed-data.ts';

/** RFC 8551 sec. 3.2.2 smime-type values this layering uses. */
export type SmimeType = 'signed-data' | 'enveloped-data' | 'authEnveloped-data';

/** Content-Type of an S/MIME body (RFC 8551 sec. 3.2; RFC 3261 sec. 23.3 adds the name parameter). */
export function smimeContentType(t: SmimeType): string {
  return `application/pkcs7-mime; smime-type=${t}; name=smime.p7m`;
}

/** RFC 3261 sec. 23.3's Content-Disposition for S/MIME bodies, with its missing ";" restored (vectors/smime_sip_facts.json). */
export const SMIME_CONTENT_DISPOSITION = 'attachment; filename=smime.p7m; handling=required';

export const CPIM_CONTENT_TYPE = 'message/cpim';

/** A SIP message body and the headers that describe it. */
export interface SipBody {
  body: Uint8Array;
  contentType: string;
  contentDisposition: string;
  /** S/MIME layers from the outside in, e.g. ['authEnveloped-data', 'signed-data']. */
  layers: SmimeType[];
}

export interface SealOptions {
  signer: CmsCredential;
  /** Each recipient's certificate: one RecipientInfo each (a group exploder forwards the same bytes to all). */
  recipients: readonly pkijs.Certificate[];
  /** Default `auth-enveloped` (AES-GCM); `enveloped` for peers without AuthEnvelopedData; `none` signs only. */
  encryption?: EnvelopeKind | 'none';
  cipher?: ContentCipher;
  /** The signing-time attribute; default now. */
  signingTime?: Date;
}

/** Signs `cpim` (the CPIM bytes) and encrypts the signed entity: the body of a MESSAGE. */
export async function sealCpim(cpim: Uint8Array, opts: SealOptions): Promise<SipBody> {
  const inner = buildMimeEntity([{ name: 'Content-Type', value: CPIM_CONTENT_TYPE }], cpim);
  const signed = await signContent(inner, opts.signer, opts.signingTime ? { signingTime: opts.signingTime } : {});
  const encryption = opts.encryption ?? 'auth-enveloped';
  if (encryption === 'none') return { body: signed, contentType: smimeContentType('signed-data'), contentDisposition: SMIME_CONTENT_DISPOSITION, layers: ['signed-data'] };
  // RFC 8591 on transfer encoding: SIP is 8-bit clean, so the inner S/MIME entity is binary, not base64.
  const signedEntity = buildMimeEntity([
    { name: 'Content-Type', value: smimeContentType('signed-data') },
    { name: 'Content-Transfer-Encoding', value: 'binary' },
  ], signed);
  const body = await encryptContent(signedEntity, opts.recipients, { kind: encryption, ...(opts.cipher ? { cipher: opts.cipher } : {}) });
  const outer: SmimeType = encryption === 'auth-enveloped' ? 'authEnveloped-data' : 'enveloped-data';
  return { body, contentType: smimeContentType(outer), contentDisposition: SMIME_CONTENT_DISPOSITION, layers: [outer, 'signed-data'] };
}

/**
 * The SIP MESSAGE body and Content-Type for a CPIM message to N recipients:
 * builds the CPIM (DateTime = the signing time, so both clocks agree and both
 * are signed), then {@link sealCpim}.
 */
export async function buildSecureMessage(message: Omit<CpimInput, 'dateTime'>, opts: SealOptions): Promise<SipBody & { cpim: Uint8Array }> {
  // UTCTime in the signing-time attribute has whole seconds; use the same instant in CPIM.
  const when = new Date(Math.floor((opts.signingTime ?? new Date()).getTime() / 1000) * 1000);
  const cpim = buildCpim({ ...message, dateTime: when });
  return { ...(await sealCpim(cpim, { ...opts, signingTime: when })), cpim };
}

export interface OpenOptions {
  /** The receiving user's credential; needed when the body is encrypted. */
  recipient?: CmsCredential;
  trustAnchors: readonly pkijs.Certificate[];
  now?: Date;
  signingTimeWindow?: { maxAgeMs: number; maxFutureMs: number };
  /** Refuse an unsigned message (default true: RFC 8591's point is proving the sender). */
  requireSignature?: boolean;
  /** Refuse a message that was not encrypted (default false). */
  requireEncryption?: boolean;
  /** The sender as SIP asserts it (P-Asserted-Identity or From URI): must also be one of the signer's identities. */
  sipIdentity?: string;
}

export interface OpenedMessage {
  cpim: CpimMessage;
  /** The CPIM bytes as signed. */
  cpimBytes: Uint8Array;
  layers: SmimeType[];
  signer?: { certificate: pkijs.Certificate; identities: string[]; signingTime?: Date };
  encryption?: { kind: EnvelopeKind; cipher: ContentCipher };
}

/**
 * Opens a MESSAGE body layer by layer (at most {@link LIMITS.maxLayers}) down
 * to the CPIM message, verifying every signature and checking that the
 * signer is the CPIM From (RFC 8591; an exact match with the
 * certificate's subjectAltName). Throws only {@link CmsError}s.
 */
export async function openSecureMessage(body: Uint8Array, contentType: string, opts: OpenOptions): Promise<OpenedMessage> {
  try {
    return await open(body, contentType, opts);
  } catch (e) {
    throw asCmsError(e, 'malformed', 'S/MIME message');
  }
}

async function open(body: Uint8Array, contentType: string, opts: OpenOptions): Promise<OpenedMessage> {
  const layers: SmimeType[] = [];
  let signer: OpenedMessage['signer'];
  let encryption: OpenedMessage['encryption'];
  let bytes = body;
  let type = contentType;
  for (let depth = 0; ; depth++) {
    if (depth > LIMITS.maxLayers) throw new CmsFormatError('malformed', `more than ${LIMITS.maxLayers} nested S/MIME layers`);
    const ct = parseContentType(type);
    if (ct.type === CPIM_CONTENT_TYPE) break;
    if (ct.type !== 'application/pkcs7-mime') throw new CmsFormatError('unexpected-content-type', `${ct.type} is neither application/pkcs7-mime nor message/cpim`);
    const smime = (ct.params['smime-type'] ?? '').toLowerCase();
    if (smime === 'signed-data') {
      if (signer) throw new CmsFormatError('malformed', 'two signed layers: RFC 3261 sec. 23.3 allows one signature per body');
      const v = await verifySignedContent(bytes, {
        trustAnchors: opts.trustAnchors,
        ...(opts.now ? { now: opts.now } : {}),
        ...(opts.signingTimeWindow ? { signingTimeWindow: opts.signingTimeWindow } : {}),
        ...(opts.sipIdentity !== undefined ? { expectedIdentity: opts.sipIdentity } : {}),
      });
      signer = { certificate: v.signer, identities: v.signerIdentities, ...(v.signingTime ? { signingTime: v.signingTime } : {}) };
      layers.push('signed-data');
      bytes = v.content;
    } else if (smime === 'enveloped-data' || smime === 'authenveloped-data') {
      if (!opts.recipient) throw new CmsError('bad-argument', 'the message is encrypted but no recipient credential was given');
      const d = await decryptContent(bytes, opts.recipient);
      const expected = smime === 'enveloped-data' ? 'enveloped' : 'auth-enveloped';
      if (d.kind !== expected) throw new CmsFormatError('unexpected-content-type', `smime-type=${smime} but the CMS object is ${d.kind} data`);
      encryption ??= { kind: d.kind, cipher: d.cipher };
      layers.push(d.kind === 'enveloped' ? 'enveloped-data' : 'authEnveloped-data');
      bytes = d.content;
    } else {
      throw new CmsFormatError('unexpected-content-type', `application/pkcs7-mime with smime-type "${smime}" is not signed-data, enveloped-data or authEnveloped-data`);
    }
    const entity = parseMimeEntity(bytes);
    const inner = mimeHeader(entity.headers, 'Content-Type');
    if (!inner) throw new CmsFormatError('mime-malformed', 'the protected MIME entity has no Content-Type');
    const cte = mimeHeader(entity.headers, 'Content-Transfer-Encoding')?.toLowerCase();
    if (cte !== undefined && cte !== 'binary' && cte !== '8bit' && cte !== '7bit') throw new CmsFormatError('mime-malformed', `Content-Transfer-Encoding ${cte} is not binary (RFC 8591 sends S/MIME bodies in SIP as binary)`);
    type = inner;
    bytes = entity.body;
  }
  if ((opts.requireSignature ?? true) && !signer) throw new CmsVerifyError('not-signed', 'the message is not signed: its sender is not proven (RFC 8591)');
  if (opts.requireEncryption && !encryption) throw new CmsVerifyError('not-encrypted', 'the message was sent in the clear');
  const cpim = parseCpim(bytes);
  if (signer && !signer.identities.includes(cpim.from.uri)) {
    throw new CmsVerifyError('identity-mismatch', `CPIM From is ${cpim.from.uri} but the signer's certificate names ${signer.identities.join(', ') || 'no URI'} (RFC 8591: signer and sender must be the same identity)`, signer.identities);
  }
  return { cpim, cpimBytes: bytes, layers, ...(signer ? { signer } : {}), ...(encryption ? { encryption } : {}) };
}
