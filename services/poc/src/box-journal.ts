/**
 * `delivered.jsonl`: one line per burst the box played to its member and
 * removed. It is written before the burst's directory is removed, so a
 * crash in between cannot replay a delivered burst (recovery finishes the
 * removal of any burst the journal names), and it is what the run's
 * evidence reads once the bursts themselves are gone. No media in it: ids,
 * counts, digests. Bounded: past `maxBytes` it becomes `delivered.1.jsonl`
 * (replacing the previous one) and a new file starts.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { DELIVERED_JOURNAL, type DeliveredBurst } from './contract.ts';
import { errText } from './box-records.ts';
import { fsyncPathAsync, nodeWriteSync, writeAll, type WriteSyncFn } from './box-files.ts';

export const JOURNAL_MAX_BYTES = 1024 * 1024;
const ROTATED = DELIVERED_JOURNAL.replace(/\.jsonl$/, '.1.jsonl');

/** Journal lines of a box directory, oldest first (the rotated file, then the current one); bad lines are reported, never fatal. */
export function readJournal(boxDir: string): { entries: DeliveredBurst[]; problems: string[] } {
  const entries: DeliveredBurst[] = [];
  const problems: string[] = [];
  for (const name of [ROTATED, DELIVERED_JOURNAL]) {
    const file = join(boxDir, name);
    if (!existsSync(file)) continue;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      problems.push(`${file}: unreadable (${errText(e)})`);
      continue;
    }
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        const d = JSON.parse(line) as DeliveredBurst;
        if (typeof d?.id !== 'string' || typeof d.member !== 'string') throw new Error('no id or member');
        entries.push(d);
      } catch (e) {
        problems.push(`${file} line ${i + 1}: not a delivered burst (${errText(e)}); ignored`);
      }
    });
  }
  return { entries, problems };
}

export class DeliveredJournal {
  private readonly file: string;

  /** Opens the journal of `boxDir`, cutting off a torn last line (a crash mid-append) so that the next line starts clean. */
  constructor(private readonly boxDir: string, private readonly findings: string[], private readonly write: WriteSyncFn = nodeWriteSync, private readonly maxBytes = JOURNAL_MAX_BYTES) {
    this.file = join(boxDir, DELIVERED_JOURNAL);
    if (!existsSync(this.file)) return;
    try {
      const buf = readFileSync(this.file);
      if (buf.length > 0 && buf[buf.length - 1] !== 0x0a) {
        const keep = buf.lastIndexOf(0x0a) + 1;
        truncateSync(this.file, keep);
        findings.push(`${this.file}: torn last line removed (${buf.length - keep} bytes at byte ${keep})`);
      }
    } catch (e) {
      findings.push(`${this.file}: cannot check its last line (${errText(e)})`);
    }
  }

  /** Ids of every burst the journal says was delivered. */
  ids(): Set<string> {
    const r = readJournal(this.boxDir);
    this.findings.push(...r.problems);
    return new Set(r.entries.map((e) => e.id));
  }

  /**
   * Appends one line; throws if it could not be written (the caller keeps
   * the burst then). Returns the fsync that makes it durable, running off
   * the event loop (a line lost to a power cut at worst plays its burst
   * once more: at least once, never lost).
   */
  append(d: DeliveredBurst): Promise<void> {
    let size = 0;
    try {
      size = statSync(this.file).size;
    } catch { /* no file yet */ }
    if (size > this.maxBytes) {
      renameSync(this.file, join(this.boxDir, ROTATED));
      size = 0;
    }
    const fd = openSync(this.file, 'a');
    try {
      writeAll(this.write, fd, Buffer.from(JSON.stringify(d) + '\n'), size);
    } catch (e) {
      // A torn line would glue the next one to it: cut it off now.
      try { truncateSync(this.file, size); } catch { /* the constructor does it at the next start */ }
      throw e;
    } finally {
      closeSync(fd);
    }
    return fsyncPathAsync(this.file);
  }
}
