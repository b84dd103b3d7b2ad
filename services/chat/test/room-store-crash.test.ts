/**
 * A real crash: a chat server process storing a message is killed (SIGKILL)
 * half way through its line. Opening the store as the chat server does on
 * start-up keeps both earlier messages byte for byte, reports the torn one
 * by id and sender with the bytes kept, and a message stored after the
 * restart is whole (not glued to the torn line).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killMidWrite as killWriter } from '@imslab/element-kit/testing';
import { afterAll, expect, it } from 'vitest';
import { RoomStore, bodyOf } from '../src/room-store.ts';
import { MAX_BYTES, ROOM, SENDER, message } from './fixtures/room-store-crash-data.ts';

const dir = mkdtempSync(join(tmpdir(), 'chat-store-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const WRITER = fileURLToPath(new URL('./fixtures/room-store-crash-writer.ts', import.meta.url));

/** Runs the writer until it says `torn <id>`, SIGKILLs it; the ids it finished and the torn one. */
async function killMidWrite(): Promise<{ done: string[]; torn: string }> {
  const r = await killWriter(WRITER, [dir]);
  expect(r.signal).toBe('SIGKILL');
  return r;
}

const asStored = (m: number) => ({ ...RoomStore.line(ROOM, SENDER, message(m)), time: expect.any(String) });

it('keeps every earlier message, reports the one a SIGKILL tore, and stores the next one whole', async () => {
  const { done, torn } = await killMidWrite();
  expect([done, torn]).toEqual([['msg-0', 'msg-1'], 'msg-2']);
  const file = join(dir, `${ROOM}.jsonl`);
  const onDisk = readFileSync(file);
  expect(onDisk.at(-1)).not.toBe(0x0a); // the kill really left half a line

  const store = RoomStore.open(dir, MAX_BYTES); // what ChatServer.start() does; it must not throw
  const kept = store.messages(ROOM);
  expect(kept).toEqual([asStored(0), asStored(1)]);
  kept.forEach((m, i) => expect(bodyOf(m).equals(message(i).body)).toBe(true));
  const half = onDisk.length - onDisk.lastIndexOf(0x0a) - 1;
  expect(store.partial()).toEqual([{ room: ROOM, line: 3, messageId: torn, sender: SENDER, keptBytes: half }]);
  expect(store.problems()).toEqual([`${ROOM}.jsonl line 3: message ${torn} from ${SENDER} is partial (the server stopped while storing it): ${half} bytes of its line kept, the body incomplete`]);
  expect(readFileSync(file).subarray(0, onDisk.length).equals(onDisk)).toBe(true); // the torn bytes stay, for the store scan

  // The next message after the restart gets a line of its own; the torn one is still reported at the next start.
  expect(store.append(ROOM, SENDER, message(3))).not.toBeNull();
  const again = RoomStore.open(dir, MAX_BYTES);
  expect(again.messages(ROOM)).toEqual([asStored(0), asStored(1), asStored(3)]);
  expect(again.partial()).toEqual(store.partial());
  expect(again.usedBytes).toBe(readFileSync(file).length);
}, 20_000);
