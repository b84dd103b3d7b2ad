import type { UePlan } from '@imslab/ue/element';
import { everyAddressOf, type ElementPaths, type Listen, type NetworkName, type NetworkPlan, type PlannedElement, type Readiness, type RenderedElement, type VolumeSpec } from '@imslab/topology';
import { kindOf } from './registry.ts';

/**
 * What targets and the runner ask of an element, answered by its kind's
 * declaration: nothing here knows a particular kind.
 */

export function renderElement(e: PlannedElement, paths: ElementPaths): RenderedElement {
  const r = kindOf(e.kind).render(e, paths);
  for (const arg of r.command) {
    // Compose passes the command as an argv file, one argument per line.
    if (/[\n\r]/.test(arg)) throw new Error(`${e.name}: a start argument holds a line break, which argv files cannot carry`);
  }
  return r;
}

export function readinessOf(e: PlannedElement): Readiness {
  return kindOf(e.kind).readiness(e);
}

export function listensOf(e: PlannedElement): Listen[] {
  return kindOf(e.kind).listens(e);
}

/** Base URL of an element's HTTP/JSON control API, or null for kinds without one (Kamailio, rtpengine). */
export function controlUrlOf(e: PlannedElement): string | null {
  return kindOf(e.kind).controlUrl?.(e) ?? null;
}

export function volumesOf(e: PlannedElement): VolumeSpec[] {
  return kindOf(e.kind).volumes?.(e) ?? [];
}

/** Where the files an element left in its run directory are collected: `keys/` (key logs) or `logs/`. */
export function leavesOf(e: PlannedElement): 'keys' | 'logs' {
  return kindOf(e.kind).leaves;
}

/**
 * TLS certificates for every element that needs one, naming the element's
 * addresses on every target and slot: the PKI directory is shared by all of
 * them, and a certificate that covers every address is never regenerated
 * (ensurePki replaces one only when it lacks an address it is asked for).
 */
export function pkiEntities(plan: NetworkPlan): Array<{ name: string; ips: string[] }> {
  return plan.elements.filter((e) => kindOf(e.kind).certificate).map((e) => ({
    name: e.name,
    ips: [...new Set((Object.entries(e.addresses) as Array<[NetworkName, string]>).flatMap(([net, a]) => everyAddressOf(net, Number(a.split('.').pop()))))],
  }));
}

/** Elements of the plan that have a control API (the UEs, the servers of ours). */
export function controllable(plan: NetworkPlan): PlannedElement[] {
  return plan.elements.filter((e) => controlUrlOf(e) !== null);
}

/** The UEs of a plan (those the targets start). */
export function uesOf(plan: NetworkPlan): UePlan[] {
  return plan.elements.filter((e): e is UePlan => e.kind === 'ue');
}

/**
 * Every device of the plan, UAs of the user's own included, and the PoC
 * server (it fetches its own SAKKE keys): each shares a secret with the KMS.
 */
export function deviceNames(plan: NetworkPlan): string[] {
  return [...plan.elements, ...plan.external].filter((e) => e.kind === 'ue' || e.kind === 'poc').map((e) => e.name);
}
