/**
 * The voicemail application server's persistent message store.
 *
 * A deposited message is kept exactly as it arrived, so that the runner can
 * later prove from the stored bytes whether media was protected: the UDP
 * payloads of the SRTP/RTP packets with their arrival times, the SDP offer
 * and answer, and the key-management data (a=key-mgmt, MIKEY) as received.
 *
 * Layout: `<dir>/<mailbox>/<id>/meta.json` and `.../packets.bin`, where
 * packets.bin is a sequence of records `u32 BE length | u64 BE atUs | payload`.
 *
 * Durability rules (why the code looks the way it does):
 * - each append is one positional writeSync of a whole record, so a crash
 *   leaves at most one torn record at the end of the file;
 * - meta.json is only ever replaced atomically (tmp file, fsync, rename), and
 *   says 'complete' only after packets.bin was fsynced;
 * - a new message is assembled in a dot directory and renamed into place, a
 *   deleted one is renamed to a dot directory first: open() removes dot
 *   leftovers, so a crash in begin() or delete() leaves no half message;
 * - recovery in open() never throws and never touches a message other than
 *   the one it is looking at: unreadable ones go to `<dir>/.quarantine/`.
 * Limits count packets.bin sizes (payload plus 12-byte record headers), the
 * bytes actually taken on disk; meta.bytes counts payload bytes only.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync,
  readdirSync, renameSync, rmSync, truncateSync, writeFileSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import {
  type StoredPacket, type MessageMeta, type StoreLimits, DEFAULT_LIMITS, StoreError, type Recording, type WriteSyncFn, type StoreOptions, MAILBOX_RE, ID_RE, RECORD_HEADER, MAX_PAYLOAD, DISK_FULL, encodeRecord, scanRecords, checkMeta, pickMeta, errText, errCode,
} from './store-records.ts';
import { META_FILE, PACKETS_FILE } from './contract.ts';
export { DEFAULT_LIMITS, MAILBOX_RE, RECORD_HEADER, StoreError, encodeRecord, type MessageMeta, type Recording, type StoreErrorCode, type StoreLimits, type StoreOptions, type StoredPacket, type WriteSyncFn } from './store-records.ts';

/** Makes a rename durable; not every platform can fsync a directory, and the rename is atomic anyway. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch { /* best effort */ } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

interface Entry {
  meta: MessageMeta;
  /** The message directory. */
  dir: string;
  /** Size of packets.bin: what the limits count. */
  fileBytes: number;
  /** Finding of the scan in open(); read() throws for it, list() shows it in the note. */
  corrupt: string | null;
  /** Set while this process records the message. */
  live: { fd: number; stopped: string | null } | null;
}

export class VoicemailStore {
  private readonly entries = new Map<string, Entry>();
  private readonly findings: string[] = [];
  private totalBytes = 0;
  private lastIdMs = 0;
  private readonly write: WriteSyncFn;

  private constructor(readonly dir: string, readonly limits: StoreLimits, opts: StoreOptions) {
    this.write = opts.writeSync ?? ((fd, b, o, l, p) => writeSync(fd, b, o, l, p));
  }

  /** Opens (creating) the store and recovers what a previous process left. Throws only if `dir` cannot be created. */
  static open(dir: string, limits: Partial<StoreLimits> = {}, opts: StoreOptions = {}): VoicemailStore {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new StoreError(DISK_FULL.has(errCode(e)) ? 'disk-full' : 'io', `cannot create store directory ${dir}: ${errText(e)}`);
    }
    const store = new VoicemailStore(dir, { ...DEFAULT_LIMITS, ...limits }, opts);
    store.recover();
    return store;
  }

  begin(m: Omit<MessageMeta, 'id' | 'depositedAt' | 'state' | 'packets' | 'bytes' | 'note'>): Recording {
    if (typeof m.mailbox !== 'string' || !MAILBOX_RE.test(m.mailbox)) {
      throw new StoreError('bad-mailbox', `bad mailbox name ${JSON.stringify(m.mailbox)}: must match ${MAILBOX_RE}`);
    }
    const inBox = [...this.entries.values()].filter((e) => e.meta.mailbox === m.mailbox).length;
    if (inBox >= this.limits.maxMessagesPerMailbox) {
      throw new StoreError('mailbox-full', `mailbox ${m.mailbox} holds ${inBox} messages (limit ${this.limits.maxMessagesPerMailbox})`);
    }
    if (this.totalBytes >= this.limits.maxTotalBytes) {
      throw new StoreError('store-full', `store holds ${this.totalBytes} bytes (limit ${this.limits.maxTotalBytes})`);
    }
    const id = this.newId();
    const meta = pickMeta({ ...m, id, depositedAt: new Date().toISOString(), state: 'recording', packets: 0, bytes: 0 });
    const bad = checkMeta(meta);
    if (bad) throw new TypeError(`VoicemailStore.begin: ${bad}`);

    const boxDir = join(this.dir, m.mailbox);
    const tmpDir = join(boxDir, `.new-${id}`);
    const dir = join(boxDir, id);
    let fd: number | undefined;
    try {
      mkdirSync(tmpDir, { recursive: true });
      this.writeMeta(tmpDir, meta);
      fd = openSync(join(tmpDir, PACKETS_FILE), 'wx');
      renameSync(tmpDir, dir); // the open fd follows the directory
      syncDir(boxDir);
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      rmSync(tmpDir, { recursive: true, force: true });
      throw new StoreError(DISK_FULL.has(errCode(e)) ? 'disk-full' : 'io', `cannot create message in ${boxDir}: ${errText(e)}`);
    }
    const entry: Entry = { meta, dir, fileBytes: 0, corrupt: null, live: { fd, stopped: null } };
    this.entries.set(id, entry);
    return {
      id,
      get stopped() { return entry.live?.stopped ?? (entry.meta.state === 'partial' ? entry.meta.note ?? 'stopped' : null); },
      append: (p) => this.append(entry, p),
      finish: () => this.finish(entry),
    };
  }

  /** Messages of a mailbox, oldest first, recordings in progress included (state 'recording'). */
  list(mailbox: string): MessageMeta[] {
    if (!MAILBOX_RE.test(mailbox)) throw new StoreError('bad-mailbox', `bad mailbox name ${JSON.stringify(mailbox)}`);
    return [...this.entries.values()]
      .filter((e) => e.meta.mailbox === mailbox)
      .sort((a, b) => (a.meta.id < b.meta.id ? -1 : 1))
      .map((e) => this.view(e));
  }

  read(id: string): { meta: MessageMeta; packets: StoredPacket[] } {
    const e = this.find(id);
    const file = join(e.dir, PACKETS_FILE);
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch (err) {
      throw new StoreError(errCode(err) === 'ENOENT' ? 'corrupt' : 'io', `${file}: ${errText(err)}`);
    }
    return this.parsed(e, file, buf);
  }

  /** {@link read} without blocking the event loop while the file is read (a long message is megabytes). */
  async readAsync(id: string): Promise<{ meta: MessageMeta; packets: StoredPacket[] }> {
    const e = this.find(id);
    const file = join(e.dir, PACKETS_FILE);
    let buf: Buffer;
    try {
      buf = await readFile(file);
    } catch (err) {
      throw new StoreError(errCode(err) === 'ENOENT' ? 'corrupt' : 'io', `${file}: ${errText(err)}`);
    }
    return this.parsed(e, file, buf);
  }

  private parsed(e: Entry, file: string, buf: Buffer): { meta: MessageMeta; packets: StoredPacket[] } {
    const packets: StoredPacket[] = [];
    const s = scanRecords(buf, (p) => packets.push(p));
    if (s.issue) throw new StoreError('corrupt', `${file}: ${s.issue.what} at byte ${s.issue.offset}`);
    if (s.count !== e.meta.packets || s.bytes !== e.meta.bytes) {
      throw new StoreError('corrupt', `${file}: holds ${s.count} packets (${s.bytes} payload bytes) but meta.json says ${e.meta.packets} (${e.meta.bytes})`);
    }
    return { meta: this.view(e), packets };
  }

  delete(id: string): void {
    const e = this.find(id);
    if (e.live) throw new StoreError('io', `message ${id} is still being recorded`);
    // Rename first: a crash mid-rmSync leaves a dot directory that open() removes, never half a message.
    const trash = join(this.dir, e.meta.mailbox, `.del-${id}`);
    try {
      renameSync(e.dir, trash);
    } catch (err) {
      throw new StoreError('io', `cannot delete ${e.dir}: ${errText(err)}`);
    }
    this.entries.delete(id);
    this.totalBytes -= e.fileBytes;
    try {
      rmSync(trash, { recursive: true, force: true });
    } catch (err) {
      this.findings.push(`${trash}: not removed (${errText(err)}); removed at the next open`);
    }
  }

  /** Findings of recovery and later housekeeping, for humans. */
  problems(): string[] {
    return [...this.findings];
  }

  /** Messages (recordings included) and the bytes their packets.bin files take. */
  usage(): { messages: number; bytes: number } {
    return { messages: this.entries.size, bytes: this.totalBytes };
  }

  private append(entry: Entry, p: StoredPacket): boolean {
    const live = entry.live;
    if (!live || live.stopped !== null) return false;
    if (!Number.isSafeInteger(p.atUs) || p.atUs < 0) throw new TypeError(`append: bad atUs ${p.atUs}`);
    if (p.data.length > MAX_PAYLOAD) throw new TypeError(`append: payload of ${p.data.length} bytes is longer than any UDP payload`);
    const m = entry.meta;
    const size = RECORD_HEADER + p.data.length;
    if (entry.fileBytes + size > this.limits.maxBytesPerMessage) {
      return this.stop(entry, `message size limit reached after ${m.packets} packets (${entry.fileBytes} of ${this.limits.maxBytesPerMessage} bytes)`);
    }
    if (this.totalBytes + size > this.limits.maxTotalBytes) {
      return this.stop(entry, `store full: stopped after ${m.packets} packets (${this.totalBytes} of ${this.limits.maxTotalBytes} bytes in use)`);
    }
    try {
      this.writeAll(live.fd, encodeRecord(p), entry.fileBytes);
    } catch (e) {
      // Keep whole records only: cut the torn one off now (recovery or finish() would do it otherwise).
      try { ftruncateSync(live.fd, entry.fileBytes); } catch { /* finish() retries */ }
      const what = DISK_FULL.has(errCode(e)) ? 'disk full' : 'write error';
      return this.stop(entry, `${what} after ${m.packets} packets: ${errText(e)}`);
    }
    entry.fileBytes += size;
    this.totalBytes += size;
    m.packets++;
    m.bytes += p.data.length;
    return true;
  }

  private stop(entry: Entry, reason: string): false {
    entry.live!.stopped = reason;
    entry.meta.note = reason;
    return false;
  }

  private finish(entry: Entry): MessageMeta {
    const live = entry.live;
    if (!live) return this.view(entry);
    entry.live = null;
    const m = entry.meta;
    let stopped = live.stopped;
    try {
      ftruncateSync(live.fd, entry.fileBytes); // drops a torn record a failed append could not remove
      fsyncSync(live.fd); // before meta says complete
    } catch (e) {
      stopped ??= `packets.bin not flushed to disk: ${errText(e)}`;
    }
    try { closeSync(live.fd); } catch { /* nothing left to lose */ }
    m.state = stopped ? 'partial' : 'complete';
    if (stopped) m.note = stopped;
    try {
      this.writeMeta(entry.dir, m);
    } catch (e) {
      // meta.json on disk still says 'recording': the next open() recovers every packet as a partial message.
      m.state = 'partial';
      m.note = `${m.note ? m.note + '; ' : ''}meta.json not updated (${errText(e)}); recovered at the next start`;
    }
    return this.view(entry);
  }

  private writeAll(fd: number, buf: Uint8Array, position: number): void {
    for (let done = 0; done < buf.length;) {
      const n = this.write(fd, buf, done, buf.length - done, position + done);
      if (n <= 0) throw new Error(`write made no progress at byte ${position + done}`);
      done += n;
    }
  }

  /** Replaces `<dir>/meta.json` atomically: readers see the old or the new file, never a mix. */
  private writeMeta(dir: string, meta: MessageMeta): void {
    const tmp = join(dir, `${META_FILE}.tmp`);
    const fd = openSync(tmp, 'w');
    try {
      this.writeAll(fd, Buffer.from(JSON.stringify(meta, null, 2) + '\n'), 0);
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
    closeSync(fd);
    renameSync(tmp, join(dir, META_FILE));
    syncDir(dir);
  }

  private newId(): string {
    // Strictly increasing within the process, so ids sort in deposit order even within one millisecond.
    const ms = Math.max(Date.now(), this.lastIdMs + 1);
    this.lastIdMs = ms;
    return `${String(ms).padStart(13, '0')}-${randomBytes(4).toString('hex')}`;
  }

  private find(id: string): Entry {
    const e = ID_RE.test(id) ? this.entries.get(id) : undefined;
    if (!e) throw new StoreError('not-found', `no message ${JSON.stringify(id)}`);
    return e;
  }

  private view(e: Entry): MessageMeta {
    const v = pickMeta(e.meta);
    if (e.corrupt) v.note = v.note ? `${v.note}; ${e.corrupt}` : e.corrupt;
    return v;
  }

  private recover(): void {
    let boxes;
    try {
      boxes = readdirSync(this.dir, { withFileTypes: true });
    } catch (e) {
      this.findings.push(`${this.dir}: cannot list (${errText(e)})`);
      return;
    }
    for (const box of boxes) {
      if (box.name.startsWith('.')) continue; // .quarantine and the like
      const boxDir = join(this.dir, box.name);
      if (!box.isDirectory() || !MAILBOX_RE.test(box.name)) {
        this.findings.push(`${boxDir}: not a mailbox directory; ignored`);
        continue;
      }
      let msgs;
      try {
        msgs = readdirSync(boxDir, { withFileTypes: true });
      } catch (e) {
        this.findings.push(`${boxDir}: cannot list (${errText(e)}); mailbox ignored`);
        continue;
      }
      for (const msg of msgs) {
        const path = join(boxDir, msg.name);
        try {
          if (msg.name.startsWith('.new-') || msg.name.startsWith('.del-')) {
            rmSync(path, { recursive: true, force: true });
            this.findings.push(`${path}: removed (${msg.name.startsWith('.new-') ? 'a deposit interrupted before any packet' : 'an interrupted delete'})`);
          } else if (!msg.isDirectory()) {
            this.findings.push(`${path}: not a message directory; ignored`);
          } else {
            this.recoverMessage(box.name, msg.name, path);
          }
        } catch (e) {
          this.findings.push(`${path}: ${errText(e)}; ignored`);
        }
      }
    }
    for (const e of this.entries.values()) this.lastIdMs = Math.max(this.lastIdMs, Number(e.meta.id.slice(0, 13)));
  }

  private recoverMessage(mailbox: string, name: string, dir: string): void {
    const metaPath = join(dir, META_FILE);
    let raw: string;
    try {
      raw = readFileSync(metaPath, 'utf8');
    } catch (e) {
      return this.quarantine(dir, mailbox, name, `meta.json unreadable (${errText(e)})`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      return this.quarantine(dir, mailbox, name, `meta.json is not valid JSON (${errText(e)})`);
    }
    const bad = checkMeta(parsed) ?? (!ID_RE.test(name) ? 'directory name is not a message id'
      : (parsed as MessageMeta).id !== name ? `meta.json id ${JSON.stringify((parsed as MessageMeta).id)} differs from the directory name`
      : (parsed as MessageMeta).mailbox !== mailbox ? `meta.json mailbox ${JSON.stringify((parsed as MessageMeta).mailbox)} differs from the directory` : null);
    if (bad) return this.quarantine(dir, mailbox, name, `meta.json: ${bad}`);
    const meta = pickMeta(parsed as MessageMeta);
    rmSync(join(dir, `${META_FILE}.tmp`), { force: true }); // an interrupted meta write; meta.json itself is intact

    const file = join(dir, PACKETS_FILE);
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch (e) {
      if (errCode(e) !== 'ENOENT') throw e;
      buf = Buffer.alloc(0);
      if (meta.state === 'recording') writeFileSync(file, buf);
      else return this.add(meta, dir, 0, `${file} missing`);
    }
    const s = scanRecords(buf);

    if (meta.state !== 'recording') {
      const corrupt = s.issue ? `${file} corrupt: ${s.issue.what} at byte ${s.issue.offset}`
        : s.count !== meta.packets || s.bytes !== meta.bytes ? `${file} corrupt: holds ${s.count} packets but meta.json says ${meta.packets}` : null;
      if (corrupt) this.findings.push(corrupt);
      return this.add(meta, dir, buf.length, corrupt);
    }

    // Interrupted mid-recording: keep every whole record, drop a torn last write.
    let size = buf.length, corrupt: string | null = null;
    const extra: string[] = [];
    if (s.issue?.tail) {
      truncateSync(file, s.end);
      size = s.end;
      extra.push(`torn last record removed (${buf.length - s.end} bytes at byte ${s.end})`);
    } else if (s.issue) {
      corrupt = `${file} corrupt: ${s.issue.what} at byte ${s.issue.offset}`;
      extra.push(corrupt);
    }
    meta.state = 'partial';
    meta.packets = s.count;
    meta.bytes = s.bytes;
    meta.note = [`recording interrupted before it finished (process stopped); ${s.count} packets recovered`, ...extra].join('; ');
    try {
      this.writeMeta(dir, meta);
    } catch (e) {
      extra.push(`meta.json not updated (${errText(e)}); recovered again at the next start`);
    }
    this.findings.push(`${dir}: interrupted recording recovered as partial, ${s.count} packets${extra.length ? '; ' + extra.join('; ') : ''}`);
    this.add(meta, dir, size, corrupt);
  }

  private add(meta: MessageMeta, dir: string, fileBytes: number, corrupt: string | null): void {
    this.entries.set(meta.id, { meta, dir, fileBytes, corrupt, live: null });
    this.totalBytes += fileBytes;
  }

  /** Moves an unreadable message out of the way (kept for inspection, not counted against limits). */
  private quarantine(dir: string, mailbox: string, name: string, why: string): void {
    try {
      const qbox = join(this.dir, '.quarantine', mailbox);
      mkdirSync(qbox, { recursive: true });
      let target = join(qbox, name);
      for (let i = 1; existsSync(target); i++) target = join(qbox, `${name}.${i}`);
      renameSync(dir, target);
      this.findings.push(`${dir}: ${why}; moved to ${target}`);
    } catch (e) {
      this.findings.push(`${dir}: ${why}; could not move it to quarantine (${errText(e)}), ignored`);
    }
  }
}
