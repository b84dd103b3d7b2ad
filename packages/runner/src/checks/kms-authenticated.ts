import { z } from 'zod';
import { defineCheck } from './check.ts';

export const kmsAuthenticated = defineCheck({
  key: 'kmsAuthenticated',
  doc: 'Both ends show the peer identity as authenticated through the KMS (MIKEY-TICKET).',
  schema: z.literal(true),
  run(_want, ctx) {
    let ends = 0;
    for (const [ue, cs] of Object.entries(ctx.ueCalls)) {
      const c = cs.find((x) => x.callId === ctx.call.callId && x.state !== 'failed' && x.answeredAt);
      if (!c) continue;
      ends++;
      if (c.kmsAuthenticatedPeer) ctx.saw(`${ue}: peer authenticated through the KMS as ${c.kmsAuthenticatedPeer}`);
      else ctx.mismatch(`${ue}: no KMS-authenticated peer identity`);
    }
    if (ends < 2) ctx.mismatch(`no evidence: ${ends} end(s) of an answered call reported (2 needed)`);
  },
});
