import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { MARKER_PREFIX } from '@imslab/probe';
import type { LoggedKey } from './keys.ts';

/** Something an element kept at rest that it should not have: a probe marker (plaintext media) or key bytes. */
export interface StoreFinding {
  file: string;
  /** `marker`: plaintext probe media; `key`: an SRTP master key (base64 or hex) from the key logs. */
  what: 'marker' | 'key';
  /** The marker, or the key's id. */
  detail: string;
}

/** Files larger than this are scanned in their first part only (stores of media are small in the testbed). */
const MAX_SCAN_BYTES = 32 * 1024 * 1024;

function files(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const p = join(dir, n);
    const st = statSync(p);
    return st.isDirectory() ? files(p) : st.isFile() ? [p] : [];
  });
}

/**
 * Scans what elements stored (logs, message stores) for probe markers and for
 * the bytes of any logged SRTP key, in binary, base64 and hex forms. `base`
 * names files relative to it in the report.
 */
export function scanStores(dirs: string[], keys: LoggedKey[], base: string): StoreFinding[] {
  const out: StoreFinding[] = [];
  const prefix = Buffer.from(MARKER_PREFIX, 'ascii');
  const needles = keys.map((k) => {
    const raw = Buffer.from(k.entry.keySalt, 'base64');
    return { id: k.id, forms: [raw, Buffer.from(k.entry.keySalt, 'ascii'), Buffer.from(raw.toString('hex'), 'ascii')] };
  });
  for (const dir of dirs) {
    for (const file of files(dir)) {
      const data = readFileSync(file).subarray(0, MAX_SCAN_BYTES);
      const name = relative(base, file);
      const markers = new Set<string>();
      for (let at = data.indexOf(prefix); at >= 0 && markers.size < 8; at = data.indexOf(prefix, at + 1)) {
        const m = data.toString('ascii', at, at + 16);
        if (/^IMSLAB[0-9a-f]{10}$/.test(m)) markers.add(m);
      }
      for (const m of markers) out.push({ file: name, what: 'marker', detail: m });
      for (const n of needles) if (n.forms.some((f) => data.includes(f))) out.push({ file: name, what: 'key', detail: n.id });
    }
  }
  return out;
}
