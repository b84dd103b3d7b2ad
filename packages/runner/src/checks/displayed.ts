import type { CallStatus } from '@imslab/ue/contract';
import { z } from 'zod';
import { strictObject } from '@imslab/element-kit';
import { defineCheck } from './check.ts';
import { answeredBy, callerView, viewAt } from './views.ts';

export const displayed = defineCheck({
  key: 'displayed',
  doc: 'The identity each end displays for its peer (P-Asserted-Identity): the caller\'s view and the callee\'s view.',
  schema: strictObject({ atCaller: z.string().optional(), atCallee: z.string().optional() }, 'displayed'),
  run(want, ctx) {
    const callee = answeredBy(ctx)[0];
    const check = (who: string, view: CallStatus | undefined, expected: string | undefined) => {
      if (expected === undefined) return;
      const got = view?.remoteIdentity ?? '(no call)';
      if (!got.includes(expected)) ctx.mismatch(`${who} displays ${got}, expected ${expected}`);
      else ctx.saw(`${who} displays ${got} (asserted: ${view?.remoteAssertedIdentity ?? 'none'})`);
    };
    check(ctx.call.from, callerView(ctx), want.atCaller);
    check(callee ?? 'callee', callee ? viewAt(ctx, callee) : undefined, want.atCallee);
  },
});
