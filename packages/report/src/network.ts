/**
 * The network a scenario ran on, as far as the report needs it: which
 * elements there were, their kinds and addresses per link.
 *
 * Best: the plan the runner recorded (`<scenario>/network.json`, see
 * {@link RecordedNetwork}). Until the runner writes it, the plan is rebuilt
 * with @imslab/network's planner from the default subscriber file, every
 * on-demand kind, the target and the local slot read off the addresses seen
 * in the analysis; the elements present are those with a configuration
 * directory (`<scenario>/config/<element>/`).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Analysis } from '@imslab/analysis';
import type { RecordedElement, RecordedNetwork } from '@imslab/run-format';

export type LinkName = 'access-a' | 'core' | 'access-b';

/** An element as drawn; what the runner records per scenario (`network.json`). */
export type NetworkElement = RecordedElement;
export type { RecordedNetwork };

export interface NetworkView {
  target: string;
  slot: number | null;
  elements: NetworkElement[];
  /** Where the elements came from. */
  source: 'recorded' | 'planned' | 'addresses';
}

/** Every IPv4 address the analysis saw (flow ends, SIP inside TLS). */
export function addressesSeen(a: Pick<Analysis, 'links' | 'tls'> | null): string[] {
  const out = new Set<string>();
  const host = (e: string) => e.replace(/:\d+$/, '');
  for (const l of a?.links ?? []) {
    for (const f of l.media) {
      out.add(host(f.src));
      out.add(host(f.dst));
    }
    for (const f of [...l.signalling.sipFlows, ...l.signalling.tlsFlows]) {
      const m = /(\d+\.\d+\.\d+\.\d+):\d+ > (\d+\.\d+\.\d+\.\d+):\d+/.exec(f);
      if (m) {
        out.add(m[1]!);
        out.add(m[2]!);
      }
    }
  }
  for (const r of Object.values(a?.tls ?? {})) for (const m of r.messages) {
    out.add(m.src);
    out.add(m.dst);
  }
  return [...out];
}

/** Target and local slot from the addresses: 198.18.x.y is docker, 127.k.{1,2,3}.y is local slot k (the most frequent k). */
export function targetOf(addresses: string[]): { target: 'local' | 'docker'; slot: number } | null {
  let docker = 0;
  const slots = new Map<number, number>();
  for (const a of addresses) {
    if (/^198\.18\.[123]\.\d+$/.test(a)) docker++;
    const m = /^127\.(\d+)\.([123])\.\d+$/.exec(a);
    if (m) slots.set(Number(m[1]), (slots.get(Number(m[1])) ?? 0) + 1);
  }
  const best = [...slots.entries()].sort((x, y) => y[1] - x[1])[0];
  if (docker > (best?.[1] ?? 0)) return { target: 'docker', slot: 0 };
  return best ? { target: 'local', slot: best[0] } : null;
}

/** The element directories under `<scenario>/config/`. */
function configuredElements(dir: string): Set<string> | null {
  const c = join(dir, 'config');
  if (!existsSync(c)) return null;
  return new Set(readdirSync(c, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name));
}

type Planner = { plan: (target: 'local' | 'docker', slot: number) => NetworkElement[]; always: (kind: string) => boolean };
let planner: Promise<Planner | null> | null = null;

/** The planner, imported on first use (the runner has it loaded already; a report of a copied run pays it once). */
function loadPlanner(): Promise<Planner | null> {
  planner ??= (async () => {
    try {
      const [net, topo] = await Promise.all([import('@imslab/network'), import('@imslab/topology')]);
      const subs = topo.loadSubscribers(join(topo.REPO_ROOT, 'config', 'subscribers.yaml'), topo.REPO_ROOT);
      const cache = new Map<string, NetworkElement[]>();
      const always = (kind: string) => {
        try {
          return net.kindOf(kind).presence === 'always';
        } catch {
          return false;
        }
      };
      const plan = (target: 'local' | 'docker', slot: number) => {
        const key = `${target}/${slot}`;
        let els = cache.get(key);
        if (!els) {
          const plan = net.planNetwork(subs, target, { servers: [...net.ON_DEMAND_KINDS] }, slot);
          els = [...plan.elements.map((e) => ({ e, external: false })), ...plan.external.map((e) => ({ e, external: true }))].map(({ e, external }) => ({
            name: e.name, kind: e.kind, ...(e.partOf ? { partOf: e.partOf } : {}), addresses: { ...e.addresses } as NetworkElement['addresses'], ...(external ? { external } : {}),
          }));
          cache.set(key, els);
        }
        return els;
      };
      return { plan, always };
    } catch {
      return null;
    }
  })();
  return planner;
}

/** The elements of one scenario's network; never throws (at worst, no elements: addresses name themselves). */
export async function networkOf(dir: string, analysis: Pick<Analysis, 'links' | 'tls'> | null): Promise<NetworkView> {
  const recorded = join(dir, 'network.json');
  if (existsSync(recorded)) {
    try {
      const r = JSON.parse(readFileSync(recorded, 'utf8')) as RecordedNetwork;
      return { target: r.target, slot: r.slot, elements: r.elements, source: 'recorded' };
    } catch {
      // fall through to the planner
    }
  }
  const where = targetOf(addressesSeen(analysis));
  const plan = where ? await loadPlanner() : null;
  if (!where || !plan) return { target: where?.target ?? 'unknown', slot: where?.slot ?? null, elements: [], source: 'addresses' };
  const all = plan.plan(where.target, where.slot);
  const configured = configuredElements(dir);
  const seen = new Set(addressesSeen(analysis));
  // Present: configured (started) elements and their parts, or without config/ the kinds always there; and any
  // planned element whose address shows in the captures.
  const started = (e: NetworkElement) => (configured ? configured.has(e.name) || (e.partOf !== undefined && configured.has(e.partOf)) : !e.external && plan.always(e.kind));
  const present = all.filter((e) => started(e) || Object.values(e.addresses).some((a) => a !== undefined && seen.has(a)));
  return { target: where.target, slot: where.slot, elements: present, source: 'planned' };
}

/** Address -> element name (a part is named after its whole), over every link. */
export function namer(view: NetworkView): (ip: string) => string | undefined {
  const map = new Map<string, string>();
  for (const e of view.elements) for (const a of Object.values(e.addresses)) if (a) map.set(a, e.partOf ?? e.name);
  return (ip) => map.get(ip);
}

/** Element name -> kind. */
export function kindOf(view: NetworkView, name: string): string | undefined {
  return view.elements.find((e) => e.name === name)?.kind ?? view.elements.find((e) => e.partOf === name)?.kind;
}
