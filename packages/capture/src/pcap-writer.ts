/**
 * Classic pcap writer (draft-ietf-opsawg-pcap), streaming, for fixtures and
 * tools that want the most widely readable format.
 */
import { encodePcapFileHeader, MAX_RECORD_LENGTH, PCAP_MAX_SNAPLEN, PCAP_RECORD_HEADER_LENGTH, type PcapFileOptions } from './pcap-format.ts';
import { checkTimestampUs, FileSink } from './file-sink.ts';

/** Writes classic pcap, one link type per file. */
export class PcapWriter {
  private readonly sink: FileSink;
  private readonly le: boolean;
  private readonly nanos: boolean;

  /**
   * @param snapLen captured bytes per packet; longer packets are cut. Default 262144. 0 = no cut; the
   *   header then announces 16 MiB, the largest record our reader accepts (libpcap-based tools stop at 262144).
   * @param opts nanosecond timestamps and/or big-endian output (both readers must cope; addition).
   */
  constructor(path: string, readonly linkType: number, readonly snapLen: number = PCAP_MAX_SNAPLEN, opts: PcapFileOptions = {}) {
    this.sink = new FileSink(path);
    this.le = !opts.bigEndian;
    this.nanos = opts.nanosecond ?? false;
    this.sink.write(encodePcapFileHeader(linkType, snapLen > 0 ? snapLen : MAX_RECORD_LENGTH, opts));
  }

  /** Appends one packet; `originalLength` (addition) defaults to `data.length`. */
  write(timestampUs: number, data: Buffer, originalLength: number = data.length): void {
    const us = checkTimestampUs(this.sink.path, timestampUs);
    const caplen = this.snapLen > 0 ? Math.min(data.length, this.snapLen) : data.length;
    const at = this.sink.reserve(PCAP_RECORD_HEADER_LENGTH + caplen);
    const b = this.sink.buffer;
    const sec = Math.floor(us / 1e6);
    const frac = this.nanos ? (us - sec * 1e6) * 1000 : us - sec * 1e6;
    if (this.le) {
      b.writeUInt32LE(sec >>> 0, at); b.writeUInt32LE(frac, at + 4); b.writeUInt32LE(caplen, at + 8); b.writeUInt32LE(originalLength >>> 0, at + 12);
    } else {
      b.writeUInt32BE(sec >>> 0, at); b.writeUInt32BE(frac, at + 4); b.writeUInt32BE(caplen, at + 8); b.writeUInt32BE(originalLength >>> 0, at + 12);
    }
    data.copy(b, at + PCAP_RECORD_HEADER_LENGTH, 0, caplen);
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return this.sink.close();
  }
}
