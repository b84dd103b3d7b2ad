/**
 * What the UE promises the outside (the runner, tests, users with curl): the
 * status document of its control API (`GET /calls`) and the settings a call
 * can be placed with. Defined here once; the runner imports it.
 */
export type { CallStatus, CallState, SecurityHistoryEntry, FloorStatus } from './call-status.ts';
export { emptyMediaCounters } from './call-status.ts';
export { SECURITY_MODES, TICKET_POLICIES, type SecurityMode, type TicketPolicy } from './config.ts';
