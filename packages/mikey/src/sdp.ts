/**
 * SDP `a=key-mgmt` attribute carrying a MIKEY message, RFC 4567 sec. 3:
 *
 *   key-mgmt-attribute = key-mgmt-att-field ":" key-mgmt-att-value
 *   key-mgmt-att-field = "key-mgmt"
 *   key-mgmt-att-value = 0*1SP prtcl-id SP keymgmt-data
 *   prtcl-id = KMPID ; "mikey"     keymgmt-data = base64
 */
import { MikeyParseError, MikeySizeError } from './errors.ts';
import { decodeMessage, encodeMessage, MAX_MESSAGE_LENGTH, type MikeyMessage } from './message.ts';

/** The RFC 4567 protocol identifier of MIKEY. */
export const MIKEY_KMPID = 'mikey';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The attribute value `mikey <base64>` for a message (or its encoded octets);
 * prefix `a=key-mgmt:` to get the SDP line.
 */
export function encodeKeyMgmtAttribute(msg: MikeyMessage | Uint8Array): string {
  const bytes = msg instanceof Uint8Array ? msg : encodeMessage(msg);
  return `${MIKEY_KMPID} ${Buffer.from(bytes).toString('base64')}`;
}

/** The full SDP line `a=key-mgmt:mikey <base64>`. */
export function keyMgmtLine(msg: MikeyMessage | Uint8Array): string {
  return `a=key-mgmt:${encodeKeyMgmtAttribute(msg)}`;
}

/** A decoded `a=key-mgmt:mikey` attribute. */
export interface KeyMgmtAttribute {
  /** The MIKEY message octets (what MACs are computed over). */
  bytes: Uint8Array;
  message: MikeyMessage;
}

/**
 * Parses an attribute value (`mikey <base64>`, optionally with one leading
 * space), also accepting the whole `a=key-mgmt:...` or `key-mgmt:...` line.
 * Offsets in errors are character offsets in the given string for the text
 * layer, and octet offsets in the MIKEY message for the message layer.
 */
export function decodeKeyMgmtAttribute(value: string, maxLength = MAX_MESSAGE_LENGTH): KeyMgmtAttribute {
  let s = value.replace(/\r?\n$/, '');
  let at = 0;
  for (const prefix of ['a=key-mgmt:', 'key-mgmt:']) {
    if (s.startsWith(prefix)) {
      s = s.slice(prefix.length);
      at += prefix.length;
      break;
    }
  }
  const maxChars = Math.ceil(maxLength / 3) * 4 + MIKEY_KMPID.length + 2;
  if (s.length > maxChars) throw new MikeySizeError({ offset: at, expected: `a key-mgmt value of at most ${maxChars} characters`, limit: maxChars, actual: s.length });
  if (s.startsWith(' ')) {
    s = s.slice(1);
    at += 1;
  }
  const sp = s.indexOf(' ');
  if (sp < 0) throw new MikeyParseError({ offset: at + s.length, expected: 'SP between prtcl-id and keymgmt-data (RFC 4567 sec. 3.1)' });
  const prtcl = s.slice(0, sp);
  if (prtcl !== MIKEY_KMPID) throw new MikeyParseError({ offset: at, expected: `prtcl-id "${MIKEY_KMPID}"`, found: JSON.stringify(prtcl.slice(0, 32)) });
  const data = s.slice(sp + 1);
  if (data.length === 0 || !BASE64.test(data)) {
    const bad = data.search(/[^A-Za-z0-9+/=]/);
    throw new MikeyParseError({ offset: at + sp + 1 + (bad < 0 ? 0 : bad), expected: 'base64 keymgmt-data (RFC 4648, padded)' });
  }
  const bytes = new Uint8Array(Buffer.from(data, 'base64'));
  return { bytes, message: decodeMessage(bytes, { maxLength }) };
}
