import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { PartialChatMessage, StoredChatMessage } from './contract.ts';

export type { PartialChatMessage };

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Content types kept as text: CPIM (which carries the text in the clear) and text/*. */
function textual(contentType: string): boolean {
  const t = contentType.split(';')[0]!.trim().toLowerCase();
  return t === 'message/cpim' || t.startsWith('text/');
}

/** The body bytes of a stored line. */
export const bodyOf = (m: StoredChatMessage): Buffer => Buffer.from(m.body, m.encoding === 'utf8' ? 'utf8' : 'base64');

/** What a room's file holds: its whole messages, in order, and what is wrong with the rest. */
export interface RoomScan {
  messages: StoredChatMessage[];
  partial: PartialChatMessage[];
  problems: string[];
  /** The file ends inside a line (no final newline): a write was cut short just now. */
  unterminated: boolean;
}

/** A string field of a torn JSON line, when the kept bytes reach its closing quote. */
function field(text: string, name: string): string | null {
  const at = text.indexOf(`"${name}":"`);
  const m = at < 0 ? null : /^(?:[^"\\]|\\.)*"/.exec(text.slice(at + name.length + 4));
  try {
    return m ? (JSON.parse(`"${m[0]}`) as string) : null;
  } catch {
    return null;
  }
}

/** Why a parsed line is not a whole stored message, or null. */
function badLine(o: unknown): string | null {
  if (typeof o !== 'object' || o === null) return 'not a JSON object';
  const r = o as Record<string, unknown>;
  for (const k of ['time', 'room', 'sender', 'messageId', 'contentType', 'body', 'sha256']) if (typeof r[k] !== 'string') return `field "${k}" missing`;
  if (r.encoding !== 'utf8' && r.encoding !== 'base64') return 'field "encoding" invalid';
  const body = bodyOf(r as unknown as StoredChatMessage);
  if (body.length !== r.bytes || sha256(body) !== r.sha256) return `message ${String(r.messageId)}: body differs from its length or SHA-256`;
  return null;
}

/** Reads a room's file line by line; never throws for what is in it. */
export function scanRoom(buf: Buffer, room: string): RoomScan {
  const out: RoomScan = { messages: [], partial: [], problems: [], unterminated: buf.length > 0 && buf[buf.length - 1] !== 0x0a };
  const lines = buf.toString('utf8').split('\n');
  if (!out.unterminated) lines.pop(); // the empty string after the last newline
  lines.forEach((text, i) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // A line cut short by a process stopped mid-append (sealed with a newline at the next open, see RoomStore.open).
      const p: PartialChatMessage = { room, line: i + 1, messageId: field(text, 'messageId'), sender: field(text, 'sender'), keptBytes: Buffer.byteLength(text) };
      out.partial.push(p);
      out.problems.push(`${room}.jsonl line ${p.line}: message ${p.messageId ?? '(id not kept)'} from ${p.sender ?? '(sender not kept)'} is partial (the server stopped while storing it): ${p.keptBytes} bytes of its line kept, the body incomplete`);
      return;
    }
    const bad = badLine(parsed);
    if (bad) out.problems.push(`${room}.jsonl line ${i + 1}: ${bad}; left out`);
    else out.messages.push(parsed as StoredChatMessage);
  });
  return out;
}

/** The write call for every append; a test replaces it to stop a process mid-write. */
export type WriteSyncFn = (fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null) => number;

/**
 * The chat server's store: one JSON line per message in `<dir>/<room>.jsonl`,
 * the body in the clear (text for CPIM and text/*, base64 otherwise) with its
 * SHA-256. This is what TR 33.828 4.4 says of a chat server: it reads (and
 * here keeps) everything; the run's store scan finds the plaintext here.
 * Bounded in bytes over every room (counted from what is on disk at open).
 *
 * Crash safety: a process killed mid-append leaves at most one unfinished
 * last line. open() reports it (problems(), partial()), keeps its bytes and
 * ends it with a newline, so that the next message starts a line of its own
 * instead of being glued to the torn one and lost with it.
 */
export class RoomStore {
  private bytes = 0;
  private readonly issues: string[] = [];
  private readonly partials: PartialChatMessage[] = [];
  private readonly write: WriteSyncFn;

  private constructor(readonly dir: string, readonly maxBytes: number, opts: { writeSync?: WriteSyncFn }) {
    this.write = opts.writeSync ?? ((fd, b, o, l, p) => writeSync(fd, b, o, l, p));
  }

  /** Opens (creating) the store and reports what a stopped process left; throws only if `dir` cannot be created or listed. */
  static open(dir: string, maxBytes: number, opts: { writeSync?: WriteSyncFn } = {}): RoomStore {
    mkdirSync(dir, { recursive: true });
    const s = new RoomStore(dir, maxBytes, opts);
    for (const n of readdirSync(dir).sort()) {
      if (!n.endsWith('.jsonl')) continue;
      try {
        const buf = readFileSync(join(dir, n));
        const scan = scanRoom(buf, n.slice(0, -'.jsonl'.length));
        s.bytes += buf.length;
        s.issues.push(...scan.problems);
        s.partials.push(...scan.partial);
        if (scan.unterminated) {
          s.appendRaw(join(dir, n), Buffer.from('\n'));
          s.bytes += 1;
        }
      } catch (e) {
        s.issues.push(`${n}: ${(e as Error).message}`);
      }
    }
    return s;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  /** What open() found: messages cut short, lines left out. */
  problems(): string[] {
    return [...this.issues];
  }

  /** Messages a stopped process left unfinished, as found by open(). */
  partial(): PartialChatMessage[] {
    return this.partials.map((p) => ({ ...p }));
  }

  /** The whole messages of a room, oldest first, as stored (read from disk). */
  messages(room: string): StoredChatMessage[] {
    let buf: Buffer;
    try {
      buf = readFileSync(join(this.dir, `${room}.jsonl`));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return scanRoom(buf, room).messages;
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
    const data = Buffer.from(JSON.stringify(rec) + '\n');
    if (this.bytes + data.length > this.maxBytes) return null;
    this.appendRaw(join(this.dir, `${room}.jsonl`), data);
    this.bytes += data.length;
    return rec;
  }

  private appendRaw(path: string, data: Uint8Array): void {
    const fd = openSync(path, 'a', 0o600);
    try {
      for (let done = 0; done < data.length;) {
        const n = this.write(fd, data, done, data.length - done, null);
        if (n <= 0) throw new Error(`${path}: write made no progress`);
        done += n;
      }
    } finally {
      closeSync(fd);
    }
  }
}
