import { z } from 'zod';
import { defineCheck } from './check.ts';

export const playbackIdentical = defineCheck({
  key: 'playbackIdentical',
  basis: 'packets',
  doc: 'The voicemail played back exactly what it stored: the same SRTP/RTP payloads, byte for byte, in order (core capture).',
  schema: z.boolean(),
  run(want, ctx) {
    const s = ctx.evidence('store-and-forward');
    if (!s) return ctx.mismatch('no evidence: no store-and-forward report (no voicemail on this network, or no core capture)');
    const what = `${s.element}: ${s.received.packets} packets in, playbacks ${s.playbacks.map((p) => `${p.to} ${p.packets}${p.complete ? ' (complete)' : p.prefix ? ' (cut short, a prefix)' : ' (DIFFERENT)'}`).join(', ') || 'none'}`;
    if (s.identical !== want) ctx.mismatch(`playback ${s.identical ? 'identical' : 'not identical'} to the deposit, expected ${want ? 'identical' : 'a difference'} (${what})`);
    else ctx.saw(`core capture: ${what}; payload digest ${s.received.digest.slice(0, 16)}`);
  },
});
