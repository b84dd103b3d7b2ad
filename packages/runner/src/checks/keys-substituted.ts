import { sdesKeysIn } from '@imslab/analysis';
import { z } from 'zod';
import { defineCheck, type CheckContext } from './check.ts';

/** The address of a `udp a:p > b:p` flow end (`[v6]:p` too). */
function host(end: string): string {
  const i = end.lastIndexOf(':');
  return end.slice(0, i).replace(/^\[|\]$/g, '');
}

/** SDES keys of this call that `address` received and sent on `link`: plaintext SIP (the scan) and SIP inside TLS (tshark with the key logs). */
function keysAt(ctx: CheckContext, link: string, address: string): { got: Set<string>; sent: Set<string> } {
  const got = new Set<string>();
  const sent = new Set<string>();
  const l = ctx.analysis.links.find((x) => x.link === link);
  for (const m of l?.signalling.sdesMessages ?? []) {
    if (m.callId !== ctx.call.callId) continue;
    const [src = '', dst = ''] = m.flow.replace(/^\S+ /, '').split(' > ');
    if (host(dst) === address) m.keys.forEach((k) => got.add(k));
    if (host(src) === address) m.keys.forEach((k) => sent.add(k));
  }
  for (const m of ctx.analysis.tls[link]?.messages ?? []) {
    if (m.callId !== ctx.call.callId) continue;
    if (m.dst === address) sdesKeysIn([m]).forEach((k) => got.add(k));
    if (m.src === address) sdesKeysIn([m]).forEach((k) => sent.add(k));
  }
  return { got, sent };
}

const short = (keys: Set<string>) => [...keys].map((k) => `${k.slice(0, 8)}...`).join(', ');

/**
 * A P-CSCF swapped the SDES keys of the call (issue 13, a rogue P-CSCF; TR
 * 33.828 4.1.1: SDES keys are readable by every SIP hop): on one side of it
 * the SDP carried keys, and none of them went on to the other side, which
 * got keys of the P-CSCF's own instead. A hop that relays (the keys pass,
 * with extra ones of its IMS-AGW or not) or terminates (e2ae: no key goes on)
 * did not substitute. Proven from the SIP on its access link (inside TLS)
 * and on the core link, where the keys travel in the clear.
 */
export const keysSubstituted = defineCheck({
  key: 'keysSubstituted',
  basis: 'packets',
  doc: 'The P-CSCF (pcscf-a or pcscf-b) that swapped the call\'s SDES keys for keys of its own (attack substitute-sdes): the a=crypto keys it received on one side (access link inside TLS, or core) never left on the other side, which got other keys.',
  schema: z.enum(['pcscf-a', 'pcscf-b']),
  run(want, ctx) {
    const e = ctx.plan.elements.find((x) => x.name === want && x.kind === 'pcscf') as { access?: string; accessAddress?: string; coreAddress?: string } | undefined;
    if (!e?.access || !e.accessAddress || !e.coreAddress) return ctx.mismatch(`keysSubstituted: no P-CSCF "${want}" in this network`);
    const access = keysAt(ctx, e.access, e.accessAddress);
    const core = keysAt(ctx, 'core', e.coreAddress);
    if (access.got.size + access.sent.size === 0) return ctx.mismatch(`no evidence: no SDES key of the call readable in the SIP on ${e.access} (inside TLS) to or from ${want}`);
    let swapped = 0;
    for (const [what, from, to, inLink, outLink] of [['offer/answer from its UE', access.got, core.sent, e.access, 'core'], ['offer/answer toward its UE', core.got, access.sent, 'core', e.access]] as const) {
      if (from.size === 0 || to.size === 0) continue;
      const passed = [...from].filter((k) => to.has(k));
      if (passed.length > 0) ctx.saw(`${want} passed ${what} on: ${short(new Set(passed))} from ${inLink} to ${outLink}`);
      else {
        swapped++;
        ctx.saw(`${want} substituted the SDES keys of the ${what}: got ${short(from)} on ${inLink}, sent ${short(to)} on ${outLink}`);
      }
    }
    if (swapped === 0) ctx.mismatch(`${want} substituted no SDES key: every key it got went on (or none went on: terminated, not substituted)`);
  },
});
