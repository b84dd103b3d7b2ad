/**
 * Timestamp conversion to microseconds since epoch.
 *
 * pcapng EPB/OPB timestamps are a 64-bit count (split in two 32-bit words)
 * of units given by the interface's if_tsresol option (draft-ietf-opsawg-pcapng
 * sec 4.2: MSB 0 → 10^-n s, MSB 1 → 2^-n s; default 10^-6), plus if_tsoffset
 * seconds. Nanosecond counts since 1970 exceed 2^53, so the division is done
 * in two exact steps instead of on a rounded double; BigInt is only used for
 * exotic resolutions.
 */

const TWO32 = 4294967296;
const MODE_MUL = 0;
const MODE_DIV = 1;
const MODE_BIG = 2;

/** Precomputed conversion for one interface. */
export interface TsConverter {
  readonly mode: 0 | 1 | 2;
  /** MODE_MUL: microseconds per unit; MODE_DIV: units per microsecond (≤ 10^6, so the two-step division is exact). */
  readonly factor: number;
  /** MODE_BIG: µs = value * num / den. */
  readonly num: bigint;
  readonly den: bigint;
  /** if_tsoffset in microseconds. */
  readonly offsetUs: number;
}

/** Builds the converter for an if_tsresol byte (undefined → default 6) and if_tsoffset seconds. */
export function makeTsConverter(tsresol: number | undefined, tsoffsetSec = 0): TsConverter {
  const r = tsresol ?? 6;
  const exp = r & 0x7f;
  const offsetUs = tsoffsetSec * 1e6;
  if ((r & 0x80) === 0) {
    if (exp <= 6) return { mode: MODE_MUL, factor: 10 ** (6 - exp), num: 0n, den: 1n, offsetUs };
    if (exp <= 12) return { mode: MODE_DIV, factor: 10 ** (exp - 6), num: 0n, den: 1n, offsetUs };
    return { mode: MODE_BIG, factor: 0, num: 1n, den: 10n ** BigInt(exp - 6), offsetUs };
  }
  return { mode: MODE_BIG, factor: 0, num: 1_000_000n, den: 1n << BigInt(exp), offsetUs };
}

/** Default converter (microsecond resolution, no offset). */
export const MICROSECONDS: TsConverter = makeTsConverter(undefined);

/** Converts a 64-bit unit count given as two unsigned 32-bit words to µs since epoch (floored). */
export function tsToUs(c: TsConverter, high: number, low: number): number {
  if (c.mode === MODE_MUL) return (high * TWO32 + low) * c.factor + c.offsetUs;
  if (c.mode === MODE_DIV) {
    // floor((high*2^32 + low) / d) = floor(high/d)*2^32 + floor(((high mod d)*2^32 + low) / d);
    // the second dividend is < d*2^32 ≤ 2^53 (d ≤ 10^6), so every step is exact.
    const d = c.factor;
    const qh = Math.floor(high / d);
    const rh = high - qh * d;
    return qh * TWO32 + Math.floor((rh * TWO32 + low) / d) + c.offsetUs;
  }
  const v = (BigInt(high) << 32n) | BigInt(low);
  return Number((v * c.num) / c.den) + c.offsetUs;
}

/** Splits non-negative integer microseconds into the two 32-bit words of a pcapng timestamp. */
export function usToWords(us: number): [high: number, low: number] {
  const high = Math.floor(us / TWO32);
  return [high, us - high * TWO32];
}
