/**
 * The HTTP/JSON control API every imslab element has (plain HTTP on the
 * element's control port, element-kit's ControlServer): `GET /health`,
 * `GET /audit`, `GET /status`. The runner checks readiness with /health and
 * reads the audit after a scenario to see who obtained which keys.
 *
 * Group membership (the group management function's operator side):
 * `POST /groups/remove {group, member}` removes a member and opens a new key
 * epoch (the member gets no later key); `POST /groups/add {group, member}`.
 */
import { ControlServer, HttpError } from '@imslab/element-kit';
import type { AuditEntry } from './audit-log.ts';
import type { GroupKeys } from './group-keys.ts';
import type { KmsStatus } from './kms-stats.ts';

/** What the control API shows. */
export interface ControlSource {
  name: string;
  status(): KmsStatus;
  auditEntries(): AuditEntry[];
  groups: GroupKeys;
  log: { info(text: string): void };
}

/** `{ group, member }` of a membership request, or a 400 saying what is missing. */
function membership(body: unknown): { group: string; member: string } {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b.group !== 'string' || typeof b.member !== 'string') throw new HttpError(400, 'expected JSON {"group": "sip:poc-team@ims.test", "member": "sip:carol@ims.test"}');
  return { group: b.group, member: b.member };
}


/** Creates the control server on address:port (not yet listening); route bugs are logged with `log`. */
export function createControlServer(address: string, port: number, src: ControlSource, log: { warn(text: string): void }): ControlServer {
  return new ControlServer(address, port, {
    'GET /health': () => ({ ok: true, name: src.name }),
    'GET /audit': () => ({ entries: src.auditEntries() }),
    'GET /status': () => src.status(),
    'POST /groups/remove': (_req, body) => {
      const { group, member } = membership(body);
      // A refusal (unknown group, not a member) is a KmsRefusal, an HttpError with its status.
      const g = src.groups.remove(group, member);
      src.log.info(`removed ${member} from ${g.uri}: epoch ${g.epoch} begins, ${g.members.size} members keep the group key`);
      return { group: g.uri, epoch: g.epoch, members: [...g.members], removed: [...g.removed] };
    },
    'POST /groups/add': (_req, body) => {
      const { group, member } = membership(body);
      const g = src.groups.add(group, member);
      src.log.info(`added ${member} to ${g.uri} (epoch ${g.epoch})`);
      return { group: g.uri, epoch: g.epoch, members: [...g.members], removed: [...g.removed] };
    },
  }, { log });
}
