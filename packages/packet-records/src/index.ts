/**
 * @imslab/packet-records: how the stores that keep media exactly as it
 * arrived (the voicemail, the PoC box) write packets: one record per UDP
 * payload, `u32 BE length | u64 BE arrival time (µs since the epoch) |
 * payload`, appended with one write each. The reader walks a file image and
 * tells a torn last record (a crash mid-write: it runs to the end of the
 * file) from damage inside the file, so recovery keeps every whole record
 * before either.
 */

/** One stored packet. */
export interface RecordedPacket {
  /** Arrival time, microseconds since the epoch. */
  atUs: number;
  /** The UDP payload, byte for byte. */
  data: Buffer;
}

/** Record header: u32 length + u64 arrival time. */
export const RECORD_HEADER_BYTES = 12;
/** No UDP payload is longer; a larger length field is damage, not a torn write. */
export const MAX_PAYLOAD = 65535;
/** Error codes of a full disk (the stores stop recording rather than fail). */
export const DISK_FULL: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

/** One record, as the stores append it. */
export function encodeRecord(p: RecordedPacket): Buffer {
  const rec = Buffer.allocUnsafe(RECORD_HEADER_BYTES + p.data.length);
  rec.writeUInt32BE(p.data.length, 0);
  rec.writeBigUInt64BE(BigInt(p.atUs), 4);
  rec.set(p.data, RECORD_HEADER_BYTES);
  return rec;
}

/** What a walk over a file image found. */
export interface RecordScan {
  count: number;
  /** Payload bytes of the whole records. */
  bytes: number;
  /** End of the last whole record. */
  end: number;
  firstUs: number | null;
  lastUs: number | null;
  /** First inconsistency; `tail` when it can be a torn last write (it runs to the end of the file). */
  issue: { offset: number; what: string; tail: boolean } | null;
}

/** Walks the records of a file image, handing each whole one to `each` if given. */
export function scanRecords(buf: Buffer, each?: (p: RecordedPacket) => void): RecordScan {
  let off = 0, count = 0, bytes = 0;
  let firstUs: number | null = null, lastUs: number | null = null;
  const stop = (what: string, tail: boolean): RecordScan => ({ count, bytes, end: off, firstUs, lastUs, issue: { offset: off, what, tail } });
  while (off < buf.length) {
    const rest = buf.length - off;
    if (rest < RECORD_HEADER_BYTES) return stop(`incomplete record header (${rest} of ${RECORD_HEADER_BYTES} bytes)`, true);
    const len = buf.readUInt32BE(off);
    const at = buf.readBigUInt64BE(off + 4);
    // Some file systems leave a zero-filled tail after a crash (size extended, data never written).
    if (len === 0 && at === 0n && buf.subarray(off).every((b) => b === 0)) return stop(`zero-filled tail of ${rest} bytes`, true);
    if (len > MAX_PAYLOAD) return stop(`length field ${len} exceeds the maximum UDP payload ${MAX_PAYLOAD}`, false);
    if (at > BigInt(Number.MAX_SAFE_INTEGER)) return stop(`arrival time ${at} out of range`, false);
    if (len > rest - RECORD_HEADER_BYTES) return stop(`record of ${len} bytes runs past the end of the file (${buf.length} bytes)`, true);
    const atUs = Number(at);
    each?.({ atUs, data: Buffer.from(buf.subarray(off + RECORD_HEADER_BYTES, off + RECORD_HEADER_BYTES + len)) });
    firstUs ??= atUs;
    lastUs = atUs;
    count++;
    bytes += len;
    off += RECORD_HEADER_BYTES + len;
  }
  return { count, bytes, end: off, firstUs, lastUs, issue: null };
}
