import { decodeFloorControlPacket, encodeFloorMessage, type FloorMessage } from '@imslab/floor-control';
import type { SrtpContext } from '@imslab/srtp';

/**
 * Floor control on the wire between one member and the server: RTCP APP
 * `MCPT` (TS 24.380 clause 8.1.2) protected as SRTCP under the member's
 * client-server key (TS 33.180), never the group key. Pure: the caller owns
 * the sockets.
 */

/** What a datagram from the member held. */
export type FloorReadResult =
  | { ok: true; messages: FloorMessage[] }
  | { ok: false; reason: string };

/** Authenticates and decrypts an SRTCP datagram with the member's key, then decodes its floor control. Never throws. */
export function readFloorControl(rx: SrtpContext, datagram: Uint8Array): FloorReadResult {
  const r = rx.unprotectRtcp(datagram);
  if (!r.ok) return { ok: false, reason: `SRTCP ${r.reason}` };
  const d = decodeFloorControlPacket(r.packet);
  if (!d.ok) return { ok: false, reason: `floor control ${d.error.code} at octet ${d.error.offset}: ${d.error.message}` };
  return { ok: true, messages: d.messages };
}

/** One floor control message as SRTCP under the member's key. */
export function writeFloorControl(tx: SrtpContext, m: FloorMessage): Buffer {
  return tx.protectRtcp(encodeFloorMessage(m));
}
