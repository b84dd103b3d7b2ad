/**
 * IP address text <-> bytes. Formatting sits on the per-packet path, so the
 * strings are cached: a flow's packets then share one string instance (no
 * per-packet string building, and Map lookups on them hit the cached hash).
 * IPv6 text follows RFC 5952 (lower case, longest zero run compressed,
 * IPv4-mapped as ::ffff:a.b.c.d).
 */

// Direct-mapped cache for IPv4: an array probe is cheaper than a Map lookup,
// and a bounded table keeps memory constant whatever the address mix.
const V4_SLOTS = 4096;
const v4Keys = new Int32Array(V4_SLOTS);
const v4Text: (string | undefined)[] = new Array<string | undefined>(V4_SLOTS).fill(undefined);

/** Dotted-quad text of the IPv4 address at `buf[at..at+4]` (caller checked bounds). */
export function formatIpv4(buf: Buffer, at: number): string {
  const key = (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
  const slot = Math.imul(key, 0x9e3779b1 | 0) >>> 20; // top 12 bits: V4_SLOTS = 2^12
  const cached = v4Text[slot];
  if (cached !== undefined && v4Keys[slot] === key) return cached;
  const s = `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
  v4Keys[slot] = key;
  v4Text[slot] = s;
  return s;
}

// Direct-mapped cache for IPv6: 4 words per slot plus the string.
const V6_SLOTS = 1024;
const v6Words = new Int32Array(V6_SLOTS * 4);
const v6Text: (string | undefined)[] = new Array<string | undefined>(V6_SLOTS).fill(undefined);

/** RFC 5952 text of the IPv6 address at `buf[at..at+16]` (caller checked bounds). */
export function formatIpv6(buf: Buffer, at: number): string {
  const w0 = buf.readInt32BE(at), w1 = buf.readInt32BE(at + 4), w2 = buf.readInt32BE(at + 8), w3 = buf.readInt32BE(at + 12);
  const slot = Math.imul(w0 ^ w1 ^ w2 ^ w3, 0x9e3779b1 | 0) >>> 22; // top 10 bits: V6_SLOTS = 2^10
  const i = slot * 4;
  const cached = v6Text[slot];
  if (cached !== undefined && v6Words[i] === w0 && v6Words[i + 1] === w1 && v6Words[i + 2] === w2 && v6Words[i + 3] === w3) return cached;
  const s = ipv6Text(buf, at);
  v6Words[i] = w0; v6Words[i + 1] = w1; v6Words[i + 2] = w2; v6Words[i + 3] = w3;
  v6Text[slot] = s;
  return s;
}

function ipv6Text(buf: Buffer, at: number): string {
  const g: number[] = [];
  for (let k = 0; k < 8; k++) g.push(buf.readUInt16BE(at + 2 * k));
  // ::ffff:0:0/96, IPv4-mapped (RFC 5952 sec 5).
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${buf[at + 12]}.${buf[at + 13]}.${buf[at + 14]}.${buf[at + 15]}`;
  }
  // Longest run of >= 2 zero groups, first one on ties (RFC 5952 sec 4.2).
  let bestStart = -1, bestLen = 1;
  for (let k = 0; k < 8;) {
    if (g[k] !== 0) { k++; continue; }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) { bestStart = k; bestLen = e - k; }
    k = e;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Parses dotted-quad IPv4 text into 4 bytes, or null. */
export function parseIpv4(s: string): Buffer | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? Buffer.from(b) : null;
}

/** Parses IPv6 text (with `::` and an optional dotted IPv4 tail) into 16 bytes, or null. */
export function parseIpv6(s: string): Buffer | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  let text = s;
  let tail: Buffer | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    tail = parseIpv4(text.slice(lastColon + 1));
    if (!tail) return null;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const part = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const x of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(x)) return null;
      out.push(parseInt(x, 16));
    }
    return out;
  };
  const head = part(halves[0]!);
  const rest = halves.length === 2 ? part(halves[1]!) : [];
  if (!head || !rest) return null;
  const fill = 8 - head.length - rest.length;
  if ((halves.length === 2 && fill < 1) || (halves.length === 1 && fill !== 0)) return null;
  const groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  const b = Buffer.alloc(16);
  groups.forEach((x, k) => b.writeUInt16BE(x, 2 * k));
  if (tail) tail.copy(b, 12);
  return b;
}
