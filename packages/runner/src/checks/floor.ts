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
  doc: 'PoC floor control of the caller of this call (TS 24.380): granted/denied/queued/taken/idle/revoked say whether its UE received and authenticated (SRTCP under its client-server key) at least one such message (true) or none (false).',
  schema: strictObject({ granted: flag, denied: flag, queued: flag, taken: flag, idle: flag, revoked: flag }, 'floor'),
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
    if (mine.floor.rejected > 0) ctx.mismatch(`${ctx.call.from} refused ${mine.floor.rejected} RTCP datagram(s) (authentication or format)`);
  },
});
