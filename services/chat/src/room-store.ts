import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { StoredChatMessage } from './contract.ts';

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Content types kept as text: CPIM (which carries the text in the clear) and text/*. */
function textual(contentType: string): boolean {
  const t = contentType.split(';')[0]!.trim().toLowerCase();
  return t === 'message/cpim' || t.startsWith('text/');
}

/**
 * The chat server's store: one JSON line per message in `<dir>/<room>.jsonl`,
 * the body in the clear (text for CPIM and text/*, base64 otherwise) with its
 * SHA-256. This is what TR 33.828 4.4 says of a chat server: it reads (and
 * here keeps) everything; the run's store scan finds the plaintext here.
 * Bounded in bytes over every room (counted from what is on disk at open).
 */
export class RoomStore {
  private bytes = 0;

  private constructor(readonly dir: string, readonly maxBytes: number) {}

  static open(dir: string, maxBytes: number): RoomStore {
    mkdirSync(dir, { recursive: true });
    const s = new RoomStore(dir, maxBytes);
    for (const n of readdirSync(dir)) if (n.endsWith('.jsonl')) s.bytes += statSync(join(dir, n)).size;
    return s;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  /** The line for a message (text when the body is text that survives a UTF-8 round trip). */
  static line(room: string, sender: string, m: { messageId: string; contentType: string; body: Buffer }, time = new Date()): StoredChatMessage {
    const text = m.body.toString('utf8');
    const asText = textual(m.contentType) && Buffer.from(text, 'utf8').equals(m.body);
    return {
      time: time.toISOString(), room, sender, messageId: m.messageId, contentType: m.contentType,
      encoding: asText ? 'utf8' : 'base64', body: asText ? text : m.body.toString('base64'), bytes: m.body.length, sha256: sha256(m.body),
    };
  }

  /** Appends the message to its room's file; null (nothing written) when the store is full. */
  append(room: string, sender: string, m: { messageId: string; contentType: string; body: Buffer }): StoredChatMessage | null {
    if (!/^[a-z0-9-]+$/.test(room)) throw new Error(`bad room name ${JSON.stringify(room)}`);
    const rec = RoomStore.line(room, sender, m);
    const data = JSON.stringify(rec) + '\n';
    const size = Buffer.byteLength(data);
    if (this.bytes + size > this.maxBytes) return null;
    appendFileSync(join(this.dir, `${room}.jsonl`), data, { mode: 0o600 });
    this.bytes += size;
    return rec;
  }
}
