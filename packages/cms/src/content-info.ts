/**
 * ContentInfo (RFC 5652 sec. 3), the outer wrapper of every CMS object, read
 * totally: hostile bytes end in {@link CmsFormatError}, whatever asn1js or
 * pkijs would have thrown.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toArrayBuffer } from './bytes.ts';
import { CmsFormatError } from './errors.ts';
import { LIMITS } from './limits.ts';
import { CONTENT_TYPE_NAMES } from './oids.ts';

export interface ParsedContentInfo {
  contentType: string;
  /** The explicit [0] content, still as ASN.1. */
  content: asn1js.BaseBlock;
}

/** Decodes one BER value that must span `bytes` exactly. */
export function decodeAsn1(bytes: Uint8Array, what: string): asn1js.BaseBlock {
  if (bytes.length === 0) throw new CmsFormatError('malformed', `${what}: empty`);
  if (bytes.length > LIMITS.maxCmsBytes) throw new CmsFormatError('malformed', `${what}: ${bytes.length} bytes exceed ${LIMITS.maxCmsBytes}`);
  let asn: ReturnType<typeof asn1js.fromBER>;
  try {
    asn = asn1js.fromBER(toArrayBuffer(bytes));
  } catch (e) {
    throw new CmsFormatError('malformed', `${what}: not BER: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (asn.offset === -1 || asn.result.error) throw new CmsFormatError('malformed', `${what}: not BER: ${asn.result.error || 'decoding failed'}`);
  if (asn.offset !== bytes.length) throw new CmsFormatError('malformed', `${what}: ${bytes.length - asn.offset} bytes after the end of the ASN.1 value`);
  return asn.result;
}

/** Reads the ContentInfo and, when `expect` is given, insists on those content types. */
export function parseContentInfo(bytes: Uint8Array, expect?: readonly string[]): ParsedContentInfo {
  const asn = decodeAsn1(bytes, 'CMS ContentInfo');
  let ci: pkijs.ContentInfo;
  try {
    ci = new pkijs.ContentInfo({ schema: asn });
  } catch (e) {
    throw new CmsFormatError('malformed', `not a CMS ContentInfo (RFC 5652 sec. 3): ${e instanceof Error ? e.message : String(e)}`);
  }
  if (expect && !expect.includes(ci.contentType)) {
    throw new CmsFormatError('unexpected-content-type', `CMS content type is ${contentTypeName(ci.contentType)}, expected ${expect.map(contentTypeName).join(' or ')}`);
  }
  return { contentType: ci.contentType, content: ci.content as asn1js.BaseBlock };
}

export function contentTypeName(oid: string): string {
  return CONTENT_TYPE_NAMES[oid] ?? oid;
}

/** Builds a pkijs object from its schema, turning a schema mismatch into {@link CmsFormatError}. */
export function fromSchema<T>(make: () => T, what: string): T {
  try {
    return make();
  } catch (e) {
    // pkijs checks the schema and says what differs; on some malformed structures its own code throws
    // instead (a TypeError such as "undefined is not iterable"): that says nothing about the bytes, so
    // the refusal says what was being read and keeps the library's error as the cause.
    const crashed = e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError;
    const why = crashed ? 'its fields are not where its ASN.1 definition puts them (the ASN.1 library could not read it)' : e instanceof Error ? e.message : String(e);
    throw new CmsFormatError('malformed', `${what} does not match its ASN.1 definition: ${why}`, { cause: e });
  }
}

/** Wraps a content in a ContentInfo and DER-encodes it. */
export function encodeContentInfo(contentType: string, content: asn1js.BaseBlock): Uint8Array {
  return new Uint8Array(new pkijs.ContentInfo({ contentType, content }).toSchema().toBER(false));
}
