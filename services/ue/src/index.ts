/** @imslab/ue: the UE (SIP UA, probe media, SDES, control API) for embedding and tests. */
export { Ue, type UeOptions } from './ue.ts';
export { parseConfig, impuDomain, type UeConfig, type SecurityMode, type TransportName } from './config.ts';
export { ConfigError, PortInUseError, HttpError, CallStateError, MediaPortsExhaustedError, UeError } from './errors.ts';
export type { CallStatus, CallState } from './call.ts';
export * from './media-security.ts';
export { buildSdp, parseRemoteSdp, type RemoteSdp } from './sdp.ts';
export { Logger } from './log.ts';
