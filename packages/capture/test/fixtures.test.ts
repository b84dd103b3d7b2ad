import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCapture } from '../src/index.ts';
import { FIXTURE_DIR, makeFixtures } from '../scripts/make-fixtures.ts';
import { collect, requireTool, tempDir } from './helpers.ts';

describe('committed fixtures', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let names: string[];
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    names = await makeFixtures(dir);
  });
  afterAll(() => cleanup());

  it('are exactly what scripts/make-fixtures.ts generates', async () => {
    expect((await readdir(FIXTURE_DIR)).sort()).toEqual([...names].sort());
    for (const name of names) {
      const [committed, fresh] = await Promise.all([readFile(join(FIXTURE_DIR, name)), readFile(join(dir, name))]);
      expect(committed.equals(fresh), `${name} differs from a fresh run of make-fixtures.ts`).toBe(true);
    }
  });

  it('are small and readable', async () => {
    for (const name of names) {
      const path = join(FIXTURE_DIR, name);
      expect((await stat(path)).size, name).toBeLessThan(100 * 1024);
      expect((await collect(readCapture(path))).length, name).toBeGreaterThan(0);
    }
  });

  it('carry the timestamps written, in every resolution', async () => {
    const eth = await collect(readCapture(join(FIXTURE_DIR, 'rtp-3ssrc-gap-wrap.eth.pcap')));
    const ns = await collect(readCapture(join(FIXTURE_DIR, 'rtp-3ssrc-gap-wrap.eth.be-nsec.pcap')));
    const ng = await collect(readCapture(join(FIXTURE_DIR, 'rtp-3ssrc-gap-wrap.2sections-be-spb-opb.pcapng')));
    expect(eth[0]!.timestampUs).toBe(1_700_000_000_000_000);
    expect(ns.map((p) => p.timestampUs)).toEqual(eth.map((p) => p.timestampUs));
    const half = Math.floor(eth.length / 2);
    // Section 1 in ns: exact. Section 2 in 2^-20 s from if_tsoffset: within 1 µs, except the SPB (no timestamp: inherits the previous one).
    expect(ng.slice(0, half).map((p) => p.timestampUs)).toEqual(eth.slice(0, half).map((p) => p.timestampUs));
    ng.slice(half).forEach((p, i) => {
      if (i === 3) expect(p.timestampUs).toBe(ng[half + 2]!.timestampUs);
      else expect(Math.abs(p.timestampUs - eth[half + i]!.timestampUs)).toBeLessThanOrEqual(1);
    });
    expect(new Set(ng.map((p) => `${p.interfaceName}/${p.linkType}`))).toEqual(new Set(['access-a/1', 'core/276']));
  });
});

describe('external tools', () => {
  it('a missing tool fails the test naming the Debian package (never a silent skip)', () => {
    expect(() => requireTool('tshark-not-installed')).toThrow(/apt-get install tshark-not-installed/);
    expect(requireTool('tshark')).toBe('/usr/bin/tshark');
    expect(requireTool('tcpdump')).toMatch(/\/tcpdump$/);
  });
});
