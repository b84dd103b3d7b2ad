/** One packet record read from a pcap or pcapng file. */
export interface CapturedPacket {
  /** Microseconds since epoch. */
  timestampUs: number;
  /** LINKTYPE_ value of the interface the packet was captured on. */
  linkType: number;
  /** Interface name when the file says it (pcapng if_name), else undefined. */
  interfaceName?: string;
  /** Interface index within the pcapng section (always 0 for classic pcap). */
  interfaceId: number;
  /**
   * Captured bytes. A view into the reader's chunk buffer, never copied and
   * never reused by the reader, so it stays valid; it keeps that chunk
   * (about 1 MiB) alive while referenced, so copy it if you retain many.
   */
  data: Buffer;
  /** Length of the packet on the wire (may exceed `data.length` when the snap length cut it). */
  originalLength: number;
  /** Byte offset of the record in the file, for error messages. */
  offset: number;
}
