import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** One message kept for one offline member: the body exactly as it arrived, with what is needed to forward it later. */
export interface StoredMessageMeta {
  /** Entry id: `<message id>-<member user>` (file names `<entry>.json` and `<entry>.body`). */
  entry: string;
  messageId: string;
  group: string;
  member: string;
  sender: string;
  callId: string;
  receivedAt: string;
  contentType: string;
  contentDisposition: string | null;
  bodyBytes: number;
  bodySha256: string;
  storedAt: string;
  /** Set once forwarded to the member with a 2xx; the entry stays (the store scan sees it at rest) until room is needed. */
  deliveredAt?: string;
  deliveredBy?: 'member-activity' | 'retry-timer';
}

export interface StoredMessage extends StoredMessageMeta {
  body: Buffer;
}

export interface StoreLimits {
  maxMessages: number;
  maxBytes: number;
}

/** A message whose put() was interrupted (the process died): its meta, and how much of the body reached the disk. */
export interface PartialMessage extends StoredMessageMeta {
  keptBytes: number;
}

/** The write call for every file the store writes; a test replaces it to stop a process mid-write. */
export type WriteSyncFn = (fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null) => number;
export interface StoreOptions { writeSync?: WriteSyncFn }

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const ENTRY_RE = /^[A-Za-z0-9_-]{1,120}$/;
const TMP_RE = /^([A-Za-z0-9_-]{1,120})\.(json|body)\.tmp-[0-9a-f]{8}$/;

/**
 * The IM server's store for offline members: per message and member, the
 * body bytes as they arrived (`<entry>.body`, the sender's CMS: the server
 * cannot read it) and a JSON meta file (`<entry>.json`, replaced atomically).
 * The meta is written first, with the body's length and digest, then the
 * body: so a process killed at any point leaves either a temporary meta file
 * (nothing stored yet) or a meta that says what the body should be, and
 * open() reports the interrupted message by name with the bytes that reached
 * the disk (kept, not delivered: a torn CMS body is no message). Bounded in
 * messages and bytes; survives a restart (re-read on open; an entry whose
 * body differs from its digest is reported and left out).
 */
export class MessageStore {
  private readonly entries = new Map<string, StoredMessageMeta>();
  private readonly partials: PartialMessage[] = [];
  private readonly issues: string[] = [];
  private readonly write: WriteSyncFn;

  private constructor(readonly dir: string, readonly limits: StoreLimits, opts: StoreOptions) {
    this.write = opts.writeSync ?? ((fd, b, o, l, p) => writeSync(fd, b, o, l, p));
  }

  /** Opens (creating) the store and reports what a process killed mid-write left; throws only if `dir` cannot be created or listed. */
  static open(dir: string, limits: StoreLimits, opts: StoreOptions = {}): MessageStore {
    mkdirSync(dir, { recursive: true });
    const s = new MessageStore(dir, limits, opts);
    for (const n of readdirSync(dir).sort()) {
      const tmp = TMP_RE.exec(n);
      if (tmp || n.includes('.tmp-')) {
        // A meta replaced atomically never leaves a half file under its own name: drop the temporary one, say what it was.
        rmSync(join(dir, n), { force: true });
        const [, entry, kind] = tmp ?? [];
        s.issues.push(!tmp ? `${n}: stray temporary file removed`
          : kind === 'json' && existsSync(join(dir, `${entry}.json`)) ? `${entry}: an update of its meta was interrupted; the previous meta kept`
          : `${entry}: interrupted before it was stored (the process stopped while writing its ${kind === 'json' ? 'meta' : 'body'}); nothing kept`);
        continue;
      }
      if (!n.endsWith('.json')) continue;
      try {
        s.recover(n);
      } catch (e) {
        s.issues.push(`${n}: ${(e as Error).message}`);
      }
    }
    return s;
  }

  private recover(n: string): void {
    const entry = n.slice(0, -5);
    const meta = JSON.parse(readFileSync(join(this.dir, n), 'utf8')) as StoredMessageMeta;
    if (meta.entry !== entry || !ENTRY_RE.test(entry)) throw new Error('meta names another entry');
    let body: Buffer;
    try {
      body = readFileSync(join(this.dir, `${entry}.body`));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      body = Buffer.alloc(0);
    }
    if (body.length < meta.bodyBytes) {
      // put() wrote the meta, then died in the body: a partial message, kept as it is for inspection, never forwarded.
      this.partials.push({ ...meta, keptBytes: body.length });
      this.issues.push(`${n}: message ${meta.messageId} from ${meta.sender} for ${meta.member} is partial (interrupted while stored): ${body.length} of ${meta.bodyBytes} body bytes kept; not delivered`);
      return;
    }
    if (sha256(body) !== meta.bodySha256) throw new Error('body differs from its SHA-256');
    this.entries.set(entry, meta);
  }

  problems(): string[] {
    return [...this.issues];
  }

  /** Messages whose storing was interrupted, as found by open(): kept on disk, not delivered. */
  partial(): PartialMessage[] {
    return this.partials.map((p) => ({ ...p }));
  }

  /** Writes all of `data` at the start of a new file (`wx`: an entry is written once), then fsyncs it. */
  private writeFile(path: string, data: Uint8Array, flags = 'wx'): void {
    const fd = openSync(path, flags, 0o600);
    try {
      for (let done = 0; done < data.length;) {
        const n = this.write(fd, data, done, data.length - done, done);
        if (n <= 0) throw new Error(`${path}: write made no progress at byte ${done}`);
        done += n;
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Replaces a file atomically: a temporary file in the same directory, fsync, rename. */
  private writeAtomic(path: string, data: Uint8Array): void {
    const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      this.writeFile(tmp, data, 'w');
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    renameSync(tmp, path);
  }

  usage(): { pending: number; delivered: number; bytes: number } {
    let bytes = 0;
    let delivered = 0;
    for (const m of this.entries.values()) {
      bytes += m.bodyBytes;
      if (m.deliveredAt) delivered++;
    }
    return { pending: this.entries.size - delivered, delivered, bytes };
  }

  /** Makes room by dropping delivered entries, oldest first; false when only pending ones would have to go. */
  private makeRoom(bytes: number): boolean {
    const fits = () => {
      const u = this.usage();
      return u.pending + u.delivered + 1 <= this.limits.maxMessages && u.bytes + bytes <= this.limits.maxBytes;
    };
    const delivered = [...this.entries.values()].filter((m) => m.deliveredAt).sort((a, b) => a.deliveredAt!.localeCompare(b.deliveredAt!));
    while (!fits()) {
      const d = delivered.shift();
      if (!d) return false;
      this.remove(d.entry);
    }
    return true;
  }

  /** Keeps a message for a member; false when the store is full (nothing written). */
  put(meta: Omit<StoredMessageMeta, 'entry' | 'storedAt' | 'bodyBytes' | 'bodySha256'>, body: Buffer): StoredMessageMeta | null {
    if (!this.makeRoom(body.length)) return null;
    const entry = `${meta.messageId}-${meta.member.replace(/^sips?:/, '').replace(/@.*$/, '').replace(/[^A-Za-z0-9_-]/g, '_')}`;
    if (!ENTRY_RE.test(entry)) throw new Error(`bad store entry name ${entry}`);
    const full: StoredMessageMeta = { ...meta, entry, storedAt: new Date().toISOString(), bodyBytes: body.length, bodySha256: sha256(body) };
    // Meta first (it names the body's length and digest), then the body: see the class comment.
    this.writeAtomic(join(this.dir, `${entry}.json`), Buffer.from(JSON.stringify(full, null, 2) + '\n'));
    try {
      this.writeFile(join(this.dir, `${entry}.body`), body);
    } catch (e) {
      rmSync(join(this.dir, `${entry}.json`), { force: true }); // an entry without meta is no entry
      rmSync(join(this.dir, `${entry}.body`), { force: true });
      throw e;
    }
    this.entries.set(entry, full);
    return full;
  }

  /** Pending entries for a member (every member when omitted), oldest first. */
  pending(member?: string): StoredMessageMeta[] {
    return [...this.entries.values()].filter((m) => !m.deliveredAt && (member === undefined || m.member === member)).sort((a, b) => a.storedAt.localeCompare(b.storedAt) || a.entry.localeCompare(b.entry));
  }

  /** The entry with its body (read from disk: what is forwarded is what was stored). */
  load(entry: string): StoredMessage | null {
    const meta = this.entries.get(entry);
    if (!meta) return null;
    const body = readFileSync(join(this.dir, `${entry}.body`));
    if (sha256(body) !== meta.bodySha256) {
      this.issues.push(`${entry}.body changed on disk: left out`);
      this.entries.delete(entry);
      return null;
    }
    return { ...meta, body };
  }

  /** Records a delivery (the meta rewritten atomically; the body stays as it arrived). */
  markDelivered(entry: string, by: 'member-activity' | 'retry-timer'): StoredMessageMeta | null {
    const meta = this.entries.get(entry);
    if (!meta) return null;
    const done: StoredMessageMeta = { ...meta, deliveredAt: new Date().toISOString(), deliveredBy: by };
    this.writeAtomic(join(this.dir, `${entry}.json`), Buffer.from(JSON.stringify(done, null, 2) + '\n'));
    this.entries.set(entry, done);
    return done;
  }

  /** Removes an entry: the meta first (an entry without meta is no entry), then the body. */
  remove(entry: string): void {
    if (!this.entries.delete(entry)) return;
    rmSync(join(this.dir, `${entry}.json`), { force: true });
    rmSync(join(this.dir, `${entry}.body`), { force: true });
  }
}
