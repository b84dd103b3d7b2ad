/**
 * What the PoC box finds when it opens: every burst a previous process
 * left, checked one by one. It never throws and never touches a burst other
 * than the one it is looking at:
 * - a burst still `recording` (the process stopped mid-burst) keeps every
 *   whole record; a torn last record is cut off; it becomes `partial` and
 *   says so in its note;
 * - a burst whose packets.bin is damaged inside (not a torn tail) keeps its
 *   bytes; its whole records before the damage are what a replay sends;
 * - an unreadable meta.json, or one that does not match its directory,
 *   sends the burst to `.quarantine/`;
 * - dot directories of an interrupted begin or removal, and bursts the
 *   journal already names as delivered, are removed.
 */
import { readdirSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { BURST_META_FILE, BURST_PACKETS_FILE, type BurstMeta } from './contract.ts';
import { quarantine, writeMeta, type WriteSyncFn } from './box-files.ts';
import { checkBurstMeta, errText, GROUP_RE, KeyIdCounter, memberDirName, pickBurstMeta, scanRecords, type KeyIdLayout } from './box-records.ts';

/** One burst as the box tracks it. */
export interface Entry {
  meta: BurstMeta;
  dir: string;
  /** `<group>/<member dir>/<id>`, relative to the box. */
  rel: string;
  /** Size of packets.bin: what the bounds count. */
  fileBytes: number;
  firstUs: number | null;
  lastUs: number | null;
  /** packets.bin is damaged inside: a replay sends the whole records before it, and the burst goes to quarantine after. */
  damage: string | null;
  /** Set while this process records the burst. */
  live: { fd: number; stopped: string | null; keys: KeyIdCounter } | null;
}

export interface RecoverContext {
  box: string;
  /** Bursts the journal says were delivered. */
  delivered: Set<string>;
  layoutOf(group: string): KeyIdLayout | null;
  write: WriteSyncFn;
  findings: string[];
}

const list = (dir: string, ctx: RecoverContext) => {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    ctx.findings.push(`${dir}: cannot list (${errText(e)}); ignored`);
    return [];
  }
};

/** Every burst of the box directory that can still be delivered. */
export function recoverBox(ctx: RecoverContext): Entry[] {
  const out: Entry[] = [];
  for (const g of list(ctx.box, ctx)) {
    if (g.name.startsWith('.') || g.isFile()) continue; // .quarantine, delivered.jsonl
    const gDir = join(ctx.box, g.name);
    if (!g.isDirectory() || !GROUP_RE.test(g.name)) {
      ctx.findings.push(`${gDir}: not a group directory (poc-<group>); ignored`);
      continue;
    }
    for (const m of list(gDir, ctx)) {
      const mDir = join(gDir, m.name);
      if (!m.isDirectory()) {
        ctx.findings.push(`${mDir}: not a member directory; ignored`);
        continue;
      }
      for (const b of list(mDir, ctx)) {
        const dir = join(mDir, b.name);
        try {
          if (b.name.startsWith('.new-') || b.name.startsWith('.del-')) {
            rmSync(dir, { recursive: true, force: true });
            ctx.findings.push(`${dir}: removed (${b.name.startsWith('.new-') ? 'a burst interrupted before its first packet' : 'an interrupted removal after delivery'})`);
          } else if (ctx.delivered.has(b.name)) {
            rmSync(dir, { recursive: true, force: true });
            ctx.findings.push(`${dir}: removed (delivered, per the journal, before the process stopped)`);
          } else if (!b.isDirectory()) {
            ctx.findings.push(`${dir}: not a burst directory; ignored`);
          } else {
            const e = recoverBurst(ctx, g.name, m.name, b.name, dir);
            if (e) out.push(e);
          }
        } catch (e) {
          ctx.findings.push(`${dir}: ${errText(e)}; ignored`);
        }
      }
    }
  }
  return out;
}

function recoverBurst(ctx: RecoverContext, group: string, memberDir: string, name: string, dir: string): Entry | null {
  const rel = join(group, memberDir, name);
  const away = (why: string) => {
    ctx.findings.push(quarantine(ctx.box, dir, rel, why));
    return null;
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(dir, BURST_META_FILE), 'utf8'));
  } catch (e) {
    return away(`meta.json unreadable or not JSON (${errText(e)})`);
  }
  const m = parsed as BurstMeta;
  const bad = checkBurstMeta(parsed)
    ?? (m.id !== name ? `meta.json id ${JSON.stringify(m.id)} differs from the directory name`
      : m.group !== group ? `meta.json group ${JSON.stringify(m.group)} differs from the directory`
        : memberDirName(m.member) !== memberDir ? `meta.json member ${JSON.stringify(m.member)} differs from the directory` : null);
  if (bad) return away(`meta.json: ${bad}`);
  const meta = pickBurstMeta(m);
  rmSync(join(dir, `${BURST_META_FILE}.tmp`), { force: true }); // an interrupted meta write; meta.json itself is intact

  const file = join(dir, BURST_PACKETS_FILE);
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    return away(`${BURST_PACKETS_FILE} unreadable (${errText(e)})`);
  }
  const keys = new KeyIdCounter(ctx.layoutOf(group));
  const s = scanRecords(buf, (p) => keys.add(p.data));
  const entry = (fileBytes: number, damage: string | null): Entry => ({ meta, dir, rel, fileBytes, firstUs: s.firstUs, lastUs: s.lastUs, damage, live: null });

  if (meta.state !== 'recording') {
    const damage = s.issue ? `${file} damaged: ${s.issue.what} at byte ${s.issue.offset}; ${s.count} whole packets before it`
      : s.count !== meta.packets || s.bytes !== meta.bytes ? `${file} damaged: holds ${s.count} packets (${s.bytes} bytes) but meta.json says ${meta.packets} (${meta.bytes})` : null;
    if (damage) ctx.findings.push(damage);
    return entry(buf.length, damage);
  }

  // Interrupted mid-burst: keep every whole record, cut a torn last write off.
  let size = buf.length, damage: string | null = null;
  const extra: string[] = [];
  if (s.issue?.tail) {
    truncateSync(file, s.end);
    size = s.end;
    extra.push(`torn last record removed (${buf.length - s.end} bytes at byte ${s.end})`);
  } else if (s.issue) {
    damage = `${file} damaged: ${s.issue.what} at byte ${s.issue.offset}; ${s.count} whole packets before it`;
    extra.push(damage);
  }
  meta.state = 'partial';
  meta.packets = s.count;
  meta.bytes = s.bytes;
  meta.keyIds = keys.list();
  if (keys.unlisted) meta.keyIdsUnlisted = keys.unlisted;
  meta.note = [`recording interrupted (the server stopped mid-burst); ${s.count} packets recovered`, ...extra].join('; ');
  try {
    writeMeta(ctx.write, dir, meta);
  } catch (e) {
    extra.push(`meta.json not updated (${errText(e)}); recovered again at the next start`);
  }
  ctx.findings.push(`${dir}: interrupted burst recovered as partial, ${s.count} packets${extra.length ? '; ' + extra.join('; ') : ''}`);
  return entry(size, damage);
}
