/**
 * The PoC box: talk bursts kept for members who are not joined, exactly as
 * they arrived (the SRTP packets byte for byte with their arrival times;
 * e2e: under the group key, which the server never holds), until the member
 * joins and they are played to it; then removed. Layout in contract.ts.
 *
 * Durability, as the voicemail store (why the code looks the way it does):
 * - each packet is one positional writeSync of a whole record, so a crash
 *   leaves at most one torn record at the end of a burst's packets.bin;
 * - meta.json is only ever replaced atomically, and says `complete` only
 *   after packets.bin was fsynced; fsyncs run in the thread pool, never in
 *   the forwarding path (box-files.ts), and flush() waits for them;
 * - a new burst is assembled in a dot directory and renamed into place; a
 *   delivered one is written to the journal first, then renamed to a dot
 *   directory and removed: recovery (box-recover.ts) removes dot leftovers
 *   and bursts the journal names, so a crash leaves no half burst and never
 *   replays a delivered one;
 * - every burst is its own directory: damage to one never reaches another.
 * Bounds (BoxLimits) count packets.bin sizes, the bytes taken on disk.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BURST_META_FILE, BURST_PACKETS_FILE, DELIVERED_JOURNAL, type BoxLimits, type BurstMeta, type BurstSummary, type DeliveredBurst } from './contract.ts';
import { fsyncFdAsync, nodeWriteSync, quarantine, writeAll, writeFileWith, writeMetaAsync, type WriteSyncFn } from './box-files.ts';
import { DeliveredJournal } from './box-journal.ts';
import {
  BoxError, DEFAULT_BOX_LIMITS, DISK_FULL, ID_RE, KeyIdCounter, MAX_PAYLOAD, RECORD_HEADER, checkBurstMeta, encodeRecord, errCode, errText, memberDirName, packetsDigest, pickBurstMeta, scanRecords, sha256Hex,
  type BoxPacket, type KeyIdLayout,
} from './box-records.ts';
import { recoverBox, type Entry } from './box-recover.ts';

export interface BoxOptions {
  writeSync?: WriteSyncFn;
  /** Where each group's packets carry their MKI (recovery recounts key identifiers with it). */
  layoutOf?: (group: string) => KeyIdLayout | null;
}

/** A burst being recorded for one member. */
export interface BurstRecording {
  readonly id: string;
  /** Stores one packet; false once the recording stopped (a bound, a full disk) or finished. Never throws for those. */
  append(p: BoxPacket): boolean;
  /** Makes the burst durable and returns its final meta; idempotent. With `cut`, a burst not stopped yet is kept as partial, saying why. */
  finish(cut?: string): BurstMeta;
  /** Why appending stopped, or null. */
  readonly stopped: string | null;
}

export type BeginBurst = Pick<BurstMeta, 'group' | 'member' | 'talker' | 'mode' | 'protection'> & { layout: KeyIdLayout | null };

/** What a replay sent of a burst, for the journal. */
export interface Sent {
  callId: string;
  packets: Buffer[];
}

const memberKey = (group: string, member: string) => `${group}\n${member.toLowerCase()}`;

export class PocBox {
  private readonly entries = new Map<string, Entry>();
  private readonly findings: string[] = [];
  private readonly memberBytes = new Map<string, number>();
  private readonly groupBytesMap = new Map<string, number>();
  private readonly journal: DeliveredJournal;
  /** fsyncs and meta.json updates running in the thread pool. */
  private readonly io = new Set<Promise<void>>();
  private lastIdMs = 0;

  private constructor(readonly dir: string, readonly limits: BoxLimits, private readonly write: WriteSyncFn) {
    this.journal = new DeliveredJournal(dir, this.findings, write);
  }

  /** Opens (creating) the box and recovers what a previous process left. Throws only if `dir` cannot be created. */
  static open(dir: string, limits: Partial<BoxLimits> = {}, opts: BoxOptions = {}): PocBox {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new BoxError(DISK_FULL.has(errCode(e)) ? 'disk-full' : 'io', `cannot create the PoC box directory ${dir}: ${errText(e)}`);
    }
    const box = new PocBox(dir, { ...DEFAULT_BOX_LIMITS, ...limits }, opts.writeSync ?? nodeWriteSync);
    const delivered = box.journal.ids();
    for (const e of recoverBox({ box: dir, delivered, layoutOf: opts.layoutOf ?? (() => null), write: box.write, findings: box.findings })) box.add(e);
    return box;
  }

  /**
   * Starts a burst for one member. Throws BoxError `member-full` or
   * `group-full` when a bound is reached (nothing is written), `disk-full`
   * or `io` when the directory cannot be made.
   */
  begin(b: BeginBurst): BurstRecording {
    const mine = [...this.entries.values()].filter((e) => e.meta.group === b.group && e.meta.member.toLowerCase() === b.member.toLowerCase()).length;
    const mBytes = this.memberBytes.get(memberKey(b.group, b.member)) ?? 0;
    const gBytes = this.groupBytesMap.get(b.group) ?? 0;
    if (mine >= this.limits.maxBurstsPerMember) throw new BoxError('member-full', `${b.member}'s box in ${b.group} holds ${mine} bursts (bound ${this.limits.maxBurstsPerMember})`);
    if (mBytes >= this.limits.maxBytesPerMember) throw new BoxError('member-full', `${b.member}'s box in ${b.group} holds ${mBytes} bytes (bound ${this.limits.maxBytesPerMember})`);
    if (gBytes >= this.limits.maxBytesPerGroup) throw new BoxError('group-full', `the box of ${b.group} holds ${gBytes} bytes (bound ${this.limits.maxBytesPerGroup})`);
    const id = this.newId();
    const meta = pickBurstMeta({ group: b.group, member: b.member, talker: b.talker, mode: b.mode, protection: b.protection, id, startedAt: new Date().toISOString(), state: 'recording', packets: 0, bytes: 0, keyIds: [] });
    const bad = checkBurstMeta(meta);
    if (bad) throw new TypeError(`PocBox.begin: ${bad}`);

    const memberDir = join(this.dir, b.group, memberDirName(b.member));
    const tmpDir = join(memberDir, `.new-${id}`);
    const dir = join(memberDir, id);
    let fd: number | undefined;
    try {
      // No fsync here (the first packet of a burst is being forwarded): the dot directory makes it all-or-nothing for a process crash.
      mkdirSync(tmpDir, { recursive: true });
      writeFileWith(this.write, join(tmpDir, BURST_META_FILE), JSON.stringify(meta, null, 2) + '\n');
      fd = openSync(join(tmpDir, BURST_PACKETS_FILE), 'wx');
      renameSync(tmpDir, dir); // the open fd follows the directory
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      rmSync(tmpDir, { recursive: true, force: true });
      throw new BoxError(DISK_FULL.has(errCode(e)) ? 'disk-full' : 'io', `cannot create a burst in ${memberDir}: ${errText(e)}`);
    }
    const entry: Entry = { meta, dir, rel: join(b.group, memberDirName(b.member), id), fileBytes: 0, firstUs: null, lastUs: null, damage: null, live: { fd, stopped: null, keys: new KeyIdCounter(b.layout) } };
    this.entries.set(id, entry);
    return {
      id,
      get stopped() { return entry.live?.stopped ?? (entry.meta.state === 'partial' ? entry.meta.note ?? 'stopped' : null); },
      append: (p) => this.append(entry, p),
      finish: (cut) => {
        if (cut && entry.live && entry.live.stopped === null) entry.live.stopped = cut;
        return this.finish(entry);
      },
    };
  }

  /** Bursts waiting for a member in a group, oldest first (one being recorded included). */
  pending(group: string, member: string): BurstSummary[] {
    return [...this.entries.values()]
      .filter((e) => e.meta.group === group && e.meta.member.toLowerCase() === member.toLowerCase())
      .sort((a, b) => (a.meta.id < b.meta.id ? -1 : 1))
      .map((e) => this.view(e));
  }

  /** Members of a group with bursts waiting, and the bytes they take. */
  members(group: string): Array<{ member: string; bytes: number; bursts: BurstSummary[] }> {
    const out = new Map<string, { member: string; bytes: number; bursts: BurstSummary[] }>();
    for (const e of [...this.entries.values()].sort((a, b) => (a.meta.id < b.meta.id ? -1 : 1))) {
      if (e.meta.group !== group) continue;
      const k = e.meta.member.toLowerCase();
      const m = out.get(k) ?? { member: e.meta.member, bytes: 0, bursts: [] };
      m.bytes += e.fileBytes;
      m.bursts.push(this.view(e));
      out.set(k, m);
    }
    return [...out.values()];
  }

  groupBytes(group: string): number {
    return this.groupBytesMap.get(group) ?? 0;
  }

  /**
   * A finished burst's packets: every whole record (of a damaged file, those
   * before the damage, which `damage` names). Throws BoxError `not-found`,
   * or `io` for a burst still being recorded or a file that cannot be read.
   */
  read(id: string): { meta: BurstSummary; packets: BoxPacket[]; damage: string | null } {
    const e = this.find(id);
    if (e.live) throw new BoxError('io', `burst ${id} is still being recorded`);
    const file = join(e.dir, BURST_PACKETS_FILE);
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch (err) {
      throw new BoxError('io', `${file}: ${errText(err)}`);
    }
    const packets: BoxPacket[] = [];
    const s = scanRecords(buf, (p) => packets.push(p));
    const damage = e.damage ?? (s.issue ? `${file} damaged: ${s.issue.what} at byte ${s.issue.offset}; ${s.count} whole packets before it` : null);
    return { meta: this.view(e), packets, damage };
  }

  /**
   * A burst was played to its member: the journal says so first, then the
   * burst leaves the box (a damaged one goes to `.quarantine/`, kept for a
   * person). Throws BoxError when the journal cannot be written: the burst
   * stays and is played again at the next join (at least once, never lost).
   */
  delivered(id: string, sent: Sent, damage: string | null = null): DeliveredBurst {
    const e = this.find(id);
    if (e.live) throw new BoxError('io', `burst ${id} is still being recorded`);
    const m = e.meta;
    const note = [m.note, damage ?? e.damage].filter((x): x is string => !!x).join('; ');
    const d: DeliveredBurst = {
      id, group: m.group, member: m.member, talker: m.talker, callId: sent.callId, state: note || m.state === 'partial' ? 'partial' : 'complete',
      packets: sent.packets.length, bytes: sent.packets.reduce((a, p) => a + p.length, 0), durationMs: this.view(e).durationMs, keyIds: m.keyIds,
      firstPacket: sent.packets[0] ? sha256Hex(sent.packets[0]) : '', digest: packetsDigest(sent.packets), deliveredAt: new Date().toISOString(),
      ...(note ? { note } : {}),
    };
    try {
      this.track(this.journal.append(d).catch((err: unknown) => { this.findings.push(`${DELIVERED_JOURNAL}: not flushed to disk (${errText(err)})`); }));
    } catch (err) {
      throw new BoxError(DISK_FULL.has(errCode(err)) ? 'disk-full' : 'io', `burst ${id} delivered but not journaled (${errText(err)}): kept, played again at the next join`);
    }
    this.drop(e);
    if (damage ?? e.damage) {
      this.findings.push(quarantine(this.dir, e.dir, e.rel, `delivered with damage (${damage ?? e.damage})`));
      return d;
    }
    // Rename first: a crash mid-rmSync leaves a dot directory that recovery removes, never half a burst.
    const trash = join(e.dir, '..', `.del-${id}`);
    try {
      renameSync(e.dir, trash);
      rmSync(trash, { recursive: true, force: true });
    } catch (err) {
      this.findings.push(`${e.dir}: delivered, not removed (${errText(err)}); removed at the next start (the journal names it)`);
    }
    return d;
  }

  /** What recovery and later housekeeping found, for people. */
  problems(): string[] {
    return [...this.findings];
  }

  usage(): { bursts: number; bytes: number } {
    return { bursts: this.entries.size, bytes: [...this.groupBytesMap.values()].reduce((a, b) => a + b, 0) };
  }

  private append(entry: Entry, p: BoxPacket): boolean {
    const live = entry.live;
    if (!live || live.stopped !== null) return false;
    if (!Number.isSafeInteger(p.atUs) || p.atUs < 0) throw new TypeError(`append: bad atUs ${p.atUs}`);
    if (p.data.length > MAX_PAYLOAD) throw new TypeError(`append: payload of ${p.data.length} bytes is longer than any UDP payload`);
    const m = entry.meta;
    const size = RECORD_HEADER + p.data.length;
    const mBytes = this.memberBytes.get(memberKey(m.group, m.member)) ?? 0;
    const gBytes = this.groupBytesMap.get(m.group) ?? 0;
    const bound = entry.fileBytes + size > this.limits.maxBytesPerBurst ? `burst bound reached (${entry.fileBytes} of ${this.limits.maxBytesPerBurst} bytes)`
      : mBytes + size > this.limits.maxBytesPerMember ? `member bound reached (${mBytes} of ${this.limits.maxBytesPerMember} bytes in ${m.member}'s box)`
        : gBytes + size > this.limits.maxBytesPerGroup ? `group bound reached (${gBytes} of ${this.limits.maxBytesPerGroup} bytes in ${m.group}'s box)` : null;
    if (bound) return this.stop(entry, `${bound}: stopped after ${m.packets} packets`);
    try {
      writeAll(this.write, live.fd, encodeRecord(p), entry.fileBytes);
    } catch (e) {
      // Keep whole records only: cut the torn one off now (recovery or finish() would do it otherwise).
      try { ftruncateSync(live.fd, entry.fileBytes); } catch { /* finish() retries */ }
      return this.stop(entry, `${DISK_FULL.has(errCode(e)) ? 'disk full' : 'write error'} after ${m.packets} packets: ${errText(e)}`);
    }
    this.count(entry, size);
    entry.firstUs ??= p.atUs;
    entry.lastUs = p.atUs;
    live.keys.add(p.data);
    m.packets++;
    m.bytes += p.data.length;
    return true;
  }

  private stop(entry: Entry, reason: string): false {
    entry.live!.stopped = reason;
    entry.meta.note = reason;
    return false;
  }

  private finish(entry: Entry): BurstMeta {
    const live = entry.live;
    if (!live) return pickBurstMeta(entry.meta);
    entry.live = null;
    const m = entry.meta;
    m.keyIds = live.keys.list();
    if (live.keys.unlisted) m.keyIdsUnlisted = live.keys.unlisted;
    let stopped = live.stopped;
    try {
      ftruncateSync(live.fd, entry.fileBytes); // drops a torn record a failed append could not remove
    } catch (e) {
      stopped ??= `packets.bin not cut to its whole records: ${errText(e)}`;
    }
    m.state = stopped ? 'partial' : 'complete';
    if (stopped) m.note = stopped;
    this.track(this.persist(entry, live.fd, pickBurstMeta(m)));
    return pickBurstMeta(m);
  }

  /**
   * Makes a finished burst durable off the event loop: packets.bin fsynced,
   * then meta.json replaced. Until then meta.json on disk says `recording`,
   * which recovery turns into a partial burst with every whole packet: a
   * crash meanwhile loses nothing. A burst delivered meanwhile is left alone.
   */
  private async persist(entry: Entry, fd: number, meta: BurstMeta): Promise<void> {
    let failed: string | null = null;
    try {
      await fsyncFdAsync(fd);
    } catch (e) {
      failed = `packets.bin not flushed to disk (${errText(e)})`;
    } finally {
      try { closeSync(fd); } catch { /* nothing left to lose */ }
    }
    if (!failed && this.entries.get(meta.id) === entry) {
      try {
        await writeMetaAsync(this.write, entry.dir, meta);
      } catch (e) {
        failed = `meta.json not updated (${errText(e)})`;
      }
    }
    if (!failed || this.entries.get(meta.id) !== entry) return;
    // meta.json on disk still says 'recording': the next start recovers every packet as a partial burst.
    entry.meta.state = 'partial';
    entry.meta.note = `${entry.meta.note ? entry.meta.note + '; ' : ''}${failed}; recovered at the next start`;
    this.findings.push(`${entry.dir}: ${failed}`);
  }

  /** Waits for every fsync and meta.json update in flight (tests; the server before it exits). */
  async flush(): Promise<void> {
    while (this.io.size > 0) await Promise.all([...this.io]);
  }

  private track(p: Promise<void>): void {
    const q = p.finally(() => this.io.delete(q));
    this.io.add(q);
  }

  private add(e: Entry): void {
    this.entries.set(e.meta.id, e);
    this.count(e, e.fileBytes, false);
    this.lastIdMs = Math.max(this.lastIdMs, Number(e.meta.id.slice(0, 13)));
  }

  /** Adds `bytes` to the burst's, its member's and its group's usage. */
  private count(e: Entry, bytes: number, toFile = true): void {
    if (toFile) e.fileBytes += bytes;
    const k = memberKey(e.meta.group, e.meta.member);
    this.memberBytes.set(k, (this.memberBytes.get(k) ?? 0) + bytes);
    this.groupBytesMap.set(e.meta.group, (this.groupBytesMap.get(e.meta.group) ?? 0) + bytes);
  }

  private drop(e: Entry): void {
    this.entries.delete(e.meta.id);
    const k = memberKey(e.meta.group, e.meta.member);
    this.memberBytes.set(k, (this.memberBytes.get(k) ?? 0) - e.fileBytes);
    this.groupBytesMap.set(e.meta.group, (this.groupBytesMap.get(e.meta.group) ?? 0) - e.fileBytes);
  }

  private newId(): string {
    // Strictly increasing within the process, so ids sort in recording order even within one millisecond.
    const ms = Math.max(Date.now(), this.lastIdMs + 1);
    this.lastIdMs = ms;
    return `${String(ms).padStart(13, '0')}-${randomBytes(4).toString('hex')}`;
  }

  private find(id: string): Entry {
    const e = ID_RE.test(id) ? this.entries.get(id) : undefined;
    if (!e) throw new BoxError('not-found', `no burst ${JSON.stringify(id)} in the box`);
    return e;
  }

  private view(e: Entry): BurstSummary {
    const v: BurstSummary = { ...pickBurstMeta(e.meta), durationMs: e.firstUs !== null && e.lastUs !== null ? Math.round((e.lastUs - e.firstUs) / 1000) : 0 };
    if (e.live) {
      v.keyIds = e.live.keys.list();
      if (e.live.keys.unlisted) v.keyIdsUnlisted = e.live.keys.unlisted;
    }
    if (e.damage) v.note = v.note ? `${v.note}; ${e.damage}` : e.damage;
    return v;
  }
}

