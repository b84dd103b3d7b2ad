/**
 * What the PoC box keeps and how (box.ts has the store itself): the packet
 * and limit types, the errors, the packets.bin record format
 * `u32 BE length | u64 BE atUs | payload` (the voicemail's, so one reader
 * serves both) with a reader that tells a torn trailing record (a crash
 * mid-write) from damage inside the file, and the key identifiers a burst's
 * packets carry (read from the packets, so recovery can recount them).
 */
import { createHash } from 'node:crypto';
import { type BoxLimits, type BurstKeyId, type BurstMeta } from './contract.ts';

/** A packet as stored: the record format is @imslab/packet-records' (the voicemail's too). */
import type { RecordedPacket as BoxPacket } from '@imslab/packet-records';
export type { BoxPacket };

const MiB = 1024 * 1024;
/**
 * A PCMU burst under SRTP is ~9.2 kB/s with record headers: 2 MiB is about
 * 3.5 minutes of one burst, 8 MiB about 15 minutes waiting for one member.
 */
export const DEFAULT_BOX_LIMITS: BoxLimits = { maxBytesPerBurst: 2 * MiB, maxBurstsPerMember: 100, maxBytesPerMember: 8 * MiB, maxBytesPerGroup: 32 * MiB };

export type BoxErrorCode = 'member-full' | 'group-full' | 'disk-full' | 'corrupt' | 'not-found' | 'io';

export class BoxError extends Error {
  constructor(readonly code: BoxErrorCode, message: string) {
    super(message);
    this.name = 'BoxError';
  }
}

export { RECORD_HEADER_BYTES as RECORD_HEADER, MAX_PAYLOAD, DISK_FULL, encodeRecord, scanRecords, type RecordScan as Scan } from '@imslab/packet-records';
export const ID_RE = /^\d{13}-[0-9a-f]{8}$/;
export const GROUP_RE = /^poc-[a-z0-9-]+$/;

/**
 * Where the key identifier sits in the group's packets: the MKI is the
 * `mkiBytes` before the `tagBytes` authentication tag (RFC 3711 sec. 3.1).
 * The server holds no key in e2e, so it cannot find the MKI by itself: the
 * group's configuration says how long it is (8 octets with MIKEY-SAKKE
 * GMKs: GMK-ID || GUK-ID; 0 with a key that has no MKI).
 */
export interface KeyIdLayout {
  mkiBytes: number;
  tagBytes: number;
}

/** Distinct (SSRC, MKI) pairs a burst lists: a burst has one or a few; more means the MKI length is wrong, and the list must stay small. */
export const MAX_KEY_IDS = 16;

/** Counts (SSRC, MKI) pairs over packets, in order of first appearance (at most MAX_KEY_IDS; packets of further pairs are counted as unlisted). */
export class KeyIdCounter {
  private readonly seen = new Map<string, BurstKeyId>();
  unlisted = 0;
  constructor(private readonly layout: KeyIdLayout | null) {}

  add(data: Buffer): void {
    if (data.length < 12) return; // not RTP: no SSRC to name
    const ssrc = data.readUInt32BE(8);
    const { mkiBytes, tagBytes } = this.layout ?? { mkiBytes: 0, tagBytes: 0 };
    const mki = mkiBytes > 0 && data.length >= 12 + mkiBytes + tagBytes ? data.toString('hex', data.length - tagBytes - mkiBytes, data.length - tagBytes) : null;
    const k = `${ssrc}/${mki}`;
    const e = this.seen.get(k);
    if (e) e.packets++;
    else if (this.seen.size < MAX_KEY_IDS) this.seen.set(k, { ssrc, mki, packets: 1 });
    else this.unlisted++;
  }

  list(): BurstKeyId[] {
    return [...this.seen.values()].map((k) => ({ ...k }));
  }
}

/** SHA-256 over packets in order, each prefixed by its u32 BE length (the voicemail's payload digest). */
export function packetsDigest(packets: readonly Buffer[]): string {
  const h = createHash('sha256');
  const len = Buffer.alloc(4);
  for (const d of packets) {
    len.writeUInt32BE(d.length);
    h.update(len).update(d);
  }
  return h.digest('hex');
}

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** What is wrong with a parsed meta.json, or null. Also applied to what begin() writes, so recovery never rejects our own files. */
export function checkBurstMeta(o: unknown): string | null {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return 'not a JSON object';
  const r = o as Record<string, unknown>;
  for (const k of ['id', 'group', 'member', 'talker', 'startedAt']) if (typeof r[k] !== 'string') return `field "${k}" missing or not a string`;
  if (!ID_RE.test(r.id as string)) return `field "id" is not a burst id`;
  if (!GROUP_RE.test(r.group as string)) return `field "group" is not poc-<group>`;
  if (r.mode !== 'e2e' && r.mode !== 'e2m2e') return 'field "mode" missing or not "e2e"/"e2m2e"';
  if (r.protection !== 'srtp' && r.protection !== 'rtp') return 'field "protection" missing or not "srtp"/"rtp"';
  if (r.state !== 'recording' && r.state !== 'complete' && r.state !== 'partial') return 'field "state" missing or invalid';
  for (const k of ['packets', 'bytes']) {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return `field "${k}" missing or not a count`;
  }
  if (!Array.isArray(r.keyIds) || !r.keyIds.every((k) => typeof k === 'object' && k !== null && Number.isSafeInteger(k.ssrc) && (k.mki === null || typeof k.mki === 'string') && Number.isSafeInteger(k.packets))) {
    return 'field "keyIds" missing or not a list of { ssrc, mki, packets }';
  }
  if (r.keyIdsUnlisted !== undefined && !(Number.isSafeInteger(r.keyIdsUnlisted) && (r.keyIdsUnlisted as number) >= 0)) return 'field "keyIdsUnlisted" not a count';
  if (r.note !== undefined && typeof r.note !== 'string') return 'field "note" not a string';
  return null;
}

/** Only the known fields, in a stable order (extra fields of a hand-edited file are dropped). */
export function pickBurstMeta(r: BurstMeta): BurstMeta {
  const m: BurstMeta = {
    id: r.id, group: r.group, member: r.member, talker: r.talker, mode: r.mode, protection: r.protection,
    startedAt: r.startedAt, state: r.state, packets: r.packets, bytes: r.bytes, keyIds: r.keyIds.map((k) => ({ ssrc: k.ssrc, mki: k.mki, packets: k.packets })),
  };
  if (r.keyIdsUnlisted) m.keyIdsUnlisted = r.keyIdsUnlisted;
  if (r.note !== undefined) m.note = r.note;
  return m;
}

/**
 * A member's directory name: its URI without the scheme, percent-encoded
 * where a file name could not carry it (`@` stays readable; a leading dot
 * is encoded so that no member is `.`, `..` or a dot file).
 */
export function memberDirName(uri: string): string {
  return encodeURIComponent(uri.replace(/^sips?:/i, '').toLowerCase()).replace(/%40/g, '@').replace(/^\./, '%2E');
}

export const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
export const errCode = (e: unknown): string => String((e as { code?: unknown } | null)?.code ?? '');
