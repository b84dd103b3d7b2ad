import { z } from 'zod';
import { defineCheck } from './check.ts';
import { auditDevice, resolves, sortedList } from './views.ts';

export const kmsResolved = defineCheck({
  key: 'kmsResolved',
  basis: 'KMS audit log',
  doc: 'Exactly these devices resolved the call\'s ticket at the KMS (its audit log); [] for nobody.',
  schema: z.array(z.string()),
  run(want, ctx) {
    const rs = resolves(ctx);
    if (!rs) return;
    const got = sortedList(rs.filter((e) => e.result === 'allowed').map(auditDevice));
    if (got !== sortedList(want)) ctx.mismatch(`KMS audit: resolved by ${got || 'nobody'}, expected ${sortedList(want) || 'nobody'}`);
    else ctx.saw(`KMS audit: ticket resolved by ${got || 'nobody'} only (${rs.length} resolve decision(s) in the log)`);
  },
});
