/**
 * Issue 13 point 3: property tests for the pcap/pcapng readers and writers,
 * beside fuzz.test.ts (random frames, mutated fixtures). fast-check runs use
 * fixed seeds (printed by fast-check on failure); the mutation fuzzer uses
 * @imslab/fuzz's prng and names seed, iteration and input on failure.
 *
 * Properties:
 * - what PcapWriter / PcapngWriter write (random link types, snap lengths,
 *   byte orders, micro/nano seconds, interfaces, timestamps, lengths) reads
 *   back packet for packet, from memory and from the file;
 * - hand-built pcapng with the rarer blocks (SPB, OPB, several sections,
 *   unknown blocks, if_tsresol) reads back as built;
 * - arbitrary bytes and mutated files (fixtures and written files) yield
 *   packets inside the input and then end or throw CaptureFormatError only
 *   (offset inside the input, a known reason), within a time bound.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { prng, timedRun } from '@imslab/fuzz';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureFormatError, LINKTYPE, PcapngWriter, PcapWriter, readCapture, readCaptureBuffer, type CapturedPacket } from '../src/index.ts';
import { BLOCK_IDB, encodeBlock, encodeEpb, encodeIdb, encodeOpb, encodeShb, encodeSpb, OPT_IF_NAME, OPT_IF_TSRESOL, stringOption } from '../src/pcapng-format.ts';
import { FIXTURE_DIR } from '../scripts/make-fixtures.ts';
import { collect, tempDir } from './helpers.ts';

const BOUND_MS = 50;
const REASONS = new Set(['truncated', 'bad-magic', 'bad-version', 'bad-record-length', 'bad-byte-order-magic', 'bad-block-length', 'bad-interface-block', 'unknown-interface', 'bad-captured-length']);

function timed(f: () => unknown): number {
  return timedRun(f, BOUND_MS);
}

function must(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(`property failed: ${what}`);
}

interface Written {
  ts: number;
  data: Buffer;
  orig: number;
  iface: number;
}

const tsArb = fc.oneof(fc.integer({ min: 0, max: 2 ** 32 * 1e6 - 1 }), fc.integer({ min: 1_600_000_000_000_000, max: 1_900_000_000_000_000 }));
const pktArb = fc.record({ ts: tsArb, data: fc.uint8Array({ maxLength: 300 }).map((d) => Buffer.from(d)), extra: fc.nat(2000), iface: fc.nat(3) });
const LINKS = [...Object.values(LINKTYPE), 0, 147, 0xffff];

describe('writers -> readers round trip', { timeout: 60_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  it('pcap: every packet reads back (time, cut to the snap length, original length, link type), from memory and file', async () => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...LINKS), fc.constantFrom(0, 64, 96, 262144), fc.boolean(), fc.boolean(), fc.array(pktArb, { maxLength: 12 }),
      async (link, snap, nanosecond, bigEndian, pkts) => {
        const path = join(dir, `p${n++}.pcap`);
        const w = new PcapWriter(path, link, snap, { nanosecond, bigEndian });
        for (const p of pkts) w.write(p.ts, p.data, p.data.length + p.extra);
        await w.close();
        const buf = await readFile(path);
        const got = [...readCaptureBuffer(buf)];
        expect(got.map((p) => [p.timestampUs, p.linkType, p.interfaceId, p.originalLength, p.data.toString('hex')])).toEqual(
          pkts.map((p) => [p.ts, link, 0, p.data.length + p.extra, (snap > 0 ? p.data.subarray(0, snap) : p.data).toString('hex')]));
        expect((await collect(readCapture(path))).map((p) => p.offset)).toEqual(got.map((p) => p.offset));
      }), { seed: 0x13_0321, numRuns: 150 });
  });

  it('pcapng: every packet reads back on its interface (name, link type, snap length, time), either byte order', async () => {
    const ifaceArb = fc.record({ name: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.endsWith('\0')), link: fc.constantFrom(...LINKS), snap: fc.constantFrom(0, 50, 262144) });
    await fc.assert(fc.asyncProperty(fc.array(ifaceArb, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.array(pktArb, { maxLength: 12 }), fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined }),
      async (ifaces, bigEndian, pkts, secrets) => {
        const path = join(dir, `p${n++}.pcapng`);
        const w = new PcapngWriter(path, { bigEndian, userAppl: 'property test' });
        for (const i of ifaces) w.addInterface(i.name, i.link, i.snap);
        if (secrets) w.addDecryptionSecrets(0x544c534b, Buffer.from(secrets));
        const sent: Written[] = pkts.map((p) => ({ ts: p.ts, data: p.data, orig: p.data.length + p.extra, iface: p.iface % ifaces.length }));
        for (const p of sent) w.write(p.iface, p.ts, p.data, p.orig);
        await w.close();
        const got = [...readCaptureBuffer(await readFile(path))];
        expect(got.map((p) => [p.timestampUs, p.linkType, p.interfaceId, p.interfaceName, p.originalLength, p.data.toString('hex')])).toEqual(
          sent.map((p) => {
            const i = ifaces[p.iface]!;
            return [p.ts, i.link, p.iface, i.name, p.orig, (i.snap > 0 ? p.data.subarray(0, i.snap) : p.data).toString('hex')];
          }));
        expect((await collect(readCapture(path))).length).toBe(got.length);
      }), { seed: 0x13_0322, numRuns: 150 });
  });
});

describe('hand-built pcapng with the rarer blocks', () => {
  it('SPB, OPB, EPB over several sections, unknown blocks and if_tsresol read back as built', () => {
    const blockArb = fc.oneof(
      fc.record({ kind: fc.constant('epb' as const), data: fc.uint8Array({ maxLength: 60 }), hi: fc.nat(0xfff), lo: fc.nat(0xffffffff) }),
      fc.record({ kind: fc.constant('opb' as const), data: fc.uint8Array({ maxLength: 60 }), hi: fc.nat(0xfff), lo: fc.nat(0xffffffff) }),
      fc.record({ kind: fc.constant('spb' as const), data: fc.uint8Array({ maxLength: 60 }), hi: fc.constant(0), lo: fc.constant(0) }),
      fc.record({ kind: fc.constant('other' as const), data: fc.uint8Array({ maxLength: 60 }), hi: fc.constant(0), lo: fc.constant(0) }),
    );
    const sectionArb = fc.record({ le: fc.boolean(), resol: fc.constantFrom(undefined, 3, 6, 9, 0x8a), link: fc.constantFrom(...LINKS), blocks: fc.array(blockArb, { maxLength: 8 }) });
    fc.assert(fc.property(fc.array(sectionArb, { minLength: 1, maxLength: 3 }), (sections) => {
      const parts: Buffer[] = [];
      const expected: Array<Pick<CapturedPacket, 'linkType' | 'interfaceName' | 'timestampUs'> & { hex: string }> = [];
      let lastTs = 0;
      for (const s of sections) {
        parts.push(encodeShb(s.le));
        const opts = [stringOption(OPT_IF_NAME, 'if0'), ...(s.resol !== undefined ? [{ code: OPT_IF_TSRESOL, value: Buffer.from([s.resol]) }] : [])];
        parts.push(encodeIdb(s.le, s.link, 0, opts));
        const toUs = (hi: number, lo: number): number => {
          const units = BigInt(hi) * 2n ** 32n + BigInt(lo);
          const r = s.resol ?? 6;
          const us = r & 0x80 ? (units * 1_000_000n) / (1n << BigInt(r & 0x7f)) : r <= 6 ? units * 10n ** BigInt(6 - r) : units / 10n ** BigInt(r - 6);
          return Number(us);
        };
        for (const b of s.blocks) {
          const data = Buffer.from(b.data);
          if (b.kind === 'other') {
            parts.push(encodeBlock(0x0bad0000 + BLOCK_IDB + 0x100, Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]), s.le));
            continue;
          }
          parts.push(b.kind === 'epb' ? encodeEpb(s.le, 0, b.hi, b.lo, data) : b.kind === 'opb' ? encodeOpb(s.le, 0, b.hi, b.lo, data) : encodeSpb(s.le, data));
          // An SPB has no time of its own: it takes the previous packet's; its length is its original length (no snap length).
          const ts = b.kind === 'spb' ? lastTs : toUs(b.hi, b.lo);
          lastTs = ts;
          expected.push({ linkType: s.link, interfaceName: 'if0', timestampUs: ts, hex: data.toString('hex') });
        }
      }
      const got = [...readCaptureBuffer(Buffer.concat(parts))].map((p) => ({ linkType: p.linkType, interfaceName: p.interfaceName, timestampUs: p.timestampUs, hex: p.data.toString('hex') }));
      expect(got).toEqual(expected);
    }), { seed: 0x13_0323, numRuns: 500 });
  });
});

/** Every packet of `buf` and how the read ended: 'ok' or the CaptureFormatError's reason. Throws (untyped) on a broken invariant. */
function readAll(buf: Buffer): { packets: number; end: string } {
  let packets = 0;
  try {
    for (const p of readCaptureBuffer(buf)) {
      packets++;
      must(p.data.buffer === buf.buffer && p.data.byteOffset >= buf.byteOffset && p.data.byteOffset + p.data.length <= buf.byteOffset + buf.length, 'packet data outside the input');
      must(p.offset >= 0 && p.offset < buf.length, 'packet offset outside the input');
      must(Number.isFinite(p.timestampUs) && Number.isInteger(p.originalLength) && p.originalLength >= 0, 'bad packet fields');
    }
  } catch (e) {
    must(e instanceof CaptureFormatError, `untyped ${String(e)}`);
    must(REASONS.has(e.reason), `unknown reason ${e.reason}`);
    must(e.offset >= 0 && e.offset <= buf.length, `error offset ${e.offset} outside ${buf.length}`);
    return { packets, end: e.reason };
  }
  return { packets, end: 'ok' };
}

const int = (rnd: () => number, n: number): number => Math.floor(rnd() * n);

/** Damage a capture file sees, aimed at its length fields, magics and block types. */
function mutateCapture(rnd: () => number, src: Buffer): Buffer {
  let b = Buffer.from(src);
  const at4 = (): number => (int(rnd, Math.max(1, b.length - 4)) & ~3);
  switch (int(rnd, 7)) {
    case 0: for (let k = 1 + int(rnd, 4); k > 0 && b.length > 0; k--) b[int(rnd, b.length)] = int(rnd, 256); break;
    case 1: if (b.length >= 4) b.writeUInt32LE([0, 1, 12, 13, 28, 32, 0x7fffffff, 0xffffffff, 16 << 20, (16 << 20) + 4][int(rnd, 10)]!, at4()); break;
    case 2: if (b.length >= 4) b.writeUInt32BE([0, 12, 28, 32, 0xffffffff, 16 << 20][int(rnd, 6)]!, at4()); break;
    case 3: b = b.subarray(0, int(rnd, b.length + 1)); break;
    case 4: { const at = int(rnd, b.length + 1); b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(rnd, 16) }, () => int(rnd, 256))), b.subarray(at)]); break; }
    case 5: { const at = int(rnd, b.length + 1); b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(rnd, 40)))]); break; }
    default: if (b.length >= 4) b.writeUInt32BE([0x0a0d0d0a, 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x1a2b3c4d, 1, 2, 3, 6][int(rnd, 9)]!, at4()); break;
  }
  return b;
}

describe('readers on arbitrary and mutated files', { timeout: 60_000 }, () => {
  it('arbitrary bytes behind a valid or random magic (fast-check): packets inside the input, then the end or CaptureFormatError', () => {
    let worst = 0;
    const magics = [Buffer.from('d4c3b2a1', 'hex'), Buffer.from('a1b2c3d4', 'hex'), Buffer.from('4d3cb2a1', 'hex'), Buffer.from('0a0d0d0a', 'hex'), Buffer.alloc(0)];
    fc.assert(fc.property(fc.nat(magics.length - 1), fc.uint8Array({ maxLength: 300 }), (m, body) => {
      const buf = Buffer.concat([magics[m]!, Buffer.from(body)]);
      worst = Math.max(worst, timed(() => readAll(buf)));
    }), { seed: 0x13_0324, numRuns: 3000 });
    console.log(`capture arbitrary: 3000 inputs, worst ${worst.toFixed(3)} ms per input`);
    expect(worst).toBeLessThan(BOUND_MS);
  });

  it('6,500 mutated fixtures: packets inside the input, then the end or a typed, positioned CaptureFormatError', async () => {
    const seed = 0x13_0325;
    const rnd = prng(seed);
    const names = (await readdir(FIXTURE_DIR)).sort();
    const files = await Promise.all(names.map((f) => readFile(join(FIXTURE_DIR, f))));
    const ends = new Map<string, number>();
    let worst = 0;
    let packets = 0;
    for (let i = 0; i < 6500; i++) {
      let bad = mutateCapture(rnd, files[i % files.length]!);
      if (rnd() < 0.3) bad = mutateCapture(rnd, bad);
      let r = { packets: 0, end: '' };
      try {
        worst = Math.max(worst, timed(() => (r = readAll(bad))));
      } catch (e) {
        throw new Error(`seed ${seed} iteration ${i} (${names[i % names.length]}): ${String(e)}`);
      }
      packets += r.packets;
      ends.set(r.end, (ends.get(r.end) ?? 0) + 1);
    }
    console.log(`capture mutation: 6500 inputs, ${packets} packets, worst ${worst.toFixed(3)} ms per input, ends ${JSON.stringify(Object.fromEntries(ends))}`);
    expect(worst).toBeLessThan(BOUND_MS);
    expect(ends.get('ok')).toBeGreaterThan(300);
    expect(ends.size).toBeGreaterThan(6); // most kinds of refusal are reached
  });
});
