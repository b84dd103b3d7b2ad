import { z } from 'zod';
import { defineCheck, type CheckContext } from './check.ts';

/**
 * SRTCP keys the analyser could only get from SDP readable on a link
 * (signalled keys are named `sdp@<link>/...`): floor control under them is
 * encrypted, yet anyone on that link can read it.
 */
function signalledSrtcpKeys(ctx: CheckContext): string[] {
  const keys = new Set<string>();
  for (const l of ctx.analysis.links) for (const f of l.media) for (const k of Object.keys(f.srtcp)) if (k.startsWith('sdp@')) keys.add(k);
  return [...keys].sort();
}

/**
 * Whether floor control was readable in the clear on any link (plain RTCP
 * APP `MCPT`, or SRTCP with encryption off): readable floor control names
 * the talker, the members and the queue to anyone on the link. Protected,
 * only the RTCP header shows (SRTCP, RFC 3711 sec. 3.4).
 */
export const floorControlInClear = defineCheck({
  key: 'floorControlInClear',
  basis: 'packets',
  doc: 'Whether PoC floor control (RTCP APP MCPT) was readable without a key on any link: false when it travelled only as encrypted SRTCP (the PoC server\'s scan of every capture).',
  schema: z.boolean(),
  run(want, ctx) {
    const f = ctx.evidence('floor-control-on-links');
    if (!f) return ctx.mismatch('no evidence: floor control was not scanned (no PoC server on this network: network.servers: [poc])');
    const apps = Object.entries(f.appPackets).map(([l, n]) => `${l} ${n}`).join(', ');
    const found = f.clearTotal > 0;
    const listed = f.clear.map((c) => `${c.link} ${c.flow}: ${c.messages.join(', ')}`).join('; ');
    if (found !== want) ctx.mismatch(found ? `floor control readable in the clear in ${f.clearTotal} datagram(s): ${listed}` : 'no floor control readable in the clear, expected some');
    else ctx.saw(found ? `floor control readable in the clear in ${f.clearTotal} datagram(s): ${listed}` : `no floor control readable in the clear on any link; RTCP APP datagrams seen (header only): ${apps}`);
    // Not a mismatch (the key exchange is the scenario's choice), but what the protection rests on.
    const exposed = signalledSrtcpKeys(ctx);
    if (exposed.length > 0) ctx.saw(`but RTCP (floor control) is under ${exposed.length} key(s) read from SDP in plaintext SIP (${exposed.join(', ')}): readable by anyone on those links and by every SIP hop`);
  },
});
