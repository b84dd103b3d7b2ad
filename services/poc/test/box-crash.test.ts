/**
 * A real crash: a process recording into the box is killed (SIGKILL) in
 * the middle of a burst. The next open keeps both earlier bursts intact and
 * recovers the interrupted one as partial, every whole packet kept.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { PocBox } from '../src/box.ts';

const dir = mkdtempSync(join(tmpdir(), 'poc-box-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const WRITER = fileURLToPath(new URL('./fixtures/box-crash-writer.ts', import.meta.url));

it('keeps every earlier burst and recovers the one a SIGKILL interrupted as partial', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
      if (lines.some((l) => l.startsWith('recording '))) resolve();
    });
    child.on('exit', (code) => reject(new Error(`writer exited (${code}) before recording: ${lines.join(' | ')}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  const [a, b] = lines;
  const cut = lines.find((l) => l.startsWith('recording '))!.slice('recording '.length);

  const box = PocBox.open(dir);
  const pending = box.pending('poc-team', 'sip:carol@ims.test');
  expect(pending.map((x) => x.id)).toEqual([a, b, cut]);
  expect(pending.slice(0, 2).map((x) => [x.state, x.packets])).toEqual([['complete', 10], ['complete', 10]]);
  for (const id of [a!, b!]) expect(box.read(id).packets.map((p) => p.data[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const last = pending[2]!;
  expect(last.state).toBe('partial');
  expect(last.packets).toBeGreaterThanOrEqual(20);
  expect(last.note).toMatch(/recording interrupted \(the server stopped mid-burst\)/);
  const read = box.read(cut);
  expect(read.damage).toBeNull();
  expect(read.packets.map((p) => p.data[0])).toEqual(Array.from({ length: last.packets }, (_, i) => i & 0xff));
  expect(box.problems().join('\n')).toMatch(new RegExp(`${cut}: interrupted burst recovered as partial, ${last.packets} packets`));
}, 20_000);
