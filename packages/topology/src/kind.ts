import type { z } from 'zod';
import type { Addressing, LinkPlan, NetworkName, TargetName } from './networks.ts';
import type { KmsSecrets } from './pki.ts';
import type { Subscriber, SubscriberFile } from './subscribers.ts';

/**
 * The one lifecycle interface of an element kind (containerlab's node
 * kinds): each kind is one folder under services/ whose `element.ts`
 * declares everything the testbed needs to know about it, and the registry
 * (@imslab/network) lists the kinds. Targets, the runner and the compose
 * file read only these declarations.
 */

/** What every planned element has; a kind adds its own fields. */
export interface PlannedElement {
  kind: string;
  /** Element name, unique in the network (`pcscf-a`, `bob-1`). */
  name: string;
  /** The element this one is part of, for reports (the transcoder's media engine is part of the transcoder). */
  partOf?: string;
  /** Address per attached network; the runner captures each network as one link. */
  addresses: Partial<Record<NetworkName, string>>;
  /** Planned and named, but started by nothing: a UA of the user's own (a device with `external: true`). */
  external?: boolean;
}

/** A port an element listens on (checked free before a local start). */
export interface Listen { element: string; address: string; port: number; protocol: 'udp' | 'tcp' }

/** How readiness is observed, from the runner (and, on compose, from inside the container). */
export type Readiness =
  | { type: 'http'; url: string }
  | { type: 'sip-options'; address: string; port: number }
  | { type: 'ng-ping'; address: string; port: number };

/**
 * The image a kind runs on the docker target. `node`: our TypeScript service
 * (`services/<service>/src/main.ts` bundled, services/node-service.Dockerfile);
 * `dockerfile`: an image of Debian packages built from a Dockerfile of its own.
 */
export type ImageSpec =
  | { name: string; node: { service: string } }
  | { name: string; dockerfile: string };

/** Where an element finds its files, as the element sees them (host paths locally, mount points in a container). */
export interface ElementPaths {
  /** Directory holding this element's generated configuration files. */
  configDir: string;
  pkiDir: string;
  /** Directory where the element writes key logs, audit logs and stores. */
  runDir: string;
  /** How to start a TypeScript service: argv prefix before the entry's path. */
  nodeCommand: string[];
  /** Path of a service's entry (bundle) as the element sees it. */
  serviceEntry(service: string): string;
  /** Device secrets shared with the KMS (the KMS and the UEs' MIKEY-TICKET need them). */
  kmsSecrets: KmsSecrets;
}

export interface RenderedElement {
  /** File name (inside configDir) -> content. */
  files: Record<string, string>;
  /** argv to start the element in the foreground. */
  command: string[];
}

/** A directory of an element's run directory that must outlive its container (a store). */
export interface VolumeSpec {
  /** Short name, unique per element (`store`). */
  name: string;
  /** Path relative to the element's run directory. */
  path: string;
}

/**
 * Evidence an element contributes besides the captures, by name. Each kind
 * that contributes some declares the type of it here by module augmentation
 * (`declare module '@imslab/topology' { interface EvidenceTypes { ... } }`), so
 * the checks that read it are typed.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface EvidenceTypes {}
export type EvidenceName = keyof EvidenceTypes;

/** What an evidence hook can read after the run. */
export interface AfterRunContext {
  /** The scenario's directory (captures, logs/, keys/). */
  dir: string;
  /** link name -> capture file. */
  captures: Record<string, string>;
  /** What the analyser's scan of the collected logs and stores found (paths relative to `dir`). */
  storeFindings: ReadonlyArray<{ file: string; what: string; detail: string }>;
}

export interface EvidenceHooks<P extends PlannedElement> {
  /**
   * While a call is up (media flowing): e.g. the IMS-AGW's own report of its
   * streams. The evidence is a record by call alias of what every element of
   * the kind reported.
   */
  duringCall?: { name: EvidenceName; collect(e: P, callId: string): Promise<unknown[]> };
  /** After the network is down, from the captures and the files the element left. */
  afterRun?: Array<{ name: EvidenceName; collect(e: P, ctx: AfterRunContext): Promise<unknown> }>;
}

/** What a kind's plan fragment can see while the network is planned. */
export interface PlanContext<O = Record<string, unknown>> extends Addressing {
  domain: string;
  /** Subscribers, with the scenario's forwarding rules applied. */
  subscribers: Subscriber[];
  policy: SubscriberFile['policy'];
  /** Pre-arranged PoC groups of the subscriber file. */
  pocGroups: SubscriberFile['pocGroups'];
  /** IM groups of the subscriber file. */
  imGroups: SubscriberFile['imGroups'];
  /** This kind's own scenario overrides (`network.<key>`), validated by its schemas. */
  own: O;
  /** Whether the network has elements of this kind (optional kinds only when a scenario names them). */
  has(kind: string): boolean;
  /** The elements of a kind planned before this one (registry order). */
  of<K extends AnyKind>(kind: K): Array<PlanOf<K>>;
  /** Every application server's Request-URI users planned before this kind (their `sipRoutes`). */
  appRoutes(): Record<string, string>;
}

/**
 * One element kind. `P` is its planned element, `O` the scenario overrides it
 * owns (each key of a scenario's `network` block belongs to one kind).
 */
export interface ElementKind<P extends PlannedElement = PlannedElement, O extends z.core.$ZodLooseShape = z.core.$ZodLooseShape> {
  readonly kind: P['kind'];
  /** One line for `imslab kinds` and the compose file. */
  readonly summary: string;
  /** `always`: every network has it; `on-demand`: only when a scenario (or a compose profile) asks for it. */
  readonly presence: 'always' | 'on-demand';
  /** Start stage: each stage starts once every element of the previous one is healthy. */
  readonly stage: number;
  /**
   * Stopped before the other elements, which are still there to answer what
   * it says on the way out (a UE unregisters through its P-CSCF: stopped all
   * at once, each UE waited out its 1 s unregister cap).
   */
  readonly stopsFirst?: boolean;
  /** Scenario `network.<key>` fields this kind owns, with their schemas. */
  readonly overrides?: O;
  readonly image: ImageSpec;
  /** Files the element leaves in its run directory go to the scenario's `keys/` (key logs) or `logs/` (everything else). */
  readonly leaves: 'keys' | 'logs';
  /** Whether its elements need a TLS certificate from the testbed CA. */
  readonly certificate?: boolean;
  /** The plan fragment: this kind's elements, from the subscribers, the overrides and the kinds planned before. */
  plan(ctx: PlanContext<z.output<z.ZodObject<O>>>): P[];
  /**
   * Elements of other kinds this element is made of (the transcoder's media
   * engine is an IMS-AGW); the planner adds them to the network next to it.
   */
  parts?(e: P): PlannedElement[];
  /** Typed configuration rendering: files and start command. */
  render(e: P, paths: ElementPaths): RenderedElement;
  listens(e: P): Listen[];
  readiness(e: P): Readiness;
  /** Base URL of its HTTP/JSON control API, for kinds that have one. */
  controlUrl?(e: P): string;
  /** Directories of its run directory that must survive a restart (Docker volumes). */
  volumes?(e: P): VolumeSpec[];
  /** Request-URI users the S-CSCF routes to this element (application servers): user -> this element's SIP address. */
  sipRoutes?(e: P): Record<string, string>;
  readonly evidence?: EvidenceHooks<P>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyKind = ElementKind<any, any>;
export type PlanOf<K> = K extends ElementKind<infer P, z.core.$ZodLooseShape> ? P : never;

/**
 * Declares a kind: `defineKind<MyPlan>()({ ... })`. The plan type is named,
 * the overrides' type is inferred from their schemas.
 */
export function defineKind<P extends PlannedElement>() {
  return <O extends z.core.$ZodLooseShape = Record<never, never>>(k: ElementKind<P, O>): ElementKind<P, O> => k;
}

/** The whole network for one target: links and elements in start order. */
export interface NetworkPlan<E extends PlannedElement = PlannedElement> {
  target: TargetName;
  slot: number;
  domain: string;
  links: LinkPlan[];
  /** What the targets start, in planning order. */
  elements: E[];
  /** Elements that are planned (addresses, names in reports) but started by nothing: UAs of the user's own. */
  external: E[];
}
