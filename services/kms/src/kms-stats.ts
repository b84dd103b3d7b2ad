/** Counters behind `GET /status`. */
export interface KmsStatus {
  name: string;
  uptimeS: number;
  /** MIKEY requests received on the HTTPS endpoints (any outcome). */
  requests: number;
  issued: number;
  resolved: number;
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
}

/** Mutable counters of one KMS process. */
export class KmsCounters {
  requests = 0;
  issued = 0;
  resolved = 0;
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
