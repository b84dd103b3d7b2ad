/**
 * The MIKEY-SAKKE identifier, RFC 6509 sec. 3.2: the ECCSI signer identity
 * and the SAKKE receiver identity are date-stamped so that keys change each
 * month: "YYYY-MM" || 0x00 || URI || 0x00, the month in UTC, e.g.
 * "2011-02\0tel:+447700900123\0" (the identifier of the RFC 6507 and
 * RFC 6508 Appendix A examples). RFC 6509 sec. 4.1 ID scheme 1 is
 * "tel URI with monthly keys"; this testbed's users are SIP URIs, so the
 * parser takes any URI with a scheme and reports it.
 */
import { SakkeError } from './errors.ts';

/** SAKKE payload ID scheme values (RFC 6509 sec. 4.1). */
export const SakkeIdScheme = { TEL_URI_MONTHLY: 1 } as const;

/** A parsed RFC 6509 identifier. */
export interface MikeySakkeId {
  year: number;
  /** 1-12. */
  month: number;
  uri: string;
  /** Lower-cased URI scheme without the colon (`tel`, `sip`, ...). */
  scheme: string;
}

/** Largest identifier accepted (an IDR ID len is 16 bits; this keeps HS inputs small). */
export const MAX_IDENTIFIER_LENGTH = 1024;

const URI_RE = /^([a-zA-Z][a-zA-Z0-9+.-]*):[^\0\s]+$/;

/** Builds "YYYY-MM\0URI\0" for the UTC month of `at` (RFC 6509 sec. 3.2). */
export function mikeySakkeIdentifier(uri: string, at: Date): Uint8Array {
  if (typeof uri !== 'string' || !URI_RE.test(uri)) throw new SakkeError('identifier-invalid', `not a URI: ${JSON.stringify(uri)}`);
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new SakkeError('identifier-invalid', 'invalid date');
  const y = at.getUTCFullYear();
  if (y < 0 || y > 9999) throw new SakkeError('identifier-invalid', `year ${y} does not fit YYYY`);
  const stamp = `${String(y).padStart(4, '0')}-${String(at.getUTCMonth() + 1).padStart(2, '0')}`;
  const out = new TextEncoder().encode(`${stamp}\0${uri}\0`);
  if (out.length > MAX_IDENTIFIER_LENGTH) throw new SakkeError('identifier-invalid', `identifier longer than ${MAX_IDENTIFIER_LENGTH} octets`);
  return out;
}

/** Parses an RFC 6509 sec. 3.2 identifier; anything else is `identifier-invalid`. */
export function parseMikeySakkeIdentifier(b: Uint8Array): MikeySakkeId {
  if (!(b instanceof Uint8Array)) throw new SakkeError('identifier-invalid', 'not a byte array');
  if (b.length > MAX_IDENTIFIER_LENGTH) throw new SakkeError('identifier-invalid', `longer than ${MAX_IDENTIFIER_LENGTH} octets`);
  if (b.length < 11 || b[7] !== 0 || b[b.length - 1] !== 0) throw new SakkeError('identifier-invalid', 'expected "YYYY-MM" 0x00 URI 0x00');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    throw new SakkeError('identifier-invalid', 'not UTF-8');
  }
  const m = /^(\d{4})-(\d{2})\0([^\0]+)\0$/.exec(text);
  if (!m) throw new SakkeError('identifier-invalid', 'expected "YYYY-MM" 0x00 URI 0x00');
  const month = Number(m[2]);
  if (month < 1 || month > 12) throw new SakkeError('identifier-invalid', `month ${m[2]} is not 01-12`);
  const uri = m[3]!;
  const u = URI_RE.exec(uri);
  if (!u) throw new SakkeError('identifier-invalid', `not a URI: ${JSON.stringify(uri)}`);
  return { year: Number(m[1]), month, uri, scheme: u[1]!.toLowerCase() };
}

/** Whether `id` is the identifier of `uri` for the UTC month of `at` (the receiver's check that a key is current). */
export function identifierIsCurrent(id: MikeySakkeId, at: Date): boolean {
  return id.year === at.getUTCFullYear() && id.month === at.getUTCMonth() + 1;
}
