/**
 * T (RFC 3830 sec. 6.6) and TR (RFC 6043 sec. 6.4) payload bodies, and
 * conversion between NTP timestamps and wall-clock time.
 */
import { Reader, Writer } from '../bytes.ts';
import { TS_VALUE_LENGTH } from '../codes.ts';
import { MikeyEncodeError, MikeyUnsupportedError } from '../errors.ts';
import type { TPayload, TrPayload } from './types.ts';

function tsLength(r: Reader | null, tsType: number, at: number): number {
  const n = TS_VALUE_LENGTH[tsType];
  if (n === undefined) {
    if (r === null) throw new MikeyEncodeError('TS type', `unknown TS type ${tsType}`);
    throw new MikeyUnsupportedError({ offset: at, expected: 'TS type 0 (NTP-UTC), 1 (NTP), 2 (COUNTER) or 3 (NTP-UTC-32)', payloadType: r.payloadType, found: String(tsType) }, 1);
  }
  return n;
}

/** T body: TS type(8) | TS value (64 or 32 bits). */
export function decodeT(r: Reader): TPayload {
  const at = r.offset;
  const tsType = r.u8('TS type');
  const value = r.uint(tsLength(r, tsType, at), 'TS value');
  return { kind: 'T', tsType, value };
}

/** Writes a T body. */
export function encodeT(w: Writer, p: TPayload): void {
  w.u8(p.tsType, 'T.tsType').uint(p.value, tsLength(null, p.tsType, 0), 'T.value');
}

/** TR body: TS Role(8) | TS Type(8) | TS Value. */
export function decodeTr(r: Reader): TrPayload {
  const role = r.u8('TS role');
  const at = r.offset;
  const tsType = r.u8('TS type');
  const value = r.uint(tsLength(r, tsType, at), 'TS value');
  return { kind: 'TR', role, tsType, value };
}

/** Writes a TR body. */
export function encodeTr(w: Writer, p: TrPayload): void {
  w.u8(p.role, 'TR.role').u8(p.tsType, 'TR.tsType').uint(p.value, tsLength(null, p.tsType, 0), 'TR.value');
}

/** Seconds between the NTP epoch (1900-01-01) and the Unix epoch. */
export const NTP_UNIX_OFFSET_S = 2208988800n;

/** 64-bit NTP timestamp (RFC 5905 format, as used by TS type NTP-UTC) for a time in ms since the Unix epoch. */
export function ntpFromMs(ms: number): bigint {
  const secs = Math.floor(ms / 1000);
  const whole = BigInt(secs);
  const frac = BigInt(Math.round(((ms - secs * 1000) * 2 ** 32) / 1000));
  return ((whole + NTP_UNIX_OFFSET_S) << 32n) | frac;
}

/** Milliseconds since the Unix epoch for a 64-bit NTP timestamp. */
export function msFromNtp(ntp: bigint): number {
  const secs = Number((ntp >> 32n) - NTP_UNIX_OFFSET_S);
  const frac = Number(ntp & 0xffffffffn);
  return secs * 1000 + Math.round((frac * 1000) / 2 ** 32);
}

/** 32-bit NTP-UTC-32 value (RFC 6043 sec. 6.6: the 32 most significant bits, i.e. whole seconds). */
export function ntp32FromMs(ms: number): bigint {
  return ntpFromMs(ms) >> 32n;
}

/**
 * Milliseconds since the Unix epoch for a T/TR value, or `undefined` for a
 * COUNTER timestamp (which has no wall-clock meaning).
 */
export function msFromTimestamp(tsType: number, value: bigint): number | undefined {
  if (tsType === 0 || tsType === 1) return msFromNtp(value);
  if (tsType === 3) return msFromNtp(value << 32n);
  return undefined;
}

/**
 * The 64-bit T used in the AES-CM IV (RFC 3830 sec. 4.2.3). 32-bit
 * timestamps are placed in the most significant half for NTP-UTC-32 (which is
 * the seconds part of an NTP-UTC value) and zero-extended for COUNTER.
 */
export function timestampForIv(tsType: number, value: bigint): bigint {
  if (tsType === 3) return value << 32n;
  return value;
}
