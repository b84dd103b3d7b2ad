/** @imslab/ue: the UE (SIP UA, probe media, SDES and MIKEY-TICKET, control API) for embedding and tests. */
export { Ue, type UeOptions } from './ue.ts';
export { parseConfig, impuDomain, SECURITY_MODES, TICKET_POLICIES, type UeConfig, type SecurityMode, type TicketPolicy, type KmsConfig, type TransportName } from './config.ts';
export { PortInUseError, CallStateError, MediaPortsExhaustedError, UeError } from './errors.ts';
export type { CallStatus, CallState, SecurityHistoryEntry } from './call-status.ts';
export type { SecureResult } from './reinvite.ts';
export { KmsAgent, KmsFailure, type KmsFailureKind, type KmsTransport } from './kms-agent.ts';
export * from './media-security.ts';
export { buildSdp, parseRemoteSdp, type RemoteSdp } from './sdp.ts';
export { Logger } from './log.ts';
