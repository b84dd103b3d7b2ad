/**
 * decryptCapture end to end, read back by tshark (an independent RTP/RTCP,
 * IP and UDP reader) and by the WAV header: every suite, a sequence wrap
 * (ROC 0 -> 1), MKI, re-keying both ways, SRTCP, every link type the
 * capture package frames, IPv6, G.711 mu-law and A-law audio with loss and
 * reordering, and everything it must leave alone.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUdpFrame, LINKTYPE, PcapngWriter, readCapture, decodeFrame, type CapturedPacket } from '@imslab/capture';
import { SRTP_PROFILES, type SrtpProfileName } from '@imslab/srtp';
import { ALAW_TO_LINEAR, decryptCapture, DecryptOptionsError, ULAW_TO_LINEAR, wavName, type DecryptKey, type DecryptResult } from '../src/index.ts';
import { contextFor, datagrams, keySaltFor, parseRtpStreams, rtpStream, senderReports, SUITES, tempDir, tshark, writePcap, type Datagram } from './synth.ts';

let dir: string;
let cleanup: () => Promise<void>;

const INTERFACES = [
  { name: 'access-a', linkType: LINKTYPE.ETHERNET },
  { name: 'core', linkType: LINKTYPE.LINUX_SLL2 },
  { name: 'access-b', linkType: LINKTYPE.LINUX_SLL },
  { name: 'bsd-null', linkType: LINKTYPE.NULL },
  { name: 'raw', linkType: LINKTYPE.RAW },
  { name: 'v6', linkType: LINKTYPE.ETHERNET },
  { name: 'ipv4', linkType: LINKTYPE.IPV4 },
  { name: 'bsd-loop', linkType: LINKTYPE.LOOP },
];
const T0 = 1_700_000_000_000_000;

/** One stream of the synthetic capture and what decryption must make of it. */
interface Case {
  name: string;
  iface: number;
  ssrc: number;
  src: string;
  dst: string;
  sport: number;
  /** Plaintext RTP in sending order, and what goes on the wire (same order unless the case reorders). */
  plain: Buffer[];
  wire: Buffer[];
  /** Index into `plain` of each wire packet. */
  order: number[];
  rtcpPlain: Buffer[];
  rtcpWire: Buffer[];
  keyIds: string[];
  highestRoc: number;
  /** Samples the WAV must have, or a skip reason pattern. */
  wav: number | RegExp;
  table?: Int16Array;
  /** Sequence problems are expected (loss, reordering): tshark flags them. */
  irregular?: boolean;
}

const cases: Case[] = [];
const keys: DecryptKey[] = [];
const extraDatagrams: Datagram[] = [];
let input = '';
let output = '';
let result: DecryptResult;
let inPackets: CapturedPacket[];
let outPackets: CapturedPacket[];
let untouched: { plaintextRtp: Buffer[]; unknownKey: Buffer[] };

const addr = (iface: number, host: number): string => (INTERFACES[iface]!.name === 'v6' ? `fd00::${host}` : `10.${iface}.0.${host}`);

function key(suite: SrtpProfileName, seed: number, mkiLength?: number): string {
  const id = `${suite}#${seed}`;
  if (!keys.some((k) => k.id === id)) keys.push({ id, suite, keySalt: keySaltFor(suite, seed).toString('base64'), ...(mkiLength ? { mkiLength } : {}) });
  return id;
}

function addCase(c: Omit<Case, 'src' | 'dst' | 'sport' | 'order' | 'rtcpPlain' | 'rtcpWire'> & Partial<Pick<Case, 'order' | 'rtcpPlain' | 'rtcpWire'>>): void {
  const n = cases.length;
  cases.push({ ...c, src: addr(c.iface, 1), dst: addr(c.iface, 2), sport: 20000 + 10 * n, order: c.order ?? c.plain.map((_, i) => i), rtcpPlain: c.rtcpPlain ?? [], rtcpWire: c.rtcpWire ?? [] });
}

function buildCases(): void {
  // Every suite: 200 packets from SEQ 65500, so the sequence wraps at the 36th (ROC 0 -> 1), and four SRTCP sender reports.
  SUITES.forEach((suite, i) => {
    const ctx = contextFor(suite, i + 1);
    const plain = rtpStream({ ssrc: 0x1000 + i, startSeq: 65500, count: 200, stream: i });
    const rtcpPlain = senderReports(0x1000 + i, 4);
    addCase({
      name: `suite ${suite}`, iface: i, ssrc: 0x1000 + i, plain, wire: plain.map((p) => ctx.protectRtp(p)),
      rtcpPlain, rtcpWire: rtcpPlain.map((p) => ctx.protectRtcp(p)), keyIds: [key(suite, i + 1)], highestRoc: 1, wav: 32000, table: ULAW_TO_LINEAR,
    });
  });
  // MKI (RFC 3711 sec 3.1; after the tag for AEAD, RFC 7714 sec 8): stripped, with the tag.
  for (const [suite, iface, mki] of [['AES_CM_128_HMAC_SHA1_32', 6, Buffer.from([0, 0, 0, 7])], ['AEAD_AES_256_GCM', 7, Buffer.from([0x2a, 0x01])]] as const) {
    const seed = 20 + iface;
    const ctx = contextFor(suite, seed, mki);
    const plain = rtpStream({ ssrc: 0x2000 + iface, startSeq: 65500, count: 200, stream: 7 });
    const rtcpPlain = senderReports(0x2000 + iface, 3);
    addCase({
      name: `MKI ${suite}`, iface, ssrc: 0x2000 + iface, plain, wire: plain.map((p) => ctx.protectRtp(p)),
      rtcpPlain, rtcpWire: rtcpPlain.map((p) => ctx.protectRtcp(p)), keyIds: [key(suite, seed, mki.length)], highestRoc: 1, wav: 32000, table: ULAW_TO_LINEAR,
    });
  }
  // Re-keying mid-stream, after the wrap: the new key's context starts at ROC 0 (as our UE does) or carries ROC 1 on.
  for (const [suite, iface, carryRoc] of [['AES_CM_128_HMAC_SHA1_80', 0, false], ['AEAD_AES_128_GCM', 1, true]] as const) {
    const ssrc = 0x3000 + iface;
    const first = contextFor(suite, 40 + iface);
    const second = contextFor(suite, 50 + iface);
    if (carryRoc) second.setRoc(ssrc, 1);
    const plain = rtpStream({ ssrc, startSeq: 65500, count: 200, stream: 3 });
    const rtcpPlain = senderReports(ssrc, 4);
    addCase({
      name: `re-key ${carryRoc ? 'ROC carried' : 'ROC restarts'} ${suite}`, iface, ssrc, plain,
      wire: plain.map((p, i) => (i < 100 ? first : second).protectRtp(p)),
      rtcpPlain, rtcpWire: rtcpPlain.map((p, i) => (i < 2 ? first : second).protectRtcp(p)),
      keyIds: [key(suite, 40 + iface), key(suite, 50 + iface)], highestRoc: 1, wav: 32000, table: ULAW_TO_LINEAR,
    });
  }
  // A-law (PCMA, payload type 8).
  {
    const ctx = contextFor('AES_CM_128_HMAC_SHA1_80', 60);
    const plain = rtpStream({ ssrc: 0x4000, startSeq: 1, count: 100, pt: 8, payload: (i) => Buffer.from(Array.from({ length: 160 }, (_, j) => (i * 7 + j * 13) & 0xff)) });
    addCase({ name: 'PCMA', iface: 2, ssrc: 0x4000, plain, wire: plain.map((p) => ctx.protectRtp(p)), keyIds: [key('AES_CM_128_HMAC_SHA1_80', 60)], highestRoc: 0, wav: 16000, table: ALAW_TO_LINEAR });
  }
  // A dynamic payload type: decrypted, no WAV.
  {
    const ctx = contextFor('AEAD_AES_128_GCM', 61);
    const plain = rtpStream({ ssrc: 0x4001, startSeq: 9, count: 60, pt: 96, payload: (i) => Buffer.alloc(33 + (i % 5), i) });
    addCase({ name: 'PT 96', iface: 3, ssrc: 0x4001, plain, wire: plain.map((p) => ctx.protectRtp(p)), keyIds: [key('AEAD_AES_128_GCM', 61)], highestRoc: 0, wav: /payload type 96 is not G\.711/ });
  }
  // Loss (packets 50..59 never captured) and reordering (101 before 100) across the wrap: silence in the gap, samples in place.
  {
    const ctx = contextFor('AES_256_CM_HMAC_SHA1_80', 62);
    const plain = rtpStream({ ssrc: 0x4002, startSeq: 65480, count: 200, stream: 5 });
    const wire = plain.map((p) => ctx.protectRtp(p));
    const order = plain.map((_, i) => i).filter((i) => i < 50 || i >= 60);
    const at = order.indexOf(100);
    [order[at], order[at + 1]] = [order[at + 1]!, order[at]!];
    addCase({
      name: 'loss and reordering', iface: 4, ssrc: 0x4002, plain, wire: order.map((i) => wire[i]!), order,
      keyIds: [key('AES_256_CM_HMAC_SHA1_80', 62)], highestRoc: 1, wav: 32000, table: ULAW_TO_LINEAR, irregular: true,
    });
  }
}

function caseDatagrams(c: Case, n: number): Datagram[] {
  const at = { iface: c.iface, src: c.src, sport: c.sport, dst: c.dst, dport: 30000 + 10 * n };
  // Each case starts 1 ms after the previous one, so streams interleave packet by packet.
  const start = T0 + n * 1000;
  return [
    ...c.wire.map((payload, k) => ({ ...at, us: start + c.order[k]! * 20_000 + (c.order[k] !== k ? 5000 : 0), payload })),
    ...datagrams(c.rtcpWire, { ...at, sport: c.sport + 1, dport: at.dport + 1 }, start + 10_000, 1_000_000),
  ];
}

async function writeInput(path: string): Promise<void> {
  const all = cases.flatMap((c, n) => caseDatagrams(c, n));
  // The same SRTP stream seen on two links (as an e2e call crosses access and core): both copies decrypt.
  const dup = cases[0]!;
  all.push(...dup.wire.map((payload, k) => ({ iface: 1, src: '10.1.9.1', sport: 7000, dst: '10.1.9.2', dport: 7002, us: T0 + 500 + k * 20_000, payload })));
  // Left alone: plaintext RTP (no key can open it) and SRTP under a key nobody gave.
  const stranger = contextFor('AES_CM_128_HMAC_SHA1_80', 99);
  untouched = {
    plaintextRtp: rtpStream({ ssrc: 0x5000, startSeq: 100, count: 80, stream: 9 }),
    unknownKey: rtpStream({ ssrc: 0x5001, startSeq: 65530, count: 80, stream: 8 }).map((p) => stranger.protectRtp(p)),
  };
  extraDatagrams.push(
    ...datagrams(untouched.plaintextRtp, { iface: 0, src: '10.0.7.1', sport: 7100, dst: '10.0.7.2', dport: 7102 }, T0 + 700),
    ...datagrams(untouched.unknownKey, { iface: 2, src: '10.2.7.1', sport: 7200, dst: '10.2.7.2', dport: 7202 }, T0 + 800),
    // Not RTP at all: SIP text.
    { iface: 0, src: '10.0.8.1', sport: 5060, dst: '10.0.8.2', dport: 5060, us: T0 + 900, payload: Buffer.from('OPTIONS sip:x@y SIP/2.0\r\nContent-Length: 0\r\n\r\n') },
  );
  all.push(...extraDatagrams);
  const w = new PcapngWriter(path);
  for (const i of INTERFACES) w.addInterface(i.name, i.linkType, 0);
  for (const d of all.sort((a, b) => a.us - b.us)) w.write(d.iface, d.us, buildUdpFrame(INTERFACES[d.iface]!.linkType, d.src, d.sport, d.dst, d.dport, d.payload));
  // A frame cut by the snap length: the SRTP in it cannot be authenticated, so it stays as it is.
  const cut = buildUdpFrame(LINKTYPE.ETHERNET, dup.src, 39998, dup.dst, 39999, dup.wire[0]!);
  w.write(0, T0 + 10_000_000, cut.subarray(0, 60), cut.length);
  await w.close();
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  buildCases();
  // Keys that must not disturb anything: a duplicate, an unknown suite, a wrong length, a key that opens nothing.
  keys.push({ ...keys[0]!, id: 'duplicate-of-first' }, { id: 'f8', suite: 'F8_128_HMAC_SHA1_80', keySalt: Buffer.alloc(30) },
    { id: 'short', suite: 'AEAD_AES_128_GCM', keySalt: Buffer.alloc(5) }, { id: 'unused', suite: 'AEAD_AES_256_GCM', keySalt: keySaltFor('AEAD_AES_256_GCM', 77) });
  input = join(dir, 'all-links.pcapng');
  output = join(dir, 'decrypted.pcapng');
  await writeInput(input);
  result = await decryptCapture(input, output, keys, { tlsKeyLogTexts: [`CLIENT_RANDOM ${'ab'.repeat(32)} ${'cd'.repeat(48)}\n`] });
  inPackets = [];
  for await (const p of readCapture(input)) inPackets.push({ ...p, data: Buffer.from(p.data) });
  outPackets = [];
  for await (const p of readCapture(output)) outPackets.push({ ...p, data: Buffer.from(p.data) });
}, 60_000);
afterAll(() => cleanup());

const rtpPayloadHex = (rtp: Buffer): string => rtp.subarray(12).toString('hex');

describe('decryptCapture', () => {
  it('keeps every packet, in order, on the same interfaces with the same times', () => {
    expect(result.packets).toBe(inPackets.length);
    expect(outPackets.length).toBe(inPackets.length);
    outPackets.forEach((p, i) => {
      expect(p.timestampUs).toBe(inPackets[i]!.timestampUs);
      expect(p.interfaceName).toBe(inPackets[i]!.interfaceName);
      expect(p.linkType).toBe(inPackets[i]!.linkType);
    });
  });

  it('reports every stream: packets, keys in order of use, ROC across the wrap, nothing left undecrypted', () => {
    for (const c of cases) {
      const rtp = result.streams.find((s) => s.kind === 'rtp' && s.ssrc === c.ssrc && s.link === INTERFACES[c.iface]!.name && s.src.startsWith(c.src.includes(':') ? `[${c.src}]` : c.src));
      expect(rtp, c.name).toBeDefined();
      expect(rtp, c.name).toMatchObject({ packets: c.wire.length, notDecrypted: 0, keyIds: c.keyIds, highestRoc: c.highestRoc });
      const rtcp = result.streams.filter((s) => s.kind === 'rtcp' && s.ssrc === c.ssrc);
      expect(rtcp.reduce((n, s) => n + s.packets, 0), c.name).toBe(c.rtcpWire.length);
    }
    expect(result.decryptedRtp).toBe(cases.reduce((n, c) => n + c.wire.length, 0) + cases[0]!.wire.length);
    expect(result.decryptedRtcp).toBe(cases.reduce((n, c) => n + c.rtcpWire.length, 0));
    expect(result.untouchedRtpLike).toBe(untouched.plaintextRtp.length + untouched.unknownKey.length);
    expect(result.unusedKeys).toEqual(['unused']);
    expect(result.keyProblems).toHaveLength(2);
    expect(result.keyProblems.join('\n')).toMatch(/f8: crypto-suite F8_128_HMAC_SHA1_80 is not one/);
    expect(result.keyProblems.join('\n')).toMatch(/short: AEAD_AES_128_GCM key\|\|salt must be 28 octets/);
    expect(result.tlsSecretLines).toBe(1);
  });

  it('tshark: the decrypted RTP payloads are the plaintext that was encrypted, for every stream', async () => {
    const out = await tshark(['-r', output, '-n', '-o', 'rtp.heuristic_rtp:TRUE', '-Y', 'rtp', '-T', 'fields', '-e', 'frame.interface_name', '-e', 'udp.srcport', '-e', 'rtp.ssrc', '-e', 'rtp.seq', '-e', 'rtp.payload']);
    const seen = new Map<string, string>();
    for (const line of out.split('\n').filter(Boolean)) {
      const [iface, port, ssrc, seq, payload] = line.split('\t');
      seen.set(`${iface}/${port}/${parseInt(ssrc!, 16)}/${seq}`, payload ?? '');
    }
    for (const c of cases) {
      for (const i of c.order) {
        const seq = c.plain[i]!.readUInt16BE(2);
        expect(seen.get(`${INTERFACES[c.iface]!.name}/${c.sport}/${c.ssrc}/${seq}`), `${c.name} packet ${i}`).toBe(rtpPayloadHex(c.plain[i]!));
      }
    }
  });

  it('tshark RTP stream analysis: every decrypted stream complete, no sequence problem across the wrap and the re-key', async () => {
    const rows = parseRtpStreams(await tshark(['-r', output, '-n', '-o', 'rtp.heuristic_rtp:TRUE', '-q', '-z', 'rtp,streams']));
    for (const c of cases) {
      const dst = `${c.dst}:`;
      const row = rows.find((r) => r.ssrc === c.ssrc && r.src === `${c.src}:${c.sport}` && r.dst.startsWith(dst));
      expect(row, c.name).toBeDefined();
      expect(row!.packets, c.name).toBe(c.wire.length);
      if (!c.irregular) expect(row, c.name).toMatchObject({ lost: 0, problem: false });
      if (c.table === ULAW_TO_LINEAR) expect(row!.payload).toBe('g711U');
      if (c.table === ALAW_TO_LINEAR) expect(row!.payload).toBe('g711A');
    }
    const lossy = rows.find((r) => r.ssrc === 0x4002)!;
    expect(lossy.lost).toBe(10);
  });

  it('tshark: decrypted SRTCP is well-formed RTCP; IP and UDP checksums are right everywhere; nothing malformed', async () => {
    const base = ['-r', output, '-n', '-o', 'rtp.heuristic_rtp:TRUE', '-o', 'rtcp.heuristic_rtcp:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE'];
    const rtcp = (await tshark([...base, '-Y', 'rtcp.pt == 200', '-T', 'fields', '-e', 'rtcp.senderssrc'])).split('\n').filter(Boolean);
    expect(rtcp.length).toBe(result.decryptedRtcp);
    expect((await tshark([...base, '-Y', 'udp.checksum.status == 0 || ip.checksum.status == 0 || _ws.malformed || _ws.expert.severity >= 8388608'])).trim()).toBe('');
    // Our reader agrees byte for byte: the UDP payload is the plaintext RTCP, E|index, MKI and tag gone.
    const plain = new Set(cases.flatMap((c) => c.rtcpPlain.map((p) => p.toString('hex'))));
    const decrypted = outPackets.map((p) => decodeFrame(p.linkType, p.data)).filter((d) => d !== null && d.payload.length > 1 && d.payload[1] === 200);
    expect(decrypted.length).toBe(result.decryptedRtcp);
    for (const d of decrypted) expect(plain.has(d!.payload.toString('hex'))).toBe(true);
  });

  it('leaves plaintext RTP, SRTP under unknown keys, non-RTP and cut frames byte for byte as they were', () => {
    const mustStay = new Set([...untouched.plaintextRtp, ...untouched.unknownKey, ...extraDatagrams.map((d) => d.payload)].map((b) => b.toString('hex')));
    let stayed = 0;
    outPackets.forEach((p, i) => {
      const before = inPackets[i]!;
      const d = decodeFrame(before.linkType, before.data);
      if (before.data.length !== before.originalLength || (d && mustStay.has(d.payload.toString('hex')))) {
        expect(p.data.equals(before.data)).toBe(true);
        expect(p.originalLength).toBe(before.originalLength);
        stayed++;
      }
    });
    expect(stayed).toBe(mustStay.size + 1);
    expect(outPackets.filter((p, i) => !p.data.equals(inPackets[i]!.data)).length).toBe(result.decryptedRtp + result.decryptedRtcp);
  });

  it('writes one WAV per G.711 stream: RIFF header, 8 kHz 16-bit mono, samples by timestamp, gaps silent', async () => {
    for (const c of cases) {
      const s = result.streams.find((x) => x.kind === 'rtp' && x.ssrc === c.ssrc && x.link === INTERFACES[c.iface]!.name)!;
      if (c.wav instanceof RegExp) {
        expect(s.audio).toEqual({ skipped: expect.stringMatching(c.wav) });
        continue;
      }
      expect(s.audio).toMatchObject({ samples: c.wav, file: join(dir, 'audio', wavName(s)) });
      const wav = await readFile(join(dir, 'audio', wavName(s)));
      expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
      expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
      expect(wav.toString('ascii', 8, 16)).toBe('WAVEfmt ');
      expect([wav.readUInt16LE(20), wav.readUInt16LE(22), wav.readUInt32LE(24), wav.readUInt32LE(28), wav.readUInt16LE(32), wav.readUInt16LE(34)]).toEqual([1, 1, 8000, 16000, 2, 16]);
      expect(wav.toString('ascii', 36, 40)).toBe('data');
      expect(wav.readUInt32LE(40)).toBe(c.wav * 2);
      expect(wav.length).toBe(44 + c.wav * 2);
      // Sample k of packet i sits at (timestamp_i - timestamp_0) + k; packets never captured are zeros.
      const captured = new Set(c.order);
      for (let i = 0; i < c.plain.length; i++) {
        const ts = (c.plain[i]!.readUInt32BE(4) - c.plain[0]!.readUInt32BE(4)) >>> 0;
        const payload = c.plain[i]!.subarray(12);
        for (let k = 0; k < payload.length; k += 37) {
          expect(wav.readInt16LE(44 + 2 * (ts + k)), `${c.name} packet ${i} sample ${k}`).toBe(captured.has(i) ? c.table![payload[k]!]! : 0);
        }
      }
    }
    expect(wavName({ link: 'v6', src: '[fd00::1]:20050', dst: '[fd00::2]:30050', ssrcHex: '00001005' })).toBe('v6_fd00__1.20050_to_fd00__2.30050-00001005.wav');
  });
});

describe('decryptCapture: input forms and misuse', () => {
  it('reads classic pcap, names the link after the file, writes no WAV when asked not to', async () => {
    const ctx = contextFor('AES_CM_128_HMAC_SHA1_32', 5);
    const plain = rtpStream({ ssrc: 77, startSeq: 65535, count: 3 });
    const path = join(dir, 'core.pcap');
    await writePcap(path, LINKTYPE.LINUX_SLL, datagrams(plain.map((p) => ctx.protectRtp(p)), { iface: 0, src: '10.9.0.1', sport: 1, dst: '10.9.0.2', dport: 2 }, T0));
    const r = await decryptCapture(path, join(dir, 'core-decrypted.pcapng'), [{ id: 'k', suite: 'AES_CM_128_HMAC_SHA1_32', keySalt: keySaltFor('AES_CM_128_HMAC_SHA1_32', 5) }], { audioDir: false });
    expect(r.streams).toMatchObject([{ link: 'core', packets: 3, highestRoc: 1, flow: 'core 10.9.0.1:1 > 10.9.0.2:2' }]);
    expect(r.streams[0]!.audio).toBeUndefined();
    expect(r.audioDir).toBeNull();
    const names = (await tshark(['-r', join(dir, 'core-decrypted.pcapng'), '-T', 'fields', '-e', 'frame.interface_name'])).trim().split('\n');
    expect(names).toEqual(['core', 'core', 'core']);
  });

  it('refuses to overwrite its input; with no keys it copies the capture', async () => {
    await expect(decryptCapture(input, input, keys)).rejects.toBeInstanceOf(DecryptOptionsError);
    const copy = join(dir, 'copy.pcapng');
    const r = await decryptCapture(input, copy, []);
    expect(r).toMatchObject({ packets: inPackets.length, decryptedRtp: 0, decryptedRtcp: 0, streams: [] });
    let i = 0;
    for await (const p of readCapture(copy)) expect(p.data.equals(inPackets[i++]!.data)).toBe(true);
  });

  it('every suite the key table holds is exercised', () => {
    expect(new Set(keys.filter((k) => k.suite in SRTP_PROFILES).map((k) => k.suite))).toEqual(new Set(SUITES));
  });
});
