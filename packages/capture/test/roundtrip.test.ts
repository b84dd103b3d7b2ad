import { readdirSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildTcpFrame, buildUdpFrame, decodeFrame, LINKTYPE, linkTypeName, PcapngWriter, PcapWriter, readCapture, readCaptureBuffer,
  READ_CHUNK_BYTES, type CapturedPacket,
} from '../src/index.ts';
import { collect, tempDir } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

const T0 = 1_700_000_123_456_789;

/** Open file descriptors of this process on `path` (Linux /proc). */
function openHandlesTo(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;
}

interface Sent {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
  tsUs: number;
  tcpSeq?: number;
}

function traffic(v6: boolean): Sent[] {
  const [a, b] = v6 ? ['2001:db8:0:1::10', 'fe80::1:2'] : ['127.0.1.10', '192.168.200.7'];
  // Payload sizes 0..3 exercise pcapng padding; 1400 a full-size frame.
  return [0, 1, 2, 3, 160, 1400].map((n, i) => ({
    src: i % 2 ? b : a, dst: i % 2 ? a : b, srcPort: 5060 + i, dstPort: 40000 + i,
    payload: Buffer.from(Array.from({ length: n }, (_, k) => (k * 31 + i) & 0xff)),
    tsUs: T0 + i * 20_000 + i, // odd microseconds survive every format
    tcpSeq: i === 5 ? 0xfffffff0 : undefined,
  }));
}

function frameFor(lt: number, s: Sent): Buffer {
  return s.tcpSeq === undefined
    ? buildUdpFrame(lt, s.src, s.srcPort, s.dst, s.dstPort, s.payload)
    : buildTcpFrame(lt, s.src, s.srcPort, s.dst, s.dstPort, s.payload, { seq: s.tcpSeq, ack: 7, flags: 0x18 });
}

function checkDecoded(lt: number, got: CapturedPacket[], sent: Sent[], v6: boolean, nameExpected?: string): void {
  expect(got.length).toBe(sent.length);
  got.forEach((p, i) => {
    const s = sent[i]!;
    expect(p.linkType).toBe(lt);
    expect(p.timestampUs).toBe(s.tsUs);
    expect(p.interfaceName).toBe(nameExpected);
    expect(p.originalLength).toBe(p.data.length);
    const d = decodeFrame(p.linkType, p.data);
    expect(d, `packet ${i}`).not.toBeNull();
    expect(d!.ipVersion).toBe(v6 ? 6 : 4);
    expect([d!.src, d!.srcPort, d!.dst, d!.dstPort]).toEqual([s.src, s.srcPort, s.dst, s.dstPort]);
    expect(d!.payload.equals(s.payload)).toBe(true);
    if (s.tcpSeq === undefined) {
      expect(d!.protocol).toBe('udp');
    } else {
      expect(d!.protocol).toBe('tcp');
      expect(d!.tcp).toEqual({ seq: s.tcpSeq, ack: 7, flags: 0x18 });
    }
  });
}

const LINKS = [LINKTYPE.ETHERNET, LINKTYPE.LINUX_SLL, LINKTYPE.LINUX_SLL2, LINKTYPE.NULL, LINKTYPE.LOOP, LINKTYPE.RAW, LINKTYPE.IPV4, LINKTYPE.IPV6];

describe('round trip: write, read back, decode', () => {
  for (const lt of LINKS) {
    for (const v6 of [false, true]) {
      if ((lt === LINKTYPE.IPV4 && v6) || (lt === LINKTYPE.IPV6 && !v6)) continue;
      const sent = traffic(v6);
      const label = `${linkTypeName(lt)} IPv${v6 ? 6 : 4}`;

      it(`pcap µs little-endian and ns big-endian, ${label}`, async () => {
        for (const [k, opts] of [{}, { nanosecond: true, bigEndian: true }].entries()) {
          const path = join(dir, `rt-${lt}-${v6}-${k}.pcap`);
          const w = new PcapWriter(path, lt, 65535, opts);
          for (const s of sent) w.write(s.tsUs, frameFor(lt, s));
          await w.close();
          checkDecoded(lt, await collect(readCapture(path)), sent, v6);
          checkDecoded(lt, [...readCaptureBuffer(await readFile(path))], sent, v6);
        }
      });

      it(`pcapng little- and big-endian with if_name, ${label}`, async () => {
        for (const bigEndian of [false, true]) {
          const path = join(dir, `rt-${lt}-${v6}-${bigEndian}.pcapng`);
          const w = new PcapngWriter(path, { bigEndian });
          const other = w.addInterface('core', LINKTYPE.ETHERNET);
          const id = w.addInterface('access-a', lt);
          expect([other, id]).toEqual([0, 1]);
          for (const s of sent) w.write(id, s.tsUs, frameFor(lt, s));
          await w.close();
          const got = await collect(readCapture(path));
          expect(got.every((p) => p.interfaceId === 1)).toBe(true);
          checkDecoded(lt, got, sent, v6, 'access-a');
          checkDecoded(lt, [...readCaptureBuffer(await readFile(path))], sent, v6, 'access-a');
        }
      });
    }
  }

  it('cuts packets at the snap length and keeps the original length', async () => {
    const path = join(dir, 'snap.pcapng');
    const w = new PcapngWriter(path);
    const id = w.addInterface('access-b', LINKTYPE.ETHERNET, 64);
    const frame = buildUdpFrame(LINKTYPE.ETHERNET, '10.0.0.1', 1, '10.0.0.2', 2, Buffer.alloc(200, 7));
    w.write(id, T0, frame);
    await w.close();
    const [p] = await collect(readCapture(path));
    expect(p!.data.length).toBe(64);
    expect(p!.originalLength).toBe(frame.length);
    expect(p!.data.equals(frame.subarray(0, 64))).toBe(true);
    // Decoding a cut frame gives the bytes that were captured.
    expect(decodeFrame(p!.linkType, p!.data)!.payload.length).toBe(64 - 42);
  });

  it('streams across chunk boundaries, including a record larger than the tail room, same as from memory', async () => {
    const path = join(dir, 'big.pcap');
    const w = new PcapWriter(path, LINKTYPE.ETHERNET, 262144);
    const n = 3000;
    for (let i = 0; i < n; i++) {
      const size = 50 + ((i * 7919) % 1400);
      w.write(T0 + i, buildUdpFrame(LINKTYPE.ETHERNET, '10.0.0.1', 1000 + (i % 7), '10.0.0.2', 2000, Buffer.alloc(size, i & 0xff)));
      if (i === 1500) w.write(T0 + i, Buffer.alloc(200_000, 0x5a)); // spans a chunk boundary, not decodable
    }
    await w.close();
    const buf = await readFile(path);
    expect(buf.length).toBeGreaterThan(4 * READ_CHUNK_BYTES);
    const fromFile = await collect(readCapture(path));
    const fromMem = [...readCaptureBuffer(buf)];
    expect(fromFile.length).toBe(n + 1);
    expect(fromFile.map((p) => p.offset)).toEqual(fromMem.map((p) => p.offset));
    // Views stay valid after the reader moved on (chunks are never reused).
    fromFile.forEach((p, i) => expect(p.data.equals(fromMem[i]!.data), `packet ${i}`).toBe(true));
    expect(fromFile[1501]!.data.length).toBe(200_000);
    expect(decodeFrame(LINKTYPE.ETHERNET, fromFile[1501]!.data)).toBeNull();
  });

  it('stops and closes the file when the consumer breaks early', async () => {
    const path = join(dir, 'early.pcap');
    const w = new PcapWriter(path, LINKTYPE.RAW);
    for (let i = 0; i < 10; i++) w.write(T0 + i, buildUdpFrame(LINKTYPE.RAW, '10.0.0.1', 1, '10.0.0.2', 2, Buffer.from([i])));
    await w.close();
    let seen = 0;
    for await (const p of readCapture(path)) {
      if (++seen === 3) break;
      expect(openHandlesTo(path)).toBe(1);
      expect(p.data.length).toBeGreaterThan(0);
    }
    expect(seen).toBe(3);
    // Closing happens in return(), which for-await awaits on break.
    expect(openHandlesTo(path)).toBe(0);
  });

  it('serves concurrent next() calls in order', async () => {
    const path = join(dir, 'concurrent.pcap');
    const w = new PcapWriter(path, LINKTYPE.RAW);
    for (let i = 0; i < 5; i++) w.write(T0 + i, buildUdpFrame(LINKTYPE.RAW, '10.0.0.1', 1, '10.0.0.2', 2, Buffer.from([i])));
    await w.close();
    const it = readCapture(path);
    const results = await Promise.all([it.next(), it.next(), it.next(), it.next(), it.next(), it.next()]);
    expect(results.map((r) => (r.done ? 'done' : r.value.timestampUs - T0))).toEqual([0, 1, 2, 3, 4, 'done']);
  });
});
