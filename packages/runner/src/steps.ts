import { markerFor } from '@imslab/probe';
import { uesOf, type NetworkPlan } from '@imslab/topology';
import { StepError } from './errors.ts';
import type { Scenario, Step } from './scenario.ts';
import { UeClient, type UeCallStatus } from './ue-client.ts';

export interface CallRecord {
  alias: string;
  callId: string;
  from: string;
  /** The device that answered, once known. */
  answeredBy?: string;
  /** When a hangup step ended this call (ms since the epoch). */
  hungUpAt?: number;
}

export interface StepContext {
  ues: Map<string, UeClient>;
  calls: Map<string, CallRecord>;
  progress: (line: string) => void;
  /** Called once media flows both ways on a call, while it is up: evidence gathering. */
  onMediaFlowing?: (call: CallRecord) => Promise<void>;
  /** Restarts an element (the target's). */
  restart?: (element: string) => Promise<void>;
}

const MEDIA_TIMEOUT_MS = 20_000;
const POLL_MS = 100;

export function makeContext(plan: NetworkPlan, controlUrl: (n: string) => string, progress: (l: string) => void): StepContext {
  const ues = new Map(uesOf(plan).map((u) => [u.name, new UeClient(u.name, controlUrl(u.name))]));
  return { ues, calls: new Map(), progress };
}

function ue(ctx: StepContext, name: string): UeClient {
  const u = ctx.ues.get(name);
  if (!u) throw new StepError(`no UE "${name}"; UEs: ${[...ctx.ues.keys()].join(', ')}`);
  return u;
}

function call(ctx: StepContext, alias: string): CallRecord {
  const c = ctx.calls.get(alias);
  if (!c) throw new StepError(`no call "${alias}"`);
  return c;
}

async function findCall(u: UeClient, callId: string): Promise<UeCallStatus | undefined> {
  return (await u.calls()).find((c) => c.callId === callId);
}

/** Waits until both ends of a call received at least `packets` probe packets of the other end. */
async function waitMedia(ctx: StepContext, alias: string, packets: number): Promise<void> {
  const c = call(ctx, alias);
  const caller = ue(ctx, c.from);
  const deadline = Date.now() + MEDIA_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    const mine = await findCall(caller, c.callId);
    if (mine && (mine.state === 'failed' || mine.state === 'terminated')) {
      throw new StepError(`call ${alias} ${mine.state} at ${c.from}: ${mine.failure?.reason ?? 'no reason given'}`);
    }
    let callee: { name: string; status: UeCallStatus } | undefined;
    for (const [name, u] of ctx.ues) {
      if (name === c.from) continue;
      const s = await findCall(u, c.callId);
      if (s?.state === 'confirmed') callee = { name, status: s };
    }
    if (callee) c.answeredBy = callee.name;
    const a = mine?.media.rxMarkerPackets ?? 0;
    const b = callee?.status.media.rxMarkerPackets ?? 0;
    last = `${c.from} received ${a}, ${callee?.name ?? 'callee'} received ${b}`;
    if (a >= packets && b >= packets) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new StepError(`call ${alias}: media did not arrive within ${MEDIA_TIMEOUT_MS} ms (${last})`);
}

/** One-way media (a deposit to a store): the caller's call is up and it sent `packets` packets. */
async function waitSent(ctx: StepContext, alias: string, packets: number): Promise<void> {
  const c = call(ctx, alias);
  const deadline = Date.now() + MEDIA_TIMEOUT_MS;
  let last = 'no status';
  while (Date.now() < deadline) {
    const s = await findCall(ue(ctx, c.from), c.callId);
    if (s && (s.state === 'failed' || s.state === 'terminated')) throw new StepError(`call ${alias} ${s.state} at ${c.from}: ${s.failure?.reason ?? 'no reason given'}`);
    last = `${c.from}: ${s?.state ?? '?'}, ${s?.media.txPackets ?? 0} packets sent`;
    if (s?.state === 'confirmed' && s.media.txPackets >= packets) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new StepError(`call ${alias}: ${packets} packets not sent within ${MEDIA_TIMEOUT_MS} ms (${last})`);
}

/** The caller of `alias` received `packets` packets and the probe of every call in `of`. */
async function waitProbe(ctx: StepContext, alias: string, of: string[], packets: number): Promise<void> {
  const c = call(ctx, alias);
  const want = of.map((o) => markerFor(call(ctx, o).callId, 'orig'));
  const deadline = Date.now() + MEDIA_TIMEOUT_MS;
  let last = 'no status';
  while (Date.now() < deadline) {
    const s = await findCall(ue(ctx, c.from), c.callId);
    if (s && (s.state === 'failed' || s.state === 'terminated')) throw new StepError(`call ${alias} ${s.state} at ${c.from}: ${s.failure?.reason ?? 'no reason given'}`);
    const seen = s?.media.rxMarkersSeen ?? [];
    const missing = of.filter((_, i) => !seen.includes(want[i]!));
    last = `${c.from} received ${s?.media.rxPackets ?? 0} packets; missing the probe of ${missing.join(', ') || 'none'}`;
    if (s && s.media.rxPackets >= packets && missing.length === 0) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new StepError(`call ${alias}: probe of ${of.join(', ')} not received within ${MEDIA_TIMEOUT_MS} ms (${last})`);
}

/** Waits until the caller's side of the call is over (the far end sent BYE). */
async function waitEnded(ctx: StepContext, alias: string): Promise<void> {
  const c = call(ctx, alias);
  const deadline = Date.now() + MEDIA_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const s = await findCall(ue(ctx, c.from), c.callId);
    if (s?.state === 'terminated') return;
    if (s?.state === 'failed') throw new StepError(`call ${alias} failed at ${c.from}: ${s.failure?.reason ?? 'no reason given'}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new StepError(`call ${alias} was not ended by the far end within ${MEDIA_TIMEOUT_MS} ms`);
}

/** Waits until the caller reports the call failed; returns its reason. */
async function waitFailure(ctx: StepContext, alias: string): Promise<string> {
  const c = call(ctx, alias);
  const deadline = Date.now() + MEDIA_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const s = await findCall(ue(ctx, c.from), c.callId);
    if (s?.state === 'confirmed') throw new StepError(`call ${alias} was answered; expected it to fail`);
    if (s && (s.state === 'failed' || s.state === 'terminated')) return s.failure?.reason ?? s.state;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new StepError(`call ${alias} neither failed nor was answered within ${MEDIA_TIMEOUT_MS} ms`);
}

export async function runStep(ctx: StepContext, step: Step): Promise<void> {
  if ('register' in step) {
    await Promise.all(step.register.map(async (n) => {
      const r = await ue(ctx, n).register();
      ctx.progress(`  ${n} registered${r.securityServer ? ` (Security-Server: ${r.securityServer})` : ''}`);
    }));
  } else if ('call' in step) {
    const { from, to, security = 'none', as, policy, designatedDevice } = step.call;
    const r = await ue(ctx, from).call(to, security, { policy, designatedDevice });
    ctx.calls.set(as, { alias: as, callId: r.callId, from });
    ctx.progress(`  ${from} calls ${to} (${security}): ${r.callId}`);
  } else if ('wait-media' in step) {
    const w = step['wait-media'];
    if (w.oneWay) {
      await waitSent(ctx, w.call, w.packets);
      ctx.progress(`  ${call(ctx, w.call).from} sent ${w.packets} packets on ${w.call} (one way)`);
    } else {
      await waitMedia(ctx, w.call, w.packets);
      ctx.progress(`  media flowing both ways on ${w.call}`);
    }
    await ctx.onMediaFlowing?.(call(ctx, w.call));
  } else if ('wait-probe' in step) {
    const w = step['wait-probe'];
    const of = Array.isArray(w.of) ? w.of : [w.of];
    await waitProbe(ctx, w.call, of, w.packets);
    ctx.progress(`  ${call(ctx, w.call).from} received the probe of ${of.join(', ')} on ${w.call}`);
  } else if ('wait-ended' in step) {
    await waitEnded(ctx, step['wait-ended'].call);
    ctx.progress(`  ${step['wait-ended'].call} ended by the far end`);
  } else if ('restart' in step) {
    if (!ctx.restart) throw new StepError('this target cannot restart elements');
    await ctx.restart(step.restart.element);
    ctx.progress(`  ${step.restart.element} restarted and healthy`);
  } else if ('wait-failure' in step) {
    const reason = await waitFailure(ctx, step['wait-failure'].call);
    ctx.progress(`  ${step['wait-failure'].call} failed as expected: ${reason}`);
  } else if ('secure' in step) {
    const { ue: name, call: alias, security } = step.secure;
    const r = await ue(ctx, name).secure(call(ctx, alias).callId, security);
    if (!r.ok) throw new StepError(`${name} could not switch ${alias} to ${security}: ${r.reason ?? 'no reason given'}`);
    ctx.progress(`  ${name} switched ${alias} to ${security} by re-INVITE (${r.securityAchieved ?? '?'})`);
  } else if ('hangup' in step) {
    await ue(ctx, step.hangup.ue).hangup(call(ctx, step.hangup.call).callId);
    call(ctx, step.hangup.call).hungUpAt = Date.now();
    ctx.progress(`  ${step.hangup.ue} hung up ${step.hangup.call}`);
  }
}

export async function runSteps(ctx: StepContext, scenario: Scenario): Promise<void> {
  for (const step of scenario.steps) await runStep(ctx, step);
}

/** Every UE's view of every call, kept as evidence next to the captures. */
export async function snapshotCalls(ctx: StepContext): Promise<Record<string, UeCallStatus[]>> {
  const out: Record<string, UeCallStatus[]> = {};
  for (const [name, u] of ctx.ues) {
    try {
      out[name] = await u.calls();
    } catch {
      out[name] = [];
    }
  }
  return out;
}
