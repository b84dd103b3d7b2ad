/**
 * The first packets of every RTP stream (flow and SSRC), kept as captured,
 * so that legs of one direction on different links can be compared packet
 * by packet (same SSRC and sequence number): byte-identical means one SRTP
 * context relayed untouched; identical once decrypted means a middle element
 * decrypted and re-encrypted. Bounded: SAMPLE_PACKETS per stream, MAX_STREAMS
 * streams per link, so memory stays flat on any capture.
 */
import { decodeFrame, type CapturedPacket } from '@imslab/capture';
import { fastUdp, ipv4String, type UdpView } from '../fast-udp.ts';
import { flowEndpoint } from '../link-scan.ts';

export const SAMPLE_PACKETS = 64;
export const MAX_STREAMS = 4096;

/** One stream's first packets (RTP, whole UDP payload). */
export interface StreamSample {
  src: string;
  dst: string;
  ssrc: number;
  payloadTypes: number[];
  packets: Array<{ seq: number; data: Buffer }>;
}

interface Entry {
  srcIp: number;
  dstIp: number;
  srcPort: number;
  dstPort: number;
  ssrc: number;
  sample: StreamSample;
}

export class PayloadSampler {
  readonly streams: StreamSample[] = [];
  private readonly fast = new Map<number, Entry[]>();
  private readonly slow = new Map<string, StreamSample>();
  private readonly view: UdpView = { srcIp: 0, dstIp: 0, srcPort: 0, dstPort: 0, start: 0, end: 0 };

  packet(p: CapturedPacket): void {
    const v = this.view;
    const d = p.data;
    if (fastUdp(p.linkType, d, v)) {
      const at = v.start;
      if (v.end - at < 12 || (d[at]! & 0xc0) !== 0x80 || (d[at + 1]! >= 192 && d[at + 1]! <= 223)) return;
      const ssrc = d.readUInt32BE(at + 8);
      const h = ((v.srcPort * 31 + v.dstPort) ^ (v.srcIp & 0xffff) ^ ((v.dstIp & 0xffff) << 13) ^ ssrc) & 0x3fffffff;
      let bucket = this.fast.get(h);
      let e = bucket?.find((x) => x.ssrc === ssrc && x.srcPort === v.srcPort && x.dstPort === v.dstPort && x.srcIp === v.srcIp && x.dstIp === v.dstIp);
      if (!e) {
        const sample = this.newStream(flowEndpoint(ipv4String(v.srcIp), v.srcPort), flowEndpoint(ipv4String(v.dstIp), v.dstPort), ssrc);
        if (!sample) return;
        e = { srcIp: v.srcIp, dstIp: v.dstIp, srcPort: v.srcPort, dstPort: v.dstPort, ssrc, sample };
        if (!bucket) this.fast.set(h, (bucket = []));
        bucket.push(e);
      }
      this.add(e.sample, d.subarray(at, v.end));
      return;
    }
    const f = decodeFrame(p.linkType, d);
    if (!f || f.protocol !== 'udp') return;
    const u = f.payload;
    if (u.length < 12 || (u[0]! & 0xc0) !== 0x80 || (u[1]! >= 192 && u[1]! <= 223)) return;
    const ssrc = u.readUInt32BE(8);
    const src = flowEndpoint(f.src, f.srcPort);
    const dst = flowEndpoint(f.dst, f.dstPort);
    const key = `${src} ${dst} ${ssrc}`;
    let s = this.slow.get(key);
    if (!s) {
      const made = this.newStream(src, dst, ssrc);
      if (!made) return;
      this.slow.set(key, (s = made));
    }
    this.add(s, u);
  }

  private newStream(src: string, dst: string, ssrc: number): StreamSample | null {
    if (this.streams.length >= MAX_STREAMS) return null;
    const s: StreamSample = { src, dst, ssrc, payloadTypes: [], packets: [] };
    this.streams.push(s);
    return s;
  }

  private add(s: StreamSample, rtp: Buffer): void {
    if (s.packets.length >= SAMPLE_PACKETS) return;
    const pt = rtp[1]! & 0x7f;
    if (!s.payloadTypes.includes(pt)) s.payloadTypes.push(pt);
    // A copy: the reader's chunk must not be kept alive by a few packets.
    s.packets.push({ seq: rtp.readUInt16BE(2), data: Buffer.from(rtp) });
  }
}
