/**
 * `a=crypto` (SDES, RFC 4568) values read with @imslab/srtp's SDES codec:
 * this package finds the lines, the codec says what they mean.
 */
import { parseCryptoAttribute, type CryptoAttribute } from '@imslab/srtp';
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
    return { value, attribute: parseCryptoAttribute(value) };
  } catch (e) {
    return { value, error: new SdpAttributeError('crypto', value, (e as Error).message, e) };
  }
}
