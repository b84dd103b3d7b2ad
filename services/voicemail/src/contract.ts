/**
 * What the voicemail promises the outside: the layout of its message store,
 * which the runner copies out and scans as evidence (ciphertext at rest?).
 * Defined here once; store.ts writes it, the runner reads it.
 *
 *   <store>/<mailbox>/<message id>/meta.json     MessageMeta
 *   <store>/<mailbox>/<message id>/packets.bin   records: u32 BE length | u64 BE arrival time (us) | payload
 */
/** A stored message's description (meta.json). */
export interface MessageMeta {
  /** Unique, sortable by deposit time, safe as a file name: `<13-digit ms>-<8 hex>`. */
  id: string;
  /** User part, e.g. "bob". */
  mailbox: string;
  /** Caller identity, e.g. "sip:alice@ims.test". */
  from: string;
  callId: string;
  /** ISO time of begin(). */
  depositedAt: string;
  sdpOffer: string;
  sdpAnswer: string;
  /** a=key-mgmt value as received, or null. */
  keyMgmt: string | null;
  protection: 'srtp' | 'rtp';
  /** partial = recovered after a crash, or stopped by a limit or a full disk. */
  state: 'recording' | 'complete' | 'partial';
  /** Number of stored packets. */
  packets: number;
  /** Total payload bytes stored. */
  bytes: number;
  /** Why partial, or what is wrong with the stored file. */
  note?: string;
}

/** The store's directory name inside the voicemail's run directory. */
export const STORE_DIR = 'voicemail-store';
export const META_FILE = 'meta.json';
export const PACKETS_FILE = 'packets.bin';
/** Bytes of a packets.bin record header (length + arrival time): @imslab/packet-records' format. */
export { RECORD_HEADER_BYTES } from '@imslab/packet-records';
