import type { AuditEntry } from '@imslab/kms/contract';
import { emptyMediaCounters, type CallStatus } from '@imslab/ue/contract';
import type { CheckContext, StreamMedia } from './check.ts';

/**
 * A UE's status of a call as a check of one stream reads it: for a call's
 * video or text stream (`<alias>.video`), its `media` and `markers` are that
 * stream's; a UE that has no such stream shows none (zero counters).
 */
export function streamView(s: CallStatus, media: StreamMedia | undefined): CallStatus {
  if (!media) return s;
  const st = s.streams?.find((x) => x.type === media);
  const none = { local: null, remote: null, ...emptyMediaCounters() };
  if (!st) return { ...s, media: none };
  const { type: _t, markers, ...counters } = st;
  return { ...s, media: counters, markers };
}

/** Every UE's calls as the checks of `call` read them (streamView). */
export function ueCallsFor(ueCalls: Record<string, CallStatus[]>, media: StreamMedia | undefined): Record<string, CallStatus[]> {
  if (!media) return ueCalls;
  return Object.fromEntries(Object.entries(ueCalls).map(([ue, cs]) => [ue, cs.map((c) => streamView(c, media))]));
}

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
