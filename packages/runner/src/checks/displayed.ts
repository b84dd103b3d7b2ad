import type { CallStatus } from '@imslab/ue/contract';
import { z } from 'zod';
import { strictObject } from '@imslab/element-kit';
import { defineCheck } from './check.ts';
import { answeredBy, callerView, viewAt } from './views.ts';

/**
 * What each end displays is the identity the network asserted to it
 * (P-Asserted-Identity), compared exactly: the From/To a peer claims is
 * never evidence of who it is.
 */
export const displayed = defineCheck({
  key: 'displayed',
  basis: 'UE reports',
  doc: 'The identity each end displays for its peer, exactly the P-Asserted-Identity the network gave it: the caller\'s view and the callee\'s view.',
  schema: strictObject({ atCaller: z.string().optional(), atCallee: z.string().optional() }, 'displayed'),
  run(want, ctx) {
    const callee = answeredBy(ctx)[0];
    const check = (who: string, view: CallStatus | undefined, expected: string | undefined) => {
      if (expected === undefined) return;
      if (!view) return ctx.mismatch(`no evidence: ${who} has no record of the call`);
      const asserted = view.remoteAssertedIdentity;
      if (asserted === null) ctx.mismatch(`${who} was given no asserted identity for its peer (it shows the claimed ${view.remoteClaimedIdentity}), expected ${expected}`);
      else if (asserted !== expected) ctx.mismatch(`${who} was given ${asserted} as its peer's identity, expected ${expected}`);
      else ctx.saw(`${who} displays ${asserted} (P-Asserted-Identity; claimed: ${view.remoteClaimedIdentity})`);
    };
    check(ctx.call.from, callerView(ctx), want.atCaller);
    check(callee ?? 'the callee (nobody answered)', callee ? viewAt(ctx, callee) : undefined, want.atCallee);
  },
});
