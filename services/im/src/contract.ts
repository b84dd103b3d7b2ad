/**
 * What the IM server promises the outside (the runner, tests, curl): the
 * status document of its control API, `GET /status`, and where its store
 * lives in its run directory.
 */

/** The message store's directory in the run directory (the run's store scan reads it: `logs/im-store/`). */
export const STORE_DIR = 'im-store';

/** One forward of a group message to one member. */
export interface ImForward {
  member: string;
  callId: string;
  /** SHA-256 (hex) of the body sent: equal to the body received when forwarded byte for byte. */
  bodySha256: string;
  bodyBytes: number;
  /** Final response (or 408 for no answer, 503 for a transport error); null while pending. */
  status: number | null;
  reason: string;
  attempt: number;
  at: string;
  /** Live forward, or a delivery from the store. */
  from: 'live' | 'store';
}

/** One member's outcome for a message. */
export interface ImRecipientState {
  member: string;
  state: 'sending' | 'delivered' | 'stored' | 'failed' | 'store-full';
  /** When delivered from the store: what triggered it. */
  deliveredBy?: 'member-activity' | 'retry-timer';
}

/** One group message: what came in, what went out to whom. */
export interface ImMessageRecord {
  id: string;
  group: string;
  sender: string;
  callId: string;
  receivedAt: string;
  contentType: string;
  bodyBytes: number;
  bodySha256: string;
  /** The answer to the sender. */
  response: { status: number; reason: string };
  recipients: ImRecipientState[];
  forwards: ImForward[];
}

export interface ImStatus {
  name: string;
  groups: Array<{ user: string; members: string[] }>;
  messages: ImMessageRecord[];
  refused: Array<{ callId: string; from: string; to: string; status: number; reason: string; at: string }>;
  store: { dir: string | null; pending: number; bytes: number; problems: string[] };
}
