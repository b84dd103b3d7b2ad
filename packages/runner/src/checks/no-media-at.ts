import { z } from 'zod';
import { callMarkers, defineCheck, type CheckContext } from './check.ts';
import { viewAt } from './views.ts';

/** The call's media flows (its markers, or its SDP) to or from an address, on every link, with their packets. */
function mediaAt(ctx: CheckContext, address: string): { packets: number; flows: string[] } {
  const markers = callMarkers(ctx.call);
  let packets = 0;
  const flows: string[] = [];
  for (const l of ctx.analysis.links) {
    for (const f of l.media) {
      const ours = markers.some((m) => f.markers[m]) || f.foundBy?.callId === ctx.call.callId;
      if (!ours || (!f.src.startsWith(`${address}:`) && !f.dst.startsWith(`${address}:`))) continue;
      packets += f.packets;
      flows.push(`${l.link} ${f.flow}`);
    }
  }
  return { packets, flows };
}

/**
 * A device got none of the call's media: no flow of the call reached or
 * left its address on any link (packets), and its own counters agree.
 */
export const noMediaAt = defineCheck({
  key: 'noMediaAt',
  basis: 'packets and UE counters',
  doc: 'Devices that must have received none of the call\'s media (a cancelled fork, a refused party): no flow of the call to or from them on any link, and their counters agree.',
  schema: z.array(z.string()).min(1),
  run(want, ctx) {
    for (const ue of want) {
      const e = ctx.plan.elements.find((x) => x.name === ue);
      const address = e && 'address' in e ? String(e.address) : undefined;
      if (!address) {
        ctx.mismatch(`noMediaAt: no UE "${ue}" in this network; UEs: ${ctx.plan.elements.filter((x) => x.kind === 'ue').map((x) => x.name).join(', ')}`);
        continue;
      }
      const seen = mediaAt(ctx, address);
      if (seen.packets > 0) ctx.mismatch(`${ue}: ${seen.packets} packets of the call's media to or from ${address} (${seen.flows.join(', ')}), expected none`);
      const reported = ctx.ueCalls[ue];
      const c = viewAt(ctx, ue);
      if (reported === undefined) ctx.mismatch(`no evidence: ${ue} did not report its calls`);
      else if (c && (c.media.rxPackets > 0 || c.media.txPackets > 0)) ctx.mismatch(`${ue} counted media (${c.media.txPackets} sent, ${c.media.rxPackets} received), expected none`);
      else if (seen.packets === 0) ctx.saw(`${ue}: no flow of the call on any link; ${c ? `its call ${c.state}${c.failure?.status ? ` (${c.failure.status})` : ''}, nothing sent or received` : 'no record of the call'}`);
    }
  },
});
