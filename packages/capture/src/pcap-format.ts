/**
 * Classic pcap layout (draft-ietf-opsawg-pcap, "PCAP Capture File Format";
 * https://www.tcpdump.org/manpages/pcap-savefile.5.html).
 *
 * File header (24 bytes): magic, version 2.4, reserved (thiszone, sigfigs),
 * SnapLen, LinkType+FCS. Record header (16 bytes): seconds, micro- or
 * nanoseconds (decided by the magic), captured length, original length.
 * All fields in the writer's byte order, which the magic reveals.
 */

/** Magic for microsecond timestamps, as read in the file's own byte order. */
export const PCAP_MAGIC_US = 0xa1b2c3d4;
/** Magic for nanosecond timestamps (draft-ietf-opsawg-pcap sec 4). */
export const PCAP_MAGIC_NS = 0xa1b23c4d;
/** Fixed sizes of the file header and of each record header. */
export const PCAP_FILE_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;
/**
 * libpcap's MAXIMUM_SNAPLEN; records may legitimately be this large even
 * when the header's SnapLen is smaller, so it is the floor of our sanity cap.
 */
export const PCAP_MAX_SNAPLEN = 262144;
/** Above this a record length is taken as corruption, not data (keeps memory bounded). */
export const MAX_RECORD_LENGTH = 16 * 1024 * 1024;

/** Options of the classic pcap writer. */
export interface PcapFileOptions {
  /** Nanosecond timestamps (magic 0xa1b23c4d) instead of microseconds. */
  nanosecond?: boolean;
  /** Write big-endian (default: little-endian, the usual host order). */
  bigEndian?: boolean;
}

/** Encodes the 24-byte file header. */
export function encodePcapFileHeader(linkType: number, snapLen: number, opts: PcapFileOptions = {}): Buffer {
  const b = Buffer.alloc(PCAP_FILE_HEADER_LENGTH);
  const le = !opts.bigEndian;
  const w32 = (v: number, at: number): void => void (le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at));
  const w16 = (v: number, at: number): void => void (le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  w32(opts.nanosecond ? PCAP_MAGIC_NS : PCAP_MAGIC_US, 0);
  w16(2, 4); // version 2.4, the only one in use since 1998
  w16(4, 6);
  // thiszone and sigfigs are "reserved, SHOULD be 0" in the draft.
  w32(snapLen, 16);
  // Upper bits carry FCS information (draft sec 4, "LinkType and additional
  // information"); we never write an FCS so only the low 16 bits are set.
  w32(linkType & 0xffff, 20);
  return b;
}
