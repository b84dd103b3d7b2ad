import { z } from 'zod';
import { defineCheck } from './check.ts';
import { callerView } from './views.ts';

export const failure = defineCheck({
  key: 'failure',
  basis: 'UE reports',
  doc: 'The call must fail at the caller, with a reason containing this text.',
  schema: z.string().min(1),
  run(want, ctx) {
    const v = callerView(ctx);
    const reason = v?.failure?.reason ?? '';
    if (!v) ctx.mismatch(`no evidence: ${ctx.call.from} has no record of the call`);
    else if (v.state !== 'failed' && v.state !== 'terminated') ctx.mismatch(`the call did not fail at ${ctx.call.from} (state ${v.state})`);
    else if (!reason.includes(want)) ctx.mismatch(`${ctx.call.from} failed with "${reason}", expected a reason containing "${want}"`);
    else ctx.saw(`${ctx.call.from} reports: ${reason}`);
  },
});
