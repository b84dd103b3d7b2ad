import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildTcpFrame, buildUdpFrame, CaptureFormatError, CaptureWriteError, decodeFrame, FrameBuildError, LINKTYPE, mergeCaptures, PcapngWriter, PcapWriter, readCapture,
} from '../src/index.ts';
import { makeTsConverter, tsToUs } from '../src/timestamps.ts';
import { collect, run, tempDir } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

/** One's-complement sum over 16-bit words (RFC 1071); a correct checksum makes it 0xffff. */
function onesSum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
  if (b.length & 1) s += b[b.length - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

describe('frame builders', () => {
  it('write correct IPv4 header and UDP/TCP checksums (RFC 791, 768, 9293)', () => {
    for (const payload of [Buffer.alloc(0), Buffer.from('odd'), Buffer.alloc(1000, 9)]) {
      const f = buildUdpFrame(LINKTYPE.RAW, '192.0.2.1', 5060, '198.51.100.7', 5060, payload);
      expect(onesSum(f.subarray(0, 20))).toBe(0xffff);
      const pseudo = Buffer.concat([f.subarray(12, 20), Buffer.from([0, 17]), f.subarray(24, 26)]);
      expect(onesSum(Buffer.concat([pseudo, f.subarray(20)]))).toBe(0xffff);
      const t = buildTcpFrame(LINKTYPE.RAW, '192.0.2.1', 5061, '198.51.100.7', 40000, payload, { seq: 1, ack: 2 });
      const tcpLen = Buffer.alloc(2);
      tcpLen.writeUInt16BE(t.length - 20);
      expect(onesSum(Buffer.concat([t.subarray(12, 20), Buffer.from([0, 6]), tcpLen, t.subarray(20)]))).toBe(0xffff);
    }
  });

  it('tshark validates our checksums in every framing', async () => {
    const path = join(dir, 'checksums.pcapng');
    const w = new PcapngWriter(path);
    for (const lt of [LINKTYPE.ETHERNET, LINKTYPE.LINUX_SLL, LINKTYPE.LINUX_SLL2, LINKTYPE.NULL, LINKTYPE.RAW]) {
      const id = w.addInterface(`if-${lt}`, lt);
      w.write(id, 1e15, buildUdpFrame(lt, '10.0.0.1', 1000, '10.0.0.2', 2000, Buffer.from('abc')));
      w.write(id, 1e15 + 1, buildUdpFrame(lt, '2001:db8::1', 1000, '2001:db8::2', 2000, Buffer.from('abcd')));
      w.write(id, 1e15 + 2, buildTcpFrame(lt, '10.0.0.1', 1000, '10.0.0.2', 2000, Buffer.from('xyz'), { seq: 5 }));
    }
    await w.close();
    const out = await run('tshark', [
      '-r', path, '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
      '-T', 'fields', '-e', 'ip.checksum.status', '-e', 'udp.checksum.status', '-e', 'tcp.checksum.status',
    ]);
    const rows = out.trim().split('\n').map((l) => l.split('\t').filter((x) => x !== ''));
    expect(rows).toHaveLength(15);
    // 1 = "Good" in Wireshark's checksum status; IPv6 has no header checksum.
    for (const r of rows) expect(r.length > 0 && r.every((x) => x === '1'), r.join(',')).toBe(true);
  }, 60_000);

  it('reject what they cannot encode with FrameBuildError naming the argument', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => buildUdpFrame(LINKTYPE.ETHERNET, '10.0.0.256', 1, '10.0.0.1', 2, Buffer.alloc(0)), 'src'],
      [() => buildUdpFrame(LINKTYPE.ETHERNET, '10.0.0.1', 1, 'bob', 2, Buffer.alloc(0)), 'dst'],
      [() => buildUdpFrame(LINKTYPE.ETHERNET, '10.0.0.1', 70000, '10.0.0.1', 2, Buffer.alloc(0)), 'srcPort'],
      [() => buildUdpFrame(147, '10.0.0.1', 1, '10.0.0.2', 2, Buffer.alloc(0)), 'linkType'],
      [() => buildUdpFrame(LINKTYPE.IPV4, '::1', 1, '::2', 2, Buffer.alloc(0)), 'src'],
      [() => buildUdpFrame(LINKTYPE.RAW, '10.0.0.1', 1, '::2', 2, Buffer.alloc(0)), 'dst'],
      [() => buildUdpFrame(LINKTYPE.RAW, '1::2::3', 1, '::2', 2, Buffer.alloc(0)), 'src'],
    ];
    for (const [fn, field] of cases) {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FrameBuildError);
      expect((err as FrameBuildError).field).toBe(field);
    }
  });
});

describe('writers', () => {
  it('refuse bad use with CaptureWriteError', async () => {
    const w = new PcapngWriter(join(dir, 'misuse.pcapng'));
    const id = w.addInterface('core', LINKTYPE.RAW);
    expect(() => w.write(id + 1, 0, Buffer.alloc(1))).toThrow(expect.objectContaining({ reason: 'unknown-interface' }));
    expect(() => w.write(id, -1, Buffer.alloc(1))).toThrow(expect.objectContaining({ reason: 'bad-timestamp' }));
    expect(() => w.write(id, Number.NaN, Buffer.alloc(1))).toThrow(CaptureWriteError);
    await w.close();
    await w.close(); // idempotent
    expect(() => w.write(id, 0, Buffer.alloc(1))).toThrow(expect.objectContaining({ reason: 'closed' }));
    expect(() => new PcapWriter(join(dir, 'no-such-dir', 'x.pcap'), LINKTYPE.RAW)).toThrow(expect.objectContaining({ reason: 'io' }));
  });

  it('write more than one buffer-full, and a packet bigger than the buffer', async () => {
    const path = join(dir, 'many.pcap');
    const w = new PcapWriter(path, LINKTYPE.RAW, 0);
    const big = Buffer.alloc(3 << 20, 1);
    for (let i = 0; i < 3000; i++) w.write(1e15 + i, buildUdpFrame(LINKTYPE.RAW, '10.0.0.1', 1, '10.0.0.2', 2, Buffer.alloc(1000, i & 0xff)));
    w.write(2e15, big);
    await w.close();
    const got = await collect(readCapture(path));
    expect(got).toHaveLength(3001);
    expect(decodeFrame(LINKTYPE.RAW, got[2999]!.data)!.payload[0]).toBe(2999 & 0xff);
    expect(got[3000]!.data.length).toBe(big.length);
  });
});

describe('mergeCaptures', () => {
  it('orders by time, keeps equal timestamps in input order, names interfaces and keeps empty inputs', async () => {
    const mk = async (name: string, lt: number, times: number[]): Promise<string> => {
      const path = join(dir, name);
      const w = new PcapWriter(path, lt);
      for (const t of times) w.write(t, buildUdpFrame(lt, '10.0.0.1', t % 65536, '10.0.0.2', 9, Buffer.from(name)));
      await w.close();
      return path;
    };
    const a = await mk('a.pcap', LINKTYPE.ETHERNET, [10, 20, 30, 40]);
    const b = await mk('b.pcap', LINKTYPE.LINUX_SLL2, [5, 20, 35]);
    const c = await mk('c.pcap', LINKTYPE.NULL, []);
    const out = join(dir, 'merged.pcapng');
    expect(await mergeCaptures([{ name: 'access-a', path: a }, { name: 'core', path: b }, { name: 'access-b', path: c }], out)).toEqual({ packets: 7 });
    const got = await collect(readCapture(out));
    expect(got.map((p) => [p.timestampUs, p.interfaceName, p.interfaceId, p.linkType])).toEqual([
      [5, 'core', 1, LINKTYPE.LINUX_SLL2],
      [10, 'access-a', 0, LINKTYPE.ETHERNET],
      [20, 'access-a', 0, LINKTYPE.ETHERNET],
      [20, 'core', 1, LINKTYPE.LINUX_SLL2],
      [30, 'access-a', 0, LINKTYPE.ETHERNET],
      [35, 'core', 1, LINKTYPE.LINUX_SLL2],
      [40, 'access-a', 0, LINKTYPE.ETHERNET],
    ]);
    const names = await run('tshark', ['-r', out, '-T', 'fields', '-e', 'frame.interface_name']);
    expect(names.trim().split('\n')).toEqual(['core', 'access-a', 'access-a', 'core', 'access-a', 'core', 'access-a']);
  }, 60_000);

  it('fails with the input\'s CaptureFormatError, or its I/O error', async () => {
    const good = join(dir, 'good.pcap');
    const w = new PcapWriter(good, LINKTYPE.RAW);
    for (let i = 0; i < 3; i++) w.write(i, buildUdpFrame(LINKTYPE.RAW, '10.0.0.1', 1, '10.0.0.2', 2, Buffer.alloc(4)));
    await w.close();
    const cut = join(dir, 'cut.pcap');
    await writeFile(cut, (await readFile(good)).subarray(0, 24 + 2 * (16 + 32) + 10));
    const err = await mergeCaptures([{ name: 'x', path: good }, { name: 'y', path: cut }], join(dir, 'm1.pcapng')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CaptureFormatError);
    expect(err).toMatchObject({ offset: 24 + 2 * (16 + 32), reason: 'truncated', path: cut });
    await expect(mergeCaptures([{ name: 'x', path: good }, { name: 'y', path: join(dir, 'missing.pcap') }], join(dir, 'm2.pcapng'))).rejects.toThrow(/ENOENT/);
  });
});

describe('pcapng timestamp resolution (if_tsresol)', () => {
  it('converts exactly where a double cannot hold the raw count', () => {
    const ns = 1_700_000_000_123_456_789n; // > 2^53
    const hi = Number(ns >> 32n);
    const lo = Number(ns & 0xffffffffn);
    expect(tsToUs(makeTsConverter(9), hi, lo)).toBe(1_700_000_000_123_456);
    const ps = ns * 1000n + 999n;
    expect(tsToUs(makeTsConverter(12), Number(ps >> 32n), Number(ps & 0xffffffffn))).toBe(1_700_000_000_123_456);
    expect(tsToUs(makeTsConverter(3), 0, 1_700_000_000_123)).toBe(1_700_000_000_123_000);
    expect(tsToUs(makeTsConverter(0x80 | 10), 0, 1024 * 5)).toBe(5_000_000); // 2^-10 s units
    expect(tsToUs(makeTsConverter(15), Number((ns * 1_000_000n) >> 32n), Number((ns * 1_000_000n) & 0xffffffffn))).toBe(1_700_000_000_123_456);
    expect(tsToUs(makeTsConverter(6, -100), 0, 200_000_000)).toBe(100_000_000);
  });
});
