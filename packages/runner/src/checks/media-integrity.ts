import type { MediaFlowReport } from '@imslab/analysis';
import { z } from 'zod';
import { strictObject } from '@imslab/element-kit';
import { callMarkers, defineCheck, type CheckContext } from './check.ts';

const COUNTS = {
  replayed: 'packets a receiver would drop as replays (an SSRC and index already accepted, or older than the window)',
  unauthenticated: 'packets on an SRTP flow that authenticate under no key (forged or corrupted)',
  rtcpPlain: 'plain RTCP on a link where the call\'s media is SRTP (RFC 3711 sec. 3.4: SRTCP authentication is mandatory; plain RTCP shows SSRCs, CNAMEs and timing)',
  srtcpUnknown: 'RTCP-shaped packets that are neither plain RTCP nor SRTCP under a known key',
  floorControlClear: 'PoC floor control (RTCP APP MCPT) readable without a key: plain, or SRTCP with encryption off (TS 33.180 protects it under the client-server key)',
} as const;
type Count = keyof typeof COUNTS;

/** The call's flows on every link: those carrying its markers, or tied to its SDP. */
function callFlows(ctx: CheckContext): { link: string; f: MediaFlowReport; srtpOnLink: boolean }[] {
  const markers = callMarkers(ctx.call);
  return ctx.analysis.links.flatMap((l) => {
    const ours = l.media.filter((f) => markers.some((m) => f.markers[m]) || f.foundBy?.callId === ctx.call.callId);
    const srtpOnLink = ours.some((f) => f.srtpVerified > 0 || Object.keys(f.srtcp).length > 0);
    return ours.map((f) => ({ link: l.link, f, srtpOnLink }));
  });
}

/**
 * Every packet of the call's flows is accounted for: none replayed, none
 * failing authentication on an SRTP flow, no plain RTCP beside SRTP, no RTCP
 * under an unknown key, unless the scenario says how many (an attack). Runs
 * for every call; rests on the captures alone.
 */
export const mediaIntegrity = defineCheck({
  key: 'mediaIntegrity',
  basis: 'packets',
  always: true,
  doc: `Packets of the call's flows, on every link, that are not plain media or SRTP/SRTCP under a known key: ${Object.entries(COUNTS).map(([k, d]) => `${k}: ${d}`).join('; ')}. Default: none of each; give the number expected (summed over links) where an attack sends them.`,
  schema: strictObject(Object.fromEntries(Object.keys(COUNTS).map((k) => [k, z.number().int().min(0).optional()])) as Record<Count, z.ZodOptional<z.ZodNumber>>, 'mediaIntegrity'),
  run(want, ctx) {
    const flows = callFlows(ctx);
    const clean: string[] = [];
    for (const count of Object.keys(COUNTS) as Count[]) {
      const where = flows
        .map(({ link, f, srtpOnLink }) => ({ link, f, n: count === 'rtcpPlain' && !srtpOnLink ? 0 : f[count] }))
        .filter((x) => x.n > 0);
      const got = where.reduce((a, x) => a + x.n, 0);
      const expected = want?.[count] ?? 0;
      if (got !== expected) ctx.mismatch(`${count}: ${got}${where.length ? ` (${where.map((x) => `${x.link} ${x.f.flow}: ${x.n}`).join(', ')})` : ''}, expected ${expected}: ${COUNTS[count]}`);
      else clean.push(`${count} ${got}`);
    }
    if (flows.length > 0 && clean.length === Object.keys(COUNTS).length) {
      const rtp = flows.reduce((a, x) => a + x.f.packets, 0);
      const rtcp = flows.reduce((a, x) => a + x.f.rtcp, 0);
      ctx.saw(`${flows.length} flows of the call, ${rtp} RTP and ${rtcp} RTCP packets, each one plain or authenticated: ${clean.join(', ')}`);
    }
  },
});
