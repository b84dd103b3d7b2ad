/**
 * What the PoC server promises the outside (the runner, tests, curl): the
 * status document of its control API, `GET /status`.
 */

/** Floor control messages by type (TS 24.380 names, e.g. `floor-request`). */
export type FloorMessageCounts = Record<string, number>;

/** One member's leg of a group session, as the control API reports it. */
/** How a member's client-server key came: a CSK by MIKEY-SAKKE (TS 33.180 7.3) or SDES (RFC 4568, readable wherever the SIP is). */
export type ClientServerKeying = 'mikey-sakke' | 'sdes';

export interface PocMemberStatus {
  member: string;
  /** How its client-server key (floor control; e2m2e: the leg's media too) came. */
  clientServerKey: ClientServerKeying;
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
  /** Its box played to it when it joined (zeros when nothing was waiting or the server keeps no box). */
  replay: PocReplayStatus;
  /**
   * Its offer's streams after the audio one (video, real-time text), in the
   * offer's order, refused ones included (port 0). The counters above are
   * the audio stream's alone; the box records the audio only.
   */
  streams: PocStreamStatus[];
}

/**
 * One of a member's further streams (an m= section after its audio). e2e:
 * SRTP under the group key like the audio, forwarded unchanged from the
 * floor holder to the same type of stream of every other member.
 */
export interface PocStreamStatus {
  /** 0-based position of its m= section in the offer (the audio is 0). */
  index: number;
  /** Media type as offered: video, text, ... */
  type: string;
  /** Our RTP port for it (its RTCP on port + 1); 0: refused. */
  port: number;
  /** Why it was refused (port 0 in the answer); null when accepted. */
  refused: string | null;
  /** RTP packets received from the member on it. */
  rxPackets: number;
  /** Of those, forwarded unchanged (sent while it held the floor). */
  forwarded: number;
  /** Of those, dropped: sent without the floor. */
  droppedNoFloor: number;
  /** Copies of forwarded packets not sent: a joined member without a stream of this type it receives on. */
  skippedNoStream: number;
  /** Datagrams on its RTP port that were not RTP (junk, RTCP): dropped. */
  notRtp: number;
  /** Datagrams on its RTCP port (the member's reports under the group key): counted, relayed to nobody. */
  rtcpRx: number;
  /** RTP packets sent to the member on it (the floor holder's stream of this type). */
  txPackets: number;
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
  /** Recordings for members who are not joined; null when the server keeps no box. */
  box: PocBoxGroupStatus | null;
}

/** GET /status. */
export interface PocStatus {
  name: string;
  groups: PocGroupStatus[];
  box: PocBoxStatus | null;
}

/*
 * The PoC box: recordings for members who are not joined (TR 33.828 4.2,
 * issue 11 point 5). The runner copies the box out of the run directory and
 * scans it (ciphertext at rest?); the layout is defined here once, box.ts
 * writes it, evidence.ts reads it.
 *
 *   <box>/<group>/<member>/<burst id>/meta.json     BurstMeta
 *   <box>/<group>/<member>/<burst id>/packets.bin   records: u32 BE length | u64 BE arrival time (us since the epoch) | the UDP payload as it arrived
 *   <box>/delivered.jsonl                           one DeliveredBurst per line (no media: ids, counts, digests)
 *   <box>/.quarantine/...                           bursts that could not be read, and delivered corrupt ones, kept for a person
 *
 * <group> is the group's URI user (poc-team); <member> the member's URI
 * without its scheme (carol@ims.test), percent-encoded where a file name
 * could not carry it.
 */

/** The box's directory name inside the PoC server's run directory. */
export const BOX_DIR = 'poc-box';
export const BURST_META_FILE = 'meta.json';
export const BURST_PACKETS_FILE = 'packets.bin';
export const DELIVERED_JOURNAL = 'delivered.jsonl';
/** Bytes of a packets.bin record header (length + arrival time): @imslab/packet-records' format, the voicemail's too. */
export { RECORD_HEADER_BYTES as BOX_RECORD_HEADER_BYTES } from '@imslab/packet-records';

/** A key identifier the burst's packets carry, with how many packets carry it. */
export interface BurstKeyId {
  /** The talker's SSRC (RTP header). */
  ssrc: number;
  /** The SRTP MKI in hex (GMK-ID || GUK-ID with MIKEY-SAKKE group keys), or null when the group's packets carry none. */
  mki: string | null;
  packets: number;
}

/** One recorded burst for one member (meta.json). */
export interface BurstMeta {
  /** Unique, sortable by recording time, safe as a file name: `<13-digit ms>-<8 hex>`. */
  id: string;
  /** The group's URI user, e.g. poc-team. */
  group: string;
  /** The member it is kept for (URI). */
  member: string;
  /** The floor holder whose burst it is (URI). */
  talker: string;
  mode: 'e2e' | 'e2m2e';
  /** srtp: the packets as they arrived (e2e: under the group key, which the server never holds); rtp: decrypted by the server (e2m2e). */
  protection: 'srtp' | 'rtp';
  /** ISO time of the burst's first packet. */
  startedAt: string;
  /** partial: recovered after a crash mid-recording, stopped by a bound, or its packets.bin is damaged (see note). */
  state: 'recording' | 'complete' | 'partial';
  packets: number;
  /** Payload bytes (without record headers). */
  bytes: number;
  /** At most 16 (SSRC, MKI) pairs, in order of first appearance. */
  keyIds: BurstKeyId[];
  /** Packets whose pair came after the 16 listed (a misconfigured MKI length makes every packet look different). */
  keyIdsUnlisted?: number;
  note?: string;
}

/** A burst as the status API lists it: its meta and its length in time. */
export interface BurstSummary extends BurstMeta {
  /** Between its first and last packet. */
  durationMs: number;
}

/** A burst played to its member and removed from the box (delivered.jsonl, and the status API). */
export interface DeliveredBurst {
  id: string;
  group: string;
  member: string;
  talker: string;
  /** The member's call it was played on. */
  callId: string;
  state: 'complete' | 'partial';
  /** Packets sent, all of those the burst held (a burst whose file was damaged: its whole records before the damage). */
  packets: number;
  bytes: number;
  durationMs: number;
  /** The key identifiers its packets carry (talker SSRC, SRTP MKI), as the burst's meta.json listed them. */
  keyIds: BurstKeyId[];
  /** SHA-256 of the first packet's bytes (hex): where it appears leaving the server, the replay starts. */
  firstPacket: string;
  /** SHA-256 over the packets in order, each prefixed by its u32 BE length (the voicemail's payload digest). */
  digest: string;
  deliveredAt: string;
  note?: string;
}

/** Bounds of the box (each refusal or stop is counted and logged; earlier bursts are never touched). */
export interface BoxLimits {
  /** Largest packets.bin of one burst: a longer burst is stopped there and kept as partial. */
  maxBytesPerBurst: number;
  /** Bursts kept per member and group: a new burst beyond it is not recorded for that member. */
  maxBurstsPerMember: number;
  /** Bytes (packets.bin sizes) kept per member and group. */
  maxBytesPerMember: number;
  /** Bytes kept per group, every member's copies together. */
  maxBytesPerGroup: number;
}

/** One member's box in a group, as the status API shows it. */
export interface PocBoxMemberStatus {
  member: string;
  /** Waiting for the member, oldest first (a burst being recorded included, state recording). */
  bursts: BurstSummary[];
  /** packets.bin bytes they take. */
  bytes: number;
  /** Bursts not recorded for this member since the server started (a bound was reached). */
  refused: number;
  lastRefusal: string | null;
}

export interface PocBoxGroupStatus {
  /** The streams the box records: the audio only (video and text go to joined members live and are never kept). */
  recordedMedia: ['audio'];
  bytes: number;
  /** Members with something waiting or refused. */
  members: PocBoxMemberStatus[];
  /** Delivered since the server started, the latest 50. */
  delivered: DeliveredBurst[];
}

/** The box as a whole (GET /status `box`, GET /box). */
export interface PocBoxStatus {
  dir: string;
  limits: BoxLimits;
  bytes: number;
  /** What recovery at start-up and later housekeeping found (torn records cut off, unreadable bursts quarantined, ...). */
  problems: string[];
}

/** A member's replay of its box, on its leg (PocMemberStatus.replay). */
export interface PocReplayStatus {
  /** Bursts waiting for it when it joined. */
  bursts: number;
  /** Of those, played to the end and removed from the box. */
  delivered: number;
  /** Recorded packets sent. */
  packets: number;
  /** Still playing the recording: live packets wait behind it. */
  replaying: boolean;
  /** Live packets that waited behind the recording (sent after it, with their own spacing). */
  queuedLive: number;
  /** Live packets dropped because too many were waiting (PocConfig box.maxQueuedLive). */
  droppedLive: number;
}

/**
 * How a joining member is told what the box holds for it: the SDP answer
 * carries `a=x-poc-recordings:<notice>` (readOffer(answer).attributes) and,
 * once the SIP layer can add headers to a 2xx, the same value in
 * `X-PoC-Recordings`. Present whenever the server keeps a box (bursts=0
 * when there is nothing).
 */
export const RECORDINGS_ATTRIBUTE = 'x-poc-recordings';
export const RECORDINGS_HEADER = 'X-PoC-Recordings';

export interface RecordingsNotice {
  bursts: number;
  packets: number;
  /** Sum of the bursts' lengths in time. */
  ms: number;
  /** Of the bursts, partial ones (see the status API for why). */
  partial: number;
}

/** `bursts=2;packets=100;ms=1980;partial=0`. */
export function formatRecordingsNotice(n: RecordingsNotice): string {
  return `bursts=${n.bursts};packets=${n.packets};ms=${n.ms};partial=${n.partial}`;
}

/** The inverse of formatRecordingsNotice; null for anything else. */
export function parseRecordingsNotice(v: string): RecordingsNotice | null {
  const m = /^bursts=(\d+);packets=(\d+);ms=(\d+);partial=(\d+)$/.exec(v.trim());
  return m ? { bursts: Number(m[1]), packets: Number(m[2]), ms: Number(m[3]), partial: Number(m[4]) } : null;
}
