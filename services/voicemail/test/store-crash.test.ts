/**
 * A real crash: a process depositing into the voicemail store is killed
 * (SIGKILL) half way through a write, of a packet record or of the final
 * meta.json. Opening the store as the voicemail does on start-up keeps both
 * earlier messages byte for byte and reports the interrupted one as partial,
 * every whole packet kept: in GET /messages and GET /status of a voicemail
 * started on the store, and as a plain partial message at every later start.
 */
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killMidWrite as killWriter } from '@imslab/element-kit/testing';
import { afterAll, expect, it } from 'vitest';
import { SipLogger } from '@imslab/app-server';
import { parseVoicemailConfig } from '../src/config.ts';
import { VoicemailStore } from '../src/store.ts';
import { Voicemail } from '../src/voicemail.ts';
import { packet } from './fixtures/store-crash-data.ts';

const root = mkdtempSync(join(tmpdir(), 'vm-store-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const WRITER = fileURLToPath(new URL('./fixtures/store-crash-writer.ts', import.meta.url));

/** Runs the writer until it says `torn <id>`, SIGKILLs it; the ids it finished and the torn one. */
async function killMidWrite(dir: string, mode: 'record' | 'meta'): Promise<{ done: string[]; torn: string }> {
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

/** GET /status and GET /messages of a voicemail started on `dir`: where a user looks. */
async function asTheServerSaysIt(dir: string): Promise<{ problems: string[]; messages: Array<{ id: string; state: string; note?: string }> }> {
  const rtp = await freePort();
  const cfg = parseVoicemailConfig({ name: 'voicemail', address: '127.0.0.1', sipPort: await freePort(), controlPort: await freePort(), domain: 'ims.test', storeDir: dir, rtpPortMin: rtp, rtpPortMax: rtp + 1 });
  const vm = await Voicemail.start(cfg, new SipLogger('voicemail', 'voicemail', () => undefined));
  try {
    const get = async (path: string) => (await fetch(`http://127.0.0.1:${cfg.controlPort}${path}`)).json();
    const status = (await get('/status')) as { problems: string[] };
    const { messages } = (await get('/messages?mailbox=bob')) as { messages: Array<{ id: string; state: string; note?: string }> };
    return { problems: status.problems, messages };
  } finally {
    await vm.close();
  }
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => i);

for (const mode of ['record', 'meta'] as const) {
  it(`keeps every earlier message and reports the one a SIGKILL interrupted mid-${mode}-write as partial`, async () => {
    const dir = join(root, mode);
    const { done, torn } = await killMidWrite(dir, mode);
    expect(done).toHaveLength(2);
    expect(existsSync(join(dir, 'bob', torn, 'meta.json.tmp'))).toBe(mode === 'meta'); // the torn write is really there

    // The voicemail's start-up on the store reports the partial message in GET /status and GET /messages.
    const said = await asTheServerSaysIt(dir);
    expect(said.messages.map((m) => [m.id, m.state])).toEqual([[done[0], 'complete'], [done[1], 'complete'], [torn, 'partial']]);
    expect(said.messages[2]!.note).toMatch(/^recording interrupted before it finished \(process stopped\); 20 packets recovered/);
    expect(said.problems.find((p) => p.includes(torn))).toMatch(/interrupted recording recovered as partial, 20 packets/);

    const store = VoicemailStore.open(dir); // after recovery: a plain partial message, nothing new to report
    expect(store.problems()).toEqual([]);
    const list = store.list('bob');
    expect(list.map((m) => m.id)).toEqual([...done, torn]);
    done.forEach((id, m) => {
      const { meta, packets } = store.read(id);
      expect([meta.state, meta.note, meta.from]).toEqual(['complete', undefined, `sip:caller${m}@ims.test`]);
      expect(packets).toEqual(ids(10).map((i) => packet(m, i)));
    });

    const last = list[2]!;
    expect([last.state, last.packets, last.from, last.keyMgmt]).toEqual(['partial', 20, 'sip:caller2@ims.test', 'mikey ticket-2']);
    expect(last.note).toMatch(/^recording interrupted before it finished \(process stopped\); 20 packets recovered/);
    expect(store.read(torn).packets).toEqual(ids(20).map((i) => packet(2, i)));
    // A torn record is cut off (and said so); a torn meta.json.tmp is dropped, meta.json was never half written.
    if (mode === 'record') expect(said.problems.find((p) => p.includes(torn))).toMatch(/torn last record removed \(\d+ bytes at byte \d+\)/);
    expect(existsSync(join(dir, 'bob', torn, 'meta.json.tmp'))).toBe(false);
  }, 20_000);
}
