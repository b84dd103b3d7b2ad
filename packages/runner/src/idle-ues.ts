import type { ElementPlan } from '@imslab/network';
import type { NetworkPlan } from '@imslab/topology';
import type { Scenario } from './scenario.ts';

/**
 * Every string and key anywhere in a scenario's network overrides, steps and
 * expectations: a UE the scenario uses is named somewhere in them (`register:
 * [alice, bob-1]`, `answeredBy: bob-2`, `network.ues.bob-2`, `removed: carol`).
 */
function namesIn(v: unknown, out: Set<string>): Set<string> {
  if (typeof v === 'string') out.add(v);
  else if (Array.isArray(v)) for (const x of v) namesIn(x, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.add(k);
      namesIn(x, out);
    }
  }
  return out;
}

/**
 * The plan with the UEs a scenario never names moved to `external` (planned,
 * addressed and named in the evidence, started by nothing). A UE registers
 * only when a step tells it to, so one the scenario never names takes no part
 * in it: starting it only cost CPU (a quarter of a second each on two cores,
 * four UEs per network, up to three networks at once). A UE is used when its
 * device name or its user's name appears anywhere in the scenario.
 */
export function withoutIdleUes(plan: NetworkPlan<ElementPlan>, scenario: Pick<Scenario, 'network' | 'steps' | 'expect'>): NetworkPlan<ElementPlan> {
  const named = namesIn([scenario.network, scenario.steps, scenario.expect], new Set());
  const used = (e: ElementPlan) => {
    if (e.kind !== 'ue') return true;
    const user = (e as { subscriber?: { user?: string } }).subscriber?.user;
    return named.has(e.name) || (user !== undefined && named.has(user));
  };
  const idle = plan.elements.filter((e) => !used(e));
  if (idle.length === 0) return plan;
  return {
    ...plan,
    elements: plan.elements.filter(used),
    external: [...plan.external, ...idle.map((e) => ({ ...e, external: true }))],
  };
}
