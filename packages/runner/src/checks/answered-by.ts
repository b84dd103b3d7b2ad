import { z } from 'zod';
import { defineCheck } from './check.ts';
import { answeredBy as answered } from './views.ts';

export const answeredBy = defineCheck({
  key: 'answeredBy',
  basis: 'UE reports',
  doc: 'The device that must have answered the call (forking, forwarding), from the UEs\' reports.',
  schema: z.string(),
  run(want, ctx) {
    const got = answered(ctx);
    if (got.length === 1 && got[0] === want) ctx.saw(`answered by ${want} (UE reports)`);
    else ctx.mismatch(`answered by ${got.join(', ') || 'nobody'}, expected ${want}`);
  },
});
