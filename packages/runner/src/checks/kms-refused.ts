import { z } from 'zod';
import { defineCheck } from './check.ts';
import { auditDevice, resolves } from './views.ts';

export const kmsRefused = defineCheck({
  key: 'kmsRefused',
  basis: 'KMS audit log',
  doc: 'These devices were refused by the KMS (its audit log).',
  schema: z.array(z.string()).min(1),
  run(want, ctx) {
    const rs = resolves(ctx);
    if (!rs) return;
    for (const d of want) {
      const refusal = rs.find((e) => e.result === 'refused' && auditDevice(e) === d);
      if (!refusal) ctx.mismatch(`KMS audit: no refusal of ${d}`);
      else ctx.saw(`KMS audit: refused ${d}: ${refusal.reason ?? ''}`);
    }
  },
});
