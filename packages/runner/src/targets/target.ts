import type { ElementPlan } from '@imslab/network';
import type { FaultAction, FaultOptions } from '../faults.ts';
import type { NetworkPlan, TargetName } from '@imslab/topology';

export interface UpOptions {
  /** Host directory for this network's element configs, logs and key logs. */
  dir: string;
  /** Progress lines for a terminal. */
  progress?: (line: string) => void;
  /** Keep the network for others to attach to (`imslab up`): recorded in its state file. */
  attachable?: { subscribers: string; servers: string[] };
}

export interface CaptureSet {
  /** link name -> capture file on the host */
  files: Record<string, string>;
}

/**
 * One way of running the network. Every target runs the same plan; the
 * runner drives scenarios through the elements' control APIs and never cares
 * which target it is on beyond this interface.
 */
export interface Target {
  readonly name: TargetName;
  /** Fails with a one-line PrerequisiteError naming what to install or start. */
  checkPrerequisites(plan?: NetworkPlan<ElementPlan>): Promise<void>;
  /** Starts every element of the plan and returns once all are healthy. */
  up(plan: NetworkPlan<ElementPlan>, opts: UpOptions): Promise<void>;
  /** Starts one capture per link, keeping every packet of the link; resolves once every capture is really listening. */
  startCaptures(dir: string): Promise<void>;
  stopCaptures(): Promise<CaptureSet>;
  /** Base URL of an element's HTTP/JSON control API, as reachable from the runner. */
  controlUrl(element: string): string;
  /** Copies element logs, key logs and stores into `dir`. */
  collect(dir: string): Promise<void>;
  /** Stops one element and starts it again with the same configuration and storage; resolves once it is healthy. */
  restart(element: string): Promise<void>;
  /**
   * Kills, freezes or cuts off one element (faults.ts); resolves once the
   * fault is in place. A killed element is no crash; down() thaws, reconnects
   * or removes whatever the fault left.
   */
  fault(element: string, action: FaultAction, opts?: FaultOptions): Promise<void>;
  /** Elements that exited on their own while the network was up, with how: an infrastructure failure. */
  crashed(): string[];
  /** Stops everything this target started. Safe to call twice and after a failure. */
  down(): Promise<void>;
}
