import { z } from 'zod';
import { defineCheck } from './check.ts';
import { viewAt } from './views.ts';

export const noMediaAt = defineCheck({
  key: 'noMediaAt',
  doc: 'Devices that must have received none of the call\'s media (a cancelled fork, a refused party), from their counters.',
  schema: z.array(z.string()).min(1),
  run(want, ctx) {
    for (const ue of want) {
      if (!ctx.ueCalls[ue]) {
        ctx.mismatch(`noMediaAt: no UE "${ue}" reported; UEs: ${Object.keys(ctx.ueCalls).join(', ')}`);
        continue;
      }
      const c = viewAt(ctx, ue);
      if (c && (c.media.rxPackets > 0 || c.media.txPackets > 0)) ctx.mismatch(`${ue} exchanged media (${c.media.txPackets} sent, ${c.media.rxPackets} received), expected none`);
      else ctx.saw(`${ue}: ${c ? `call ${c.state}${c.failure?.status ? ` (${c.failure.status})` : ''}, ` : 'no record of the call, '}no media sent or received`);
    }
  },
});
