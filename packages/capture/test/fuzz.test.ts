/**
 * Fuzz-style robustness: random and mutated input never makes the decoders
 * throw, and the readers throw nothing but CaptureFormatError (with the
 * same packets and offset from file and from memory).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildRtp, looksLikeRtcp, readRtpHeader } from '@imslab/rtp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildTcpFrame, buildUdpFrame, CaptureFormatError, decodeFrame, FlowTable, LINKTYPE, looksLikeDtls, looksLikeMsrp,
  looksLikeSip, looksLikeTls, readCapture, readCaptureBuffer, SipStreamReassembler,
} from '../src/index.ts';
import { FIXTURE_DIR } from '../scripts/make-fixtures.ts';
import { prng, tempDir } from './helpers.ts';

const LINKS = [...Object.values(LINKTYPE), 2, 147, 65535];

function randomBytes(rnd: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (rnd() * 256) | 0;
  return b;
}

/** Flips, smashes or cuts: the kinds of damage a capture file sees. */
function mutate(rnd: () => number, src: Buffer): Buffer {
  let b = Buffer.from(src);
  const kind = (rnd() * 4) | 0;
  if (kind === 0 || b.length < 8) {
    for (let k = 1 + ((rnd() * 4) | 0); k > 0 && b.length > 0; k--) b[(rnd() * b.length) | 0] = (rnd() * 256) | 0;
  } else if (kind === 1) {
    const at = ((rnd() * (b.length - 4)) | 0) & ~3; // aligned 32-bit field: lengths, ids, magic
    b.writeUInt32LE([0, 0xffffffff, 0x7fffffff, 1, 12, 13][(rnd() * 6) | 0]!, at);
  } else if (kind === 2) {
    b = b.subarray(0, (rnd() * b.length) | 0);
  } else {
    const at = (rnd() * b.length) | 0;
    b = Buffer.concat([b.subarray(0, at), randomBytes(rnd, 1 + ((rnd() * 16) | 0)), b.subarray(at)]);
  }
  return b;
}

function sniffAll(buf: Buffer): void {
  const h = readRtpHeader(buf);
  if (typeof h !== 'string') {
    expect(h.headerLength).toBeLessThanOrEqual(buf.length);
    expect(h.version).toBe(2);
  }
  looksLikeRtcp(buf);
  looksLikeTls(buf);
  looksLikeDtls(buf);
  looksLikeSip(buf);
  looksLikeMsrp(buf);
}

describe('decoders on random and mutated bytes', () => {
  it('decodeFrame and the payload sniffers never throw on random bytes', () => {
    const rnd = prng(1);
    for (let i = 0; i < 20_000; i++) {
      const b = randomBytes(rnd, (rnd() * 120) | 0);
      const d = decodeFrame(LINKS[i % LINKS.length]!, b);
      if (d) expect(d.payload.length).toBeLessThanOrEqual(b.length);
      sniffAll(b);
    }
  });

  it('decodeFrame never throws on mutated valid frames, and every result points inside the frame', () => {
    const rnd = prng(2);
    const seeds = [LINKTYPE.ETHERNET, LINKTYPE.LINUX_SLL, LINKTYPE.LINUX_SLL2, LINKTYPE.NULL, LINKTYPE.RAW].flatMap((lt) => [
      { lt, f: buildUdpFrame(lt, '10.0.0.1', 5060, '10.0.0.2', 5060, Buffer.from('INVITE sip:x SIP/2.0\r\n\r\n')) },
      { lt, f: buildUdpFrame(lt, '2001:db8::1', 4000, '2001:db8::2', 4002, buildRtp({ payloadType: 0, sequence: 1, timestamp: 2, ssrc: 3 }, Buffer.alloc(20))) },
      { lt, f: buildTcpFrame(lt, '10.0.0.1', 5061, '10.0.0.2', 40000, Buffer.from([22, 3, 1, 0, 1, 0]), { seq: 1 }) },
    ]);
    let decoded = 0;
    for (let i = 0; i < 30_000; i++) {
      const s = seeds[i % seeds.length]!;
      const f = mutate(rnd, s.f);
      const d = decodeFrame(s.lt, f);
      if (d) {
        decoded++;
        expect(d.payload.buffer).toBe(f.buffer);
        expect(d.payload.byteOffset + d.payload.length).toBeLessThanOrEqual(f.byteOffset + f.length);
        sniffAll(d.payload);
      }
    }
    expect(decoded).toBeGreaterThan(1000); // the mutations do not only produce garbage
  });
});

describe('readers on mutated fixtures', { timeout: 60_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  it('readCaptureBuffer throws only CaptureFormatError, after yielding sane packets; decoding and flow tracking survive', async () => {
    const rnd = prng(3);
    const names = (await readdir(FIXTURE_DIR)).sort();
    let failures = 0;
    let packets = 0;
    let outside = 0;
    for (const name of names) {
      const good = await readFile(join(FIXTURE_DIR, name));
      for (let i = 0; i < 250; i++) {
        const bad = mutate(rnd, good);
        const table = new FlowTable();
        const sip = new SipStreamReassembler();
        try {
          for (const p of readCaptureBuffer(bad)) {
            packets++;
            // Plain checks here: an expect() per packet would dominate the run time.
            if (p.offset >= bad.length || p.data.byteOffset + p.data.length > bad.byteOffset + bad.length) outside++;
            const d = decodeFrame(p.linkType, p.data);
            if (!d) continue;
            table.add(p, d);
            if (d.tcp) sip.push(d.tcp.seq, d.payload);
          }
        } catch (e) {
          expect(e, `${name} mutation ${i}`).toBeInstanceOf(CaptureFormatError);
          expect((e as CaptureFormatError).offset).toBeLessThanOrEqual(bad.length);
          failures++;
        }
      }
    }
    expect(outside).toBe(0);
    expect(failures).toBeGreaterThan(100);
    expect(packets).toBeGreaterThan(10_000);
  });

  it('the file reader agrees with the buffer reader on mutated files', async () => {
    const rnd = prng(4);
    const names = (await readdir(FIXTURE_DIR)).sort();
    for (let i = 0; i < 60; i++) {
      const name = names[i % names.length]!;
      const bad = mutate(rnd, await readFile(join(FIXTURE_DIR, name)));
      const path = join(dir, `m${i}`);
      await writeFile(path, bad);
      const outcome = async (it: AsyncIterable<{ offset: number }> | Iterable<{ offset: number }>): Promise<[number[], number | string]> => {
        const offs: number[] = [];
        try {
          for await (const p of it) offs.push(p.offset);
        } catch (e) {
          return [offs, e instanceof CaptureFormatError ? e.offset : `unexpected ${String(e)}`];
        }
        return [offs, 'ok'];
      };
      expect(await outcome(readCapture(path)), `${name} mutation ${i}`).toEqual(await outcome(readCaptureBuffer(bad)));
    }
  });

  it('the SIP reassembler survives random segments', () => {
    const rnd = prng(5);
    const r = new SipStreamReassembler();
    const text = Buffer.from('INVITE sip:a SIP/2.0\r\nContent-Length: 3\r\n\r\nabcSIP/2.0 200 OK\r\nl: 0\r\n\r\n\r\n');
    for (let i = 0; i < 5000; i++) {
      const seg = rnd() < 0.5 ? randomBytes(rnd, (rnd() * 40) | 0) : mutate(rnd, text);
      for (const m of r.push((rnd() * 2 ** 32) >>> 0, seg)) expect(m.length).toBeGreaterThan(0);
    }
    expect(r.bufferedBytes).toBeLessThan(3 << 20);
  });
});
