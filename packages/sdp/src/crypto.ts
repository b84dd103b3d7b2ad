/**
 * `a=crypto` (SDES, RFC 4568) values read with @imslab/srtp's SDES codec:
 * this package finds the lines, the codec says what they mean.
 */
import { parseCryptoAttribute, SdesParseError, type CryptoAttribute } from '@imslab/srtp';
import { SdpAttributeError } from './errors.ts';

/** One a=crypto line of a media section: its text, and either what the codec read or why it could not. */
export type SdesLine = { value: string; attribute: CryptoAttribute; error?: undefined } | { value: string; attribute?: undefined; error: SdpAttributeError };

/**
 * The value of an a=crypto attribute (text after `a=crypto:`) parsed by the
 * SDES codec, or an {@link SdpAttributeError} carrying the codec's error.
 * Never throws.
 */
export function readCryptoValue(value: string): SdesLine {
  try {
    const attribute = parseCryptoAttribute(value);
    // The codec's base64 test lets through a key||salt that decodes to no octets ("inline:B", length 1 mod 4),
    // for suites whose key length it does not know; such a line has no key and cannot be written back.
    const empty = attribute.keyParams.findIndex((k) => k.keySalt.length === 0);
    if (empty >= 0) throw new SdesParseError(`a=crypto key-param ${empty + 1}: key||salt decodes to no octets (RFC 4568 sec. 6.1: base64 of key || salt)`);
    return { value, attribute };
  } catch (e) {
    return { value, error: new SdpAttributeError('crypto', value, (e as Error).message, e) };
  }
}
