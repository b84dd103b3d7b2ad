/**
 * One direction's verdict, twice:
 * - the media path, from the packets alone: plaintext on any leg is `none`
 *   (SRTP on both end legs around plaintext in between is `e2ae`); media
 *   under no known key is `unknown`; one key on every leg is `e2e` (one SRTP
 *   context end to end); a different key after a middle element is
 *   `e2m2e(<its address on the caller's side>)`;
 * - the effective verdict: `none` when a key of the direction crossed a link
 *   in plaintext SIP (anyone on that link can decrypt), else the media path.
 * Each comes with the conditions that make it so: which key crossed which
 * hop in the clear or inside TLS, which leg is plain or under no known key,
 * which key was given by hand and whose exchange no capture shows.
 */
import { ipOf } from './media-path.ts';
import type { AttributedKey, Condition, DirectionResult, ForeignVerdict, MediaLeg } from './types.ts';

const RANK: Record<string, number> = { none: 0, unknown: 1, e2ae: 2, e2m2e: 3, e2e: 4 };
const rank = (v: ForeignVerdict) => RANK[v.startsWith('e2m2e') ? 'e2m2e' : v]!;

/** The weaker of verdicts (`none` < `unknown` < `e2ae` < `e2m2e` < `e2e`); `unknown` for none at all. */
export function weakest(vs: ForeignVerdict[]): ForeignVerdict {
  return vs.reduce<ForeignVerdict | null>((w, v) => (w === null || rank(v) < rank(w) ? v : w), null) ?? 'unknown';
}

/** What the packets show, and the conditions of the legs themselves. */
export function mediaPathOf(legs: MediaLeg[], direction: DirectionResult['direction']): { path: ForeignVerdict; conditions: Condition[] } {
  const conditions: Condition[] = [];
  if (legs.length === 0) return { path: 'unknown', conditions: [{ kind: 'no-media', text: 'no media of this direction in the captures' }] };
  const plain = legs.filter((l) => l.protection === 'rtp');
  const unknown = legs.filter((l) => l.counts.unknown > 0);
  for (const l of plain) {
    const what = l.counts.plaintext > 0 ? 'plain RTP' : 'plain RTP (speech in the clear)';
    conditions.push({ kind: 'plain-media', link: l.link, from: l.src, to: l.dst, text: `${what} ${l.src} -> ${l.dst} on link ${l.link}: anyone on that link can listen` });
  }
  for (const l of unknown) {
    conditions.push({
      kind: 'unknown-key', link: l.link, from: l.src, to: l.dst,
      text: `${l.counts.unknown} packets ${l.src} -> ${l.dst} on link ${l.link} encrypted under no known key: who can read them cannot be told (--srtp-keys FILE, or the TLS secrets of the SIP that carried the key)`,
    });
  }
  let path: ForeignVerdict;
  if (plain.length > 0) {
    const first = legs[0]!;
    const last = legs[legs.length - 1]!;
    const edgesOnly = first.protection === 'srtp' && last.protection === 'srtp' && plain.every((l) => l !== first && l !== last);
    path = edgesOnly && unknown.length === 0 ? 'e2ae' : 'none';
    for (const l of legs.filter((x) => x.protection === 'srtp')) {
      conditions.push({ kind: 'hop-only', key: l.key, link: l.link, from: l.src, to: l.dst, text: `SRTP (${l.key}) on link ${l.link} only: protection of that hop alone, not of the call` });
    }
  } else if (unknown.length > 0) {
    path = 'unknown';
  } else {
    path = 'e2e';
    // The key change nearest the caller names the middle element, by its address on the caller's side.
    const change = direction === 'callee->caller'
      ? legs.map((_, i) => i).reverse().find((i) => i + 1 < legs.length && legs[i]!.key !== legs[i + 1]!.key)
      : legs.findIndex((l, i) => i + 1 < legs.length && l.key !== legs[i + 1]!.key);
    if (change !== undefined && change >= 0) path = `e2m2e(${ipOf(direction === 'callee->caller' ? legs[change + 1]!.src : legs[change]!.dst)})`;
  }
  return { path, conditions };
}

/** Where the direction's keys travelled: in plaintext SIP (weakens to `none`), inside TLS, or nowhere seen. */
export function keyConditions(legs: MediaLeg[], keys: Map<string, AttributedKey>): Condition[] {
  const out: Condition[] = [];
  const used = [...new Set(legs.flatMap((l) => (l.key ? [l.key] : [])))];
  for (const id of used) {
    const k = keys.get(id);
    if (!k) continue;
    const seen = new Set<string>();
    let inSdp = false;
    for (const s of k.sources) {
      if (s.kind !== 'sdp') continue;
      inSdp = true;
      const hop = `${s.link}|${s.from}|${s.to}|${s.message}|${s.clear}`;
      if (seen.has(hop)) continue;
      seen.add(hop);
      const base = { key: id, inline: k.inline, link: s.link, from: s.from, to: s.to, message: s.message };
      out.push(s.clear
        ? { kind: 'key-in-clear', ...base, text: `key ${id} (${k.suite}) crossed ${s.from} -> ${s.to} (link ${s.link}) in plaintext SIP (${s.message}): anyone on that link can decrypt` }
        : { kind: 'key-in-tls', ...base, text: `key ${id} (${k.suite}) crossed ${s.from} -> ${s.to} (link ${s.link}) inside TLS (${s.message}): readable by those two SIP hops, not by the link` });
    }
    if (!inSdp) {
      const f = k.sources.find((s) => s.kind === 'key-file');
      const where = f && f.kind === 'key-file' ? `${f.file}:${f.line}` : 'a key file';
      out.push({ kind: 'exchange-not-seen', key: id, inline: k.inline, text: `key ${id} (${k.suite}) was given in ${where}; its exchange was not seen in the captures: who else holds it cannot be told from them` });
    }
  }
  return out;
}

/** The direction's result: media path, effective verdict, every condition. */
export function judgeDirection(direction: DirectionResult['direction'], legs: MediaLeg[], keys: Map<string, AttributedKey>): DirectionResult {
  const { path, conditions } = mediaPathOf(legs, direction);
  for (const c of conditions) if (c.key && !c.inline) c.inline = keys.get(c.key)?.inline;
  const keyConds = keyConditions(legs, keys);
  const verdict: ForeignVerdict = keyConds.some((c) => c.kind === 'key-in-clear') ? 'none' : path;
  return {
    direction,
    from: legs[0]?.src ?? '',
    to: legs[legs.length - 1]?.dst ?? '',
    legs, mediaPath: path, verdict, conditions: [...conditions, ...keyConds],
  };
}
