/**
 * Per-stream state by stream identity: RTP or RTCP, capture interface, IP
 * addresses, UDP ports and SSRC (the SSRC, addresses and ports are what
 * names an SRTP crypto context's stream, RFC 3711 sec 3.2.3). Looked up per
 * packet, so without building a string: entries are found by SSRC (a
 * number) and told apart by comparing a handful of numbers; an SSRC is
 * shared by few streams (the same sender seen on each link, RTP and RTCP).
 */
import type { UdpLocation } from './udp-frame.ts';

interface Entry<T> {
  rtcp: boolean;
  iface: number;
  /** IPv4 source and destination; 0 for IPv6. */
  src: number;
  dst: number;
  /** Source port << 16 | destination port. */
  ports: number;
  /** IPv6 source and destination in hex; null for IPv4. */
  v6: string | null;
  value: T;
}

const u32 = (f: Uint8Array, at: number): number => ((f[at]! << 24) | (f[at + 1]! << 16) | (f[at + 2]! << 8) | f[at + 3]!) >>> 0;

/** See module comment. */
export class StreamTable<T> {
  private readonly bySsrc = new Map<number, Array<Entry<T>>>();
  private count = 0;

  /** Streams held. */
  get size(): number {
    return this.count;
  }

  /** The state of the stream the packet in `f` at `loc` belongs to, created by `make` when new. */
  get(rtcp: boolean, iface: number, f: Buffer, loc: UdpLocation, ssrc: number, make: () => T): T {
    const v4 = loc.ipVersion === 4;
    const src = v4 ? u32(f, loc.ip + 12) : 0;
    const dst = v4 ? u32(f, loc.ip + 16) : 0;
    const ports = u32(f, loc.udp);
    const v6 = v4 ? null : f.toString('hex', loc.ip + 8, loc.ip + 40);
    let list = this.bySsrc.get(ssrc);
    if (list === undefined) {
      list = [];
      this.bySsrc.set(ssrc, list);
    } else {
      for (const e of list) {
        if (e.rtcp === rtcp && e.iface === iface && e.src === src && e.dst === dst && e.ports === ports && e.v6 === v6) return e.value;
      }
    }
    const value = make();
    list.push({ rtcp, iface, src, dst, ports, v6, value });
    this.count++;
    return value;
  }

  /** Every stream's state. */
  *values(): IterableIterator<T> {
    for (const list of this.bySsrc.values()) for (const e of list) yield e.value;
  }

  /** Forgets the streams whose state matches `drop` (to bound memory). */
  forget(drop: (value: T) => boolean): void {
    for (const [ssrc, list] of this.bySsrc) {
      const keep = list.filter((e) => !drop(e.value));
      this.count -= list.length - keep.length;
      if (keep.length === 0) this.bySsrc.delete(ssrc);
      else this.bySsrc.set(ssrc, keep);
    }
  }
}
