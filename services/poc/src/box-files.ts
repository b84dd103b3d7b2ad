/**
 * The file operations the PoC box makes durable (box.ts, box-recover.ts):
 * a directory rename synced, meta.json replaced atomically, and a burst
 * moved out of the way into `.quarantine/` for a person to look at.
 *
 * While the server forwards bursts, an fsync (milliseconds, more under
 * load) must not stop the event loop: the live copies to the joined members
 * would stall behind it. So the box's writes while running are plain
 * writes (they reach the page cache, which outlives a crash of the
 * process), and its fsyncs run in libuv's thread pool (the *Async
 * functions); only recovery at start-up syncs in line.
 */
import { close, closeSync, existsSync, fsync, fsyncSync, mkdirSync, open, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BURST_META_FILE, type BurstMeta } from './contract.ts';
import { errText } from './box-records.ts';

/** The write call the box uses for every file it writes; tests replace it to simulate a full disk. */
export type WriteSyncFn = (fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null) => number;
export const nodeWriteSync: WriteSyncFn = (fd, b, o, l, p) => writeSync(fd, b, o, l, p);

/** Makes a rename durable; not every platform can fsync a directory, and the rename is atomic anyway. */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch { /* best effort */ } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const openAsync = promisify(open);
const fsyncAsync = promisify(fsync);
const closeAsync = promisify(close);

/** fsync of an open file, off the event loop. */
export const fsyncFdAsync = (fd: number): Promise<void> => fsyncAsync(fd);

/** fsync of a file or directory by path, off the event loop. */
export async function fsyncPathAsync(path: string): Promise<void> {
  const fd = await openAsync(path, 'r');
  try {
    await fsyncAsync(fd);
  } finally {
    await closeAsync(fd);
  }
}

/** Writes all of `buf` at `position`, or throws (a write that makes no progress is an error, not a loop). */
export function writeAll(write: WriteSyncFn, fd: number, buf: Uint8Array, position: number): void {
  for (let done = 0; done < buf.length;) {
    const n = write(fd, buf, done, buf.length - done, position + done);
    if (n <= 0) throw new Error(`write made no progress at byte ${position + done}`);
    done += n;
  }
}

/** Replaces `<dir>/meta.json` atomically: readers see the old or the new file, never a mix. */
export function writeMeta(write: WriteSyncFn, dir: string, meta: BurstMeta): void {
  const tmp = join(dir, `${BURST_META_FILE}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeAll(write, fd, Buffer.from(JSON.stringify(meta, null, 2) + '\n'), 0);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, join(dir, BURST_META_FILE));
  syncDir(dir);
}

/** Writes a whole small file (no fsync: the caller makes it durable later, or it is not visible yet). */
export function writeFileWith(write: WriteSyncFn, path: string, content: string): void {
  const fd = openSync(path, 'w');
  try {
    writeAll(write, fd, Buffer.from(content), 0);
  } finally {
    closeSync(fd);
  }
}

/**
 * {@link writeMeta} without stopping the event loop: the new meta.json is
 * written, fsynced in the thread pool, renamed over the old one, and the
 * directory synced. Throws (rejects) when any step fails; the old meta.json
 * is then intact.
 */
export async function writeMetaAsync(write: WriteSyncFn, dir: string, meta: BurstMeta): Promise<void> {
  const tmp = join(dir, `${BURST_META_FILE}.tmp`);
  writeFileWith(write, tmp, JSON.stringify(meta, null, 2) + '\n');
  try {
    await fsyncPathAsync(tmp);
    renameSync(tmp, join(dir, BURST_META_FILE));
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  await fsyncPathAsync(dir).catch(() => undefined); // best effort, as syncDir
}

/**
 * Moves a burst directory to `<box>/.quarantine/<rel>` (a free name), kept
 * for inspection and no longer counted against the bounds. Returns what
 * happened, for the box's findings; never throws.
 */
export function quarantine(box: string, dir: string, rel: string, why: string): string {
  try {
    let target = join(box, '.quarantine', rel);
    mkdirSync(join(target, '..'), { recursive: true });
    for (let i = 1; existsSync(target); i++) target = join(box, '.quarantine', `${rel}.${i}`);
    renameSync(dir, target);
    return `${dir}: ${why}; moved to ${target}`;
  } catch (e) {
    return `${dir}: ${why}; could not move it to quarantine (${errText(e)}), left in place and ignored`;
  }
}
