/**
 * @imslab/kms: the testbed's Key Management Server for MIKEY-TICKET
 * (RFC 6043) as TS 33.328 uses it: Ticket Request and Ticket Resolve over
 * HTTPS, resolution policies for forking and forwarding (TR 33.828 4.1.1),
 * append-only audit log, control API. Entry: src/main.ts --config <file>.
 */
export { Kms, KMS_TLS_KEYLOG, MASTER_KEY_ID, type KmsStartOptions } from './kms.ts';
export { parseKmsConfig, readTlsMaterial, type KmsConfig, type UserConfig, type DeviceConfig, type ForwardingRules, type TlsMaterial } from './config.ts';
export { KmsError, KmsConfigError, KmsPortInUseError, KmsRefusal } from './errors.ts';
export { AuditLog, AUDIT_MEMORY, type AuditEntry, type AuditOp } from './audit-log.ts';
export type { KmsStatus } from './kms-stats.ts';
export { MIKEY_CONTENT_TYPE, MAX_MIKEY_BODY } from './mikey-endpoint.ts';
export { MAX_TICKET_VALIDITY_MS } from './ticket-issuer.ts';
export { decideResolution, type ResolutionDecision, type TicketParties } from './resolution-policy.ts';
export { SubscriberDirectory, MAX_FORWARDING_HOPS, type DeviceEntry, type UserEntry, type ForwardingHop } from './subscriber-directory.ts';
export { kmsIdentities } from './peer-auth.ts';
export { toRefusal, type Refusal } from './refusal.ts';
