/**
 * The link-layer walk every frame reader here shares: where the IP header of
 * a frame starts, and which IP version the link layer says it is. Ethernet
 * (802.1Q, 802.1ad and the legacy 0x9100 tags), Linux cooked SLL and SLL2
 * (tcpdump.org LINKTYPE_LINUX_SLL / _SLL2), BSD loopback NULL/LOOP, raw IP.
 * Pure bounds-checked indexing: never throws on malformed input.
 */
import { LINKTYPE } from './linktypes.ts';

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100, ETH_QINQ = 0x88a8, ETH_QINQ_OLD = 0x9100;
/** By IP version nibble (raw IP link types). */
const BY_VERSION = -1;
const MAX_VLAN_TAGS = 4;

const be16 = (f: Uint8Array, at: number): number => (f[at]! << 8) | f[at + 1]!;

/**
 * The IP layer of a frame packed in one number, so per-packet callers
 * allocate nothing: `(offset << 1) | 1` for IPv6, `offset << 1` for IPv4
 * (read both with {@link ipOffset} and {@link isIpv6}), or -1 when the frame
 * carries neither or its link header is cut short.
 */
export function locateIp(linkType: number, f: Uint8Array): number {
  const len = f.length;
  let at: number;
  let proto: number;
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      if (len < 14) return -1;
      proto = be16(f, 12);
      at = 14;
      break;
    case LINKTYPE.LINUX_SLL:
      // packet type, ARPHRD, addr len, 8-byte addr, protocol
      if (len < 16) return -1;
      proto = be16(f, 14);
      at = 16;
      break;
    case LINKTYPE.LINUX_SLL2:
      // protocol first, then reserved, ifindex, ARPHRD, packet type, addr len, addr
      if (len < 20) return -1;
      proto = be16(f, 0);
      at = 20;
      break;
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      // 4-byte AF_ value; NULL uses the capturing host's byte order, LOOP network order: accept either.
      if (len < 4) return -1;
      let fam = (f[0]! | (f[1]! << 8) | (f[2]! << 16) | (f[3]! << 24)) >>> 0;
      if (fam > 0xffff) fam = ((f[0]! << 24) | (f[1]! << 16) | (f[2]! << 8) | f[3]!) >>> 0;
      // AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (Net/OpenBSD), 28 (FreeBSD), 30 (Darwin).
      if (fam === 2) proto = ETH_IPV4;
      else if (fam === 10 || fam === 24 || fam === 28 || fam === 30) proto = ETH_IPV6;
      else return -1;
      at = 4;
      break;
    }
    case LINKTYPE.RAW: at = 0; proto = BY_VERSION; break;
    case LINKTYPE.IPV4: at = 0; proto = ETH_IPV4; break;
    case LINKTYPE.IPV6: at = 0; proto = ETH_IPV6; break;
    default: return -1;
  }
  for (let tags = 0; proto === ETH_VLAN || proto === ETH_QINQ || proto === ETH_QINQ_OLD; tags++) {
    if (tags === MAX_VLAN_TAGS || len < at + 4) return -1;
    proto = be16(f, at + 2);
    at += 4;
  }
  if (proto === BY_VERSION) {
    if (len <= at) return -1;
    const v = f[at]! >> 4;
    proto = v === 4 ? ETH_IPV4 : v === 6 ? ETH_IPV6 : 0;
  }
  if (proto === ETH_IPV4) return at << 1;
  if (proto === ETH_IPV6) return (at << 1) | 1;
  return -1;
}

/** The IP header's offset from a {@link locateIp} result (not -1). */
export const ipOffset = (located: number): number => located >> 1;
/** Whether a {@link locateIp} result (not -1) is IPv6. */
export const isIpv6 = (located: number): boolean => (located & 1) === 1;
