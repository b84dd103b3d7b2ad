import type { CallStatus } from '@imslab/ue/contract';
import { z } from 'zod';
import { defineCheck, type CheckContext } from './check.ts';

/** The public identity (IMPU) of a UE of the plan, or null. */
export function impuOf(ctx: CheckContext, ue: string): string | null {
  const e = [...ctx.plan.elements, ...ctx.plan.external].find((x) => x.name === ue && x.kind === 'ue') as { subscriber?: { user: string } } | undefined;
  return e?.subscriber ? `sip:${e.subscriber.user}@${ctx.plan.domain}` : null;
}

/**
 * Both ends of an answered MIKEY-TICKET call show the peer authenticated
 * through the KMS, and it is the right one: at the caller, the user who
 * answered; at the callee, the caller.
 */
export const kmsAuthenticated = defineCheck({
  key: 'kmsAuthenticated',
  basis: 'UE reports',
  doc: 'Both ends show the peer identity authenticated through the KMS (MIKEY-TICKET), and it is the peer\'s: the answering user at the caller, the caller at the callee.',
  schema: z.literal(true),
  run(_want, ctx) {
    const ends = Object.entries(ctx.ueCalls).flatMap(([ue, cs]) => cs.filter((x) => x.callId === ctx.call.callId && x.state !== 'failed' && x.answeredAt).map((c) => ({ ue, c })));
    const caller = ends.find((e) => e.c.direction === 'out');
    const callee = ends.find((e) => e.c.direction === 'in');
    if (!caller || !callee) return ctx.mismatch(`no evidence: ${!caller ? `${ctx.call.from} reports no answered call` : 'no UE reports having answered the call'}`);
    const check = (end: { ue: string; c: CallStatus }, peer: string) => {
      const expected = impuOf(ctx, peer);
      const got = end.c.kmsAuthenticatedPeer;
      if (!got) ctx.mismatch(`${end.ue}: no KMS-authenticated peer identity`);
      else if (expected === null) ctx.mismatch(`no evidence: ${peer} is not a UE of this network, its identity is unknown`);
      else if (got !== expected) ctx.mismatch(`${end.ue}: the KMS authenticated ${got} as its peer, expected ${expected} (${peer})`);
      else ctx.saw(`${end.ue}: peer authenticated through the KMS as ${got}`);
    };
    check(caller, callee.ue);
    check(callee, caller.ue);
  },
});
