/**
 * Code points of MCPTT floor control (3GPP TS 24.380 clause 8.2): the
 * message subtypes carried in the RTCP APP count field, the field IDs of the
 * floor control specific fields, and the values some fields take.
 *
 * Field IDs follow the current TS 24.380 table 8.2.3.1-2 (0 = Floor Priority
 * ... 14 = SSRC), which is what Wireshark's RTCP dissector (packet-rtcp.c,
 * `dissect_rtcp_app_mcpt`) and the MCOP client decode. Early Rel-13 versions
 * numbered the same fields from 102; tools still name both ranges, so the
 * decoder accepts those legacy IDs as aliases (see {@link LEGACY_FIELD_ID}),
 * while the encoder writes only the current ones.
 */

/** RTCP APP `name` of floor control messages (TS 24.380 clause 8.1.2, 8.2.1). */
export const MCPT_NAME = 'MCPT';

/** The message types, in the kebab-case this package uses. */
export type FloorMessageType =
  | 'floor-request'
  | 'floor-granted'
  | 'floor-taken'
  | 'floor-deny'
  | 'floor-release'
  | 'floor-idle'
  | 'floor-revoke'
  | 'floor-queue-position-request'
  | 'floor-queue-position-info'
  | 'floor-ack';

/**
 * The low four bits of the 5-bit subtype per message type (TS 24.380 table
 * 8.2.2-1). The fifth, most significant bit is "acknowledgment required"
 * ({@link ACK_REQUIRED_BIT}).
 */
export const SUBTYPE: { readonly [T in FloorMessageType]: number } = Object.freeze({
  'floor-request': 0,
  'floor-granted': 1,
  'floor-taken': 2,
  'floor-deny': 3,
  'floor-release': 4,
  'floor-idle': 5,
  'floor-revoke': 6,
  'floor-queue-position-request': 8,
  'floor-queue-position-info': 9,
  'floor-ack': 10,
});

/** Subtype bit 'x' of table 8.2.2-1 (`x0001` Floor Granted ...): the receiver shall answer with Floor Ack. */
export const ACK_REQUIRED_BIT = 0x10;

/**
 * Messages that table 8.2.2-1 defines with an "acknowledgment required"
 * variant; the others have it fixed to 0 (Wireshark's subtype table agrees).
 */
export const ACK_CAPABLE: ReadonlySet<FloorMessageType> = new Set<FloorMessageType>([
  'floor-granted',
  'floor-taken',
  'floor-deny',
  'floor-release',
  'floor-idle',
  'floor-queue-position-info',
]);

/** Message type of a subtype's low four bits, if it is one this package knows. */
export function messageTypeOfSubtype(subtype: number): FloorMessageType | undefined {
  const low = subtype & 0x0f;
  for (const [t, v] of Object.entries(SUBTYPE) as [FloorMessageType, number][]) if (v === low) return t;
  return undefined;
}

/** Field IDs, TS 24.380 table 8.2.3.1-2. */
export const FIELD_ID = Object.freeze({
  floorPriority: 0,
  duration: 1,
  rejectCause: 2,
  queueInfo: 3,
  grantedPartyId: 4,
  permissionToRequest: 5,
  userId: 6,
  queueSize: 7,
  messageSequenceNumber: 8,
  queuedUserId: 9,
  source: 10,
  trackInfo: 11,
  messageType: 12,
  floorIndicator: 13,
  ssrc: 14,
} as const);

/** Name of a floor control field (a key of {@link FIELD_ID}). */
export type FieldName = keyof typeof FIELD_ID;

/** Field ID to name, for the decoder. */
export const FIELD_NAME_BY_ID: ReadonlyMap<number, FieldName> = new Map(
  (Object.entries(FIELD_ID) as [FieldName, number][]).map(([k, v]) => [v, k]),
);

/**
 * Rel-13 field IDs (102 Floor Priority ... 116 Floor Indicator; 107 unused)
 * that Wireshark's field-ID table and MCOP still list: accepted on decode.
 */
export const LEGACY_FIELD_ID: ReadonlyMap<number, FieldName> = new Map<number, FieldName>([
  [102, 'floorPriority'],
  [103, 'duration'],
  [104, 'rejectCause'],
  [105, 'queueInfo'],
  [106, 'grantedPartyId'],
  [108, 'permissionToRequest'],
  [109, 'userId'],
  [110, 'queueSize'],
  [111, 'messageSequenceNumber'],
  [112, 'queuedUserId'],
  [113, 'source'],
  [114, 'trackInfo'],
  [115, 'messageType'],
  [116, 'floorIndicator'],
]);

/**
 * Field IDs from 192 up carry a 16-bit length (TS 24.380 clause 8.2.3.1);
 * none of them is defined for floor control, so the decoder reports them as
 * unknown after reading their length.
 */
export const TWO_OCTET_LENGTH_FROM_ID = 192;

/** Reject Cause values in Floor Deny (TS 24.380 clause 8.2.6.2). */
export const DENY_CAUSE = Object.freeze({
  anotherClientHasPermission: 1,
  internalServerError: 2,
  onlyOneParticipant: 3,
  retryAfterNotExpired: 4,
  receiveOnly: 5,
  noResources: 6,
  queueFull: 7,
  other: 255,
} as const);

/** Reject Cause values in Floor Revoke (TS 24.380 clause 8.2.10.2). */
export const REVOKE_CAUSE = Object.freeze({
  onlyOneClient: 1,
  mediaBurstTooLong: 2,
  noPermission: 3,
  preempted: 4,
  noResources: 6,
  other: 255,
} as const);

/** Source field values (TS 24.380 clause 8.2.3.12). */
export const SOURCE = Object.freeze({
  participant: 0,
  participatingFunction: 1,
  controllingFunction: 2,
  nonControllingFunction: 3,
} as const);

/** Queue Position Info special values (TS 24.380 clause 8.2.3.5). */
export const QUEUE_POSITION = Object.freeze({ notQueued: 254, unknown: 255 } as const);

/** Floor Indicator bits (TS 24.380 clause 8.2.3.15), as Wireshark names them. */
export const FLOOR_INDICATOR = Object.freeze({
  normalCall: 0x8000,
  broadcastGroupCall: 0x4000,
  systemCall: 0x2000,
  emergencyCall: 0x1000,
  imminentPerilCall: 0x0800,
  queueingSupported: 0x0400,
  dualFloor: 0x0200,
  temporaryGroupCall: 0x0100,
  multiTalker: 0x0080,
} as const);
