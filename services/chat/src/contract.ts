/**
 * What the chat server promises the outside (the runner, tests, curl): the
 * documents of its control API (`GET /rooms`), its store's layout and the
 * names of what it leaves in its run directory (the run's `logs/`).
 */

/** The room store's directory in the run directory (`logs/chat-store/`, read by the run's store scan). */
export const STORE_DIR = 'chat-store';
/** The server side's TLS key log in the run directory (`logs/chat.tls-keys.log`: the message analysis picks `*tls-keys.log`). */
export const KEYLOG_FILE = 'chat.tls-keys.log';
/** The MSRP over TLS port (RFC 4975's registered port). */
export const CHAT_MSRP_PORT = 2855;

/** One line of a room's store file `<store>/<room>.jsonl`. */
export interface StoredChatMessage {
  time: string;
  room: string;
  /** The sender's SIP identity (P-Asserted-Identity of its INVITE, else From): sip:user@domain. */
  sender: string;
  /** MSRP Message-ID of the sender's SEND. */
  messageId: string;
  contentType: string;
  /** `utf8` for message/cpim and text/*, `base64` for anything else. */
  encoding: 'utf8' | 'base64';
  body: string;
  bytes: number;
  sha256: string;
}

/** One participant as GET /rooms shows it. */
export interface ChatParticipantStatus {
  identity: string;
  callId: string;
  /** Our MSRP URI for this participant (the a=path of our answer). */
  uri: string;
  /** Where we send to: its a=path (relay first, then the participant). */
  toPath: string[];
  joinedAt: string;
  /** Whether a connection for its session is there (its bind SEND arrived). */
  connected: boolean;
  /** Messages waiting for that connection. */
  held: number;
}

export interface ChatRoomStatus {
  user: string;
  members: string[];
  participants: ChatParticipantStatus[];
  /** Messages received in the room since start. */
  messages: number;
}

/** A message whose line a stopped process left unfinished: what of it can be read, and how much was kept. */
export interface PartialChatMessage {
  room: string;
  /** 1-based line of the room's file. */
  line: number;
  /** From the kept bytes, when they got that far (the line starts with time, room, sender, messageId). */
  messageId: string | null;
  sender: string | null;
  keptBytes: number;
}

export interface ChatRoomsDocument {
  name: string;
  /** The room store: bytes on disk, and what its opening found (messages a crash cut short). */
  store: { bytes: number; problems: string[]; partial: PartialChatMessage[] };
  rooms: ChatRoomStatus[];
}
