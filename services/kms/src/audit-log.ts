/**
 * Append-only audit log of every Ticket Request ("issue") and Ticket
 * Resolve: who asked, for whom, under which policy, and what the KMS
 * decided. The runner reads it (control API `GET /audit`, or the JSON-lines
 * file) to show which elements obtained a call's keys (DESIGN.md sec. 4,
 * key exposure). Identities, ticket ids and key fingerprints only: never a key.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ResolutionPolicy } from '@imslab/mikey';

/** Which exchange an entry records. */
/** issue/resolve: MIKEY-TICKET; provision: SAKKE/ECCSI keys to a device; gmk: a GMK I_MESSAGE to a member. */
export type AuditOp = 'issue' | 'resolve' | 'provision' | 'gmk';

/** One audit entry (one JSON line). */
export interface AuditEntry {
  /** ISO time of the decision. */
  at: string;
  op: AuditOp;
  result: 'allowed' | 'refused';
  /** Why it was refused (human), or how a resolve was allowed (e.g. via forwarding). */
  reason?: string;
  /** Short refusal code, as in the HTTP answer. */
  code?: string;
  /** Ticket initiator (IDRi, authenticated or from the verified ticket); null when not known. */
  initiator: string | null;
  /** Device of the initiator (IDRpsk), for issue entries. */
  initiatorDevice?: string;
  /** Intended responder (IDRr of the ticket). */
  responder?: string;
  /** Authenticated resolving user (resolve entries). */
  resolver?: string;
  /** Authenticated resolving device (IDRpsk NAI). */
  resolverDevice?: string;
  /** Unauthenticated claim of a refused request (IDRi/IDRr and IDRpsk as sent), for forensics. */
  claimed?: string;
  policy?: ResolutionPolicy;
  /** Ticket id (the 16-octet ticket RAND) in hex; null when no verified ticket. */
  ticketId: string | null;
  /** Resolve of a stored message (deferred delivery, TR 33.828 4.1.2). */
  deferred?: boolean;
  /** Allowed resolves: keys were forked for this device (RFC 6043 sec. 5.1.4, ticket flag I). */
  forked?: boolean;
  /** Allowed resolves: first 8 octets of SHA-256(MPKr || TGK) as released, to tell devices' keys apart (not a key). */
  keyFingerprint?: string;
  /** Ticket validity end (ISO), for issue entries. */
  validTo?: string;
  /** Peer `ip:port`. */
  client: string;
}

/** What request handling learns before the decision; the front completes it into an {@link AuditEntry}. */
export type AuditDraft = Omit<AuditEntry, 'at' | 'result' | 'reason' | 'code' | 'initiator' | 'ticketId'> & {
  initiator?: string;
  ticketId?: string;
  /** How an allowed resolve was allowed. */
  how?: string;
};

/** Entries kept in memory for `GET /audit` (the file keeps everything). */
export const AUDIT_MEMORY = 10_000;

/**
 * Writes entries to a JSON-lines file opened for appending (each entry one
 * write, so a crash loses at most the entry being written) and keeps the
 * latest {@link AUDIT_MEMORY} in memory.
 */
export class AuditLog {
  private readonly fd: number;
  private readonly recent: AuditEntry[] = [];
  private total = 0;

  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.fd = openSync(file, 'a', 0o640);
  }

  /** Appends one entry. */
  append(e: AuditEntry): void {
    writeSync(this.fd, JSON.stringify(e) + '\n');
    this.recent.push(e);
    if (this.recent.length > AUDIT_MEMORY) this.recent.splice(0, this.recent.length - AUDIT_MEMORY);
    this.total++;
  }

  /** The latest entries, oldest first. */
  entries(): AuditEntry[] {
    return [...this.recent];
  }

  /** Number of entries written since start. */
  get count(): number {
    return this.total;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Completes a draft into an entry (decision first, then the parties, in the JSON line). */
export function auditEntry(d: AuditDraft, result: AuditEntry['result'], at: Date, refusal?: { code: string; reason: string }): AuditEntry {
  const { how, initiator, ticketId, op, ...parties } = d;
  const reason = refusal ? refusal.reason : how;
  return {
    at: at.toISOString(),
    op,
    result,
    ...(reason !== undefined ? { reason } : {}),
    ...(refusal ? { code: refusal.code } : {}),
    initiator: initiator ?? null,
    ...parties,
    ticketId: ticketId ?? null,
  };
}
