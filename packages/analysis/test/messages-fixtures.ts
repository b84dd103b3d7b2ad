/**
 * Fixtures for the message-protection tests: SIP MESSAGE and MSRP SEND
 * requests, per-link captures written with @imslab/capture's frame builders
 * (UDP datagrams and TCP connections with real sequence numbers), and real
 * TLS conversations made in memory with node:tls (no socket, no tcpdump):
 * every byte each side wrote becomes a TCP segment of the capture, and the
 * client's key log opens it with tshark as the elements' key logs would.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { buildTcpFrame, buildUdpFrame, LINKTYPE, PcapngWriter } from '@imslab/capture';

export const tmp = (prefix: string): string => mkdtempSync(join(tmpdir(), `imslab-${prefix}-`));

/** A SIP MESSAGE request (RFC 3428) with `body`. */
export function sipMessage(opts: { callId: string; from?: string; to?: string; contentType: string; body: Uint8Array | string; cseq?: number }): Buffer {
  const body = typeof opts.body === 'string' ? Buffer.from(opts.body) : Buffer.from(opts.body);
  const head = [
    `MESSAGE ${opts.to ?? 'sip:bob@ims.test'} SIP/2.0`,
    'Via: SIP/2.0/TCP 127.0.1.100:5060;branch=z9hG4bK' + opts.callId.replace(/[^a-z0-9]/gi, ''),
    'Max-Forwards: 70',
    `From: <${opts.from ?? 'sip:alice@ims.test'}>;tag=a1`,
    `To: <${opts.to ?? 'sip:bob@ims.test'}>`,
    `Call-ID: ${opts.callId}`,
    `CSeq: ${opts.cseq ?? 1} MESSAGE`,
    `Content-Type: ${opts.contentType}`,
    `Content-Length: ${body.length}`,
    '',
    '',
  ].join('\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** A 200 OK to a MESSAGE. */
export function sipOk(callId: string): Buffer {
  return Buffer.from(`SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 127.0.1.100:5060;branch=z9hG4bK1\r\nCall-ID: ${callId}\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n`, 'latin1');
}

/** An MSRP SEND (RFC 4975 sec. 7.1), one chunk of `total` octets starting at `start` (1-based). */
export function msrpSend(opts: { tid: string; messageId: string; body: Uint8Array | string; contentType?: string; start?: number; total?: number | '*'; last?: boolean }): Buffer {
  const body = typeof opts.body === 'string' ? Buffer.from(opts.body) : Buffer.from(opts.body);
  const start = opts.start ?? 1;
  const total = opts.total ?? body.length;
  const head = [
    `MSRP ${opts.tid} SEND`,
    'To-Path: msrp://127.0.2.60:2855/relay;tcp msrp://127.0.3.100:2855/bob;tcp',
    'From-Path: msrp://127.0.1.100:2855/alice;tcp',
    `Message-ID: ${opts.messageId}`,
    `Byte-Range: ${start}-${start + body.length - 1}/${total}`,
    `Content-Type: ${opts.contentType ?? 'text/plain'}`,
    '',
    '',
  ].join('\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), body, Buffer.from(`\r\n-------${opts.tid}${opts.last === false ? '+' : '$'}\r\n`, 'latin1')]);
}

/** One link's capture: UDP datagrams and TCP connections, written in call order. */
export class LinkCapture {
  private readonly w: PcapngWriter;
  private readonly iface: number;
  private t = 1_700_000_000_000_000;
  private conns = 0;

  constructor(readonly file: string, name: string) {
    this.w = new PcapngWriter(file);
    this.iface = this.w.addInterface(name, LINKTYPE.ETHERNET);
  }

  udp(src: string, srcPort: number, dst: string, dstPort: number, payload: Buffer): this {
    this.w.write(this.iface, (this.t += 1000), buildUdpFrame(LINKTYPE.ETHERNET, src, srcPort, dst, dstPort, payload));
    return this;
  }

  /**
   * A TCP connection from `client` to `server` carrying `segments` in order
   * (`c2s`: client to server), each cut into pieces of at most `mss` octets;
   * SYN, SYN-ACK and FIN included. `reorder` sends each direction's second
   * piece before its first (out of order on the wire).
   */
  tcp(client: [string, number], server: [string, number], segments: Array<{ c2s: boolean; data: Buffer }>, opts: { mss?: number; reorder?: boolean } = {}): this {
    const mss = opts.mss ?? 1400;
    const isn = [1000 + 100_000 * this.conns, 5000 + 100_000 * this.conns++];
    const next = [isn[0]! + 1, isn[1]! + 1];
    const frame = (c2s: boolean, payload: Buffer, seq: number, flags: number) => {
      const [s, d] = c2s ? [client, server] : [server, client];
      this.w.write(this.iface, (this.t += 100), buildTcpFrame(LINKTYPE.ETHERNET, s[0], s[1], d[0], d[1], payload, { seq, ack: next[c2s ? 1 : 0], flags }));
    };
    frame(true, Buffer.alloc(0), isn[0]!, 0x02);
    frame(false, Buffer.alloc(0), isn[1]!, 0x12);
    for (const seg of segments) {
      const i = seg.c2s ? 0 : 1;
      const pieces: Array<[number, Buffer]> = [];
      for (let at = 0; at < seg.data.length; at += mss) {
        pieces.push([next[i]!, seg.data.subarray(at, at + mss)]);
        next[i] = (next[i]! + Math.min(mss, seg.data.length - at)) >>> 0;
      }
      if (opts.reorder && pieces.length > 1) [pieces[0], pieces[1]] = [pieces[1]!, pieces[0]!];
      for (const [seq, p] of pieces) frame(seg.c2s, p, seq, 0x18);
    }
    frame(true, Buffer.alloc(0), next[0]!, 0x11);
    frame(false, Buffer.alloc(0), next[1]!, 0x11);
    return this;
  }

  /** A raw IP packet (LINKTYPE_RAW), e.g. an IP fragment built by hand. */
  raw(packet: Buffer): this {
    this.rawIface ??= this.w.addInterface('raw', LINKTYPE.RAW);
    this.w.write(this.rawIface, (this.t += 100), packet);
    return this;
  }
  private rawIface: number | undefined;

  close(): Promise<void> {
    return this.w.close();
  }
}

/** A UDP datagram as a raw IPv4 packet cut into fragments of `size` payload octets (a multiple of 8; RFC 791). */
export function udpFragments4(src: string, srcPort: number, dst: string, dstPort: number, payload: Buffer, size: number, id = 0x4242): Buffer[] {
  const packet = buildUdpFrame(LINKTYPE.RAW, src, srcPort, dst, dstPort, payload);
  const ihl = (packet[0]! & 15) * 4;
  const body = packet.subarray(ihl);
  const out: Buffer[] = [];
  for (let off = 0; off < body.length; off += size) {
    const part = body.subarray(off, off + size);
    const h = Buffer.from(packet.subarray(0, ihl));
    h.writeUInt16BE(ihl + part.length, 2);
    h.writeUInt16BE(id, 4);
    h.writeUInt16BE((off + size < body.length ? 0x2000 : 0) | (off / 8), 6);
    h.writeUInt16BE(0, 10); // the header checksum is not what is tested here
    out.push(Buffer.concat([h, part]));
  }
  return out;
}

/** One end of an in-memory byte pipe; what it writes is recorded in `log` and arrives at its peer. */
class PipeEnd extends Duplex {
  peer!: PipeEnd;
  constructor(private readonly c2s: boolean, private readonly log: Array<{ c2s: boolean; data: Buffer }>) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.log.push({ c2s: this.c2s, data: Buffer.from(chunk) });
    this.peer.push(chunk);
    cb();
  }
  override _read(): void {}
  override _final(cb: (e?: Error | null) => void): void {
    this.peer.push(null);
    cb();
  }
}

export interface TlsConversation {
  /** Every write of each side, in order: the TLS records as they would cross the wire. */
  wire: Array<{ c2s: boolean; data: Buffer }>;
  /** The client's TLS secrets, SSLKEYLOGFILE format. */
  keyLog: string;
}

/**
 * Runs a real TLS conversation (1.3 unless `version` says) with node:tls in memory: the client sends
 * `toServer` (one write each), the server answers each with `toClient` once it
 * has read everything. Returns the bytes on the wire and the key log.
 */
export async function tlsConversation(cert: string, key: string, toServer: Buffer[], toClient: Buffer[] = [], version: tls.SecureVersion = 'TLSv1.3'): Promise<TlsConversation> {
  const wire: Array<{ c2s: boolean; data: Buffer }> = [];
  const a = new PipeEnd(true, wire);
  const b = new PipeEnd(false, wire);
  a.peer = b;
  b.peer = a;
  let keyLog = '';
  const server = new tls.TLSSocket(b, { isServer: true, cert, key, minVersion: version, maxVersion: version });
  const expected = toServer.reduce((n, m) => n + m.length, 0);
  const received = new Promise<void>((resolve) => {
    let got = 0;
    server.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= expected) resolve();
    });
  });
  const client = tls.connect({ socket: a, rejectUnauthorized: false, minVersion: version, maxVersion: version });
  client.on('keylog', (line: Buffer) => {
    keyLog += line.toString('latin1');
  });
  client.on('data', () => {});
  await new Promise<void>((resolve, reject) => {
    client.once('secureConnect', () => resolve());
    client.once('error', reject);
  });
  for (const m of toServer) await new Promise<void>((resolve) => client.write(m, () => resolve()));
  await received;
  for (const m of toClient) await new Promise<void>((resolve) => server.write(m, () => resolve()));
  await new Promise((r) => setTimeout(r, 20));
  client.destroy();
  server.destroy();
  return { wire, keyLog };
}

export function writeText(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
