import { LINK_PROTECTIONS } from '@imslab/analysis';
import { z } from 'zod';
import { defineCheck } from './check.ts';

export const links = defineCheck({
  key: 'links',
  basis: 'packets',
  doc: 'How the call\'s media must appear on each link (both directions): plaintext, srtp, encrypted-unknown or absent.',
  schema: z.record(z.string(), z.enum(LINK_PROTECTIONS)),
  run(want, ctx) {
    for (const [link, p] of Object.entries(want)) {
      if (!ctx.plan.links.some((l) => l.name === link)) {
        ctx.mismatch(`links: no link "${link}"; links: ${ctx.plan.links.map((l) => l.name).join(', ')}`);
        continue;
      }
      for (const path of ctx.report.paths) {
        const got = path.links[link]?.protection ?? 'absent';
        if (got !== p) ctx.mismatch(`${path.direction} on ${link}: ${got}, expected ${p}`);
      }
    }
  },
});
