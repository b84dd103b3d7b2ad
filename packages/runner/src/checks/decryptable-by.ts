import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseKeyLog } from '@imslab/probe';
import { z } from 'zod';
import { defineCheck } from './check.ts';

/**
 * Who could decrypt what this call's caller sent: every UE whose key log
 * holds one of the caller's send keys of this call (the listeners of a group
 * derive a talker's key from its packets' MKI and log it when the first
 * packet authenticates; conference members hold the group key). The analyser
 * found those keys on the links; this names their holders.
 */
export const decryptableBy = defineCheck({
  key: 'decryptableBy',
  basis: 'key logs and packets',
  doc: 'The UEs other than the caller that hold a key the caller sent under on this call (from their key logs), exactly these; each key is one the analyser verified packets under on the links.',
  schema: z.array(z.string().min(1)),
  run(want, ctx) {
    if (!ctx.keyDir || !existsSync(ctx.keyDir)) return ctx.mismatch('no evidence: no key logs');
    const logs = new Map(readdirSync(ctx.keyDir).filter((f) => f.endsWith('.srtp-keys.jsonl')).map((f) => [f.slice(0, -'.srtp-keys.jsonl'.length), parseKeyLog(readFileSync(join(ctx.keyDir!, f), 'utf8')).entries]));
    // Media keys only: a floor control key (the client-server key) protects nothing of the media.
    // One entry per key: a key logged once per stream (video and text under the audio's, each its own SSRC) is one key.
    const sent = [...new Map((logs.get(ctx.call.from) ?? []).filter((k) => k.callId === ctx.call.callId && k.dir === 'tx' && k.purpose !== 'floor-control').map((k) => [`${k.keySalt}/${k.mki ?? ''}`, k])).values()];
    if (sent.length === 0) return ctx.mismatch(`no evidence: ${ctx.call.from} logged no send key for ${ctx.call.alias}`);
    const holders = new Set<string>();
    for (const k of sent) {
      const who = [...logs].filter(([ue, es]) => ue !== ctx.call.from && es.some((e) => e.keySalt === k.keySalt)).map(([ue]) => ue);
      const id = ctx.analysis.keys.find((a) => a.owner === ctx.call.from && a.dir === 'tx' && a.purpose !== 'floor-control' && a.callId === ctx.call.callId && (k.mki ? a.mki === k.mki : true))?.id;
      const onLinks = id ? ctx.analysis.links.reduce((n, l) => n + l.media.reduce((m, f) => m + (f.srtp[id] ?? 0), 0), 0) : 0;
      ctx.saw(`${ctx.call.from}'s key ${k.mki ? `MKI ${k.mki}` : k.keySalt.slice(0, 8) + '…'}: ${onLinks} packets under it on the links; held by ${who.join(', ') || 'nobody else'}`);
      for (const w of who) holders.add(w);
    }
    const got = [...holders].sort();
    const exp = [...new Set(want)].sort();
    if (got.join(',') !== exp.join(',')) ctx.mismatch(`could decrypt ${ctx.call.from}'s media: ${got.join(', ') || 'nobody'}; expected ${exp.join(', ') || 'nobody'}`);
  },
});
