import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { META_FILE, STORE_DIR, type MessageMeta } from '@imslab/voicemail/contract';
import { z } from 'zod';
import { defineCheck } from './check.ts';

/** Every meta.json of the collected store (`<run>/logs/voicemail-store/<mailbox>/<id>/`); unreadable ones are named, not fatal. */
export function storedMessages(root: string): { metas: MessageMeta[]; unreadable: string[] } {
  const metas: MessageMeta[] = [];
  const unreadable: string[] = [];
  for (const box of readdirSync(root, { withFileTypes: true })) {
    if (!box.isDirectory() || box.name.startsWith('.')) continue;
    for (const msg of readdirSync(join(root, box.name), { withFileTypes: true })) {
      if (!msg.isDirectory() || msg.name.startsWith('.')) continue;
      const file = join(root, box.name, msg.name, META_FILE);
      try {
        metas.push(JSON.parse(readFileSync(file, 'utf8')) as MessageMeta);
      } catch (e) {
        unreadable.push(`${box.name}/${msg.name}: ${(e as Error).message}`);
      }
    }
  }
  return { metas, unreadable };
}

/**
 * What the voicemail kept of this call as a deposit, from its store as the
 * run collected it (after any restart: the voicemail's recovery on start-up
 * has then turned an interrupted recording into a `partial` message): a
 * `complete` message, or a `partial` one (cut short by a crash, a limit or a
 * full disk) whose note says why. The voicemail's own start-up report of the
 * message (its log) is quoted when there is one.
 */
export const voicemailDeposit = defineCheck({
  key: 'voicemailDeposit',
  basis: 'voicemail store',
  doc: 'This call, a deposit, is in the voicemail\'s store as a `complete` message, or as a `partial` one (interrupted: the note says why and how many packets were kept).',
  schema: z.enum(['complete', 'partial']),
  run(want, ctx) {
    // The store is collected to `<dir>/logs/voicemail-store`.
    const dir = ctx.dir;
    const root = dir && join(dir, 'logs', STORE_DIR);
    if (!root || !existsSync(root)) return ctx.mismatch('no evidence: the voicemail\'s store was not collected');
    const { metas, unreadable } = storedMessages(root);
    const mine = metas.filter((m) => m.callId === ctx.call.callId);
    if (mine.length === 0) {
      return ctx.mismatch(`voicemailDeposit: no message of call ${ctx.call.callId} in the store (${metas.length} message(s)${unreadable.length ? `; unreadable: ${unreadable.join('; ')}` : ''})`);
    }
    for (const m of mine) {
      const what = `voicemail store: message ${m.id} in mailbox ${m.mailbox} from ${m.from}: ${m.state}, ${m.packets} packets, ${m.bytes} bytes${m.note ? ` (${m.note})` : ''}`;
      if (m.state !== want) ctx.mismatch(`${what}; expected ${want}`);
      else if (want === 'partial' && !m.note) ctx.mismatch(`${what}; a partial message must say why`);
      else ctx.saw(what);
    }
    const log = dir && join(dir, 'logs', 'voicemail.log');
    const said = log && existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => mine.some((m) => l.includes(m.id)) && l.includes('store:')) : [];
    if (said.length) ctx.saw(`the voicemail reported at start-up: ${said.map((l) => l.trim()).join(' | ')}`);
  },
});
