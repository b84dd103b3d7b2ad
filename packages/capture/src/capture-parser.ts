/**
 * Incremental pcap / pcapng parser over a sliding window of bytes.
 *
 * The parser never performs I/O: the caller hands it a window (a chunk of
 * the file plus any unread tail of the previous chunk) and calls `next()`
 * until it returns null, which means "need `needed` more bytes from
 * `offset`". This one state machine serves both the chunked file reader
 * (constant memory) and the in-memory reader, so both report the same
 * offsets and the same errors. Packet data are views (`subarray`) into the
 * window, never copies.
 */
import { CaptureFormatError } from './errors.ts';
import type { CapturedPacket } from './packet.ts';
import {
  MAX_RECORD_LENGTH, PCAP_FILE_HEADER_LENGTH, PCAP_MAGIC_NS, PCAP_MAGIC_US, PCAP_MAX_SNAPLEN, PCAP_RECORD_HEADER_LENGTH,
} from './pcap-format.ts';
import {
  BLOCK_EPB, BLOCK_IDB, BLOCK_OPB, BLOCK_SHB, BLOCK_SPB, BYTE_ORDER_MAGIC, MAX_BLOCK_LENGTH, MIN_BLOCK_LENGTH,
} from './pcapng-format.ts';
import { parseInterfaceBlock, type PcapngInterface } from './pcapng-interface.ts';
import { tsToUs } from './timestamps.ts';

const STATE_MAGIC = 0;
const STATE_PCAP_HEADER = 1;
const STATE_PCAP_RECORDS = 2;
const STATE_PCAPNG = 3;

const PCAP_MAGIC_US_SWAPPED = 0xd4c3b2a1;
const PCAP_MAGIC_NS_SWAPPED = 0x4d3cb2a1;

const EMPTY = Buffer.alloc(0);

const le32 = (b: Buffer, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
const be32 = (b: Buffer, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

/** Which container the parser found. */
export type CaptureContainer = 'pcap' | 'pcapng' | undefined;

/** See module comment. */
export class CaptureParser {
  /** Bytes needed from `offset` before `next()` can make progress (valid after it returned null). */
  needed = 0;
  /** Container format, once the magic has been read. */
  container: CaptureContainer;
  /** Link type of the pcap header or of the first pcapng interface, once known. */
  firstLinkType: number | undefined;

  private buf: Buffer = EMPTY;
  private pos = 0;
  /** File offset of buf[0]. */
  private base = 0;
  private state = STATE_MAGIC;
  private le = true;
  // classic pcap
  private nanos = false;
  private pcapLinkType = 0;
  private maxRecord = PCAP_MAX_SNAPLEN;
  // pcapng, per section (interface ids restart in every section, draft sec 4.1)
  private ifaces: PcapngInterface[] = [];
  private lastTsUs = 0;

  constructor(private readonly path?: string) {}

  /** File offset of the next unread byte. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** The unread tail of the current window (a view). */
  unread(): Buffer {
    return this.buf.subarray(this.pos);
  }

  /** Replaces the window; `buf[0]` must be the byte at `this.offset`. */
  setWindow(buf: Buffer): void {
    this.base += this.pos;
    this.buf = buf;
    this.pos = 0;
  }

  /** Call when the input is exhausted and `next()` returned null: throws unless the input ended cleanly. */
  finish(): void {
    const left = this.buf.length - this.pos;
    if (this.state === STATE_MAGIC || this.state === STATE_PCAP_HEADER) {
      throw this.error('truncated', this.offset, left === 0 && this.offset === 0 ? 'empty file, no capture header' : 'file ends inside the capture file header');
    }
    if (left !== 0) {
      throw this.error('truncated', this.offset, `file ends inside a ${this.state === STATE_PCAPNG ? 'block' : 'packet record'} (${left} of ${this.needed} bytes present)`);
    }
  }

  /** Next packet, or null when more input is needed (see `needed`). Throws CaptureFormatError on corruption. */
  next(): CapturedPacket | null {
    for (;;) {
      switch (this.state) {
        case STATE_PCAP_RECORDS: return this.nextPcapRecord();
        case STATE_PCAPNG: {
          const p = this.nextPcapngBlock();
          if (p !== undefined) return p; // packet or null (need more); undefined = non-packet block consumed
          break;
        }
        case STATE_MAGIC: if (!this.readMagic()) return null; break;
        default: if (!this.readPcapHeader()) return null; break;
      }
    }
  }

  private error(reason: string, offset: number, detail: string): CaptureFormatError {
    return new CaptureFormatError(reason, offset, detail, this.path);
  }

  private need(n: number): null {
    this.needed = n;
    return null;
  }

  private wait(n: number): false {
    this.needed = n;
    return false;
  }

  private u32(at: number): number {
    return this.le ? le32(this.buf, at) : be32(this.buf, at);
  }

  private readMagic(): boolean {
    if (this.buf.length - this.pos < 4) return this.wait(4);
    const m = this.buf.readUInt32BE(this.pos);
    if (m === BLOCK_SHB) {
      this.container = 'pcapng';
      this.state = STATE_PCAPNG;
      return true;
    }
    if (m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS) this.le = false;
    else if (m === PCAP_MAGIC_US_SWAPPED || m === PCAP_MAGIC_NS_SWAPPED) this.le = true;
    else throw this.error('bad-magic', this.offset, `not a pcap or pcapng file (magic 0x${m.toString(16).padStart(8, '0')})`);
    this.nanos = m === PCAP_MAGIC_NS || m === PCAP_MAGIC_NS_SWAPPED;
    this.container = 'pcap';
    this.state = STATE_PCAP_HEADER;
    return true;
  }

  private readPcapHeader(): boolean {
    if (this.buf.length - this.pos < PCAP_FILE_HEADER_LENGTH) return this.wait(PCAP_FILE_HEADER_LENGTH);
    const at = this.pos;
    const major = this.le ? this.buf.readUInt16LE(at + 4) : this.buf.readUInt16BE(at + 4);
    if (major !== 2) throw this.error('bad-version', this.offset, `unsupported pcap version ${major}`);
    const snapLen = this.u32(at + 16);
    // Low 16 bits are the LinkType; the upper bits hold FCS info (draft-ietf-opsawg-pcap sec 4).
    this.pcapLinkType = this.u32(at + 20) & 0xffff;
    this.firstLinkType = this.pcapLinkType;
    this.maxRecord = Math.min(Math.max(snapLen, PCAP_MAX_SNAPLEN), MAX_RECORD_LENGTH);
    this.pos += PCAP_FILE_HEADER_LENGTH;
    this.state = STATE_PCAP_RECORDS;
    return true;
  }

  private nextPcapRecord(): CapturedPacket | null {
    const buf = this.buf;
    const at = this.pos;
    const avail = buf.length - at;
    if (avail < PCAP_RECORD_HEADER_LENGTH) return this.need(PCAP_RECORD_HEADER_LENGTH);
    // Plain byte arithmetic: bounds are checked above, and it avoids the
    // argument validation of Buffer#readUInt32* on this per-packet path.
    const le = this.le;
    const sec = le ? le32(buf, at) : be32(buf, at);
    const frac = le ? le32(buf, at + 4) : be32(buf, at + 4);
    const incl = le ? le32(buf, at + 8) : be32(buf, at + 8);
    const orig = le ? le32(buf, at + 12) : be32(buf, at + 12);
    if (incl > this.maxRecord) {
      throw this.error('bad-record-length', this.base + at, `packet record claims ${incl} captured bytes (limit ${this.maxRecord})`);
    }
    const total = PCAP_RECORD_HEADER_LENGTH + incl;
    if (avail < total) return this.need(total);
    this.pos = at + total;
    return {
      timestampUs: sec * 1e6 + (this.nanos ? Math.floor(frac / 1000) : frac),
      linkType: this.pcapLinkType,
      interfaceName: undefined,
      interfaceId: 0,
      data: buf.subarray(at + PCAP_RECORD_HEADER_LENGTH, at + total),
      originalLength: orig,
      offset: this.base + at,
    };
  }

  /** Packet; null = need more bytes; undefined = consumed a block that holds no packet. */
  private nextPcapngBlock(): CapturedPacket | null | undefined {
    const buf = this.buf;
    const at = this.pos;
    const avail = buf.length - at;
    if (avail < MIN_BLOCK_LENGTH) return this.need(MIN_BLOCK_LENGTH);
    // The SHB type is a palindrome, so it reads the same in either order;
    // its byte-order magic then fixes the order of the whole section.
    const type = this.u32(at) >>> 0;
    const isShb = buf.readUInt32LE(at) === BLOCK_SHB;
    if (isShb) {
      const bom = buf.readUInt32LE(at + 8);
      if (bom === BYTE_ORDER_MAGIC) this.le = true;
      else if (buf.readUInt32BE(at + 8) === BYTE_ORDER_MAGIC) this.le = false;
      else throw this.error('bad-byte-order-magic', this.base + at, 'section header block without a valid byte-order magic');
    }
    const len = this.u32(at + 4);
    if (len < MIN_BLOCK_LENGTH || (len & 3) !== 0 || len > MAX_BLOCK_LENGTH) {
      throw this.error('bad-block-length', this.base + at, `block of type 0x${type.toString(16)} has invalid total length ${len}`);
    }
    if (avail < len) return this.need(len);
    if (this.u32(at + len - 4) !== len) {
      throw this.error('bad-block-length', this.base + at, `block of type 0x${type.toString(16)} has mismatched trailing length`);
    }
    this.pos = at + len;
    if (isShb) return this.sectionHeader(at, len);
    switch (type) {
      case BLOCK_EPB: return this.packetBlock(at, len, false);
      case BLOCK_SPB: return this.simplePacket(at, len);
      case BLOCK_OPB: return this.packetBlock(at, len, true);
      case BLOCK_IDB: {
        const iface = parseInterfaceBlock(buf, at, len, this.le);
        if (typeof iface === 'string') throw this.error('bad-interface-block', this.base + at, iface);
        this.ifaces.push(iface);
        this.firstLinkType ??= iface.linkType;
        return undefined;
      }
      default: return undefined; // NRB, ISB, DSB, custom...: nothing we need
    }
  }

  private sectionHeader(at: number, len: number): undefined {
    if (len < 28) throw this.error('bad-block-length', this.base + at, 'section header block too short');
    const major = this.le ? this.buf.readUInt16LE(at + 12) : this.buf.readUInt16BE(at + 12);
    // Readers must not parse sections of an unknown major version (draft sec 4.1).
    if (major !== 1) throw this.error('bad-version', this.base + at, `unsupported pcapng major version ${major}`);
    this.ifaces = [];
    return undefined;
  }

  /** EPB (draft sec 4.3) or obsolete OPB (appendix): same layout after the interface id. */
  private packetBlock(at: number, len: number, obsolete: boolean): CapturedPacket {
    if (len < 32) throw this.error('bad-block-length', this.base + at, 'packet block too short');
    const buf = this.buf;
    const ifId = obsolete ? (this.le ? buf.readUInt16LE(at + 8) : buf.readUInt16BE(at + 8)) : this.u32(at + 8);
    const iface = this.ifaces[ifId];
    if (iface === undefined) throw this.error('unknown-interface', this.base + at, `packet for interface ${ifId}, but the section describes ${this.ifaces.length}`);
    const caplen = this.u32(at + 20);
    if (caplen > len - 32) throw this.error('bad-captured-length', this.base + at, `captured length ${caplen} exceeds the block`);
    const ts = tsToUs(iface.ts, this.u32(at + 12), this.u32(at + 16));
    this.lastTsUs = ts;
    return {
      timestampUs: ts,
      linkType: iface.linkType,
      interfaceName: iface.name,
      interfaceId: ifId,
      data: buf.subarray(at + 28, at + 28 + caplen),
      originalLength: this.u32(at + 24),
      offset: this.base + at,
    };
  }

  /**
   * Simple Packet Block (draft sec 4.4): interface 0, no timestamp, captured
   * length = min(original length, snaplen, room in the block). Having no
   * timestamp, it inherits the previous packet's so merges stay ordered.
   */
  private simplePacket(at: number, len: number): CapturedPacket {
    if (len < 16) throw this.error('bad-block-length', this.base + at, 'simple packet block too short');
    const iface = this.ifaces[0];
    if (iface === undefined) throw this.error('unknown-interface', this.base + at, 'simple packet block before any interface description');
    const orig = this.u32(at + 8);
    let caplen = Math.min(orig, len - 16);
    if (iface.snapLen > 0) caplen = Math.min(caplen, iface.snapLen);
    return {
      timestampUs: this.lastTsUs,
      linkType: iface.linkType,
      interfaceName: iface.name,
      interfaceId: 0,
      data: this.buf.subarray(at + 12, at + 12 + caplen),
      originalLength: orig,
      offset: this.base + at,
    };
  }
}
