import { checkStrict, strictObject } from '@imslab/element-kit';
import {
  ForwardingSchema, TopologyError, addressing, type AnyKind, type NetworkName, type NetworkPlan, type PlanContext, type PlannedElement,
  type SubscriberFile, type TargetName,
} from '@imslab/topology';
import { z } from 'zod';
import { KINDS, ON_DEMAND_KINDS, kindOf, type ElementPlan } from './registry.ts';

/**
 * The `network` block of a scenario: which on-demand kinds to run, forwarding
 * rules replacing the subscriber file's, and every key a kind owns (its
 * `overrides`). Built from the registry, so a new kind's overrides are part
 * of the scenario schema without touching this file.
 */
function overridesShape(): Record<string, z.ZodType> {
  const shape: Record<string, z.ZodType> = {
    /** Kinds present only when asked for (KMS, voicemail, conference, transcoder, ...). */
    servers: z.array(z.enum(ON_DEMAND_KINDS as [string, ...string[]])).optional(),
    /** Forwarding rules per user, replacing the subscriber file's. */
    forwarding: z.record(z.string(), ForwardingSchema).optional(),
  };
  const owner: Record<string, string> = {};
  for (const k of KINDS) {
    for (const [key, schema] of Object.entries((k as AnyKind).overrides ?? {})) {
      if (key in shape) throw new Error(`element kinds ${owner[key] ?? 'imslab'} and ${k.kind} both claim network.${key}`);
      owner[key] = k.kind;
      shape[key] = (schema as z.ZodType).optional();
    }
  }
  return shape;
}

export const NetworkOverridesSchema = strictObject(overridesShape(), 'network');
/** Which kind owns each override key (for messages). */
export const OVERRIDE_OWNER: Record<string, string> = Object.fromEntries(KINDS.flatMap((k) => Object.keys((k as AnyKind).overrides ?? {}).map((key) => [key, k.kind])));

export type NetworkOverrides = { servers?: string[]; forwarding?: Record<string, z.output<typeof ForwardingSchema>> } & Record<string, unknown>;

/**
 * Builds the whole network for one target (and, locally, one slot of
 * loopback addresses) from the subscriber file and a scenario's overrides:
 * every kind's plan fragment in registry order, the elements each element is
 * made of, then checks that names and addresses are unique.
 */
export function planNetwork(subs: SubscriberFile, target: TargetName, overrides: NetworkOverrides = {}, slot = 0): NetworkPlan<ElementPlan> {
  const o = checkStrict(NetworkOverridesSchema, overrides, 'network') as NetworkOverrides;
  const users = subs.subscribers.map((s) => s.user);
  for (const user of Object.keys(o.forwarding ?? {})) {
    if (!users.includes(user)) throw new TopologyError(`forwarding for unknown user; users: ${users.join(', ')}`, `network.forwarding.${user}`);
  }
  const subscribers = subs.subscribers.map((s) => ({ ...s, forwarding: o.forwarding?.[s.user] ?? s.forwarding }));
  const servers = new Set(o.servers ?? []);
  const present = (k: AnyKind) => k.presence === 'always' || servers.has(k.kind);
  for (const [key, value] of Object.entries(o)) {
    const owner = OVERRIDE_OWNER[key];
    if (owner && value !== undefined && !present(kindOf(owner))) {
      throw new TopologyError(`needs the ${owner} (network.servers: [${owner}])`, `network.${key}`);
    }
  }
  const addr = addressing(target, slot);
  const elements: PlannedElement[] = [];
  for (const kind of KINDS as readonly AnyKind[]) {
    if (!present(kind)) continue;
    const own = Object.fromEntries(Object.keys(kind.overrides ?? {}).map((key) => [key, o[key]]));
    const ctx: PlanContext = {
      ...addr,
      domain: subs.domain,
      subscribers,
      policy: subs.policy,
      pocGroups: subs.pocGroups,
      imGroups: subs.imGroups,
      own,
      has: (name) => KINDS.some((k) => k.kind === name && present(k as AnyKind)),
      of: (k) => elements.filter((e) => e.kind === k.kind) as never,
      appRoutes: () => Object.assign({}, ...elements.map((e) => kindOf(e.kind).sipRoutes?.(e) ?? {})),
    };
    for (const e of kind.plan(ctx) as PlannedElement[]) {
      elements.push(...(kind.parts?.(e) ?? []), e);
    }
  }
  checkUnique(elements);
  return {
    target, slot, domain: subs.domain, links: addr.links,
    elements: elements.filter((e) => !e.external) as ElementPlan[],
    external: elements.filter((e) => e.external) as ElementPlan[],
  };
}

function checkUnique(elements: PlannedElement[]): void {
  const names = new Set<string>();
  const addresses = new Map<string, string>();
  for (const e of elements) {
    if (names.has(e.name)) throw new TopologyError('two elements have this name', e.name);
    names.add(e.name);
    for (const [net, a] of Object.entries(e.addresses) as Array<[NetworkName, string]>) {
      const other = addresses.get(a);
      if (other) throw new TopologyError(`address ${a} on ${net} is also ${other}'s`, e.name);
      addresses.set(a, e.name);
    }
  }
}

/** The plan's elements grouped by start stage, in order; each stage starts once the previous one is healthy. */
export function startStages<E extends PlannedElement>(plan: NetworkPlan<E>): E[][] {
  const stages = new Map<number, E[]>();
  for (const e of plan.elements) {
    const s = kindOf(e.kind).stage;
    stages.set(s, [...(stages.get(s) ?? []), e]);
  }
  return [...stages.keys()].sort((a, b) => a - b).map((s) => stages.get(s)!);
}

/** Looks an element up by name; the error lists the names that exist. */
export function elementByName<E extends PlannedElement>(plan: NetworkPlan<E>, name: string): E {
  const e = plan.elements.find((x) => x.name === name);
  if (!e) throw new TopologyError(`no such element; known: ${plan.elements.map((x) => x.name).join(', ')}`, name);
  return e;
}

/** The elements of one kind, typed by it. */
export function elementsOf<K extends AnyKind>(plan: NetworkPlan, kind: K): Array<K extends { plan(ctx: never): Array<infer P> } ? P : never> {
  return plan.elements.filter((e) => e.kind === kind.kind) as never;
}

/** Maps addresses to elements so the analyser can name the middle of a path (a part is named after its whole). */
export function addressOwner(plan: NetworkPlan) {
  const map = new Map<string, { name: string; kind: string }>();
  for (const e of [...plan.elements, ...plan.external]) for (const a of Object.values(e.addresses)) if (a) map.set(a, { name: e.partOf ?? e.name, kind: e.kind });
  return (address: string) => map.get(address);
}
