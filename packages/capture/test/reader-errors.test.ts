import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUdpFrame, CaptureFormatError, LINKTYPE, PcapWriter, readCapture, readCaptureBuffer, type CapturedPacket } from '../src/index.ts';
import { fixture, tempDir } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

interface Outcome {
  packets: CapturedPacket[];
  error: unknown;
}

async function fromFile(bytes: Buffer, name: string): Promise<Outcome> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  const packets: CapturedPacket[] = [];
  try {
    for await (const p of readCapture(path)) packets.push(p);
  } catch (error) {
    return { packets, error };
  }
  return { packets, error: undefined };
}

function fromMemory(bytes: Buffer): Outcome {
  const packets: CapturedPacket[] = [];
  try {
    for (const p of readCaptureBuffer(bytes)) packets.push(p);
  } catch (error) {
    return { packets, error };
  }
  return { packets, error: undefined };
}

/** Both readers must yield the same packets, then the same CaptureFormatError. */
async function expectFailure(bytes: Buffer, name: string, count: number, offset: number, reason: string): Promise<void> {
  for (const o of [await fromFile(bytes, name), fromMemory(bytes)]) {
    expect(o.packets.length).toBe(count);
    expect(o.error).toBeInstanceOf(CaptureFormatError);
    const e = o.error as CaptureFormatError;
    expect({ offset: e.offset, reason: e.reason }).toEqual({ offset, reason });
    expect(e.message).toContain(`byte offset ${offset}`);
  }
}

describe('corrupt and truncated pcap', () => {
  const name = 'rtp-3ssrc-gap-wrap.eth.pcap';
  let good: Buffer;
  let offsets: number[];
  beforeAll(async () => {
    good = await readFile(fixture(name));
    offsets = [...readCaptureBuffer(good)].map((p) => p.offset);
  });

  it('reads the intact fixture', () => {
    expect(offsets[0]).toBe(24);
    expect(offsets.length).toBe(2 + 22 + 24 + 23 + 2);
  });

  it('truncated inside a record header: yields the 4 records before it, error at the 5th', async () => {
    await expectFailure(good.subarray(0, offsets[4]! + 7), 't1.pcap', 4, offsets[4]!, 'truncated');
  });

  it('truncated inside record data', async () => {
    await expectFailure(good.subarray(0, offsets[10]! + 40), 't2.pcap', 10, offsets[10]!, 'truncated');
  });

  it('truncated inside the file header, and an empty file', async () => {
    await expectFailure(good.subarray(0, 10), 't3.pcap', 0, 0, 'truncated');
    await expectFailure(Buffer.alloc(0), 't4.pcap', 0, 0, 'truncated');
  });

  it('unknown magic', async () => {
    await expectFailure(Buffer.from('GIF89a not a capture at all'), 't5.pcap', 0, 0, 'bad-magic');
  });

  it('a record claiming an absurd captured length', async () => {
    const bad = Buffer.from(good);
    bad.writeUInt32LE(0x7fffffff, offsets[3]! + 8);
    await expectFailure(bad, 't6.pcap', 3, offsets[3]!, 'bad-record-length');
  });

  it('reports absolute offsets deep into a file read in several chunks', async () => {
    const path = join(dir, 'long.pcap');
    const w = new PcapWriter(path, LINKTYPE.ETHERNET);
    for (let i = 0; i < 4000; i++) w.write(1e15 + i, buildUdpFrame(LINKTYPE.ETHERNET, '10.0.0.1', 1, '10.0.0.2', 2, Buffer.alloc(300, i)));
    await w.close();
    const all = await readFile(path);
    const offs = [...readCaptureBuffer(all)].map((p) => p.offset);
    await expectFailure(all.subarray(0, offs[3500]! + 100), 'long-cut.pcap', 3500, offs[3500]!, 'truncated');
  });
});

describe('truncated inside a record larger than a read chunk', () => {
  it('yields the packets before it and names its offset', async () => {
    const path = join(dir, 'huge.pcap');
    const w = new PcapWriter(path, LINKTYPE.RAW, 0);
    w.write(1, buildUdpFrame(LINKTYPE.RAW, '10.0.0.1', 1, '10.0.0.2', 2, Buffer.alloc(10)));
    w.write(2, Buffer.alloc(3 << 20, 0x45));
    await w.close();
    const all = await readFile(path);
    const bigAt = 24 + 16 + 38;
    await expectFailure(all.subarray(0, bigAt + (2 << 20)), 'huge-cut.pcap', 1, bigAt, 'truncated');
  });
});

describe('corrupt and truncated pcapng', () => {
  const name = 'rtp-3ssrc-gap-wrap.3if.pcapng';
  let good: Buffer;
  let offsets: number[];
  beforeAll(async () => {
    good = await readFile(fixture(name));
    offsets = [...readCaptureBuffer(good)].map((p) => p.offset);
  });

  it('block length not a multiple of 4', async () => {
    const bad = Buffer.from(good);
    bad.writeUInt32LE(bad.readUInt32LE(offsets[2]! + 4) + 2, offsets[2]! + 4);
    await expectFailure(bad, 'n1.pcapng', 2, offsets[2]!, 'bad-block-length');
  });

  it('trailing block length differs from the leading one', async () => {
    const bad = Buffer.from(good);
    const len = bad.readUInt32LE(offsets[6]! + 4);
    bad.writeUInt32LE(len + 4, offsets[6]! + len - 4);
    await expectFailure(bad, 'n2.pcapng', 6, offsets[6]!, 'bad-block-length');
  });

  it('truncated in the middle of a block', async () => {
    await expectFailure(good.subarray(0, offsets[8]! + 30), 'n3.pcapng', 8, offsets[8]!, 'truncated');
  });

  it('packet for an interface the section never described', async () => {
    const bad = Buffer.from(good);
    bad.writeUInt32LE(9, offsets[5]! + 8);
    await expectFailure(bad, 'n4.pcapng', 5, offsets[5]!, 'unknown-interface');
  });

  it('a second section header with a broken byte-order magic', async () => {
    const tail = Buffer.from(good.subarray(0, 28 + 8)); // copy of the SHB (no options), BOM broken below
    tail.writeUInt32LE(28, 4);
    tail.writeUInt32LE(28, 24);
    tail.writeUInt32LE(0x11223344, 8);
    const bad = Buffer.concat([good, tail.subarray(0, 28)]);
    await expectFailure(bad, 'n5.pcapng', offsets.length, good.length, 'bad-byte-order-magic');
  });

  it('captured length larger than the block', async () => {
    const bad = Buffer.from(good);
    bad.writeUInt32LE(5000, offsets[1]! + 20);
    await expectFailure(bad, 'n6.pcapng', 1, offsets[1]!, 'bad-captured-length');
  });
});
