import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseKeyLog } from '@imslab/probe';
import { z } from 'zod';
import { defineCheck, type CheckContext } from './check.ts';

/** Replay pacing is kept when the wire span is within 20 % (or 20 ms) of the recorded span. */
function paced(wireMs: number, durationMs: number): boolean {
  return Math.abs(wireMs - durationMs) <= Math.max(20, durationMs * 0.2);
}

/** MKIs (hex) the caller's key log holds for this call: the talkers' keys it derived and decrypted under. */
function heldMkis(ctx: CheckContext): Set<string> {
  const file = ctx.keyDir && join(ctx.keyDir, `${ctx.call.from}.srtp-keys.jsonl`);
  if (!file || !existsSync(file)) return new Set();
  return new Set(parseKeyLog(readFileSync(file, 'utf8')).entries.filter((e) => e.callId === ctx.call.callId && e.mki).map((e) => e.mki!.toLowerCase()));
}

export const pocBox = defineCheck({
  key: 'pocBox',
  basis: 'packets and PoC box',
  doc: 'PoC recordings for an offline member (TR 33.828 4.2): on this call the PoC server played `delivered` recorded bursts to the caller, each leaving the server byte-identical to what it stored and paced as recorded (core capture); the caller was told in the answer; its key log holds the key each burst\'s MKI names (it decrypted them with the GMK it got by MIKEY-SAKKE). `atRest: ciphertext`: what stays in the box is SRTP and the store scan found no marker and no key bytes in it.',
  schema: z.strictObject({ delivered: z.number().int().min(0), atRest: z.enum(['ciphertext', 'plaintext', 'empty']).optional() }),
  run(want, ctx) {
    const box = ctx.evidence('poc-box');
    if (!box) return ctx.mismatch('no evidence: the PoC box report was not collected');
    const mine = box.delivered.filter((b) => b.callId === ctx.call.callId);
    if (mine.length !== want.delivered) ctx.mismatch(`PoC box: ${mine.length} bursts played on ${ctx.call.alias}, expected ${want.delivered}`);
    for (const b of mine) {
      const w = b.onWire;
      if (!w) ctx.mismatch(`packets: burst ${b.id} (${b.packets} packets from ${b.talker}) was not found leaving the PoC server on the core link`);
      else if (!w.identical) ctx.mismatch(`packets: burst ${b.id} left the PoC server changed (${w.packets} of ${b.packets} packets matched in order)`);
      else if (!paced(w.wireMs, b.durationMs)) ctx.mismatch(`packets: burst ${b.id} was replayed over ${w.wireMs} ms, recorded over ${b.durationMs} ms: its timing was not kept`);
      else ctx.saw(`packets: burst ${b.id} of ${b.talker} (${b.packets} packets, ${b.state}) left the PoC server to ${w.to} byte-identical to what it stored, over ${w.wireMs} ms (recorded: ${b.durationMs} ms)`);
    }
    if (want.delivered > 0) {
      const told = (ctx.ueCalls[ctx.call.from] ?? []).find((c) => c.callId === ctx.call.callId)?.pocRecordings;
      if (!told || !told.includes(`bursts=${want.delivered}`)) ctx.mismatch(`UE reports: ${ctx.call.from} was told ${told ? `"${told}"` : 'nothing'} about its recordings, expected bursts=${want.delivered}`);
      else ctx.saw(`UE reports: the answer told ${ctx.call.from} "${told}"`);
      const held = heldMkis(ctx);
      const mkis = [...new Set(mine.flatMap((b) => b.keyIds.map((k) => k.mki?.toLowerCase()).filter((m): m is string => !!m)))];
      const missing = mkis.filter((m) => !held.has(m));
      if (mkis.length === 0) ctx.mismatch('PoC box: the played bursts name no MKI: not under a GMK');
      else if (missing.length) ctx.mismatch(`key logs: ${ctx.call.from} holds no key for MKI ${missing.join(', ')}: it could not decrypt those bursts`);
      else ctx.saw(`key logs: ${ctx.call.from} derived the key of every played burst's MKI (${mkis.join(', ')}) from the GMK it received by MIKEY-SAKKE`);
    }
    if (want.atRest === 'ciphertext') {
      const r = box.atRest;
      if (r.bursts === 0) ctx.mismatch('PoC box: nothing at rest to judge');
      else if (r.rtp > 0 || box.markers.length || box.keys.length) ctx.mismatch(`PoC box at rest: ${r.rtp} bursts kept as RTP, markers ${box.markers.join(', ') || 'none'}, key bytes ${box.keys.join(', ') || 'none'}: not ciphertext only`);
      else ctx.saw(`PoC box at rest: ${r.bursts} bursts (${r.bytes} bytes), all SRTP; the store scan found no marker and no key bytes`);
    } else if (want.atRest === 'empty' && box.atRest.bursts > 0) ctx.mismatch(`PoC box: ${box.atRest.bursts} bursts still at rest, expected none`);
    else if (want.atRest === 'plaintext' && box.atRest.rtp === 0 && box.markers.length === 0) ctx.mismatch('PoC box at rest: no plaintext found, expected some (e2m2e stores decrypted RTP)');
    for (const p of box.problems) ctx.saw(`PoC box problem: ${p}`);
  },
});
