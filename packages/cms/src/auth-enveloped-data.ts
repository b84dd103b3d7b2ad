/**
 * AuthEnvelopedData (RFC 5083 sec. 2.1), which pkijs lacks, encoded and
 * decoded with asn1js:
 *
 *   AuthEnvelopedData ::= SEQUENCE {
 *     version CMSVersion,                          -- always 0
 *     originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
 *     recipientInfos RecipientInfos,
 *     authEncryptedContentInfo EncryptedContentInfo,
 *     authAttrs [1] IMPLICIT AuthAttributes OPTIONAL,
 *     mac MessageAuthenticationCode,               -- the GCM tag
 *     unauthAttrs [2] IMPLICIT UnauthAttributes OPTIONAL }
 *
 * with AES-GCM's parameters as RFC 5084 sec. 3.2 defines them:
 *
 *   GCMParameters ::= SEQUENCE {
 *     aes-nonce        OCTET STRING,  -- 12 octets recommended
 *     aes-ICVlen       AES-GCM-ICVlen DEFAULT 12 }
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { fromSchema } from './content-info.ts';
import { CmsFormatError } from './errors.ts';
import { LIMITS } from './limits.ts';

export interface AuthEnvelopedParts {
  recipientInfos: pkijs.RecipientInfo[];
  encryptedContentInfo: pkijs.EncryptedContentInfo;
  /**
   * DER of authAttrs re-tagged as SET OF (0x31), the additional authenticated
   * data of RFC 5083 sec. 2.2; undefined when authAttrs is absent (empty AAD).
   */
  aad?: Uint8Array;
  mac: Uint8Array;
}

export function encodeAuthEnvelopedData(p: { recipientInfos: pkijs.RecipientInfo[]; encryptedContentInfo: pkijs.EncryptedContentInfo; mac: Uint8Array }): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 0 }),
      new asn1js.Set({ value: p.recipientInfos.map((r) => r.toSchema()) }),
      p.encryptedContentInfo.toSchema(),
      new asn1js.OctetString({ valueHex: p.mac }),
    ],
  });
}

/** Reads the fields of an AuthEnvelopedData; anything off-grammar is {@link CmsFormatError}. */
export function decodeAuthEnvelopedData(content: asn1js.BaseBlock): AuthEnvelopedParts {
  const fields = content instanceof asn1js.Sequence ? content.valueBlock.value : undefined;
  if (!fields) throw new CmsFormatError('malformed', 'AuthEnvelopedData is not a SEQUENCE (RFC 5083 sec. 2.1)');
  let i = 0;
  const next = (): asn1js.BaseBlock | undefined => fields[i];
  const version = next();
  if (!(version instanceof asn1js.Integer) || version.valueBlock.valueDec !== 0) throw new CmsFormatError('malformed', 'AuthEnvelopedData version is not 0 (RFC 5083 sec. 2.1)');
  i++;
  if (isContext(next(), 0)) i++; // originatorInfo: certificates for the originator, not needed to decrypt
  const ris = next();
  if (!(ris instanceof asn1js.Set) || ris.valueBlock.value.length === 0) throw new CmsFormatError('malformed', 'AuthEnvelopedData recipientInfos is not a non-empty SET');
  if (ris.valueBlock.value.length > LIMITS.maxRecipients) throw new CmsFormatError('malformed', `${ris.valueBlock.value.length} recipientInfos exceed ${LIMITS.maxRecipients}`);
  const recipientInfos = ris.valueBlock.value.map((r) => fromSchema(() => new pkijs.RecipientInfo({ schema: r }), 'RecipientInfo'));
  i++;
  const eciBlock = next();
  const encryptedContentInfo = fromSchema(() => new pkijs.EncryptedContentInfo({ schema: eciBlock }), 'authEncryptedContentInfo');
  i++;
  let aad: Uint8Array | undefined;
  const maybeAttrs = next();
  if (isContext(maybeAttrs, 1)) {
    // RFC 5083 sec. 2.2: the AAD is the DER of authAttrs with an EXPLICIT SET OF tag, not the [1] IMPLICIT one.
    aad = new Uint8Array(maybeAttrs!.toBER(false));
    aad[0] = 0x31;
    i++;
  }
  const mac = next();
  if (!(mac instanceof asn1js.OctetString) || mac.idBlock.isConstructed) throw new CmsFormatError('malformed', 'AuthEnvelopedData mac is not an OCTET STRING');
  i++;
  if (isContext(next(), 2)) i++;
  if (i !== fields.length) throw new CmsFormatError('malformed', `AuthEnvelopedData has ${fields.length - i} unexpected field(s) after the mac`);
  return { recipientInfos, encryptedContentInfo, ...(aad ? { aad } : {}), mac: new Uint8Array(mac.valueBlock.valueHexView) };
}

export function encodeGcmParameters(nonce: Uint8Array, icvLen: number): asn1js.Sequence {
  return new asn1js.Sequence({ value: [new asn1js.OctetString({ valueHex: nonce }), new asn1js.Integer({ value: icvLen })] });
}

/** Nonce and tag length from GCMParameters; RFC 5084 sec. 3.2 allows ICV lengths 12 to 16. */
export function decodeGcmParameters(params: unknown): { nonce: Uint8Array; icvLen: number } {
  const fields = params instanceof asn1js.Sequence ? params.valueBlock.value : undefined;
  const nonce = fields?.[0];
  const icv = fields?.[1];
  if (!fields || fields.length > 2 || !(nonce instanceof asn1js.OctetString) || nonce.idBlock.isConstructed || nonce.valueBlock.valueHexView.length === 0) {
    throw new CmsFormatError('malformed', 'AES-GCM parameters are not GCMParameters (RFC 5084 sec. 3.2)');
  }
  let icvLen = 12;
  if (icv !== undefined) {
    if (!(icv instanceof asn1js.Integer)) throw new CmsFormatError('malformed', 'GCMParameters aes-ICVlen is not an INTEGER');
    icvLen = icv.valueBlock.valueDec;
  }
  if (icvLen < 12 || icvLen > 16) throw new CmsFormatError('unsupported-algorithm', `GCM ICV length ${icvLen} is outside 12..16 (RFC 5084 sec. 3.2)`);
  return { nonce: new Uint8Array(nonce.valueBlock.valueHexView), icvLen };
}

function isContext(b: asn1js.BaseBlock | undefined, tag: number): boolean {
  return !!b && b.idBlock.tagClass === 3 && b.idBlock.tagNumber === tag;
}
