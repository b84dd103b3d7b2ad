import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanStores, type LoggedKey } from '@imslab/analysis';
import { SipLogger } from '@imslab/app-server';
import { buildRtp } from '@imslab/rtp';
import { until } from '@imslab/sip/test-peer';
import { contextOptionsFromCrypto, generateKeySalt, SrtpContext } from '@imslab/srtp';
import { packetsDigest } from '../src/box-records.ts';
import { readJournal } from '../src/box-journal.ts';
import { parsePocConfig, type PocConfigInput } from '../src/config.ts';
import { parseRecordingsNotice, RECORDINGS_ATTRIBUTE, type PocBoxStatus, type PocGroupStatus, type PocStatus } from '../src/contract.ts';
import { PocServer } from '../src/poc-server.ts';
import { SUITE, TestMember } from './member.ts';

/*
 * The PoC box through the server, over real UDP on 127.0.19.x: carol is a
 * member who is not joined while alice talks; her copy of the burst is kept
 * (e2e: the SRTP as it arrived, under a group key the server never has);
 * when she joins she is told, gets the burst first, byte for byte and
 * paced as it was sent, then live traffic; the burst then leaves the box.
 * A restart keeps the box, a damaged burst is reported and the others are
 * still delivered.
 */

const DOMAIN = 'ims.test';
const SERVER = '127.0.19.1';
const CONTROL_PORT = 18082;
const URI = `sip:poc-team@${DOMAIN}`;
const ALICE = `sip:alice@${DOMAIN}`;
const BOB = `sip:bob@${DOMAIN}`;
const CAROL = `sip:carol@${DOMAIN}`;
/** A probe marker (MARKER_PREFIX + 10 hex): the store scan finds it wherever it is stored in the clear. */
const MARKER = 'IMSLAB0123456789';

let dir: string;
const servers: PocServer[] = [];
const members: TestMember[] = [];
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'poc-box-server-')); });
afterEach(async () => {
  await Promise.all(members.splice(0).map((m) => m.close()));
  for (const s of servers.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

const silent = new SipLogger('poc', 'test', () => undefined);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function start(o: { mode?: 'e2e' | 'e2m2e'; box?: Partial<NonNullable<PocConfigInput['box']>> } = {}): Promise<PocServer> {
  const srv = await PocServer.start(parsePocConfig({
    name: 'poc-box-under-test', address: SERVER, sipPort: 5060, controlPort: CONTROL_PORT, domain: DOMAIN, rtpPortMin: 36000, rtpPortMax: 36100,
    groups: [{ user: 'poc-team', mode: o.mode ?? 'e2e', contention: 'deny', members: [ALICE, BOB, CAROL] }],
    box: { dir, ...o.box },
  }), silent);
  servers.push(srv);
  return srv;
}

async function member(host: number): Promise<TestMember> {
  const m = await TestMember.open(`127.0.19.${host}`, { address: SERVER, port: 5060 });
  members.push(m);
  return m;
}

/** GET on the control API over a connection of its own (a pooled one could still point at a server this test restarted). */
function getJson<T>(path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    get({ host: SERVER, port: CONTROL_PORT, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body) as T) : reject(new Error(`GET ${path}: ${res.statusCode} ${body}`))));
    }).on('error', reject);
  });
}
const status = () => getJson<PocStatus>('/status');
const group = async (): Promise<PocGroupStatus> => (await status()).groups[0]!;

/** Polls an async condition (the control API) until it holds. */
async function eventually<T>(f: () => Promise<T | undefined | null | false>, what: string, ms = 3000): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms (${what})`);
    await sleep(10);
  }
}

const got = (m: TestMember, type: string, n = 1) => until(() => (m.floorMessages(), m.seen.filter((x) => x.type === type).length >= n), `${type} x${n} at ${m.address}`);

/** The group key: members have it (from the KMS in the testbed), the server never does. */
function groupKey() {
  const keySalt = generateKeySalt(SUITE);
  const ctx = () => new SrtpContext(contextOptionsFromCrypto({ tag: 1, suite: SUITE, keyParams: [{ method: 'inline', keySalt }], sessionParams: [] }));
  const logged = { id: 'group-key', entry: { keySalt: keySalt.toString('base64') } } as unknown as LoggedKey;
  return { tx: ctx(), rx: ctx(), logged };
}

let seq = 100;
const probe = (ssrc: number, i: number) => buildRtp({ payloadType: 0, sequence: ++seq, timestamp: seq * 160, ssrc }, Buffer.from(`${MARKER} packet ${i} `.padEnd(160, '.')));

/** `m` sends `n` packets 20 ms apart, each made by `make`; returns them as sent. */
async function talk(m: TestMember, n: number, make: (i: number) => Buffer): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const p = make(i);
    out.push(p);
    await m.sendRtp(p);
    if (i < n - 1) await sleep(20);
  }
  return out;
}

/** Arrival times of the RTP packets a member receives from now on. */
function arrivals(m: TestMember): number[] {
  const at: number[] = [];
  m.rtp.on('message', () => at.push(performance.now()));
  return at;
}

async function takeFloor(m: TestMember, n = 1): Promise<void> {
  await m.sendFloor({ type: 'floor-request', fields: {} });
  await got(m, 'floor-granted', n);
}

const hex = (bs: Buffer[]) => bs.map((b) => b.toString('hex'));

describe('the PoC box (e2e)', () => {
  it('keeps alice\'s burst for carol as ciphertext, tells carol when she joins, plays it first byte for byte and paced, removes it, then goes live', async () => {
    await start();
    const key = groupKey();
    const [a, b, c] = await Promise.all([member(2), member(3), member(4)]);
    await a.join(URI, ALICE);
    const bobJoin = await b.join(URI, BOB);
    expect(parseRecordingsNotice(bobJoin.answer!.attributes[RECORDINGS_ATTRIBUTE]!)).toEqual({ bursts: 0, packets: 0, ms: 0, partial: 0 });
    await Promise.all([got(a, 'floor-idle'), got(b, 'floor-idle')]);
    await takeFloor(a);
    const burst = await talk(a, 10, (i) => key.tx.protectRtp(probe(0xa11ce, i)));
    await until(() => b.rtpIn.length >= 10, 'the live burst at bob');
    await a.sendFloor({ type: 'floor-release', fields: {} });

    // The floor went idle: carol's copy is complete, and it is ciphertext at rest.
    const kept = await eventually(async () => (await group()).box!.members.find((m) => m.member === CAROL && m.bursts[0]?.state === 'complete'), 'carol\'s burst kept');
    expect(kept.bursts).toHaveLength(1);
    const sentMs = kept.bursts[0]!.durationMs;
    expect(kept.bursts[0]).toMatchObject({ talker: ALICE, protection: 'srtp', mode: 'e2e', packets: 10, keyIds: [{ ssrc: 0xa11ce, mki: null, packets: 10 }] });
    expect(sentMs).toBeGreaterThanOrEqual(170);
    expect(scanStores([dir], [key.logged], dir)).toEqual([]);
    const box = await getJson<PocBoxStatus>('/box');
    expect(box).toMatchObject({ dir, problems: [] });
    expect(box.bytes).toBe(kept.bytes);

    const at = arrivals(c);
    const carolJoin = await c.join(URI, CAROL);
    expect(parseRecordingsNotice(carolJoin.answer!.attributes[RECORDINGS_ATTRIBUTE]!)).toEqual({ bursts: 1, packets: 10, ms: sentMs, partial: 0 });
    await until(() => c.rtpIn.length >= 10, 'the recording at carol');
    expect(hex(c.rtpIn)).toEqual(hex(burst));
    for (const p of c.rtpIn) {
      const r = key.rx.unprotectRtp(p);
      expect(r.ok && Buffer.from(r.packet).includes(MARKER)).toBe(true); // carol's group key opens it
    }
    // Paced as recorded: the replay takes as long as alice took, not a burst of packets at once.
    const replayMs = at[9]! - at[0]!;
    expect(replayMs).toBeGreaterThanOrEqual(sentMs * 0.85);
    expect(replayMs).toBeLessThan(sentMs + 300); // slack for a loaded machine stalling the event loop near the end

    const g = await eventually(async () => { const s = await group(); return s.box!.delivered.length === 1 && s; }, 'delivery recorded');
    expect(g.box!.members).toEqual([]);
    expect(g.box!.delivered[0]).toMatchObject({ member: CAROL, talker: ALICE, callId: c.call!.uac.callId, state: 'complete', packets: 10, digest: packetsDigest(burst) });
    expect(g.members.find((m) => m.member === CAROL)!.replay).toEqual({ bursts: 1, delivered: 1, packets: 10, replaying: false, queuedLive: 0, droppedLive: 0 });
    expect(readdirSync(join(dir, 'poc-team', 'carol@ims.test'))).toEqual([]);
    expect(readJournal(dir).entries.map((e) => e.digest)).toEqual([packetsDigest(burst)]);

    // Live traffic reaches carol directly now; nothing is kept (everyone is here).
    await takeFloor(a, 2);
    const live = await talk(a, 2, (i) => key.tx.protectRtp(probe(0xa11ce, 100 + i)));
    await until(() => c.rtpIn.length >= 12, 'live packets at carol');
    expect(hex(c.rtpIn.slice(10))).toEqual(hex(live));
    expect((await group()).box!.members).toEqual([]);
  });

  it('a member joining mid-burst gets what it missed first, then the rest of the burst, in order', async () => {
    await start();
    const key = groupKey();
    const [a, c] = await Promise.all([member(5), member(6)]);
    await a.join(URI, ALICE);
    await got(a, 'floor-idle');
    await takeFloor(a);
    const missed = await talk(a, 5, (i) => key.tx.protectRtp(probe(0xa11ce, i)));
    await c.join(URI, CAROL);
    const rest = await talk(a, 5, (i) => key.tx.protectRtp(probe(0xa11ce, 10 + i))); // while the recording still plays
    await until(() => c.rtpIn.length >= 10, 'the whole burst at carol');
    expect(hex(c.rtpIn)).toEqual(hex([...missed, ...rest]));
    const leg = await eventually(async () => (await group()).members.find((m) => m.member === CAROL && !m.replay.replaying), 'replay over');
    expect(leg.replay).toMatchObject({ bursts: 1, delivered: 1, packets: 5, droppedLive: 0 });
    expect(leg.replay.queuedLive).toBeGreaterThanOrEqual(1);
  });

  it('keeps the box across a restart, reports a burst cut by the stop as partial and a damaged one, and delivers the rest', async () => {
    const first = await start();
    const key = groupKey();
    const a = await member(7);
    await a.join(URI, ALICE);
    await got(a, 'floor-idle');
    await takeFloor(a);
    await talk(a, 3, (i) => key.tx.protectRtp(probe(0xa11ce, i)));
    await a.sendFloor({ type: 'floor-release', fields: {} });
    await eventually(async () => (await group()).box!.members.find((m) => m.member === CAROL)?.bursts[0]?.state === 'complete', 'first burst kept');
    await takeFloor(a, 2);
    const second = await talk(a, 4, (i) => key.tx.protectRtp(probe(0xa11ce, 10 + i)));
    await eventually(async () => (await group()).box!.members.find((m) => m.member === CAROL)?.bursts[1]?.packets === 4, 'second burst recorded');
    const [damaged] = first.box!.pending('poc-team', CAROL).map((x) => x.id);
    await first.close(); // mid-burst: alice still holds the floor
    servers.splice(0);
    writeFileSync(join(dir, 'poc-team', 'carol@ims.test', damaged!, 'meta.json'), '{ not json');

    await start();
    const box = (await status()).box!;
    expect(box.problems.join('\n')).toMatch(new RegExp(`${damaged}: meta.json unreadable or not JSON .*moved to .*\\.quarantine`));
    const c = await member(8);
    const join_ = await c.join(URI, CAROL);
    expect(parseRecordingsNotice(join_.answer!.attributes[RECORDINGS_ATTRIBUTE]!)).toMatchObject({ bursts: 1, packets: 4, partial: 1 });
    await until(() => c.rtpIn.length >= 4, 'the kept burst at carol after the restart');
    expect(hex(c.rtpIn)).toEqual(hex(second));
    const d = await eventually(async () => (await group()).box!.delivered[0], 'delivered');
    expect(d).toMatchObject({ state: 'partial', packets: 4 });
    expect(d.note).toMatch(/the server stopped mid-burst/);
  });

  it('refuses a burst past the member\'s bound and says so in the status', async () => {
    await start({ box: { limits: { maxBurstsPerMember: 1 } } });
    const key = groupKey();
    const a = await member(9);
    await a.join(URI, ALICE);
    await got(a, 'floor-idle');
    for (let n = 1; n <= 2; n++) {
      await takeFloor(a, n);
      await talk(a, 2, (i) => key.tx.protectRtp(probe(0xa11ce, n * 10 + i)));
      await a.sendFloor({ type: 'floor-release', fields: {} });
      await got(a, 'floor-idle', n + 1);
    }
    const carol = await eventually(async () => (await group()).box!.members.find((m) => m.member === CAROL && m.refused === 1), 'a refusal');
    expect(carol.bursts).toHaveLength(1);
    expect(carol.lastRefusal).toMatch(/holds 1 bursts \(bound 1\)/);
    expect((await group()).box!.members.find((m) => m.member === BOB)).toMatchObject({ refused: 1 });
  });
});

describe('the PoC box (e2m2e)', () => {
  it('keeps the RTP the server decrypted (plaintext at rest, which the store scan shows) and re-encrypts it for the joining member\'s leg', async () => {
    await start({ mode: 'e2m2e' });
    const [a, c] = await Promise.all([member(10), member(11)]);
    await a.join(URI, ALICE);
    await got(a, 'floor-idle');
    await takeFloor(a);
    const plain = Array.from({ length: 3 }, (_, i) => probe(0xa11ce, i));
    await talk(a, 3, (i) => a.mediaTx.protectRtp(plain[i]!));
    await a.sendFloor({ type: 'floor-release', fields: {} });
    await eventually(async () => (await group()).box!.members.find((m) => m.member === CAROL)?.bursts[0]?.state === 'complete', 'carol\'s burst kept');
    expect((await group()).box!.members.find((m) => m.member === CAROL)!.bursts[0]).toMatchObject({ protection: 'rtp', keyIds: [{ ssrc: 0xa11ce, mki: null, packets: 3 }] });
    expect(scanStores([dir], [], dir).filter((f) => f.what === 'marker').map((f) => f.detail)).toContain(MARKER);

    await c.join(URI, CAROL);
    await until(() => c.rtpIn.length >= 3, 'the recording at carol');
    const opened = c.rtpIn.map((p) => c.mediaRx!.unprotectRtp(p));
    expect(opened.map((r) => (r.ok ? Buffer.from(r.packet).toString('hex') : r.reason))).toEqual(hex(plain));
  });
});

describe('without a box', () => {
  it('keeps nothing, tells nothing, and says so in the status', async () => {
    const srv = await PocServer.start(parsePocConfig({
      name: 'p', address: SERVER, sipPort: 5060, controlPort: CONTROL_PORT, domain: DOMAIN, rtpPortMin: 36000, rtpPortMax: 36100,
      groups: [{ user: 'poc-team', mode: 'e2e', contention: 'deny', members: [ALICE, CAROL] }],
    }), silent);
    servers.push(srv);
    const a = await member(12);
    const j = await a.join(URI, ALICE);
    expect(j.answer!.attributes[RECORDINGS_ATTRIBUTE]).toBeUndefined();
    const s = await status();
    expect(s.box).toBeNull();
    expect(s.groups[0]!.box).toBeNull();
  });
});
