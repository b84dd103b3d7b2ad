import { z } from 'zod';
import { defineCheck } from './check.ts';
import { callerView } from './views.ts';

export const callerAchieved = defineCheck({
  key: 'callerAchieved',
  basis: 'UE reports',
  doc: 'What the caller\'s UE must report having negotiated (e2e, e2m2e, e2ae, none, ...).',
  schema: z.string().min(1),
  run(want, ctx) {
    const v = callerView(ctx);
    if (v?.securityAchieved !== want) ctx.mismatch(`${ctx.call.from} reports ${v?.securityAchieved ?? 'nothing'} negotiated, expected ${want}`);
    else ctx.saw(`${ctx.call.from} reports ${want} negotiated (${v.keyManagement ?? 'no key management'})`);
  },
});
