import { markerFor } from '@imslab/probe';
import type { FaultRecord } from '../faults.ts';
import type { Analysis, CallReport, MessageAnalysis } from '@imslab/analysis';
import type { ElementPlan } from '@imslab/network';
import type { EvidenceName, EvidenceTypes, NetworkPlan } from '@imslab/topology';
import type { CallStatus } from '@imslab/ue/contract';
import type { z } from 'zod';

/** The streams a call may carry besides audio. */
export type StreamMedia = 'video' | 'text';

/** A call placed by the steps: its scenario alias and SIP Call-ID. */
export interface CallRecord {
  alias: string;
  callId: string;
  from: string;
  /** A call's video or text stream, judged on its own as `<alias>.<media>` (absent: the call's audio). */
  media?: StreamMedia;
  /** The device that answered, once known. */
  answeredBy?: string;
  /** When a hangup step ended this call (ms since the epoch). */
  hungUpAt?: number;
  /** Faults a fault step inflicted while this call was up (its verdict is then `fault(<element>)`). */
  faults?: FaultRecord[];
}

/** The probe marker of a call's stream in one direction (orig: what its caller sends). */
export function callMarker(c: Pick<CallRecord, 'callId' | 'media'>, dir: 'orig' | 'term'): string {
  return markerFor(c.callId, dir, c.media);
}

/** Both directions' probe markers of a call's stream, the caller's first. */
export function callMarkers(c: Pick<CallRecord, 'callId' | 'media'>): [string, string] {
  return [callMarker(c, 'orig'), callMarker(c, 'term')];
}

/** Everything a check may look at for one call, and where it says what it found. */
export interface CheckContext {
  alias: string;
  call: CallRecord;
  /** Every call of the scenario, by alias. */
  calls: ReadonlyMap<string, CallRecord>;
  /** The analyser's report on this call (paths, verdict, conditions). */
  report: CallReport;
  analysis: Analysis;
  /** Every UE's view of every call (GET /calls at the end of the steps). */
  ueCalls: Record<string, CallStatus[]>;
  /** Evidence an element contributed; undefined when it was not collected (no such element, or it failed). */
  evidence<N extends EvidenceName>(name: N): EvidenceTypes[N] | undefined;
  /** link name -> capture file. */
  captures: Record<string, string>;
  /** The scenario's run directory (captures, logs/ with the collected stores, keys/), when there is one. */
  dir?: string;
  /** Directory of the run's key logs (`<ue>.srtp-keys.jsonl`), when there is one. */
  keyDir?: string;
  /** The messages of the scenario judged from the captures, when it sent any. */
  messages?: MessageAnalysis | null;
  plan: NetworkPlan<ElementPlan>;
  /** A piece of evidence behind the outcome. */
  saw(line: string): void;
  /** A way the observation differs from the expectation. */
  mismatch(line: string): void;
}

/**
 * One expectation key of a scenario file: its schema (the scenario schema is
 * built from every check's) and what it checks. Each check is a file of its
 * own under checks/, listed in checks/index.ts.
 */
export interface Check<S extends z.ZodType = z.ZodType> {
  key: string;
  /** What the key asks, for the JSON schema and `imslab checks`. */
  doc: string;
  /**
   * What the check rests on: `packets` (the captures, judged by the
   * analyser) or an element's own account (`UE reports`, `UE counters`,
   * `KMS audit log`, `voicemail store`, ...). Every line it writes says so.
   */
  basis: string;
  /** Runs for every call, with `undefined` for `want` when the scenario does not name the key. */
  always?: boolean;
  schema: S;
  run(want: z.output<S>, ctx: CheckContext): void | Promise<void>;
}

export function defineCheck<S extends z.ZodType>(c: Check<S>): Check<S> {
  return c;
}

/** "no evidence: ..." is a failure, never a pass: a check that cannot look must not say all is well. */
export function noEvidence(ctx: CheckContext, what: string): void {
  ctx.mismatch(`no evidence: ${what}`);
}
