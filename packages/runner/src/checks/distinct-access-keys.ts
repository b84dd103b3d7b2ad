import { z } from 'zod';
import { defineCheck } from './check.ts';

export const distinctAccessKeys = defineCheck({
  key: 'distinctAccessKeys',
  basis: 'packets',
  doc: 'Keys on the two access links must differ (e2ae: each UE talks to its own IMS-AGW).',
  schema: z.literal(true),
  run(_want, ctx) {
    for (const p of ctx.report.paths) {
      const access = Object.keys(p.links).filter((l) => l.startsWith('access'));
      const [a = [], b = []] = access.map((l) => p.links[l]?.keys ?? []);
      const shared = a.filter((k) => b.includes(k));
      if (a.length === 0 || b.length === 0) ctx.mismatch(`${p.direction}: no SRTP key on ${a.length === 0 ? access[0] ?? 'an access link' : access[1] ?? 'an access link'} to compare`);
      else if (shared.length) ctx.mismatch(`${p.direction}: the same key ${shared.join(', ')} on both access links`);
      else ctx.saw(`${p.direction}: different keys on the access links (${a.join(',')} vs ${b.join(',')})`);
    }
  },
});
