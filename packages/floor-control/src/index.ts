/**
 * @imslab/floor-control: MCPTT floor control (3GPP TS 24.380) for the PoC
 * server and UEs. The RTCP APP `MCPT` codec (clause 8), compound RTCP and
 * the analyser's "floor control readable in the clear" check, and the floor
 * control server (clause 6.3) and participant (clause 6.2) as pure state
 * machines with injected time. Floor control travels as SRTCP under each
 * member's client-server key (TS 33.180), never the group key; see README.md.
 */
export {
  MCPT_NAME, SUBTYPE, ACK_REQUIRED_BIT, ACK_CAPABLE, FIELD_ID, LEGACY_FIELD_ID, DENY_CAUSE, REVOKE_CAUSE, SOURCE, QUEUE_POSITION, FLOOR_INDICATOR,
  messageTypeOfSubtype, type FloorMessageType, type FieldName,
} from './codes.ts';
export { FloorControlError, FloorDecodeError, FloorEncodeError, FloorStateError, FloorConfigError, type FloorDecodeErrorCode } from './errors.ts';
export type { FloorFields, RejectCause, QueueInfo, TrackInfo } from './fields.ts';
export { MESSAGE_FORMAT, type MessageFormat } from './formats.ts';
export { encodeFloorMessage, decodeFloorMessage, APP_HEADER_LENGTH, type FloorMessage, type FloorDecodeResult } from './message.ts';
export { decodeFloorControlPacket, findClearFloorControl, type FloorPacketResult, type ClearFloorControl } from './compound.ts';
export { DEFAULT_SERVER_TIMERS, DEFAULT_PARTICIPANT_TIMERS, type ServerTimers, type ParticipantTimers } from './timers.ts';
export { FloorQueue, type QueuedRequest } from './queue.ts';
export { FloorControlServer, type ServerState, type ContentionPolicy, type FloorMember, type FloorServerOptions, type FloorOutput } from './server.ts';
export { FloorParticipant, type ParticipantState, type FloorParticipantOptions, type FloorHolderInfo } from './participant.ts';
