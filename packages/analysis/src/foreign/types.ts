/**
 * What `imslab analyse` finds in captures made anywhere, without our probe:
 * the links, the SIP calls, every SRTP key and where it travelled, each
 * direction's media path and its verdict with the conditions behind it.
 * Addresses are `ip:port` (IPv6 `[ip]:port`), as flow reports write them.
 */
import type { MediaFlowReport } from '../link-scan.ts';

/** `e2e` | `e2m2e(<address>)` | `e2ae` | `none` | `unknown`. */
export type ForeignVerdict = 'e2e' | 'e2ae' | 'none' | 'unknown' | `e2m2e(${string})`;

/** One link: a classic pcap file, or one interface of a pcapng file. */
export interface ForeignLink {
  /** The file's base name, or for a pcapng interface its name (`<file>/<name>` when two inputs share it). */
  name: string;
  file: string;
  /** pcapng interface index; 0 for classic pcap. */
  interfaceId: number;
  interfaceName?: string;
  linkType: number;
  packets: number;
  /** SIP messages read on the link in the clear, and inside TLS. */
  sipClear: number;
  sipInTls: number;
  /** TLS records seen (SIP over TLS and anything else). */
  tlsRecords: number;
  /** RTP-shaped flows: every packet accounted for (see link-scan.ts). */
  media: MediaFlowReport[];
}

/** One SIP message as it crossed one hop. */
export interface SipSighting {
  link: string;
  /** SIP hop (transport addresses), e.g. `192.0.2.10:5080`. */
  from: string;
  to: string;
  transport: 'udp' | 'tcp' | 'tls';
  /** True when readable by anyone on the link (plaintext); false when read inside TLS with the secrets given. */
  clear: boolean;
  timeUs: number;
  callId: string;
  /** `INVITE`, `ACK`, ...; responses as `200 (INVITE)` (status and CSeq method). */
  message: string;
  /** SDP of the message: media endpoints (`ip:port`) and the SDES keys (canonical base64 inline) with their suite. */
  endpoints: string[];
  keys: Array<{ suite: string; inline: string }>;
}

/** Where a key came from. */
export type KeySource =
  | { kind: 'sdp'; link: string; from: string; to: string; message: string; clear: boolean; callId: string; timeUs: number }
  | { kind: 'key-file'; file: string; line: number; owner?: string; callId?: string };

/** An SRTP master key, with every place it was seen. */
export interface AttributedKey {
  /** `k1`, `k2`, ...: in the order first seen (signalling by time, then the key files). */
  id: string;
  suite: string;
  /** Master key || salt, canonical base64 (as `inline:` writes it, with padding). */
  inline: string;
  sources: KeySource[];
  /** Legs whose packets authenticate under it (`<link> <src> -> <dst>`). */
  usedOn: string[];
}

/** One direction's media on one link. */
export interface MediaLeg {
  link: string;
  src: string;
  dst: string;
  ssrcs: number[];
  payloadTypes: number[];
  packets: number;
  firstUs: number;
  lastUs: number;
  /** `rtp`: readable (speech in the clear or a probe marker); `srtp`: every authenticated packet under `key`; `unknown`: encrypted under no known key. */
  protection: 'rtp' | 'srtp' | 'unknown';
  key?: string;
  /** Packet counts as the scan classified them. */
  counts: { plaintext: number; plaintextSpeech: number; srtp: number; unknown: number; replayed: number };
  /** Compared with the previous leg packet by packet (same SSRC and sequence number), on the packets sampled. */
  comparedWithPrevious?: { packets: number; bytesIdentical: boolean; payloadIdentical: boolean };
}

export type ConditionKind = 'plain-media' | 'hop-only' | 'key-in-clear' | 'key-in-tls' | 'unknown-key' | 'exchange-not-seen' | 'no-media' | 'sip-not-seen';

/** Why a verdict is what it is: structured, with the sentence a person reads. */
export interface Condition {
  kind: ConditionKind;
  text: string;
  /** The key (id and inline) it is about. */
  key?: string;
  inline?: string;
  link?: string;
  /** Media leg (plain-media, hop-only, unknown-key) or SIP hop (key-in-clear, key-in-tls). */
  from?: string;
  to?: string;
  /** The SIP message that carried the key. */
  message?: string;
}

export interface DirectionResult {
  direction: 'caller->callee' | 'callee->caller';
  /** Media endpoints: where it starts and ends (as far as the captures show). */
  from: string;
  to: string;
  legs: MediaLeg[];
  /** What the packets show about the media itself. */
  mediaPath: ForeignVerdict;
  /** The media path weakened by where its keys travelled. */
  verdict: ForeignVerdict;
  conditions: Condition[];
}

export interface ForeignCall {
  callId: string;
  /** How it was found: from SIP, or (no SIP seen) from the media alone. */
  foundBy: 'sip' | 'media';
  caller?: string;
  callee?: string;
  /** Every INVITE hop, in time order. */
  signalling: Array<{ link: string; from: string; to: string; transport: string; clear: boolean }>;
  /** Keys seen in the call's SDP, by id. */
  keys: string[];
  directions: DirectionResult[];
  /** The weaker direction (of those with media, when one has none). */
  mediaPath: ForeignVerdict;
  verdict: ForeignVerdict;
}

export interface ForeignAnalysis {
  inputs: string[];
  links: ForeignLink[];
  calls: ForeignCall[];
  keys: AttributedKey[];
  sip: SipSighting[];
  /** What could not be done (a truncated capture, a bad key line, TLS that could not be read): listed, never hidden. */
  problems: string[];
  /** Programs that were needed and are missing (e.g. `tshark` for SIP inside TLS). */
  missingTools: string[];
  /** TLS secrets used: from --sslkeylog files and pcapng Decryption Secrets Blocks. */
  tlsSecrets: { lines: number; fromFiles: string[]; fromCaptures: string[] };
}
