/**
 * What the PoC server promises the outside (the runner, tests, curl): the
 * status document of its control API, `GET /status`.
 */

/** Floor control messages by type (TS 24.380 names, e.g. `floor-request`). */
export type FloorMessageCounts = Record<string, number>;

/** One member's leg of a group session, as the control API reports it. */
export interface PocMemberStatus {
  member: string;
  callId: string;
  joinedAt: string;
  leftAt: string | null;
  /** RTP packets received from the member. */
  rxPackets: number;
  /** Of those, forwarded unchanged to the other members (sent while it held the floor). */
  forwarded: number;
  /** Of those, dropped: sent without the floor. */
  droppedNoFloor: number;
  /** e2m2e: RTP packets that failed SRTP authentication under the member's key (dropped). */
  rxAuthFailed: number;
  /** RTP packets sent to the member (others' bursts). */
  txPackets: number;
  /** Floor control received from the member (authenticated SRTCP under its client-server key). */
  floorRx: FloorMessageCounts;
  /** Floor control sent to the member. */
  floorTx: FloorMessageCounts;
  /** RTCP datagrams from the member refused: failed SRTCP authentication, replayed, or malformed floor control. */
  floorRejected: number;
}

export interface PocGroupStatus {
  user: string;
  mode: 'e2e' | 'e2m2e';
  contention: 'deny' | 'queue';
  /** Floor control server state (clause 6.3.4): idle, taken, pending-revoke. */
  floor: string;
  /** The member holding the floor, if any. */
  holder: string | null;
  members: PocMemberStatus[];
  left: PocMemberStatus[];
}

/** GET /status. */
export interface PocStatus {
  name: string;
  groups: PocGroupStatus[];
}
