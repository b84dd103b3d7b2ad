/** Counters behind `GET /status`. */
export interface KmsStatus {
  name: string;
  uptimeS: number;
  /** MIKEY requests received on the HTTPS endpoints (any outcome). */
  requests: number;
  issued: number;
  resolved: number;
  /** SAKKE/ECCSI key provisions handed out (POST /sakke/keys). */
  provisioned: number;
  /** GMK I_MESSAGEs handed out by the group management server (POST /gms/gmk). */
  gmks: number;
  refused: number;
  /** Refusals by code. */
  refusedByCode: Record<string, number>;
  /** Refusals caused by errors of a kind the KMS did not anticipate (should stay 0; see the log). */
  unexpected: number;
  auditEntries: number;
  /** Remembered message MACs in the replay cache. */
  replayCacheSize: number;
  users: number;
  devices: number;
  /** Groups with a group key, their epochs and members (removals open a new epoch). */
  groups: Array<{ uri: string; keying: 'ticket' | 'sakke'; epoch: number; members: string[]; removed: string[]; gmkId?: string }>;
}

/** Mutable counters of one KMS process. */
export class KmsCounters {
  requests = 0;
  issued = 0;
  resolved = 0;
  provisioned = 0;
  gmks = 0;
  refused = 0;
  unexpected = 0;
  readonly refusedByCode = new Map<string, number>();

  /** Counts one refusal. */
  refuse(code: string, unexpected: boolean): void {
    this.refused++;
    if (unexpected) this.unexpected++;
    this.refusedByCode.set(code, (this.refusedByCode.get(code) ?? 0) + 1);
  }
}
