/**
 * `;name=value` parameter lists, shared by URIs, name-addrs and Via
 * (RFC 3261 sec. 19.1.1, 20.10, 20.42). Names are compared case-insensitively
 * and stored lower-case; a parameter without `=` has the value null.
 */
export type Params = Map<string, string | null>;

/**
 * Parses `;a=1;b;c="x;y"` (leading `;` optional). Quoted values keep their
 * quotes so that serialisation is lossless. Returns null on an empty name.
 */
export function parseParams(s: string): Params | null {
  const params: Params = new Map();
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && (s[i] === ';' || s[i] === ' ' || s[i] === '\t')) i++;
    if (i >= n) break;
    let j = i;
    while (j < n && s[j] !== '=' && s[j] !== ';') j++;
    const name = s.slice(i, j).trim().toLowerCase();
    if (!name || /[\s,"<>]/.test(name)) return null;
    if (j < n && s[j] === '=') {
      j++;
      while (j < n && (s[j] === ' ' || s[j] === '\t')) j++;
      let k = j;
      if (s[k] === '"') {
        k++;
        while (k < n && s[k] !== '"') k += s[k] === '\\' ? 2 : 1;
        if (k >= n) return null;
        k++;
      } else {
        while (k < n && s[k] !== ';') k++;
        // A token or host never holds a quote; one here (e.g. after a leading line break) would be read back as a quoted-string.
        if (s.slice(j, k).includes('"')) return null;
      }
      params.set(name, s.slice(j, k).trim());
      i = k;
    } else {
      params.set(name, null);
      i = j;
    }
  }
  return params;
}

/** Serialises parameters as `;a=1;b`. */
export function formatParams(params: Params): string {
  let out = '';
  for (const [k, v] of params) out += v === null ? `;${k}` : `;${k}=${v}`;
  return out;
}

/** Removes the quotes and backslash escapes of a quoted-string; other values unchanged. */
export function unquote(s: string): string {
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) return s.slice(1, -1).replace(/\\(.)/g, '$1');
  return s;
}

/**
 * Quotes a string for a quoted-string production, escaping `"`, `\` and the
 * control characters quoted-pair admits (sec. 25.1: all but CR and LF), so a
 * display name read from RFC 4475 3.1.1.2 is written back as legal as it came.
 */
export function quote(s: string): string {
  return `"${s.replace(/(["\\\x00-\x09\x0b\x0c\x0e-\x1f\x7f])/g, '\\$1')}"`;
}
