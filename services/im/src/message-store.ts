import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
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

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Writes a file atomically: a temporary file in the same directory, fsync, rename. */
function writeAtomic(path: string, data: Uint8Array): void {
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

const ENTRY_RE = /^[A-Za-z0-9_-]{1,120}$/;

/**
 * The IM server's store for offline members: per message and member, the
 * body bytes as they arrived (`<entry>.body`, the sender's CMS: the server
 * cannot read it) and a JSON meta file (`<entry>.json`), each written
 * atomically; the body first, so a meta file always names a complete body.
 * Bounded in messages and bytes; survives a restart (re-read on open; an
 * entry whose body is missing or differs from its digest is reported and
 * left out).
 */
export class MessageStore {
  private readonly entries = new Map<string, StoredMessageMeta>();
  private readonly issues: string[] = [];

  private constructor(readonly dir: string, readonly limits: StoreLimits) {}

  static open(dir: string, limits: StoreLimits): MessageStore {
    mkdirSync(dir, { recursive: true });
    const s = new MessageStore(dir, limits);
    for (const n of readdirSync(dir).sort()) {
      if (n.includes('.tmp-')) {
        rmSync(join(dir, n), { force: true });
        continue;
      }
      if (!n.endsWith('.json')) continue;
      const entry = n.slice(0, -5);
      try {
        const meta = JSON.parse(readFileSync(join(dir, n), 'utf8')) as StoredMessageMeta;
        if (meta.entry !== entry || !ENTRY_RE.test(entry)) throw new Error('meta names another entry');
        const body = readFileSync(join(dir, `${entry}.body`));
        if (sha256(body) !== meta.bodySha256) throw new Error('body differs from its SHA-256');
        s.entries.set(entry, meta);
      } catch (e) {
        s.issues.push(`${n}: ${(e as Error).message}`);
      }
    }
    return s;
  }

  problems(): string[] {
    return [...this.issues];
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
    writeAtomic(join(this.dir, `${entry}.body`), body);
    writeAtomic(join(this.dir, `${entry}.json`), Buffer.from(JSON.stringify(full, null, 2) + '\n'));
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
    writeAtomic(join(this.dir, `${entry}.json`), Buffer.from(JSON.stringify(done, null, 2) + '\n'));
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
