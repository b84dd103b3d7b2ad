/**
 * The colouring rule: what protection each link showed for a scenario's
 * calls, as one class per link, the weakest over every direction of every
 * call (analysis.calls[].paths[].links).
 */
import type { Analysis, CallReport, PathLink, PathReport } from '@imslab/analysis';

/** What the report colours by. */
export const PROTECTION_CLASSES = ['e2e', 'e2m2e', 'e2ae', 'none', 'unknown', 'absent'] as const;
export type ProtectionClass = (typeof PROTECTION_CLASSES)[number];

/** Colour, line pattern (so that colour is never the only cue) and words per class. */
export const PROTECTION_STYLE: Record<ProtectionClass, { colour: string; dash: string; label: string; meaning: string }> = {
  e2e: { colour: '#1a7f37', dash: '', label: 'e2e', meaning: 'SRTP under the end-to-end keys' },
  e2m2e: { colour: '#0969da', dash: '12 4', label: 'e2m2e', meaning: 'SRTP, re-keyed by a trusted middle element' },
  e2ae: { colour: '#b35900', dash: '6 4', label: 'e2ae / hop', meaning: 'SRTP on this link only, terminated at the edge' },
  none: { colour: '#cf222e', dash: '2 3', label: 'none (plaintext)', meaning: 'the probe readable in the clear' },
  unknown: { colour: '#57606a', dash: '1 5', label: 'unknown', meaning: 'encrypted under no logged key: no claim' },
  absent: { colour: '#afb8c1', dash: '3 6', label: 'no media', meaning: 'no media of the calls on this link' },
};

/**
 * Weakest first, as the verdicts rank (packages/analysis verdict.ts): media
 * under no known key is no protection claim at all, below plaintext.
 * `absent` counts only when nothing else was seen.
 */
const RANK: Record<ProtectionClass, number> = { unknown: 0, none: 1, e2ae: 2, e2m2e: 3, e2e: 4, absent: 5 };

/** The weaker of two classes (absent only when both are). */
export function weaker(a: ProtectionClass, b: ProtectionClass): ProtectionClass {
  return RANK[b] < RANK[a] ? b : a;
}

/**
 * The class of one direction of a call on one link: plaintext is `none`,
 * media under no known key `unknown`, nothing `absent`; SRTP takes the class
 * of the direction's verdict (`e2e`, `e2m2e`), and SRTP in a direction that
 * is not protected end to end (e2ae, or a partial protection judged `none`
 * or `unknown`) is protection of this hop only: `e2ae`.
 */
export function classOfPathLink(link: Pick<PathLink, 'protection'>, path: Pick<PathReport, 'verdict'>): ProtectionClass {
  switch (link.protection) {
    case 'absent':
      return 'absent';
    case 'plaintext':
      return 'none';
    case 'encrypted-unknown':
      return 'unknown';
    case 'srtp':
      if (path.verdict === 'e2e') return 'e2e';
      if (path.verdict.startsWith('e2m2e')) return 'e2m2e';
      return 'e2ae';
  }
}

/** One link's class and the words behind it. */
export interface LinkColouring {
  link: string;
  class: ProtectionClass;
  /** `c1 caller->callee: srtp under alice/tx/... (28 packets)`, one per direction seen on the link. */
  why: string[];
}

/** The weakest class per link over every direction of every call; links without any path are `absent`. */
export function linkColours(calls: Array<Pick<CallReport, 'alias' | 'paths'>>, links: readonly string[] = ['access-a', 'core', 'access-b']): Record<string, LinkColouring> {
  const out: Record<string, LinkColouring> = {};
  for (const l of links) out[l] = { link: l, class: 'absent', why: [] };
  for (const c of calls) {
    for (const p of c.paths) {
      for (const [l, pl] of Object.entries(p.links)) {
        const entry = (out[l] ??= { link: l, class: 'absent', why: [] });
        const cls = classOfPathLink(pl, p);
        entry.class = weaker(entry.class, cls);
        const keys = pl.keys.length ? ` under ${pl.keys.join(', ')}` : '';
        entry.why.push(`${c.alias} ${p.direction}: ${pl.protection}${keys} (${pl.packets} packets) -> ${cls}`);
      }
    }
  }
  return out;
}

/** The class a verdict string belongs to (for the verdict table's cells). */
export function classOfVerdict(v: string): ProtectionClass {
  if (v === 'e2e') return 'e2e';
  if (v.startsWith('e2m2e')) return 'e2m2e';
  if (v === 'e2ae') return 'e2ae';
  if (v === 'none') return 'none';
  if (v === 'unknown') return 'unknown';
  return 'absent';
}

/** Per element pair, the weakest class of the hops that carried a call's media between them (for the drawing's edges). */
export function hopColours(a: Pick<Analysis, 'calls'>, name: (ip: string) => string): Map<string, { link: string; a: string; b: string; class: ProtectionClass }> {
  const out = new Map<string, { link: string; a: string; b: string; class: ProtectionClass }>();
  const host = (e: string) => e.replace(/:\d+$/, '');
  for (const c of a.calls) for (const p of c.paths) for (const [link, pl] of Object.entries(p.links)) {
    const cls = classOfPathLink(pl, p);
    for (const h of pl.hops ?? []) {
      const [x, y] = [name(host(h.src)), name(host(h.dst))].sort() as [string, string];
      const key = `${link} ${x} ${y}`;
      const had = out.get(key);
      out.set(key, { link, a: x, b: y, class: had ? weaker(had.class, cls) : cls });
    }
  }
  return out;
}
