/**
 * What the voicemail store keeps and how (store.ts has the store itself):
 * the message and packet types, the limits and errors, and the packets.bin
 * record format `u32 BE length | u64 BE atUs | payload` with its reader,
 * which tells a torn trailing record (a crash mid-write) from corruption.
 */
import type { MessageMeta } from './contract.ts';

export type { MessageMeta } from './contract.ts';

/** A packet as stored: the record format is @imslab/packet-records' (shared with the PoC box). */
import type { RecordedPacket as StoredPacket } from '@imslab/packet-records';
export type { StoredPacket };


export interface StoreLimits {
  /** Largest packets.bin of one message (payload plus record headers). */
  maxBytesPerMessage: number;
  /** Messages per mailbox, recordings in progress included. */
  maxMessagesPerMailbox: number;
  /** Sum of all packets.bin sizes. */
  maxTotalBytes: number;
}

const MiB = 1024 * 1024;
export const DEFAULT_LIMITS: StoreLimits = { maxBytesPerMessage: 8 * MiB, maxMessagesPerMailbox: 50, maxTotalBytes: 256 * MiB };

export type StoreErrorCode = 'bad-mailbox' | 'mailbox-full' | 'store-full' | 'disk-full' | 'corrupt' | 'not-found' | 'io';

export class StoreError extends Error {
  constructor(readonly code: StoreErrorCode, message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface Recording {
  readonly id: string;
  /** Stores one packet; false once the recording stopped (limit, full disk) or finished. Never throws for those. */
  append(p: StoredPacket): boolean;
  /** Makes the message durable and returns its final meta; idempotent. */
  finish(): MessageMeta;
  /** Why appending stopped, or null. */
  readonly stopped: string | null;
}

/** The write call the store uses for every file it writes; tests replace it to simulate a full disk. */
export type WriteSyncFn = (fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null) => number;
export interface StoreOptions { writeSync?: WriteSyncFn }

export const MAILBOX_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/i;
export const ID_RE = /^\d{13}-[0-9a-f]{8}$/;
export { RECORD_HEADER_BYTES as RECORD_HEADER, MAX_PAYLOAD, DISK_FULL, encodeRecord, scanRecords, type RecordScan as Scan } from '@imslab/packet-records';

/** What is wrong with a parsed meta.json, or null. Also applied to what begin() writes, so recovery never rejects our own files. */
export function checkMeta(o: unknown): string | null {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return 'not a JSON object';
  const r = o as Record<string, unknown>;
  for (const k of ['id', 'mailbox', 'from', 'callId', 'depositedAt', 'sdpOffer', 'sdpAnswer']) {
    if (typeof r[k] !== 'string') return `field "${k}" missing or not a string`;
  }
  if (r.keyMgmt !== null && typeof r.keyMgmt !== 'string') return 'field "keyMgmt" missing or not a string or null';
  if (r.protection !== 'srtp' && r.protection !== 'rtp') return 'field "protection" missing or not "srtp"/"rtp"';
  if (r.state !== 'recording' && r.state !== 'complete' && r.state !== 'partial') return 'field "state" missing or invalid';
  for (const k of ['packets', 'bytes']) {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return `field "${k}" missing or not a count`;
  }
  if (r.note !== undefined && typeof r.note !== 'string') return 'field "note" not a string';
  return null;
}

/** Only the known fields, in a stable order (extra fields of a hand-edited file are dropped). */
export function pickMeta(r: MessageMeta): MessageMeta {
  const m: MessageMeta = {
    id: r.id, mailbox: r.mailbox, from: r.from, callId: r.callId, depositedAt: r.depositedAt,
    sdpOffer: r.sdpOffer, sdpAnswer: r.sdpAnswer, keyMgmt: r.keyMgmt, protection: r.protection,
    state: r.state, packets: r.packets, bytes: r.bytes,
  };
  if (r.note !== undefined) m.note = r.note;
  return m;
}

export const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
export const errCode = (e: unknown): string => String((e as { code?: unknown } | null)?.code ?? '');
