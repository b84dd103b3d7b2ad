import { decodeFrame, readCapture } from '@imslab/capture';
import { SIP_PORT } from '@imslab/topology';
import { z } from 'zod';
import { defineCheck } from './check.ts';

/**
 * Media (UDP, not SIP) sent to `address` on any link between `afterUs` and
 * `beforeUs`: what a member who left still received.
 */
export async function mediaToAfter(captures: Record<string, string>, address: string, afterUs: number, beforeUs = Infinity): Promise<{ packets: number; links: string[] }> {
  let packets = 0;
  const links = new Set<string>();
  for (const [link, file] of Object.entries(captures)) {
    for await (const pkt of readCapture(file)) {
      if (pkt.timestampUs <= afterUs || pkt.timestampUs >= beforeUs) continue;
      const d = decodeFrame(pkt.linkType, pkt.data);
      if (!d || d.protocol !== 'udp' || d.dst !== address || d.dstPort === SIP_PORT || d.srcPort === SIP_PORT) continue;
      packets++;
      links.add(link);
    }
  }
  return { packets, links: [...links] };
}

/** Packets already in flight when the BYE left: not a leak. */
const IN_FLIGHT_MS = 200;

export const noMediaAfterHangup = defineCheck({
  key: 'noMediaAfterHangup',
  basis: 'packets',
  doc: 'After this call\'s caller hung up (left a conference), no media reached it any more on any link until its next call (captures; 200 ms allowed for packets in flight).',
  schema: z.literal(true),
  async run(_want, ctx) {
    const c = ctx.call;
    const ue = ctx.plan.elements.find((e) => e.name === c.from);
    if (!c.hungUpAt) return ctx.mismatch(`noMediaAfterHangup: ${c.from} never hung up ${c.alias} in the steps`);
    const address = ue && 'address' in ue ? (ue.address as string) : undefined;
    if (!address) return ctx.mismatch(`no evidence: ${c.from} has no address in the plan`);
    if (Object.keys(ctx.captures).length === 0) return ctx.mismatch('no evidence: no capture');
    // Until the same UE starts another call (a member rejoining), whose media is legitimately sent to it.
    const next = (ctx.ueCalls[c.from] ?? []).map((s) => Date.parse(s.startedAt ?? '')).filter((t) => t > c.hungUpAt!).sort((a, b) => a - b)[0];
    const a = await mediaToAfter(ctx.captures, address, (c.hungUpAt + IN_FLIGHT_MS) * 1000, next !== undefined ? next * 1000 : Infinity);
    if (a.packets > 0) ctx.mismatch(`${c.from} was still sent ${a.packets} media packets after it left (${a.links.join(', ')})`);
    else ctx.saw(`after ${c.from} left, no media was sent to it on any link (captures)`);
    if (ctx.report.verdict === 'e2e') ctx.saw('limitation: the group key was not changed when the member left (TR 33.828 4.1.3 allows this for small groups): it could still decrypt traffic of the conference it captured elsewhere');
  },
});
