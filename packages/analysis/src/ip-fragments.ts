/**
 * IP fragment reassembly for the link scan: a SIP message over UDP larger
 * than the link MTU (an SDP with a dozen a=crypto keys, as rtpengine offers
 * by default, is over 2 KB) crosses as IPv4 fragments (RFC 791 sec. 3.2) or
 * IPv6 fragments (RFC 8200 sec. 4.5); without reassembly its SDP, and the
 * keys in it, would be read only up to the first fragment's end.
 *
 * Fragments are held per (version, source, destination, protocol,
 * identification) until the datagram is complete, then handed back as one
 * raw IP packet (LINKTYPE_RAW). Bounded: a datagram is dropped when it is
 * older than MAX_AGE_US of capture time or larger than 65,535 octets, and the
 * oldest ones when more than MAX_DATAGRAMS or MAX_BYTES are held.
 */
import { LINKTYPE } from '@imslab/capture';

const MAX_AGE_US = 30_000_000;
const MAX_DATAGRAMS = 256;
const MAX_BYTES = 8 << 20;
const MAX_DATAGRAM = 65_535;
const MAX_VLAN_TAGS = 4;
const MAX_IPV6_EXT_HEADERS = 8;

interface Datagram {
  firstUs: number;
  /** The IP header(s) in front of the fragmentable part, from the first fragment. */
  head: Buffer | null;
  /** IPv6: offset in `head` of the Next Header octet that named the fragment header. */
  nextHeaderAt: number;
  /** IPv6: the fragment header's Next Header (the reassembled payload's protocol). */
  nextHeader: number;
  pieces: Array<{ off: number; data: Buffer }>;
  /** Length of the whole fragmentable part, once the last fragment is in; else -1. */
  total: number;
  bytes: number;
}

const be16 = (f: Uint8Array, at: number) => (f[at]! << 8) | f[at + 1]!;

/** Where the IP header of `frame` starts, or -1 (not IP, or a link type the analyser does not read). */
export function ipOffset(linkType: number, f: Uint8Array): number {
  let at: number;
  let proto: number;
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      if (f.length < 14) return -1;
      proto = be16(f, 12);
      at = 14;
      break;
    case LINKTYPE.LINUX_SLL:
      if (f.length < 16) return -1;
      proto = be16(f, 14);
      at = 16;
      break;
    case LINKTYPE.LINUX_SLL2:
      if (f.length < 20) return -1;
      proto = be16(f, 0);
      at = 20;
      break;
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP:
      return f.length > 4 ? 4 : -1;
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
      return f.length > 0 ? 0 : -1;
    default:
      return -1;
  }
  for (let tags = 0; proto === 0x8100 || proto === 0x88a8 || proto === 0x9100; tags++) {
    if (tags === MAX_VLAN_TAGS || f.length < at + 4) return -1;
    proto = be16(f, at + 2);
    at += 4;
  }
  return proto === 0x0800 || proto === 0x86dd ? at : -1;
}

export class IpReassembler {
  private readonly held = new Map<string, Datagram>();
  private bytes = 0;

  /** Datagrams being reassembled (for tests). */
  get size(): number {
    return this.held.size;
  }

  /**
   * `frame` when it is not a fragment; null when it is one and the datagram is
   * still incomplete; the whole datagram as a raw IP packet when this
   * fragment completed it.
   */
  push(linkType: number, frame: Buffer, ts: number): Buffer | null {
    const at = ipOffset(linkType, frame);
    if (at < 0 || frame.length < at + 20) return frame;
    const version = frame[at]! >> 4;
    if (version === 4) return this.v4(frame, at, ts);
    if (version === 6) return this.v6(frame, at, ts);
    return frame;
  }

  private v4(f: Buffer, at: number, ts: number): Buffer | null {
    const ihl = (f[at]! & 15) * 4;
    const frag = be16(f, at + 6);
    const more = (frag & 0x2000) !== 0;
    const off = (frag & 0x1fff) * 8;
    if (!more && off === 0) return f;
    const end = Math.min(f.length, at + be16(f, at + 2));
    if (ihl < 20 || at + ihl > end) return f;
    const key = `4 ${f.toString('latin1', at + 12, at + 20)} ${f[at + 9]} ${be16(f, at + 4)}`;
    const d = this.datagram(key, ts);
    if (off === 0) d.head = Buffer.from(f.subarray(at, at + ihl));
    return this.add(key, d, off, f.subarray(at + ihl, end), more, (h, total) => {
      const out = Buffer.concat([h, Buffer.alloc(total)]);
      out.writeUInt16BE(h.length + total, 2);
      out.writeUInt16BE(0, 6); // no longer a fragment
      return out;
    });
  }

  private v6(f: Buffer, at: number, ts: number): Buffer | null {
    if (f.length < at + 40) return f;
    const end = Math.min(f.length, at + 40 + be16(f, at + 4));
    let nh = f[at + 6]!;
    let nhAt = at + 6;
    let o = at + 40;
    for (let n = 0; n < MAX_IPV6_EXT_HEADERS; n++) {
      if (nh === 44) {
        if (o + 8 > end) return f;
        const word = be16(f, o + 2);
        const off = word & 0xfff8;
        const more = (word & 1) !== 0;
        if (!more && off === 0) return f; // an atomic fragment (RFC 6946): the whole datagram
        const key = `6 ${f.toString('latin1', at + 8, at + 40)} ${f.readUInt32BE(o + 4)}`;
        const d = this.datagram(key, ts);
        if (off === 0) {
          d.head = Buffer.from(f.subarray(at, o));
          d.nextHeaderAt = nhAt - at;
          d.nextHeader = f[o]!;
        }
        return this.add(key, d, off, f.subarray(o + 8, end), more, (h, total) => {
          const out = Buffer.concat([h, Buffer.alloc(total)]);
          out[d.nextHeaderAt] = d.nextHeader;
          out.writeUInt16BE(h.length - 40 + total, 4);
          return out;
        });
      }
      if (nh !== 0 && nh !== 43 && nh !== 60 && nh !== 51) return f; // no fragment header before the payload
      if (o + 8 > end) return f;
      nhAt = o;
      const next = f[o]!;
      o += nh === 51 ? (f[o + 1]! + 2) * 4 : (f[o + 1]! + 1) * 8;
      nh = next;
    }
    return f;
  }

  private datagram(key: string, ts: number): Datagram {
    // Forget what is too old (the map is in arrival order) or over the bounds.
    for (const [k, d] of this.held) {
      if (d.firstUs >= ts - MAX_AGE_US && this.held.size < MAX_DATAGRAMS && this.bytes <= MAX_BYTES) break;
      this.drop(k, d);
    }
    let d = this.held.get(key);
    if (!d) {
      d = { firstUs: ts, head: null, nextHeaderAt: 6, nextHeader: 0, pieces: [], total: -1, bytes: 0 };
      this.held.set(key, d);
    }
    return d;
  }

  private drop(key: string, d: Datagram): void {
    this.bytes -= d.bytes;
    this.held.delete(key);
  }

  private add(key: string, d: Datagram, off: number, data: Buffer, more: boolean, build: (head: Buffer, total: number) => Buffer): Buffer | null {
    if (off + data.length > MAX_DATAGRAM) {
      this.drop(key, d);
      return null;
    }
    d.pieces.push({ off, data: Buffer.from(data) });
    d.bytes += data.length;
    this.bytes += data.length;
    if (!more) d.total = off + data.length;
    if (d.total < 0 || d.head === null) return null;
    // Complete when the pieces cover [0, total) (overlaps allowed: the later piece wins, as in RFC 815).
    d.pieces.sort((a, b) => a.off - b.off);
    let covered = 0;
    for (const p of d.pieces) {
      if (p.off > covered) return null;
      covered = Math.max(covered, p.off + p.data.length);
    }
    if (covered < d.total) return null;
    const out = build(d.head, d.total);
    for (const p of d.pieces) p.data.copy(out, d.head.length + p.off, 0, Math.min(p.data.length, d.total - p.off));
    this.drop(key, d);
    return out;
  }
}
