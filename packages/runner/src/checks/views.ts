import type { AuditEntry } from '@imslab/kms/contract';
import type { CallStatus } from '@imslab/ue/contract';
import type { CheckContext } from './check.ts';

/** The caller's own view of the call. */
export function callerView(ctx: CheckContext): CallStatus | undefined {
  return ctx.ueCalls[ctx.call.from]?.find((c) => c.callId === ctx.call.callId);
}

/** The UEs that answered the call (incoming, with an answer time). */
export function answeredBy(ctx: CheckContext): string[] {
  return Object.entries(ctx.ueCalls).flatMap(([ue, cs]) => cs.filter((c) => c.callId === ctx.call.callId && c.direction === 'in' && c.answeredAt).map(() => ue));
}

/** A UE's view of the call. */
export function viewAt(ctx: CheckContext, ue: string): CallStatus | undefined {
  return ctx.ueCalls[ue]?.find((c) => c.callId === ctx.call.callId);
}

/** The device an audit entry names: the authenticated resolver, else the claim of a refused request. */
export function auditDevice(e: AuditEntry): string {
  return (e.resolverDevice ?? e.claimed ?? '?').replace(/@.*$/, '');
}

/** The KMS's resolve decisions, or null (after saying "no evidence") when the audit log was not collected. */
export function resolves(ctx: CheckContext): AuditEntry[] | null {
  const audit = ctx.evidence('kms-audit');
  if (!audit) {
    ctx.mismatch(`no evidence: the KMS audit log was not collected${ctx.plan.elements.some((e) => e.kind === 'kms') ? '' : ' (this network has no KMS: network.servers: [kms])'}`);
    return null;
  }
  return audit.filter((e) => e.op === 'resolve');
}

export const sortedList = (xs: readonly string[]) => [...new Set(xs)].sort().join(', ');
