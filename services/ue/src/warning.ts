import type { SipResponse } from '@imslab/sip';

/**
 * The Warning header (RFC 3261 sec. 20.43): `warn-code SP warn-agent SP
 * warn-text`, warn-text a quoted-string (sec. 25.1: `"` and `\` escaped with
 * a backslash). Code 399 "Miscellaneous warning": free text for a human.
 */

/** Warning value `399 <agent> "<text>"` (control characters dropped, quotes escaped, at most 240 characters of text). */
export function warningValue(agent: string, text: string): string {
  const clean = text.replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, 240);
  return `399 ${agent} "${clean.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The text of the first Warning of a response, unescaped; undefined when absent or malformed. */
export function warningTextOf(res: SipResponse): string | undefined {
  const v = res.headers.get('Warning');
  if (!v) return undefined;
  const m = /^\s*\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/.exec(v);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : undefined;
}

/** Prefix the callee puts before the KMS's reason when the ticket could not be resolved. */
export const KMS_REFUSED_PREFIX = 'KMS refused: ';
