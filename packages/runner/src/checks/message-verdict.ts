import { MESSAGE_VERDICT_PATTERN } from '@imslab/analysis';
import { z } from 'zod';
import { defineCheck } from './check.ts';

export const messageVerdict = defineCheck({
  key: 'messageVerdict',
  basis: 'packets',
  doc: 'The verdict for a message from the captures (TR 33.828 4.3/4.4): `none` when its marker is readable in the raw bytes of a link; `hop-by-hop(<elements>)` when only inside TLS (the elements that end the TLS read it); `e2e` when it is readable nowhere and CMS to the users\' certificates went through unchanged; `unknown` otherwise. Stores and logs holding the marker are named.',
  schema: z.string().regex(MESSAGE_VERDICT_PATTERN, 'must be e2e, none, unknown or hop-by-hop(<element>+<element>...)'),
  run(want, ctx) {
    const a = ctx.messages;
    if (!a) return ctx.mismatch('no evidence: no message analysis (the scenario sent no message, or its captures are missing)');
    const r = a.messages.find((m) => m.alias === ctx.alias);
    if (!r) return ctx.mismatch(`no evidence: the message analysis has no report for ${ctx.alias}`);
    for (const l of r.reasons ?? []) ctx.saw(l);
    if (r.verdict !== want) ctx.mismatch(`message verdict ${r.verdict}, expected ${want}`);
  },
});
