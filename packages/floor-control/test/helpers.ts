/**
 * Shared test material: one message of every type with every field it can
 * carry (so the codec and tshark see each field at least once), a few
 * minimal ones, and a seeded PRNG for the fuzz tests.
 */
import { buildSenderReport } from '@imslab/rtp';
import { FLOOR_INDICATOR, type FloorMessage } from '../src/index.ts';
import { prng } from '@imslab/fuzz';

export { prng };

export const ALICE_SSRC = 0x0a11ce01;
export const BOB_SSRC = 0x0b0b0002;
export const CAROL_SSRC = 0x0ca40003;
export const SERVER_SSRC = 0x5e4e0004;

const track = { queueingCapability: 1, participantType: 'normal', floorParticipantRefs: [0x01020304, 0xa0b0c0d0] };

/** Every message type, each with every field its format allows, and the ack bit where it exists. */
export function everyMessage(): { name: string; message: FloorMessage }[] {
  return [
    { name: 'Floor Request', message: { type: 'floor-request', ackRequired: false, ssrc: ALICE_SSRC, fields: { floorPriority: 5, userId: 'sip:alice@ims.example', trackInfo: track, floorIndicator: FLOOR_INDICATOR.normalCall } } },
    {
      name: 'Floor Granted (ack required)',
      message: {
        type: 'floor-granted',
        ackRequired: true,
        ssrc: SERVER_SSRC,
        fields: { duration: 30, grantedSsrc: ALICE_SSRC, floorPriority: 5, userId: 'sip:alice@ims.example', queueSize: 1, queuedUserId: 'sip:bob@ims.example', queueInfo: { position: 1, priorityLevel: 3 }, trackInfo: track, floorIndicator: FLOOR_INDICATOR.emergencyCall },
      },
    },
    {
      name: 'Floor Taken',
      message: {
        type: 'floor-taken',
        ackRequired: false,
        ssrc: SERVER_SSRC,
        fields: { grantedPartyId: 'sip:alice@ims.example', permissionToRequest: true, userId: 'sip:alice@ims.example', messageSequenceNumber: 7, trackInfo: track, floorIndicator: FLOOR_INDICATOR.broadcastGroupCall, grantedSsrc: ALICE_SSRC },
      },
    },
    { name: 'Floor Deny (ack required)', message: { type: 'floor-deny', ackRequired: true, ssrc: SERVER_SSRC, fields: { rejectCause: { cause: 1, phrase: 'floor is taken' }, userId: 'sip:bob@ims.example', trackInfo: track, floorIndicator: FLOOR_INDICATOR.systemCall } } },
    { name: 'Floor Release', message: { type: 'floor-release', ackRequired: false, ssrc: ALICE_SSRC, fields: { userId: 'sip:alice@ims.example', trackInfo: track, floorIndicator: FLOOR_INDICATOR.normalCall } } },
    { name: 'Floor Idle (ack required)', message: { type: 'floor-idle', ackRequired: true, ssrc: SERVER_SSRC, fields: { messageSequenceNumber: 8, trackInfo: track, floorIndicator: FLOOR_INDICATOR.normalCall } } },
    { name: 'Floor Revoke', message: { type: 'floor-revoke', ackRequired: false, ssrc: SERVER_SSRC, fields: { rejectCause: { cause: 2, phrase: 'too long' }, trackInfo: track, floorIndicator: FLOOR_INDICATOR.normalCall } } },
    { name: 'Floor Queue Position Request', message: { type: 'floor-queue-position-request', ackRequired: false, ssrc: BOB_SSRC, fields: { userId: 'sip:bob@ims.example', trackInfo: track } } },
    {
      name: 'Floor Queue Position Info (ack required)',
      message: { type: 'floor-queue-position-info', ackRequired: true, ssrc: SERVER_SSRC, fields: { userId: 'sip:bob@ims.example', queuedUserId: 'sip:bob@ims.example', queueInfo: { position: 2, priorityLevel: 4 }, trackInfo: track, floorIndicator: FLOOR_INDICATOR.imminentPerilCall } },
    },
    { name: 'Floor Ack', message: { type: 'floor-ack', ackRequired: false, ssrc: ALICE_SSRC, fields: { source: 0, messageType: 0x11, trackInfo: track } } },
  ];
}

/** The smallest valid message of each type (only required fields). */
export function minimalMessages(): FloorMessage[] {
  return [
    { type: 'floor-request', ackRequired: false, ssrc: 1, fields: {} },
    { type: 'floor-granted', ackRequired: false, ssrc: 2, fields: { duration: 0 } },
    { type: 'floor-taken', ackRequired: false, ssrc: 3, fields: { messageSequenceNumber: 0xffff } },
    { type: 'floor-deny', ackRequired: false, ssrc: 4, fields: { rejectCause: { cause: 255 } } },
    { type: 'floor-release', ackRequired: false, ssrc: 5, fields: {} },
    { type: 'floor-idle', ackRequired: false, ssrc: 6, fields: { messageSequenceNumber: 0 } },
    { type: 'floor-revoke', ackRequired: false, ssrc: 7, fields: { rejectCause: { cause: 4 } } },
    { type: 'floor-queue-position-request', ackRequired: false, ssrc: 8, fields: {} },
    { type: 'floor-queue-position-info', ackRequired: false, ssrc: 0xffffffff, fields: { queueInfo: { position: 254, priorityLevel: 0 } } },
    { type: 'floor-ack', ackRequired: false, ssrc: 0, fields: { source: 3, messageType: 0x15 } },
  ];
}

/** An RTCP receiver report without report blocks (RFC 3550 sec. 6.4.2). */
export function receiverReport(ssrc: number): Uint8Array {
  return new Uint8Array([0x80, 201, 0, 1, ssrc >>> 24, (ssrc >>> 16) & 0xff, (ssrc >>> 8) & 0xff, ssrc & 0xff]);
}

/** A sender report (from @imslab/rtp) at a fixed time. */
export function senderReport(ssrc: number): Uint8Array {
  return new Uint8Array(buildSenderReport(ssrc, 1234, 10, 1600, 1_780_000_000_000));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

