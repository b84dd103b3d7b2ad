/**
 * The voicemail store keeps messages byte for byte across restarts, stays
 * within its limits, and never loses earlier messages or packets on a full
 * disk, a malformed stored file or a crash mid-recording.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  RECORD_HEADER, StoreError, VoicemailStore, encodeRecord,
  type MessageMeta, type StoredPacket, type WriteSyncFn,
} from '../src/store.ts';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'vm-store-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000_000_000;
const deposit = (mailbox = 'bob', protection: 'srtp' | 'rtp' = 'srtp') => ({
  mailbox,
  from: 'sip:alice@ims.test',
  callId: `call-${randomBytes(4).toString('hex')}`,
  sdpOffer: 'v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\nm=audio 4000 RTP/SAVP 0\r\n',
  sdpAnswer: 'v=0\r\no=vm 2 2 IN IP4 127.0.0.2\r\nm=audio 5000 RTP/SAVP 0\r\n',
  keyMgmt: protection === 'srtp' ? `mikey ${randomBytes(60).toString('base64')}` : null,
  protection,
});
const pkt = (i: number, len: number): StoredPacket => ({ atUs: T0 + i * 20_000, data: randomBytes(len) });

/** Records `packets` and finishes; returns the final meta. */
function record(store: VoicemailStore, packets: StoredPacket[], mailbox = 'bob'): MessageMeta {
  const rec = store.begin(deposit(mailbox));
  for (const p of packets) expect(rec.append(p)).toBe(true);
  return rec.finish();
}

function storeError(f: () => unknown): StoreError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(StoreError);
    return e as StoreError;
  }
  throw new Error('no StoreError thrown');
}

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

describe('VoicemailStore', () => {
  it('round-trips messages byte for byte across a restart', () => {
    const store = VoicemailStore.open(dir);
    const a = [pkt(0, 0), pkt(1, 1), ...Array.from({ length: 200 }, (_, i) => pkt(i + 2, 1 + Math.floor(Math.random() * 1500))), pkt(300, 1500)];
    const b = Array.from({ length: 50 }, (_, i) => pkt(i, 172));
    const recA = store.begin(deposit('bob', 'srtp'));
    expect(store.list('bob').map((m) => m.state)).toEqual(['recording']);
    for (const p of a) expect(recA.append(p)).toBe(true);
    const metaA = recA.finish();
    expect(recA.finish()).toEqual(metaA); // idempotent
    expect(recA.append(pkt(999, 10))).toBe(false); // finished
    const metaB = record(store, b, 'bob');
    expect(metaA).toMatchObject({ state: 'complete', packets: a.length, bytes: a.reduce((n, p) => n + p.data.length, 0), protection: 'srtp' });
    expect(metaA.note).toBeUndefined();
    expect(recA.stopped).toBeNull();
    expect(metaA.id < metaB.id).toBe(true);
    expect(metaA.id).toMatch(/^\d{13}-[0-9a-f]{8}$/);

    const again = VoicemailStore.open(dir);
    expect(again.problems()).toEqual([]);
    expect(again.list('bob')).toEqual([metaA, metaB]);
    const readA = again.read(metaA.id);
    expect(readA.meta).toEqual(metaA);
    expect(readA.packets.length).toBe(a.length);
    readA.packets.forEach((p, i) => {
      expect(p.atUs).toBe(a[i]!.atUs);
      expect(p.data.equals(a[i]!.data)).toBe(true);
    });
    expect(again.read(metaB.id).packets.map((p) => p.data.toString('hex'))).toEqual(b.map((p) => p.data.toString('hex')));
    const fileA = join(dir, 'bob', metaA.id, 'packets.bin');
    expect(statSync(fileA).size).toBe(metaA.bytes + RECORD_HEADER * a.length);
    expect(again.usage()).toEqual({ messages: 2, bytes: statSync(fileA).size + 50 * (172 + RECORD_HEADER) });
    const onDisk = JSON.parse(readFileSync(join(dir, 'bob', metaA.id, 'meta.json'), 'utf8')) as MessageMeta;
    expect(onDisk.keyMgmt).toBe(metaA.keyMgmt);
    expect(onDisk.keyMgmt).toMatch(/^mikey /);
    expect(again.list('alice')).toEqual([]);
  });

  it('refuses a deposit into a full mailbox before writing anything', () => {
    const store = VoicemailStore.open(dir, { maxMessagesPerMailbox: 2 });
    const first = record(store, [pkt(0, 100)]);
    store.begin(deposit()); // a recording in progress counts too
    const e = storeError(() => store.begin(deposit()));
    expect(e.code).toBe('mailbox-full');
    expect(e.message).toContain('bob');
    expect(readdirSync(join(dir, 'bob'))).toHaveLength(2);
    expect(store.begin(deposit('carol')).id).toMatch(/^\d{13}-/); // other mailboxes unaffected
    store.delete(first.id);
    expect(() => store.begin(deposit())).not.toThrow();
  });

  it('stops a message at the per-message byte limit and keeps it as partial', () => {
    const store = VoicemailStore.open(dir, { maxBytesPerMessage: 1000 });
    const rec = store.begin(deposit());
    const sent = Array.from({ length: 12 }, (_, i) => pkt(i, 100));
    const accepted = sent.map((p) => rec.append(p));
    // 8 records of 112 bytes fit in 1000, the 9th would not.
    expect(accepted).toEqual([...Array(8).fill(true), ...Array(4).fill(false)]);
    expect(rec.stopped).toMatch(/message size limit reached after 8 packets/);
    const meta = rec.finish();
    expect(meta).toMatchObject({ state: 'partial', packets: 8, bytes: 800, note: rec.stopped });
    const again = VoicemailStore.open(dir, { maxBytesPerMessage: 1000 });
    const { meta: m2, packets } = again.read(meta.id);
    expect(m2).toEqual(meta);
    expect(packets.map((p) => p.data.toString('hex'))).toEqual(sent.slice(0, 8).map((p) => p.data.toString('hex')));
  });

  it('stops at the total limit and refuses new deposits until space is freed', () => {
    const limits = { maxTotalBytes: 10 * 112, maxBytesPerMessage: 10_000 };
    const store = VoicemailStore.open(dir, limits);
    const m1 = record(store, Array.from({ length: 5 }, (_, i) => pkt(i, 100)), 'alice');
    const rec = store.begin(deposit('bob'));
    for (let i = 0; i < 5; i++) expect(rec.append(pkt(i, 100))).toBe(true);
    expect(rec.append(pkt(5, 100))).toBe(false);
    expect(rec.stopped).toMatch(/^store full: stopped after 5 packets/);
    expect(rec.finish()).toMatchObject({ state: 'partial', packets: 5 });
    expect(store.usage()).toEqual({ messages: 2, bytes: 1120 });
    const e = storeError(() => store.begin(deposit('carol')));
    expect(e.code).toBe('store-full');
    expect(existsSync(join(dir, 'carol'))).toBe(false);
    // the limit holds across a restart, and deleting frees space
    const again = VoicemailStore.open(dir, limits);
    expect(storeError(() => again.begin(deposit('carol'))).code).toBe('store-full');
    again.delete(m1.id);
    expect(again.usage()).toEqual({ messages: 1, bytes: 560 });
    expect(again.begin(deposit('carol')).append(pkt(0, 100))).toBe(true);
  });

  it('recovers a recording interrupted by a crash: whole packets kept, torn record truncated', () => {
    const store = VoicemailStore.open(dir);
    const done = record(store, [pkt(0, 50)]);
    const rec = store.begin(deposit()); // the process "dies" without finish()
    const sent = Array.from({ length: 5 }, (_, i) => pkt(i, 160));
    for (const p of sent) rec.append(p);
    const file = join(dir, 'bob', rec.id, 'packets.bin');
    const good = statSync(file).size;
    appendFileSync(file, encodeRecord(pkt(5, 160)).subarray(0, 90)); // half a record: the torn last write
    writeFileSync(join(dir, 'bob', rec.id, 'meta.json.tmp'), '{"id":'); // an interrupted meta write

    const again = VoicemailStore.open(dir);
    const [first, m] = again.list('bob');
    expect(first).toEqual(done);
    expect(m).toMatchObject({ id: rec.id, state: 'partial', packets: 5, bytes: 800 });
    expect(m!.note).toContain('recording interrupted before it finished (process stopped); 5 packets recovered');
    expect(statSync(file).size).toBe(good);
    expect(existsSync(join(dir, 'bob', rec.id, 'meta.json.tmp'))).toBe(false);
    const onDisk = JSON.parse(readFileSync(join(dir, 'bob', rec.id, 'meta.json'), 'utf8')) as MessageMeta;
    expect(onDisk).toMatchObject({ state: 'partial', packets: 5, bytes: 800 });
    expect(again.read(rec.id).packets.map((p) => p.data.toString('hex'))).toEqual(sent.map((p) => p.data.toString('hex')));
    expect(again.problems().join('\n')).toContain(rec.id);
    // recovery is done once: a further restart finds nothing to repair
    expect(VoicemailStore.open(dir).problems()).toEqual([]);
  });

  it('recovers a crash that left a zero-filled tail, and removes a half-created deposit', () => {
    const store = VoicemailStore.open(dir);
    const rec = store.begin(deposit());
    rec.append(pkt(0, 20));
    const file = join(dir, 'bob', rec.id, 'packets.bin');
    appendFileSync(file, Buffer.alloc(300));
    // what begin() leaves if the process dies before renaming the new message into place
    const half = join(dir, 'bob', '.new-1700000000000-deadbeef');
    mkdirSync(half);
    writeFileSync(join(half, 'meta.json'), '{}');
    writeFileSync(join(dir, 'keep.txt'), 'x'); // stray file: reported, not touched
    const again = VoicemailStore.open(dir);
    expect(again.list('bob')).toMatchObject([{ state: 'partial', packets: 1, bytes: 20 }]);
    expect(statSync(file).size).toBe(32);
    expect(existsSync(half)).toBe(false);
    expect(existsSync(join(dir, 'keep.txt'))).toBe(true);
    expect(again.problems().some((p) => p.includes('keep.txt'))).toBe(true);
  });

  it('quarantines a malformed meta.json and still serves every other message', () => {
    const store = VoicemailStore.open(dir);
    const ok1 = record(store, [pkt(0, 10), pkt(1, 20)]);
    const broken = record(store, [pkt(0, 10)]);
    const noField = record(store, [pkt(0, 10)]);
    const ok2 = record(store, [pkt(0, 30)], 'carol');
    writeFileSync(join(dir, 'bob', broken.id, 'meta.json'), '{"id": "' + broken.id + '", "mailbox": ');
    const m = JSON.parse(readFileSync(join(dir, 'bob', noField.id, 'meta.json'), 'utf8')) as Record<string, unknown>;
    delete m.callId;
    writeFileSync(join(dir, 'bob', noField.id, 'meta.json'), JSON.stringify(m));

    const again = VoicemailStore.open(dir);
    expect(again.list('bob')).toEqual([ok1]);
    expect(again.list('carol')).toEqual([ok2]);
    expect(again.read(ok1.id).packets.map((p) => p.data.length)).toEqual([10, 20]);
    expect(again.read(ok2.id).packets).toHaveLength(1);
    const problems = again.problems();
    expect(problems).toHaveLength(2);
    const pb = problems.find((p) => p.includes(broken.id))!;
    expect(pb).toContain(join(dir, 'bob', broken.id));
    expect(pb).toMatch(/not valid JSON \(.*JSON/);
    expect(problems.find((p) => p.includes(noField.id))).toContain('"callId" missing');
    expect(existsSync(join(dir, 'bob', broken.id))).toBe(false);
    expect(existsSync(join(dir, '.quarantine', 'bob', broken.id, 'packets.bin'))).toBe(true);
    expect(existsSync(join(dir, '.quarantine', 'bob', noField.id, 'meta.json'))).toBe(true);
    expect(storeError(() => again.read(broken.id)).code).toBe('not-found');
    expect(again.usage().messages).toBe(2);
  });

  it('reports a packets.bin that is inconsistent in the middle: read names file and offset, list notes it', () => {
    const store = VoicemailStore.open(dir);
    const meta = record(store, [pkt(0, 100), pkt(1, 100), pkt(2, 100)]);
    const other = record(store, [pkt(0, 5)]);
    const file = join(dir, 'bob', meta.id, 'packets.bin');
    const orig = readFileSync(file);
    const buf = Buffer.from(orig);
    buf.writeUInt32BE(0x00ff_ffff, 112); // second record's length field
    writeFileSync(file, buf);

    const e = storeError(() => store.read(meta.id)); // detected by the running store too
    expect(e.code).toBe('corrupt');
    expect(e.message).toContain(file);
    expect(e.message).toContain('at byte 112');

    const again = VoicemailStore.open(dir);
    const listed = again.list('bob');
    expect(listed.map((m) => m.id)).toEqual([meta.id, other.id]);
    expect(listed[0]!.note).toContain('corrupt');
    expect(listed[0]!.note).toContain('at byte 112');
    expect(listed[0]!.state).toBe('complete');
    expect(storeError(() => again.read(meta.id)).message).toMatch(/packets\.bin: length field 16777215 .* at byte 112/);
    expect(again.read(other.id).packets).toHaveLength(1);
    expect(statSync(file).size).toBe(buf.length); // evidence left as it was

    // a complete message whose file lost its end is corrupt too (not silently shortened)
    writeFileSync(file, orig.subarray(0, 112 + 50));
    expect(storeError(() => VoicemailStore.open(dir).read(meta.id)).message).toMatch(/runs past the end of the file .* at byte 112/);
  });

  describe('disk full', () => {
    function failingDisk() {
      const state = { full: false, halfWritten: false, halfFirst: false };
      const fn: WriteSyncFn = (fd, b, o, l, p) => {
        if (!state.full) return writeSync(fd, b, o, l, p);
        if (state.halfFirst && !state.halfWritten) { // a short write, then ENOSPC on the rest
          state.halfWritten = true;
          return writeSync(fd, b, o, Math.floor(l / 2), p);
        }
        throw enospc();
      };
      return { state, fn };
    }

    it('stops the recording, keeps earlier packets, truncates a torn record, never throws', () => {
      const disk = failingDisk();
      disk.state.halfFirst = true;
      const store = VoicemailStore.open(dir, {}, { writeSync: disk.fn });
      const earlier = record(store, [pkt(0, 40)]);
      const rec = store.begin(deposit());
      const sent = Array.from({ length: 3 }, (_, i) => pkt(i, 200));
      for (const p of sent) expect(rec.append(p)).toBe(true);
      disk.state.full = true;
      expect(rec.append(pkt(3, 200))).toBe(false);
      expect(disk.state.halfWritten).toBe(true);
      expect(rec.stopped).toMatch(/^disk full after 3 packets: ENOSPC/);
      disk.state.full = false;
      expect(rec.append(pkt(4, 200))).toBe(false); // stays stopped
      const meta = rec.finish();
      expect(meta).toMatchObject({ state: 'partial', packets: 3, bytes: 600, note: rec.stopped });
      expect(statSync(join(dir, 'bob', rec.id, 'packets.bin')).size).toBe(3 * 212);

      const again = VoicemailStore.open(dir);
      expect(again.problems()).toEqual([]);
      expect(again.list('bob')).toEqual([earlier, meta]);
      expect(again.read(meta.id).packets.map((p) => p.data.toString('hex'))).toEqual(sent.map((p) => p.data.toString('hex')));
    });

    it('a full disk at finish() loses nothing: the next start recovers the message', () => {
      const disk = failingDisk();
      const store = VoicemailStore.open(dir, {}, { writeSync: disk.fn });
      const rec = store.begin(deposit());
      for (let i = 0; i < 4; i++) rec.append(pkt(i, 64));
      disk.state.full = true;
      const meta = rec.finish(); // meta.json cannot be replaced
      expect(meta.state).toBe('partial');
      expect(meta.note).toMatch(/meta\.json not updated \(ENOSPC/);
      expect(existsSync(join(dir, 'bob', rec.id, 'meta.json.tmp'))).toBe(false);
      const e = storeError(() => store.begin(deposit()));
      expect(e.code).toBe('disk-full');
      expect(readdirSync(join(dir, 'bob'))).toEqual([rec.id]); // the failed deposit left nothing

      const again = VoicemailStore.open(dir);
      expect(again.list('bob')).toMatchObject([{ id: rec.id, state: 'partial', packets: 4, bytes: 256 }]);
      expect(again.read(rec.id).packets).toHaveLength(4);
    });
  });

  it('rejects bad mailbox names without touching the disk', () => {
    const store = VoicemailStore.open(dir);
    for (const bad of ['', '../etc', '.hidden', 'a/b', '-x', 'x'.repeat(65), 'bob\n', 'ü']) {
      expect(storeError(() => store.begin(deposit(bad))).code).toBe('bad-mailbox');
      expect(storeError(() => store.list(bad)).code).toBe('bad-mailbox');
    }
    expect(readdirSync(dir)).toEqual([]);
    expect(store.begin(deposit('Bob.Smith_2-x')).id).toBeTruthy();
    expect(storeError(() => store.read('../bob')).code).toBe('not-found');
  });

  it('deletes a message durably and refuses to delete one still recording', () => {
    const store = VoicemailStore.open(dir);
    const a = record(store, [pkt(0, 100)]);
    const b = record(store, [pkt(0, 200)]);
    const live = store.begin(deposit());
    expect(storeError(() => store.delete(live.id)).message).toContain('still being recorded');
    store.delete(a.id);
    expect(existsSync(join(dir, 'bob', a.id))).toBe(false);
    expect(store.list('bob').map((m) => m.id)).toEqual([b.id, live.id]);
    expect(storeError(() => store.read(a.id)).code).toBe('not-found');
    expect(storeError(() => store.delete(a.id)).code).toBe('not-found');
    expect(store.usage()).toEqual({ messages: 2, bytes: 212 });
    live.finish();
    const again = VoicemailStore.open(dir);
    expect(again.list('bob').map((m) => m.id)).toEqual([b.id, live.id]);
    expect(again.usage()).toEqual({ messages: 2, bytes: 212 });
  });
});

