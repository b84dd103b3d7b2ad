/**
 * What the voicemail store keeps and how (store.ts has the store itself):
 * the message and packet types, the limits and errors, and the packets.bin
 * record format `u32 BE length | u64 BE atUs | payload` with its reader,
 * which tells a torn trailing record (a crash mid-write) from corruption.
 */
import { RECORD_HEADER_BYTES, type MessageMeta } from './contract.ts';

export type { MessageMeta } from './contract.ts';

export interface StoredPacket {
  /** Arrival time, microseconds since the epoch. */
  atUs: number;
  /** The UDP payload, byte for byte. */
  data: Buffer;
}


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
/** Record header: u32 length + u64 arrival time. */
export const RECORD_HEADER = RECORD_HEADER_BYTES;
/** No UDP payload is longer; a larger length field is corruption, not a torn write. */
export const MAX_PAYLOAD = 65535;
export const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

/** One packets.bin record, as append() writes it. */
export function encodeRecord(p: StoredPacket): Buffer {
  const rec = Buffer.allocUnsafe(RECORD_HEADER + p.data.length);
  rec.writeUInt32BE(p.data.length, 0);
  rec.writeBigUInt64BE(BigInt(p.atUs), 4);
  rec.set(p.data, RECORD_HEADER);
  return rec;
}

export interface Scan {
  count: number;
  bytes: number;
  /** End of the last whole record. */
  end: number;
  /** First inconsistency; `tail` when it can be a torn last write (it runs to the end of the file). */
  issue: { offset: number; what: string; tail: boolean } | null;
}

/** Walks the records of a packets.bin image, collecting packets if asked. */
export function scanRecords(buf: Buffer, collect?: StoredPacket[]): Scan {
  let off = 0, count = 0, bytes = 0;
  const stop = (what: string, tail: boolean): Scan => ({ count, bytes, end: off, issue: { offset: off, what, tail } });
  while (off < buf.length) {
    const rest = buf.length - off;
    if (rest < RECORD_HEADER) return stop(`incomplete record header (${rest} of ${RECORD_HEADER} bytes)`, true);
    const len = buf.readUInt32BE(off);
    const at = buf.readBigUInt64BE(off + 4);
    // Some file systems leave a zero-filled tail after a crash (size extended, data never written).
    if (len === 0 && at === 0n && buf.subarray(off).every((b) => b === 0)) return stop(`zero-filled tail of ${rest} bytes`, true);
    if (len > MAX_PAYLOAD) return stop(`length field ${len} exceeds the maximum UDP payload ${MAX_PAYLOAD}`, false);
    if (at > BigInt(Number.MAX_SAFE_INTEGER)) return stop(`arrival time ${at} out of range`, false);
    if (len > rest - RECORD_HEADER) return stop(`record of ${len} bytes runs past the end of the file (${buf.length} bytes)`, true);
    collect?.push({ atUs: Number(at), data: Buffer.from(buf.subarray(off + RECORD_HEADER, off + RECORD_HEADER + len)) });
    count++;
    bytes += len;
    off += RECORD_HEADER + len;
  }
  return { count, bytes, end: off, issue: null };
}

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
