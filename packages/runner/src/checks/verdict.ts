import { CALL_VERDICT_PATTERN } from '@imslab/analysis';
import { z } from 'zod';
import { defineCheck } from './check.ts';

export const verdict = defineCheck({
  key: 'verdict',
  basis: 'packets',
  doc: 'The verdict for the call\'s media from the captures: e2e, e2m2e(<element>), e2ae, none, unknown or no-media; both directions, or the one `judge` names. fault(<element>): a fault step killed, froze or cut off that element while the call was up (the evidence says what the packets and the UEs showed).',
  schema: z.string().regex(CALL_VERDICT_PATTERN, 'must be e2e, e2ae, none, unknown, no-media or e2m2e(<element>); or fault(<element>) for a call a fault step hit'),
  run(want, ctx) {
    ctx.report.evidence.forEach((l) => ctx.saw(l));
    if (ctx.report.verdict !== want) ctx.mismatch(`verdict ${ctx.report.verdict}, expected ${want}`);
  },
});
