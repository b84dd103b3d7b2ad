import { addressOwner } from '@imslab/network';
import { z } from 'zod';
import { faultOutcome } from '../faults.ts';
import { defineCheck } from './check.ts';

/**
 * What a fault step did to a call's media, from the packets: `stopped` (no
 * direction reached its receiving end any more) or `continued` (every
 * direction still did: the element was not on the media path, or the media
 * found a way around it). The evidence names each direction and link.
 */
export const afterFault = defineCheck({
  key: 'afterFault',
  basis: 'packets',
  doc: 'After a fault step: `stopped` (no direction of the call\'s media reached its receiving end any more) or `continued` (every direction still did), judged on the link toward each end (a UE, the voicemail, a conference or PoC server; never an IMS-AGW or the transcoder).',
  schema: z.enum(['stopped', 'continued']),
  run(want, ctx) {
    if (!ctx.call.faults?.length) {
      ctx.mismatch('afterFault: no fault step hit this call (place the fault step after the call is up)');
      return;
    }
    const { delivered } = faultOutcome(ctx.call.faults, ctx.report, ctx.ueCalls, addressOwner(ctx.plan));
    const dirs = Object.entries(delivered);
    if (dirs.length === 0) {
      ctx.mismatch('no evidence: the call carried no media the analysis could follow');
      return;
    }
    const went = dirs.filter(([, d]) => d).map(([k]) => k);
    const got = went.length === dirs.length ? 'continued' : went.length === 0 ? 'stopped' : `continued ${went.join(', ')} only`;
    if (got !== want) ctx.mismatch(`afterFault: media ${got}, expected ${want}`);
    else ctx.saw(`after the fault the media ${got} (${dirs.map(([k, d]) => `${k} ${d ? 'reached' : 'did not reach'} its receiving end`).join(', ')})`);
  },
});
