import { strictObject } from '@imslab/element-kit';
import { z } from 'zod';
import { defineCheck } from './check.ts';
import { callerView } from './views.ts';

/** Expectation keys -> the TS 24.380 message a member receives. */
const MESSAGES = {
  granted: 'floor-granted',
  denied: 'floor-deny',
  queued: 'floor-queue-position-info',
  taken: 'floor-taken',
  idle: 'floor-idle',
  revoked: 'floor-revoke',
} as const;
type MessageKey = keyof typeof MESSAGES;

const flag = z.boolean().optional();

/**
 * A PoC member's floor control (TR 33.828 4.2, TS 24.380): which floor
 * messages its UE received and authenticated (true: at least one; false:
 * none), and that it refused no RTCP datagram. Whether its probe was
 * forwarded is pocForwarded (from the packets).
 */
export const floor = defineCheck({
  key: 'floor',
  basis: 'UE reports',
  doc: 'PoC floor control of the caller of this call (TS 24.380): granted/denied/queued/taken/idle/revoked say whether its UE received and authenticated (SRTCP under its client-server key) at least one such message (true) or none (false). clientServerKey: how that key came (`mikey-sakke`: a CSK by MIKEY-SAKKE, TS 33.180 7.3; `sdes`), from the UE, and floor control under it seen on the links (SRTCP that authenticates under the key the UE logged).',
  schema: strictObject({ granted: flag, denied: flag, queued: flag, taken: flag, idle: flag, revoked: flag, clientServerKey: z.enum(['mikey-sakke', 'sdes']).optional() }, 'floor'),
  run(want, ctx) {
    const mine = callerView(ctx);
    const keys = (Object.keys(MESSAGES) as MessageKey[]).filter((k) => want[k] !== undefined);
    if (!mine) return ctx.mismatch(`no evidence: ${ctx.call.from} has no record of the call`);
    if (!mine.floor) return ctx.mismatch(`no evidence: ${ctx.call.from} reports no floor control on the call (not a PoC call, or never answered)`);
    const got = mine.floor.received;
    for (const k of keys) {
      const n = got[MESSAGES[k]] ?? 0;
      if ((n > 0) !== want[k]) ctx.mismatch(`${ctx.call.from} received ${n} ${MESSAGES[k]}, expected ${want[k] ? 'at least one' : 'none'}`);
      else ctx.saw(`${ctx.call.from} received ${n} ${MESSAGES[k]} (authenticated SRTCP under its client-server key)`);
    }
    if (want.clientServerKey !== undefined) {
      if (mine.floor.keyManagement !== want.clientServerKey) ctx.mismatch(`${ctx.call.from}'s client-server key came by ${mine.floor.keyManagement ?? 'nothing it reports'}, expected ${want.clientServerKey}`);
      else ctx.saw(`${ctx.call.from}'s client-server key came by ${want.clientServerKey}`);
      // From the packets: SRTCP under a key the UE logged for this call, on some link. Its RTCP goes under
      // the client-server key only (e2e: the media key is the group's and keys no RTCP; e2m2e: the SDES pair keys both).
      const ids = new Set(ctx.analysis.keys.filter((a) => a.owner === ctx.call.from && a.callId === ctx.call.callId).map((a) => a.id));
      const onLinks = ctx.analysis.links.flatMap((l) => l.media.map((f) => [l.link, [...ids].reduce((n, id) => n + (f.srtcp[id] ?? 0), 0)] as const)).filter(([, n]) => n > 0);
      if (onLinks.length === 0) ctx.mismatch(`packets: no SRTCP under ${ctx.call.from}'s floor control key on any link${ids.size === 0 ? ' (its key log names none)' : ''}`);
      else ctx.saw(`packets: ${onLinks.reduce((n, [, c]) => n + c, 0)} SRTCP packets under ${[...ids].join(', ')} on ${[...new Set(onLinks.map(([l]) => l))].join(', ')}`);
    }
    if (mine.floor.rejected > 0) ctx.mismatch(`${ctx.call.from} refused ${mine.floor.rejected} RTCP datagram(s) (authentication or format)`);
  },
});
