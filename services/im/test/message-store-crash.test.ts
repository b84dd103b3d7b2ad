/**
 * A real crash: a process storing messages for an offline member is killed
 * (SIGKILL) half way through a write, of a message's body or of its meta.
 * Opening the store as the IM server does on start-up keeps both earlier
 * messages byte for byte and pending, and reports the interrupted one by
 * name with what was kept: in problems(), in partial() when part of its body
 * reached the disk, and in the server's GET /status (store.problems).
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SipLogger } from '@imslab/app-server';
import { killMidWrite as killWriter } from '@imslab/element-kit/testing';
import { afterAll, expect, it } from 'vitest';
import { ImServer, parseImConfig } from '../src/index.ts';
import { MessageStore } from '../src/message-store.ts';
import { BODY_BYTES, LIMITS, body, metaOf } from './fixtures/message-store-crash-data.ts';

const root = mkdtempSync(join(tmpdir(), 'im-store-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const WRITER = fileURLToPath(new URL('./fixtures/message-store-crash-writer.ts', import.meta.url));

/** Runs the writer until it says `torn <entry>`, SIGKILLs it; the entries it finished and the torn one. */
async function killMidWrite(dir: string, mode: 'body' | 'meta'): Promise<{ done: string[]; torn: string }> {
  const r = await killWriter(WRITER, [dir, mode]);
  expect(r.signal).toBe('SIGKILL');
  return r;
}

const freePort = async (): Promise<number> => {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
};

/** The earlier messages: pending for bob, bodies byte for byte. */
function expectEarlierIntact(store: MessageStore, done: string[]): void {
  expect(done).toEqual(['m0-bob', 'm1-bob']);
  expect(store.pending('sip:bob@ims.test').map((m) => [m.entry, m.sender])).toEqual([['m0-bob', 'sip:sender0@ims.test'], ['m1-bob', 'sip:sender1@ims.test']]);
  done.forEach((entry, m) => expect(store.load(entry)!.body.equals(body(m))).toBe(true));
}

it('keeps every earlier message and reports the one a SIGKILL interrupted mid-body as partial, with the bytes kept', async () => {
  const dir = join(root, 'body');
  const { done, torn } = await killMidWrite(dir, 'body');
  const store = MessageStore.open(dir, LIMITS); // what ImServer.start() does; it must not throw
  expectEarlierIntact(store, done);
  expect(store.pending().map((m) => m.entry)).not.toContain(torn);
  expect(store.partial()).toEqual([expect.objectContaining({ entry: torn, messageId: 'm2', sender: 'sip:sender2@ims.test', bodyBytes: BODY_BYTES, keptBytes: BODY_BYTES / 2 })]);
  const line = `m2-bob.json: message m2 from sip:sender2@ims.test for sip:bob@ims.test is partial (interrupted while stored): ${BODY_BYTES / 2} of ${BODY_BYTES} body bytes kept; not delivered`;
  expect(store.problems()).toEqual([line]);
  expect(readdirSync(dir).filter((n) => n.startsWith(torn)).sort()).toEqual(['m2-bob.body', 'm2-bob.json']); // kept for inspection

  // Where a user looks: the server's GET /status, after a start on that store.
  const cfg = parseImConfig({
    name: 'im', address: '127.0.0.1', sipPort: await freePort(), controlPort: await freePort(), domain: 'ims.test',
    scscf: { address: '127.0.0.1', port: await freePort() }, groups: [{ user: 'im-team', members: ['sip:alice@ims.test', 'sip:bob@ims.test'] }],
    store: { dir, ...LIMITS, retryMs: 3_600_000 },
  });
  const srv = await ImServer.start(cfg, new SipLogger('im', 'im', () => undefined));
  try {
    const st = (await (await fetch(`http://127.0.0.1:${cfg.controlPort}/status`)).json()) as { store: { pending: number; problems: string[] } };
    expect(st.store).toMatchObject({ pending: 2, problems: [line] });
  } finally {
    await srv.close();
  }
}, 20_000);

it('keeps every earlier message and reports the one a SIGKILL interrupted while its meta was written (nothing of it kept)', async () => {
  const dir = join(root, 'meta');
  const { done, torn } = await killMidWrite(dir, 'meta');
  expect(readdirSync(dir).some((n) => n.startsWith(`${torn}.json.tmp-`))).toBe(true); // the torn write is really there
  const store = MessageStore.open(dir, LIMITS);
  expectEarlierIntact(store, done);
  expect(store.partial()).toEqual([]);
  expect(store.problems()).toEqual([`${torn}: interrupted before it was stored (the process stopped while writing its meta); nothing kept`]);
  expect(readdirSync(dir).filter((n) => n.startsWith(torn))).toEqual([]);
  // A new message after the restart is stored as usual.
  expect(store.put(metaOf(3), body(3))?.entry).toBe('m3-bob');
  expect(MessageStore.open(dir, LIMITS).load('m3-bob')!.body.equals(body(3))).toBe(true);
}, 20_000);
