/**
 * Packets protected by libsrtp2 (an independent sender) decrypt: every suite
 * this libsrtp build supports, across a sequence wrap, with and without MKI,
 * RTP and RTCP; tshark reads the result as the plaintext.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrame, LINKTYPE, readCapture } from '@imslab/capture';
import { decryptCapture, type DecryptKey } from '../src/index.ts';
import { buildSrtpTool, libsrtpProtect } from './libsrtp.ts';
import { datagrams, keySaltFor, parseRtpStreams, rtpStream, senderReports, SUITES, tempDir, tshark, writePcapng, type Datagram } from './synth.ts';

let dir: string;
let cleanup: () => Promise<void>;
let tool: string;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  tool = buildSrtpTool(dir);
}, 60_000);
afterAll(() => cleanup());

describe('libsrtp2-protected packets', () => {
  it('every suite, with and without MKI, across the wrap, RTP and SRTCP: decrypted to the plaintext', { timeout: 60_000 }, async () => {
    const keys: DecryptKey[] = [];
    const all: Datagram[] = [];
    const expected = new Map<number, { plain: Buffer[]; rtcp: Buffer[] }>();
    const skipped: string[] = [];
    let n = 0;
    for (const suite of SUITES) {
      for (const mki of [undefined, Buffer.from([0xde, 0xad, 0xbe, 0xef])]) {
        const ssrc = 0x7000 + n;
        const ks = keySaltFor(suite, 200 + n);
        const plain = rtpStream({ ssrc, startSeq: 65500, count: 200, stream: n % 8 });
        const rtcp = senderReports(ssrc, 3);
        const wire = libsrtpProtect(tool, 'protect', suite, ks, plain, mki);
        const rtcpWire = libsrtpProtect(tool, 'protect_rtcp', suite, ks, rtcp, mki);
        if (wire === 'unsupported' || rtcpWire === 'unsupported') {
          skipped.push(suite);
          n++;
          continue;
        }
        const port = 10000 + 10 * n;
        keys.push({ id: `libsrtp-${n}`, suite, keySalt: ks, ...(mki ? { mkiLength: mki.length } : {}) });
        const at = { iface: 0, src: '10.5.0.1', sport: port, dst: '10.5.0.2', dport: port };
        all.push(...datagrams(wire, at, 1e15 + n * 100), ...datagrams(rtcpWire, { ...at, sport: port + 1, dport: port + 1 }, 1e15 + n * 100 + 7, 1_000_000));
        expected.set(ssrc, { plain, rtcp });
        n++;
      }
    }
    // AES-CM and HMAC-SHA1 are in every libsrtp2 build; GCM needs its OpenSSL/NSS backend (Debian's has one).
    expect(skipped.filter((s) => !s.startsWith('AEAD'))).toEqual([]);
    if (skipped.length) console.warn(`libsrtp2 here lacks: ${[...new Set(skipped)].join(', ')}`);
    const input = join(dir, 'libsrtp.pcapng');
    const output = join(dir, 'libsrtp-decrypted.pcapng');
    await writePcapng(input, [{ name: 'core', linkType: LINKTYPE.ETHERNET }], all);
    const r = await decryptCapture(input, output, keys, { audioDir: false });
    expect(r.unusedKeys).toEqual([]);
    for (const [ssrc, e] of expected) {
      const s = r.streams.filter((x) => x.ssrc === ssrc);
      expect(s.find((x) => x.kind === 'rtp'), `ssrc ${ssrc}`).toMatchObject({ packets: 200, highestRoc: 1, notDecrypted: 0 });
      expect(s.find((x) => x.kind === 'rtcp'), `ssrc ${ssrc}`).toMatchObject({ packets: 3 });
    }
    const fields = await tshark(['-r', output, '-n', '-o', 'rtp.heuristic_rtp:TRUE', '-Y', 'rtp', '-T', 'fields', '-e', 'rtp.ssrc', '-e', 'rtp.seq', '-e', 'rtp.payload']);
    const got = new Map(fields.split('\n').filter(Boolean).map((l) => {
      const [ssrc, seq, payload] = l.split('\t');
      return [`${parseInt(ssrc!, 16)}/${seq}`, payload] as const;
    }));
    for (const [ssrc, e] of expected) {
      for (const p of e.plain) expect(got.get(`${ssrc}/${p.readUInt16BE(2)}`)).toBe(p.subarray(12).toString('hex'));
    }
    // SRTCP: the UDP payload is now the sender report libsrtp was given.
    const reports = new Set([...expected.values()].flatMap((e) => e.rtcp.map((b) => b.toString('hex'))));
    let rtcpSeen = 0;
    for await (const p of readCapture(output)) {
      const d = decodeFrame(p.linkType, p.data)!;
      if (d.payload[1] !== 200) continue;
      expect(reports.has(d.payload.toString('hex'))).toBe(true);
      rtcpSeen++;
    }
    expect(rtcpSeen).toBe(reports.size);
    const rows = parseRtpStreams(await tshark(['-r', output, '-n', '-o', 'rtp.heuristic_rtp:TRUE', '-q', '-z', 'rtp,streams']));
    for (const ssrc of expected.keys()) expect(rows.find((x) => x.ssrc === ssrc)).toMatchObject({ packets: 200, lost: 0, problem: false });
  });
});
