import { z } from 'zod';
import { defineCheck } from './check.ts';

export const keysExposed = defineCheck({
  key: 'keysExposed',
  basis: 'packets',
  doc: 'Whether the keys that protected the media must be reported as readable by someone in the middle (SDES: the SIP hops).',
  schema: z.boolean(),
  run(want, ctx) {
    const c = ctx.report.conditions;
    if ((c.length > 0) !== want) ctx.mismatch(c.length > 0 ? `keys were exposed (${c[0]}), expected none` : 'no key exposure found, expected the SDES keys to be reported as readable by the SIP hops');
  },
});
