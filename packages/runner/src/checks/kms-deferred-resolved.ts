import { z } from 'zod';
import { defineCheck } from './check.ts';
import { auditDevice, resolves, sortedList } from './views.ts';

export const kmsDeferredResolved = defineCheck({
  key: 'kmsDeferredResolved',
  basis: 'KMS audit log',
  doc: 'Exactly these devices resolved a stored message\'s ticket (deferred delivery, /mikey/resolve-deferred).',
  schema: z.array(z.string()),
  run(want, ctx) {
    const rs = resolves(ctx);
    if (!rs) return;
    const got = sortedList(rs.filter((e) => e.result === 'allowed' && e.deferred).map(auditDevice));
    if (got !== sortedList(want)) ctx.mismatch(`KMS audit: stored message resolved by ${got || 'nobody'}, expected ${sortedList(want) || 'nobody'}`);
    else ctx.saw(`KMS audit: the stored message's ticket resolved (deferred delivery, unforked keys) by ${got || 'nobody'} only`);
  },
});
