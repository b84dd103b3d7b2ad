/**
 * Link-layer header types as written in capture files, from the
 * tcpdump.org registry (https://www.tcpdump.org/linktypes.html, mirrored in
 * draft-ietf-opsawg-pcaplinktype). These are LINKTYPE_ values, which differ
 * from some platforms' DLT_ values (e.g. DLT_RAW is 12 or 14, LINKTYPE_RAW 101).
 */
export const LINKTYPE = {
  /** BSD loopback: 4-byte address family in the *capturing host's* byte order. */
  NULL: 0,
  /** IEEE 802.3 Ethernet (also what Linux `lo` reports). */
  ETHERNET: 1,
  /** Raw IP, version given by the first nibble. */
  RAW: 101,
  /** OpenBSD loopback: 4-byte address family in network byte order. */
  LOOP: 108,
  /** Linux "cooked" capture v1 (16-byte header), e.g. `tcpdump -i any` on older libpcap. */
  LINUX_SLL: 113,
  /** Raw IPv4 only. */
  IPV4: 228,
  /** Raw IPv6 only (addition to the required set). */
  IPV6: 229,
  /** Linux "cooked" capture v2 (20-byte header), `tcpdump -i any` on libpcap >= 1.10. */
  LINUX_SLL2: 276,
} as const;

/** One of the link types this package knows by name. */
export type KnownLinkType = (typeof LINKTYPE)[keyof typeof LINKTYPE];

/** Lower-case short name of a link type, for file names and messages (`eth`, `sll2`, ...). */
export function linkTypeName(linkType: number): string {
  switch (linkType) {
    case LINKTYPE.NULL: return 'null';
    case LINKTYPE.ETHERNET: return 'eth';
    case LINKTYPE.RAW: return 'raw';
    case LINKTYPE.LOOP: return 'loop';
    case LINKTYPE.LINUX_SLL: return 'sll';
    case LINKTYPE.IPV4: return 'ipv4';
    case LINKTYPE.IPV6: return 'ipv6';
    case LINKTYPE.LINUX_SLL2: return 'sll2';
    default: return `linktype${linkType}`;
  }
}
