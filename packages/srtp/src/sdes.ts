/**
 * SDES `a=crypto` attribute parsing and formatting, RFC 4568 sec. 9.1
 * (generic grammar) and 9.2 / 6.1 (SRTP `inline` key parameters).
 */
import { SdesParseError, SrtpConfigError } from './errors.ts';
import { SDES_KEY_SALT_LENGTHS, SRTP_MAX_LIFETIME } from './profiles.ts';

/** One `inline:` key parameter (RFC 4568 sec. 6.1). */
export interface CryptoKeyParam {
  method: 'inline';
  /** Master key || master salt, decoded. */
  keySalt: Buffer;
  /** Master key lifetime in packets; absent means the suite default. */
  lifetime?: number;
  /** MKI value and the length in octets of its field in each packet. */
  mki?: { value: number; length: number };
}

/** A parsed `a=crypto` attribute (RFC 4568 sec. 4). */
export interface CryptoAttribute {
  tag: number;
  suite: string;
  keyParams: CryptoKeyParam[];
  sessionParams: string[];
}

const ATTR_PREFIX = 'a=crypto:';
const FORM = 'expected "<tag> <crypto-suite> inline:<base64 key||salt>[|lifetime][|mki:length][;inline:...] [session-params]" (RFC 4568 sec. 9.1)';

/**
 * Parses the value of an `a=crypto` attribute (everything after `a=crypto:`;
 * a leading `a=crypto:` and trailing CR/LF are tolerated).
 * @throws SdesParseError saying what is wrong and what was expected
 */
export function parseCryptoAttribute(value: string): CryptoAttribute {
  let v = value.replace(/[\r\n]+$/, '').trim();
  if (v.startsWith(ATTR_PREFIX)) v = v.slice(ATTR_PREFIX.length);
  const fields = v.split(/[ \t]+/).filter((f) => f.length > 0);
  if (fields.length < 3) {
    throw new SdesParseError(`a=crypto "${value}" has ${fields.length} field(s); ${FORM}`);
  }
  const [tagText, suite, keyParamsText, ...sessionParams] = fields as [string, string, string, ...string[]];
  // RFC 4568 sec. 9.1: tag = 1*9DIGIT.
  if (!/^[0-9]{1,9}$/.test(tagText)) throw new SdesParseError(`a=crypto tag "${tagText}" must be 1 to 9 decimal digits (RFC 4568 sec. 9.1)`);
  if (!/^[A-Za-z0-9_]+$/.test(suite)) throw new SdesParseError(`a=crypto crypto-suite "${suite}" must consist of letters, digits and "_" (RFC 4568 sec. 9.1)`);
  const keyParams = keyParamsText.split(';').map((kp, i) => parseKeyParam(kp, i + 1, suite));
  // RFC 4568 sec. 6.1 / RFC 3711 sec. 3.1: with several master keys, the MKI is what selects one, so every key needs one of the same length.
  if (keyParams.length > 1) {
    const lengths = new Set(keyParams.map((k) => k.mki?.length));
    if (lengths.has(undefined) || lengths.size !== 1) {
      throw new SdesParseError(`a=crypto with ${keyParams.length} keys needs an MKI of the same length on every key ("|<value>:<length>", RFC 4568 sec. 6.1)`);
    }
  }
  for (const p of sessionParams) {
    if (!/^[\x21-\x7e]+$/.test(p)) throw new SdesParseError(`a=crypto session parameter "${p}" contains non-printing characters (RFC 4568 sec. 9.1: 1*VCHAR)`);
  }
  return { tag: Number(tagText), suite, keyParams, sessionParams };
}

function parseKeyParam(text: string, n: number, suite: string): CryptoKeyParam {
  const where = `a=crypto key-param ${n} "${text}"`;
  const colon = text.indexOf(':');
  if (colon <= 0) throw new SdesParseError(`${where}: expected "<key-method>:<key-info>", e.g. "inline:<base64>" (RFC 4568 sec. 9.1)`);
  const method = text.slice(0, colon);
  if (method !== 'inline') throw new SdesParseError(`${where}: key method "${method}" is not supported; SRTP defines only "inline" (RFC 4568 sec. 6.1)`);
  const [b64, ...extras] = text.slice(colon + 1).split('|') as [string, ...string[]];
  // RFC 4568 sec. 9.2: key-salt = 1*(base64), "=" padding allowed at the end only.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new SdesParseError(`${where}: key||salt "${b64}" is not base64 (RFC 4568 sec. 6.1)`);
  const keySalt = Buffer.from(b64, 'base64');
  // One base64 character (length 1 mod 4) carries no whole octet: Node decodes "B" to nothing.
  if (keySalt.length === 0) throw new SdesParseError(`${where}: key||salt "${b64}" decodes to no octets (RFC 4568 sec. 6.1: base64 of key || salt)`);
  const expected = SDES_KEY_SALT_LENGTHS[suite];
  if (expected !== undefined && keySalt.length !== expected) {
    throw new SdesParseError(`${where}: ${suite} needs ${expected} octets of key||salt, the base64 decodes to ${keySalt.length} (RFC 4568 sec. 6.1)`);
  }
  const kp: CryptoKeyParam = { method: 'inline', keySalt };
  if (extras.length > 2) throw new SdesParseError(`${where}: expected at most "|lifetime|mki:length" after the key (RFC 4568 sec. 9.2)`);
  for (const [i, extra] of extras.entries()) {
    // RFC 4568 sec. 6.1: the MKI is the field with a ":", the lifetime never has one; lifetime comes first.
    if (extra.includes(':')) {
      if (i !== extras.length - 1) throw new SdesParseError(`${where}: MKI "${extra}" must come after the lifetime (RFC 4568 sec. 9.2)`);
      kp.mki = parseMki(extra, where);
    } else {
      if (i !== 0) throw new SdesParseError(`${where}: "${extra}" in MKI position has no ":"; expected "<mki-value>:<mki-length>" (RFC 4568 sec. 9.2)`);
      kp.lifetime = parseLifetime(extra, where);
    }
  }
  return kp;
}

function parseLifetime(text: string, where: string): number {
  // RFC 4568 sec. 9.2: lifetime = ["2^"] 1*(DIGIT), without leading zeros (sec. 6.1).
  const m = /^(?:2\^(0|[1-9][0-9]*)|([1-9][0-9]*))$/.exec(text);
  if (!m) throw new SdesParseError(`${where}: lifetime "${text}" must be a decimal number or "2^<n>" without leading zeros (RFC 4568 sec. 6.1)`);
  const packets = m[1] !== undefined ? 2 ** Number(m[1]) : Number(m[2]);
  if (packets > SRTP_MAX_LIFETIME) throw new SdesParseError(`${where}: lifetime ${text} exceeds the SRTP maximum of 2^48 packets (RFC 4568 sec. 6.1, RFC 3711 sec. 9.2)`);
  return packets;
}

function parseMki(text: string, where: string): { value: number; length: number } {
  // RFC 4568 sec. 9.2: mki = mki-value ":" mki-length, length 1*3DIGIT in 1..128 octets.
  const m = /^(0|[1-9][0-9]*):([1-9][0-9]{0,2})$/.exec(text);
  if (!m) throw new SdesParseError(`${where}: MKI "${text}" must be "<value>:<length>" with decimal value and a length of 1..128 octets (RFC 4568 sec. 6.1)`);
  const value = Number(m[1]);
  const length = Number(m[2]);
  if (length > 128) throw new SdesParseError(`${where}: MKI length ${length} exceeds 128 octets (RFC 4568 sec. 6.1)`);
  if (!Number.isSafeInteger(value) || (length < 7 && value >= 2 ** (8 * length))) {
    throw new SdesParseError(`${where}: MKI value ${m[1]} does not fit in ${length} octet(s) (RFC 4568 sec. 6.1)`);
  }
  return { value, length };
}

/** Formats a {@link CryptoAttribute} as the value of `a=crypto:` (the inverse of {@link parseCryptoAttribute}). */
export function formatCryptoAttribute(a: CryptoAttribute): string {
  if (!Number.isInteger(a.tag) || a.tag < 0 || a.tag > 999_999_999) throw new SrtpConfigError(`a=crypto tag must be an integer of at most 9 digits, got ${a.tag}`);
  if (!/^[A-Za-z0-9_]+$/.test(a.suite)) throw new SrtpConfigError(`crypto-suite "${a.suite}" must consist of letters, digits and "_"`);
  if (a.keyParams.length === 0) throw new SrtpConfigError('a=crypto needs at least one key parameter');
  const keys = a.keyParams.map((k) => {
    let s = `inline:${k.keySalt.toString('base64')}`;
    if (k.lifetime !== undefined) s += `|${formatLifetime(k.lifetime)}`;
    if (k.mki) s += `|${k.mki.value}:${k.mki.length}`;
    return s;
  });
  return [String(a.tag), a.suite, keys.join(';'), ...a.sessionParams].join(' ');
}

/** Powers of two from 2^10 up are written "2^n" as in every RFC 4568 example; smaller values in decimal. */
function formatLifetime(n: number): string {
  const e = Math.log2(n);
  return Number.isInteger(e) && e >= 10 ? `2^${e}` : String(n);
}
