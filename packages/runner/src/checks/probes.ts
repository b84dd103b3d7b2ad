import { z } from 'zod';
import { callMarker, defineCheck, type CheckContext } from './check.ts';
import { callerView } from './views.ts';

/** The probe marker of another call of the scenario (its caller's direction), or null. */
function probeOf(ctx: CheckContext, alias: string): string | null {
  const c = ctx.calls.get(alias);
  return c ? callMarker(c, 'orig') : null;
}

export const receivedProbeOf = defineCheck({
  key: 'receivedProbeOf',
  basis: 'UE counters',
  doc: 'The caller of this call received and decrypted the probe of these calls (a playback, conference members), from its counters.',
  schema: z.array(z.string()).min(1),
  run(want, ctx) {
    const mine = callerView(ctx);
    if (!mine) return ctx.mismatch(`no evidence: ${ctx.call.from} has no record of the call`);
    const seen = mine.media.rxMarkersSeen;
    for (const alias of want) {
      const m = probeOf(ctx, alias);
      if (!m) ctx.mismatch(`receivedProbeOf: no call ${alias}`);
      else if (!seen.includes(m)) ctx.mismatch(`${ctx.call.from} did not decrypt the probe of ${alias} (${m}); it saw ${seen.join(', ') || 'no probe'}`);
      // Authentication failures are counted by ueCounters alone (with what the scenario allows).
      else ctx.saw(`${ctx.call.from} decrypted the probe of ${alias} (${m}), ${mine.media.rxPackets} packets`);
    }
  },
});

export const noProbeOf = defineCheck({
  key: 'noProbeOf',
  basis: 'UE counters',
  doc: 'The caller of this call never decrypted the probe of these calls.',
  schema: z.array(z.string()).min(1),
  run(want, ctx) {
    const mine = callerView(ctx);
    if (!mine) return ctx.mismatch(`no evidence: ${ctx.call.from} has no record of the call`);
    for (const alias of want) {
      const m = probeOf(ctx, alias);
      if (!m) ctx.mismatch(`noProbeOf: no call ${alias}`);
      else if (mine.media.rxMarkersSeen.includes(m)) ctx.mismatch(`${ctx.call.from} decrypted the probe of ${alias}, expected it could not`);
      else ctx.saw(`${ctx.call.from} never decrypted the probe of ${alias} (${mine.media.rxPackets} packets accepted, ${mine.media.rxAuthFailed} failed authentication)`);
    }
  },
});

export const probeReceived = defineCheck({
  key: 'probeReceived',
  basis: 'UE counters',
  doc: 'Both ends received the other\'s probe intact (UE counters); how many packets failed authentication is the ueCounters check\'s (none unless the scenario says).',
  schema: z.literal(true),
  run(_want, ctx) {
    const ends = Object.entries(ctx.ueCalls).flatMap(([ue, cs]) => cs.filter((c) => c.callId === ctx.call.callId && c.media.rxPackets > 0).map((c) => ({ ue, c })));
    if (ends.length < 2) ctx.mismatch(`only ${ends.length} UE(s) received media`);
    for (const { ue, c } of ends) {
      if (c.media.rxMarkerPackets === 0) ctx.mismatch(`${ue} received no intact probe packet`);
      else ctx.saw(`${ue} received ${c.media.rxMarkerPackets} intact probe packets (UE counters)`);
    }
  },
});
