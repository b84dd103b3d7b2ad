/**
 * Structure-blind mutations for the parser fuzzers (issue 13 point 3), driven
 * by a seeded {@link prng} so that a failing input replays from its seed:
 * byte flips, truncation, deletion, duplication of lines or spans, huge
 * numbers and lengths, special characters. Pure: the same random source and
 * base give the same output.
 */

/** A source of uniform numbers in [0, 1), e.g. `prng(seed)`. */
export type Rnd = () => number;

/** An integer in [0, n). */
export const randInt = (rnd: Rnd, n: number): number => Math.floor(rnd() * n);
/** One element of a non-empty list. */
export const pickOne = <T>(rnd: Rnd, xs: readonly T[]): T => xs[randInt(rnd, xs.length)]!;

/** Characters that end or split tokens in text protocols, plus a few that break naive decoders. */
export const TEXT_SPECIALS: readonly string[] = [
  '\r\n', '\n', '\r', '\r\n\r\n', '\r\n ', '\t', ' ', '\0', ':', ';', ',', '=', '@', '<', '>', '"', '\\', '/', '|', '^', '?', '%', '%%', '[', ']',
  '\u00ff', '\u2028', '\u{1f600}', '\ud800', '-', '+', '*', '.', '0', '-1', '99999999999999999999', '1e309', 'NaN', '__proto__', 'constructor',
];

/** Numbers that overflow fields or lengths. */
const HUGE_NUMBERS = ['0', '-1', '65535', '65536', '2147483647', '2147483648', '4294967296', '9007199254740993', '99999999999999999999', '1e400', '00000000000000000001'];

/**
 * One mutated text from `base`: 1-6 of insert special, delete a span,
 * truncate, replace a char, flip a bit of a char, duplicate a line (up to 200
 * times), swap two lines, drop a line, replace a digit run by a huge number,
 * insert a long run of one character. `extra` adds protocol-specific
 * insertions (e.g. `SIP/2.0`, `a=crypto:`). The result is cut at `maxLength`
 * characters (default 140,000: beyond the SIP framer's 64 KiB header limit, while
 * repeated duplication cannot snowball into megabytes).
 */
export function mutateText(rnd: Rnd, base: string, extra: readonly string[] = [], maxLength = 140_000): string {
  const specials = extra.length ? [...TEXT_SPECIALS, ...extra] : TEXT_SPECIALS;
  let s = base;
  const n = 1 + randInt(rnd, 6);
  for (let k = 0; k < n; k++) {
    const at = randInt(rnd, s.length + 1);
    switch (randInt(rnd, 11)) {
      case 0:
        s = s.slice(0, at) + pickOne(rnd, specials) + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at + 1 + randInt(rnd, 24));
        break;
      case 2:
        s = s.slice(0, at);
        break;
      case 3:
        s = s.slice(0, at) + String.fromCharCode(randInt(rnd, 256)) + s.slice(at + 1);
        break;
      case 4:
        if (at < s.length) s = s.slice(0, at) + String.fromCharCode(s.charCodeAt(at) ^ (1 << randInt(rnd, 8))) + s.slice(at + 1);
        break;
      case 5: {
        const lines = s.split('\n');
        const i = randInt(rnd, lines.length);
        const times = 1 + randInt(rnd, rnd() < 0.2 ? 200 : 4);
        lines.splice(i, 0, ...Array<string>(times).fill(lines[i]!));
        s = lines.join('\n');
        break;
      }
      case 6: {
        const lines = s.split('\n');
        const i = randInt(rnd, lines.length);
        const j = randInt(rnd, lines.length);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        s = lines.join('\n');
        break;
      }
      case 7: {
        const lines = s.split('\n');
        lines.splice(randInt(rnd, lines.length), 1);
        s = lines.join('\n');
        break;
      }
      case 8: {
        const runs = [...s.matchAll(/\d+/g)];
        if (runs.length === 0) break;
        const m = pickOne(rnd, runs);
        s = s.slice(0, m.index) + pickOne(rnd, HUGE_NUMBERS) + s.slice(m.index + m[0].length);
        break;
      }
      case 9:
        s = s.slice(0, at) + pickOne(rnd, ['"', '<', ';', ' ', 'a', '\\', '=', '/', '0']).repeat(1 + randInt(rnd, rnd() < 0.1 ? 20_000 : 64)) + s.slice(at);
        break;
      default: {
        // Duplicate a span in place (repeated fields, repeated payload text).
        const len = 1 + randInt(rnd, 40);
        s = s.slice(0, at + len) + s.slice(at, at + len) + s.slice(at + len);
        break;
      }
    }
    if (s.length > maxLength) s = s.slice(0, maxLength);
  }
  return s;
}

/**
 * One mutated byte string from `base`: 1-4 of set a byte, flip a bit,
 * truncate, delete a span, insert random bytes, duplicate a span, write
 * 0x00/0xff/0x7f/0x80 over one or two octets (zero and huge lengths), or
 * overwrite a span with a span of another base (splicing). The result is cut
 * at `maxLength` octets (default 70,000, above MIKEY's 65,536 limit).
 */
export function mutateBytes(rnd: Rnd, base: Uint8Array, others: readonly Uint8Array[] = [], maxLength = 70_000): Uint8Array {
  let b: Uint8Array = Uint8Array.from(base);
  const n = 1 + randInt(rnd, 4);
  for (let k = 0; k < n; k++) {
    const at = randInt(rnd, b.length + 1);
    switch (randInt(rnd, 9)) {
      case 0:
        if (at < b.length) b[at] = randInt(rnd, 256);
        break;
      case 1:
        if (at < b.length) b[at]! ^= 1 << randInt(rnd, 8);
        break;
      case 2:
        b = b.slice(0, at);
        break;
      case 3:
        b = concatBytes(b.subarray(0, at), b.subarray(at + 1 + randInt(rnd, 16)));
        break;
      case 4:
        b = concatBytes(b.subarray(0, at), Uint8Array.from({ length: 1 + randInt(rnd, 16) }, () => randInt(rnd, 256)), b.subarray(at));
        break;
      case 5: {
        const len = 1 + randInt(rnd, 64);
        b = concatBytes(b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len));
        break;
      }
      case 6:
      case 7: {
        const v = pickOne(rnd, [0x00, 0xff, 0x7f, 0x80]);
        for (let i = 0; i < 1 + randInt(rnd, 2) && at + i < b.length; i++) b[at + i] = v;
        break;
      }
      default: {
        if (others.length === 0) break;
        const o = pickOne(rnd, others);
        const from = randInt(rnd, o.length + 1);
        const span = o.subarray(from, from + 1 + randInt(rnd, 32));
        b = concatBytes(b.subarray(0, at), span, b.subarray(Math.min(b.length, at + span.length)));
        break;
      }
    }
    if (b.length > maxLength) b = b.slice(0, maxLength);
  }
  return b;
}

function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
