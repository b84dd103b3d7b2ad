/**
 * Which fields each floor control message carries (TS 24.380 clauses
 * 8.2.4 to 8.2.13), in the order the encoder writes them, and which of them
 * a message is not valid without. Fields this package does not model
 * (Location, functional alias, lists of granted users and SSRCs, ...) make a
 * message undecodable here: the decoder names them as unknown fields.
 */
import type { FieldName, FloorMessageType } from './codes.ts';

/** The fields of one message type. */
export interface MessageFormat {
  /** TS 24.380 clause of the message. */
  clause: string;
  /** Fields the message may carry, in encoding order. */
  fields: readonly FieldName[];
  /** Fields without which the message is malformed. */
  required: readonly FieldName[];
}

/** Formats per message type. */
export const MESSAGE_FORMAT: { readonly [T in FloorMessageType]: MessageFormat } = Object.freeze({
  // 8.2.4: Floor Priority, User ID (when the participating function relays), Track Info, Floor Indicator.
  'floor-request': { clause: '8.2.4', fields: ['floorPriority', 'userId', 'trackInfo', 'floorIndicator'], required: [] },
  // 8.2.5: Duration is mandatory; SSRC of the granted participant, priority, queue size and the queued users are optional.
  'floor-granted': {
    clause: '8.2.5',
    fields: ['duration', 'ssrc', 'floorPriority', 'userId', 'queueSize', 'queuedUserId', 'queueInfo', 'trackInfo', 'floorIndicator'],
    required: ['duration'],
  },
  // 8.2.9: the sequence number lets receivers discard stale Floor Taken / Floor Idle.
  'floor-taken': {
    clause: '8.2.9',
    fields: ['grantedPartyId', 'permissionToRequest', 'userId', 'messageSequenceNumber', 'trackInfo', 'floorIndicator', 'ssrc'],
    required: ['messageSequenceNumber'],
  },
  'floor-deny': { clause: '8.2.6', fields: ['rejectCause', 'userId', 'trackInfo', 'floorIndicator'], required: ['rejectCause'] },
  'floor-release': { clause: '8.2.7', fields: ['userId', 'trackInfo', 'floorIndicator'], required: [] },
  'floor-idle': { clause: '8.2.8', fields: ['messageSequenceNumber', 'trackInfo', 'floorIndicator'], required: ['messageSequenceNumber'] },
  'floor-revoke': { clause: '8.2.10', fields: ['rejectCause', 'trackInfo', 'floorIndicator'], required: ['rejectCause'] },
  'floor-queue-position-request': { clause: '8.2.11', fields: ['userId', 'trackInfo'], required: [] },
  'floor-queue-position-info': { clause: '8.2.12', fields: ['userId', 'queuedUserId', 'queueInfo', 'trackInfo', 'floorIndicator'], required: ['queueInfo'] },
  // 8.2.13: Source and Message Type say who acknowledges what.
  'floor-ack': { clause: '8.2.13', fields: ['source', 'messageType', 'trackInfo'], required: ['source', 'messageType'] },
});
