/**
 * The HTTP/JSON control API every imslab element has (plain HTTP on the
 * element's control port, element-kit's ControlServer): `GET /health`,
 * `GET /audit`, `GET /status`. The runner checks readiness with /health and
 * reads the audit after a scenario to see who obtained which keys.
 */
import { ControlServer } from '@imslab/element-kit';
import type { AuditEntry } from './audit-log.ts';
import type { KmsStatus } from './kms-stats.ts';

/** What the control API shows. */
export interface ControlSource {
  name: string;
  status(): KmsStatus;
  auditEntries(): AuditEntry[];
}

/** Creates the control server on address:port (not yet listening); route bugs are logged with `log`. */
export function createControlServer(address: string, port: number, src: ControlSource, log: { warn(text: string): void }): ControlServer {
  return new ControlServer(address, port, {
    'GET /health': () => ({ ok: true, name: src.name }),
    'GET /audit': () => ({ entries: src.auditEntries() }),
    'GET /status': () => src.status(),
  }, { log });
}
