/**
 * The PoC box keeps bursts byte for byte across restarts, stays within its
 * bounds per burst, member and group, removes a burst once delivered (and
 * never replays it after a crash), and on a crash mid-write, a damaged file
 * or a full disk keeps every earlier burst and packet.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildRtp } from '@imslab/rtp';
import { PocBox, type BeginBurst } from '../src/box.ts';
import { BoxError, encodeRecord, memberDirName, packetsDigest, RECORD_HEADER, type BoxPacket } from '../src/box-records.ts';
import { DELIVERED_JOURNAL } from '../src/contract.ts';
import type { WriteSyncFn } from '../src/box-files.ts';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'poc-box-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const GROUP = 'poc-team';
const CAROL = 'sip:carol@ims.test';
const BOB = 'sip:bob@ims.test';
const ALICE = 'sip:alice@ims.test';
const T0 = 1_700_000_000_000_000;
const MKI = Buffer.from('0000002a1234abcd', 'hex');

const burst = (member = CAROL, layout: BeginBurst['layout'] = { mkiBytes: 8, tagBytes: 10 }): BeginBurst => ({ group: GROUP, member, talker: ALICE, mode: 'e2e', protection: 'srtp', layout });
/** An SRTP-shaped packet: RTP header, payload, MKI, a 10-byte tag. */
const srtp = (i: number, len = 160, ssrc = 0xa11ce): BoxPacket => ({
  atUs: T0 + i * 20_000,
  data: Buffer.concat([buildRtp({ payloadType: 0, sequence: i, timestamp: i * 160, ssrc }, randomBytes(len)), MKI, randomBytes(10)]),
});

function record(box: PocBox, packets: BoxPacket[], member = CAROL): string {
  const r = box.begin(burst(member));
  for (const p of packets) expect(r.append(p)).toBe(true);
  expect(r.finish().state).toBe('complete');
  return r.id;
}

function boxError(f: () => unknown): BoxError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BoxError);
    return e as BoxError;
  }
  throw new Error('no BoxError thrown');
}

/** The box as the next process finds it: what the running one has in flight reaches the disk first. */
async function reopen(box: PocBox, ...args: Parameters<typeof PocBox.open> extends [string, ...infer R] ? R : never): Promise<PocBox> {
  await box.flush();
  return PocBox.open(box.dir, ...args);
}

const burstDir = (id: string, member = CAROL) => join(dir, GROUP, memberDirName(member), id);

describe('PocBox', () => {
  it('keeps bursts byte for byte with their timing and key identifiers, across a restart', async () => {
    const box = PocBox.open(dir);
    const a = Array.from({ length: 50 }, (_, i) => srtp(i));
    const b = [srtp(100, 1), srtp(101, 1400, 0xb0b)];
    const idA = record(box, a);
    const idB = record(box, b);
    const again = await reopen(box, {}, { layoutOf: () => ({ mkiBytes: 8, tagBytes: 10 }) });
    expect(again.problems()).toEqual([]);
    const pending = again.pending(GROUP, 'SIP:Carol@IMS.test'); // members compare case-insensitively
    expect(pending.map((x) => x.id)).toEqual([idA, idB]);
    expect(pending[0]).toMatchObject({ group: GROUP, member: CAROL, talker: ALICE, protection: 'srtp', state: 'complete', packets: 50, durationMs: 980, keyIds: [{ ssrc: 0xa11ce, mki: MKI.toString('hex'), packets: 50 }] });
    expect(pending[1]!.keyIds).toEqual([{ ssrc: 0xa11ce, mki: MKI.toString('hex'), packets: 1 }, { ssrc: 0xb0b, mki: MKI.toString('hex'), packets: 1 }]);
    const read = again.read(idA);
    expect(read.damage).toBeNull();
    expect(read.packets.map((p) => [p.atUs, p.data.toString('hex')])).toEqual(a.map((p) => [p.atUs, p.data.toString('hex')]));
    expect(again.read(idB).packets.map((p) => p.data)).toEqual(b.map((p) => p.data));
    expect(again.pending(GROUP, BOB)).toEqual([]);
    // The layout on disk is the contract's.
    expect(readdirSync(join(dir, GROUP))).toEqual(['carol@ims.test']);
    expect(JSON.parse(readFileSync(join(burstDir(idA), 'meta.json'), 'utf8'))).toMatchObject({ state: 'complete', packets: 50 });
  });

  it('records no MKI when the group\'s packets carry none', async () => {
    const box = PocBox.open(dir);
    const r = box.begin(burst(CAROL, { mkiBytes: 0, tagBytes: 10 }));
    r.append(srtp(1));
    expect(r.finish().keyIds).toEqual([{ ssrc: 0xa11ce, mki: null, packets: 1 }]);
  });

  it('lists at most 16 key identifiers: a wrong MKI length (every packet looks different) keeps meta.json small', async () => {
    const box = PocBox.open(dir);
    const r = box.begin(burst(CAROL, { mkiBytes: 8, tagBytes: 10 }));
    for (let i = 0; i < 40; i++) r.append({ atUs: T0 + i, data: Buffer.concat([buildRtp({ payloadType: 0, sequence: i, timestamp: 0, ssrc: 1 }, randomBytes(20)), randomBytes(18)]) });
    const m = r.finish();
    expect(m.keyIds).toHaveLength(16);
    expect(m.keyIdsUnlisted).toBe(24);
    expect((await reopen(box)).pending(GROUP, CAROL)[0]!.keyIdsUnlisted).toBe(24);
  });

  it('removes a delivered burst, journals it, and does not bring it back after a restart', async () => {
    const box = PocBox.open(dir);
    const pkts = [srtp(1), srtp(2), srtp(3)];
    const id = record(box, pkts);
    const keep = record(box, [srtp(4)]);
    const d = box.delivered(id, { callId: 'call-1', packets: pkts.map((p) => p.data) });
    expect(d).toMatchObject({ id, member: CAROL, talker: ALICE, callId: 'call-1', state: 'complete', packets: 3, durationMs: 40, digest: packetsDigest(pkts.map((p) => p.data)), keyIds: [{ ssrc: 0xa11ce, mki: MKI.toString('hex'), packets: 3 }] });
    expect(existsSync(burstDir(id))).toBe(false);
    expect(box.pending(GROUP, CAROL).map((x) => x.id)).toEqual([keep]);
    expect(readFileSync(join(dir, DELIVERED_JOURNAL), 'utf8').trim().split('\n').map((l) => JSON.parse(l).id)).toEqual([id]);
    expect((await reopen(box)).pending(GROUP, CAROL).map((x) => x.id)).toEqual([keep]);
    expect(boxError(() => box.delivered(id, { callId: 'x', packets: [] })).code).toBe('not-found');
  });

  it('finishes a removal a crash interrupted: a burst the journal names as delivered is not played twice', async () => {
    const box = PocBox.open(dir);
    const id = record(box, [srtp(1)]);
    const other = record(box, [srtp(2)]);
    // The journal line was written, then the process died before the directory went.
    appendFileSync(join(dir, DELIVERED_JOURNAL), JSON.stringify({ id, member: CAROL }) + '\n');
    // ... and one more line torn mid-write.
    appendFileSync(join(dir, DELIVERED_JOURNAL), '{"id":"17000');
    const again = await reopen(box);
    expect(again.pending(GROUP, CAROL).map((x) => x.id)).toEqual([other]);
    expect(existsSync(burstDir(id))).toBe(false);
    expect(again.problems().join('\n')).toMatch(/delivered, per the journal/);
    expect(again.problems().join('\n')).toMatch(/torn last line removed/);
    again.delivered(other, { callId: 'c', packets: [] });
    expect(readFileSync(join(dir, DELIVERED_JOURNAL), 'utf8').trim().split('\n').map((l) => JSON.parse(l).id)).toEqual([id, other]);
  });

  describe('bounds', () => {
    it('stops a burst at the per-burst bound and keeps it as partial', async () => {
      const size = RECORD_HEADER + srtp(0).data.length;
      const box = PocBox.open(dir, { maxBytesPerBurst: 3 * size });
      const r = box.begin(burst());
      for (let i = 0; i < 3; i++) expect(r.append(srtp(i))).toBe(true);
      expect(r.append(srtp(3))).toBe(false);
      expect(r.stopped).toMatch(/burst bound reached/);
      const m = r.finish();
      expect(m).toMatchObject({ state: 'partial', packets: 3 });
      expect(m.note).toMatch(/stopped after 3 packets/);
      expect((await reopen(box)).read(r.id).packets).toHaveLength(3);
    });

    it('refuses a new burst for a member past its burst or byte bound; other members are unaffected', async () => {
      const box = PocBox.open(dir, { maxBurstsPerMember: 2 });
      record(box, [srtp(1)]);
      box.begin(burst()); // one being recorded counts too
      const e = boxError(() => box.begin(burst()));
      expect(e.code).toBe('member-full');
      expect(e.message).toMatch(/holds 2 bursts \(bound 2\)/);
      expect(() => record(box, [srtp(1)], BOB)).not.toThrow();

      const size = RECORD_HEADER + srtp(0).data.length;
      const bytes = PocBox.open(join(dir, 'b'), { maxBytesPerMember: 2 * size });
      const r = bytes.begin(burst());
      expect(r.append(srtp(1))).toBe(true);
      expect(r.append(srtp(2))).toBe(true);
      expect(r.append(srtp(3))).toBe(false);
      expect(r.stopped).toMatch(/member bound reached/);
      r.finish();
      expect(boxError(() => bytes.begin(burst())).code).toBe('member-full');
    });

    it('bounds a group\'s bytes over all its members, and frees them on delivery', async () => {
      const size = RECORD_HEADER + srtp(0).data.length;
      const box = PocBox.open(dir, { maxBytesPerGroup: 3 * size });
      const c = record(box, [srtp(1), srtp(2)]);
      const r = box.begin(burst(BOB));
      expect(r.append(srtp(3))).toBe(true);
      expect(r.append(srtp(4))).toBe(false);
      expect(r.stopped).toMatch(/group bound reached \(\d+ of \d+ bytes in poc-team's box\)/);
      r.finish();
      expect(box.groupBytes(GROUP)).toBe(3 * size);
      expect(boxError(() => box.begin(burst(BOB))).code).toBe('group-full');
      expect((await reopen(box, { maxBytesPerGroup: 3 * size })).groupBytes(GROUP)).toBe(3 * size); // recounted after a restart
      box.delivered(c, { callId: 'c', packets: [] });
      expect(box.groupBytes(GROUP)).toBe(size);
      expect(() => box.begin(burst(BOB))).not.toThrow();
    });
  });

  describe('crashes and bad files', () => {
    it('recovers a burst interrupted mid-write: earlier bursts intact, whole packets kept, the torn record cut off and reported', async () => {
      const box = PocBox.open(dir);
      const first = Array.from({ length: 10 }, (_, i) => srtp(i));
      const idA = record(box, first);
      const r = box.begin(burst()); // the process "dies" without finish()
      const kept = Array.from({ length: 5 }, (_, i) => srtp(20 + i));
      for (const p of kept) r.append(p);
      appendFileSync(join(burstDir(r.id), 'packets.bin'), encodeRecord(srtp(30)).subarray(0, 40)); // a write torn by the crash
      const again = await reopen(box, {}, { layoutOf: () => ({ mkiBytes: 8, tagBytes: 10 }) });
      const [a, b] = again.pending(GROUP, CAROL);
      expect(a).toMatchObject({ id: idA, state: 'complete', packets: 10 });
      expect(again.read(idA).packets.map((p) => p.data)).toEqual(first.map((p) => p.data));
      expect(b).toMatchObject({ id: r.id, state: 'partial', packets: 5, keyIds: [{ ssrc: 0xa11ce, mki: MKI.toString('hex'), packets: 5 }] });
      expect(b!.note).toMatch(/recording interrupted .* 5 packets recovered; torn last record removed \(40 bytes/);
      expect(again.read(r.id).packets.map((p) => p.data)).toEqual(kept.map((p) => p.data));
      expect(again.problems().join('\n')).toMatch(/interrupted burst recovered as partial, 5 packets/);
      // Recovery wrote the verdict down: the next start finds a partial burst and nothing to fix.
      expect((await reopen(again)).problems()).toEqual([]);
    });

    it('removes a burst interrupted before its first packet and an interrupted removal', async () => {
      const mdir = join(dir, GROUP, 'carol@ims.test');
      mkdirSync(join(mdir, '.new-1700000000000-deadbeef'), { recursive: true });
      mkdirSync(join(mdir, '.del-1700000000000-deadbeef'), { recursive: true });
      const box = PocBox.open(dir);
      expect(readdirSync(mdir)).toEqual([]);
      expect(box.problems()).toHaveLength(2);
    });

    it('quarantines a burst whose meta.json is unreadable or does not match, and serves every other one', async () => {
      const box = PocBox.open(dir);
      const good = record(box, [srtp(1)]);
      const bad = record(box, [srtp(2)]);
      const wrong = record(box, [srtp(3)]);
      await box.flush(); // the running box is done writing: what follows is damage from outside
      writeFileSync(join(burstDir(bad), 'meta.json'), '{ "id": "17');
      const m = JSON.parse(readFileSync(join(burstDir(wrong), 'meta.json'), 'utf8'));
      writeFileSync(join(burstDir(wrong), 'meta.json'), JSON.stringify({ ...m, member: BOB }));
      const again = await reopen(box);
      expect(again.pending(GROUP, CAROL).map((x) => x.id)).toEqual([good]);
      const p = again.problems().join('\n');
      expect(p).toMatch(/meta.json unreadable or not JSON/);
      expect(p).toMatch(/meta.json member "sip:bob@ims.test" differs from the directory/);
      expect(readdirSync(join(dir, '.quarantine', GROUP, 'carol@ims.test')).sort()).toEqual([bad, wrong].sort());
    });

    it('a packets.bin damaged inside: its whole records before the damage are readable, the damage is named, and delivery quarantines it', async () => {
      const box = PocBox.open(dir);
      const pkts = Array.from({ length: 4 }, (_, i) => srtp(i));
      const id = record(box, pkts);
      await box.flush();
      const file = join(burstDir(id), 'packets.bin');
      const buf = readFileSync(file);
      const third = 2 * (RECORD_HEADER + pkts[0]!.data.length);
      buf.writeUInt32BE(0x7fffffff, third); // a length no UDP payload has
      writeFileSync(file, buf);
      const again = await reopen(box);
      const r = again.read(id);
      expect(r.packets.map((p) => p.data)).toEqual(pkts.slice(0, 2).map((p) => p.data));
      expect(r.damage).toMatch(new RegExp(`length field 2147483647 exceeds the maximum UDP payload 65535 at byte ${third}; 2 whole packets before it`));
      expect(again.pending(GROUP, CAROL)[0]!.note).toMatch(/damaged/);
      const d = again.delivered(id, { callId: 'c', packets: r.packets.map((p) => p.data) }, r.damage);
      expect(d).toMatchObject({ state: 'partial', packets: 2 });
      expect(d.note).toMatch(/damaged/);
      expect(existsSync(burstDir(id))).toBe(false);
      expect(readdirSync(join(dir, '.quarantine', GROUP, 'carol@ims.test'))).toEqual([id]);
    });

    it('a full disk stops the burst, keeps its earlier packets whole, and never throws', async () => {
      let fail = false;
      const write: WriteSyncFn = (fd, b, o, l, p) => {
        if (!fail) return writeSync(fd, b, o, l, p);
        writeSync(fd, b, o, Math.min(l, 7), p); // half a record reaches the disk, then ENOSPC
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      };
      const box = PocBox.open(dir, {}, { writeSync: write });
      const r = box.begin(burst());
      const kept = [srtp(1), srtp(2)];
      for (const p of kept) expect(r.append(p)).toBe(true);
      fail = true;
      expect(r.append(srtp(3))).toBe(false);
      expect(r.stopped).toMatch(/disk full after 2 packets/);
      fail = false;
      expect(r.finish()).toMatchObject({ state: 'partial', packets: 2 });
      expect((await reopen(box)).read(r.id).packets.map((p) => p.data)).toEqual(kept.map((p) => p.data));
    });
  });
});
