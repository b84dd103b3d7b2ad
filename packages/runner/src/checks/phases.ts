import { VERDICT_PATTERN } from '@imslab/analysis';
import { z } from 'zod';
import { defineCheck } from './check.ts';

export const phases = defineCheck({
  key: 'phases',
  basis: 'packets',
  doc: 'The verdict per phase when security is switched on mid-call, in time order, e.g. [none, e2e].',
  schema: z.array(z.string().regex(VERDICT_PATTERN, 'must be a verdict')).min(2),
  run(want, ctx) {
    const got = ctx.report.phases ?? [ctx.report.verdict];
    if (got.join(',') !== want.join(',')) ctx.mismatch(`phases ${got.join(' -> ')}, expected ${want.join(' -> ')}`);
    else ctx.saw(`protection changed during the call: ${got.join(' -> ')}`);
  },
});
