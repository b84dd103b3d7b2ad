/**
 * What the KMS promises the outside: its audit log, one JSON line per
 * decision, in `<run dir>/kms-audit.jsonl`. Defined here once; the runner's
 * checks import it.
 */
export type { AuditEntry, AuditOp } from './audit-log.ts';

/** File name of the audit log in the KMS's run directory. */
export const AUDIT_LOG_FILE = 'kms-audit.jsonl';
