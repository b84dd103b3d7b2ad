import type { SecurityMode, TicketPolicy } from './config.ts';
import type { E2aeMark, E2aeStatus, KeyManagement, SecurityAchieved } from './media-security.ts';

export type CallState = 'calling' | 'ringing' | 'early' | 'confirmed' | 'terminated' | 'failed';

/** One completed media security negotiation of a call (the INVITE, then each re-INVITE). */
export interface SecurityHistoryEntry {
  at: string;
  /** The setting that negotiation ran under: ours when we offered, the one the offer expressed when we answered. */
  security: SecurityMode;
  keyManagement: KeyManagement | null;
  achieved: SecurityAchieved;
}

/**
 * Floor control of a PoC call (poc-e2e, poc-e2m2e), as the member sees it. Message
 * counts are by TS 24.380 message type (`floor-granted`, `floor-deny`,
 * `floor-taken`, `floor-idle`, `floor-queue-position-info`, `floor-revoke`, ...).
 */
export interface FloorStatus {
  /** Participant state (clause 6.2.4): has-no-permission, pending-request, queued, has-permission, pending-release. */
  state: string;
  /** Whether the probe is going out now. */
  talking: boolean;
  /** The user asked to talk without the floor (a member ignoring floor control). */
  ignoringFloor: boolean;
  /** The floor holder as the last Floor Taken named it. */
  holder: string | null;
  /** Position from the last Floor Queue Position Info while queued. */
  queuePosition: number | null;
  /** Reject Cause of the last Floor Deny or Floor Revoke. */
  lastRejectCause: number | null;
  /** Floor control messages received from the PoC server (authenticated SRTCP), by type. */
  received: Record<string, number>;
  /** Floor control messages sent, by type. */
  sent: Record<string, number>;
  /** RTCP datagrams refused: SRTCP authentication failed, replayed, or not floor control. */
  rejected: number;
  /** How the client-server key that protects floor control came: a CSK by MIKEY-SAKKE (TS 33.180 7.3) or SDES. */
  keyManagement: KeyManagement;
  /**
   * Per granted request, oldest first (the newest 1000): ms from PTT pressed
   * (the first Floor Request sent) to Floor Granted received, on this UE's
   * clock (performance.now()); a queued request's wait is included.
   */
  requestToGrantMs?: number[];
}

/** The status document of GET /calls/<id>. */
export interface CallStatus {
  callId: string;
  direction: 'out' | 'in';
  state: CallState;
  localIdentity: string;
  remoteIdentity: string;
  /** P-Asserted-Identity of the peer's request or 2xx (what the network asserts). */
  remoteAssertedIdentity: string | null;
  remoteClaimedIdentity: string;
  /** The peer identity as authenticated through the KMS (MIKEY-TICKET): the ticket's Initiator for the callee, the TRANSFER_RESP Responder for the caller. */
  kmsAuthenticatedPeer: string | null;
  failure?: { status?: number; reason: string };
  /** Our setting for the call (changed by a successful POST /calls/<id>/secure). */
  securityRequested: SecurityMode;
  /** Resolution policy of our tickets when our setting is e2e or e2e-or-e2m2e (null otherwise, and for calls we answered). */
  policy: TicketPolicy | null;
  sdpProfile: 'RTP/AVP' | 'RTP/SAVP';
  suite: string | null;
  keyManagement: KeyManagement | null;
  /** What the UE believes it negotiated; null before the negotiation completes. */
  securityAchieved: SecurityAchieved | null;
  securityHistory: SecurityHistoryEntry[];
  e2ae: E2aeStatus;
  /** The a=3ge2ae value in the peer's SDP. */
  peerE2ae: E2aeMark | null;
  securityWarning?: string;
  markers: { tx: string; expectedRx: string };
  media: MediaStatus;
  /** The call's video and text streams (calls placed with `media`), in the order offered. */
  streams?: StreamStatus[];
  /** Floor control, on PoC calls (poc-e2e, poc-e2m2e) once answered. */
  floor?: FloorStatus;
  /** PoC: what the server recorded for us while we were away, as it told us (`bursts=N;packets=P;ms=T;partial=K`). */
  pocRecordings?: string;
  /** Group keys (poc-e2e: the GMK we send under and every one held; after a refused re-key, the KMS's reason). */
  groupKey?: { gmkId?: string; held?: string[]; rekeyRefused?: string };
  startedAt: string;
  answeredAt?: string;
  endedAt?: string;
}

/** Counters exposed in CallStatus.media. */
export interface MediaCounters {
  txPackets: number;
  rxPackets: number;
  rxMarkerPackets: number;
  rxMarkersSeen: string[];
  rxAuthFailed: number;
  rxReplayed: number;
  rxMalformed: number;
  /** SRTP packets whose MKI names no key this UE holds (e.g. a group key of an epoch after our removal), or that authenticate only under a receive key it dropped (MAX_EXTRA_RX_KEYS). */
  rxUnknownKey: number;
  rxFrom: string | null;
}

/** Counters before any packet (fresh arrays each time: a session fills its own). */
export function emptyMediaCounters(): MediaCounters {
  return { txPackets: 0, rxPackets: 0, rxMarkerPackets: 0, rxMarkersSeen: [], rxAuthFailed: 0, rxReplayed: 0, rxMalformed: 0, rxUnknownKey: 0, rxFrom: null };
}

/** One stream's media: where it goes and what its receiver counted. */
export interface MediaStatus extends MediaCounters {
  local: string | null;
  remote: string | null;
}

/** A video or text stream of a call: its counters and its own markers. */
export interface StreamStatus extends MediaStatus {
  type: 'video' | 'text';
  markers: { tx: string; expectedRx: string };
}
