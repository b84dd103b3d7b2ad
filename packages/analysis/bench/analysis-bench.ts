/**
 * Analysis of 1,000,000-packet captures, every packet accounted for (every
 * SRTP tag verified, every plaintext packet read, replays and unknown
 * packets counted), packets per second, against tshark's RTP field
 * extraction of the same file in the same run:
 * `tshark -r FILE -n -o rtp.heuristic_rtp:TRUE -T fields -e rtp.ssrc -e rtp.seq`.
 * Peak RSS is sampled during our pass; it must not grow with the file.
 *
 * Three shapes of capture:
 * - `probe-8`: 8 flows, half SRTP under logged keys, half plaintext, all
 *   carrying the probe marker (the testbed's own calls);
 * - `unknown-50`: 50 flows, half SRTP-like under keys nobody logged (the key
 *   log holds other calls' keys), half unmarked plaintext G.711-like audio;
 *   no probe (third-party user agents);
 * - `mixed`: 20 flows (SRTP under logged keys, plaintext probe, SRTP under
 *   unlogged keys, unmarked audio), RTCP and SRTCP on them, and SIP with SDP
 *   and SDES keys between the media: over UDP on a non-standard port, and
 *   over TCP split across segments.
 * Ours is the median of `runs` passes (the machine may be shared).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTcpFrame, buildUdpFrame, LINKTYPE, PcapWriter } from '@imslab/capture';
import { formatKeyLogEntry, linearToUlaw, markerFor, probePayload } from '@imslab/probe';
import { buildRtp, buildSenderReport } from '@imslab/rtp';
import { generateKeySalt, splitKeySalt, SrtpContext } from '@imslab/srtp';
import { loadKeyRing, scanLink, type LinkReport } from '../src/index.ts';

export const BENCH_SHAPES = ['probe-8', 'unknown-50', 'mixed'] as const;
export type BenchShape = (typeof BENCH_SHAPES)[number];

export interface AnalysisBenchResult {
  shape: BenchShape;
  description: string;
  packets: number;
  fileMb: number;
  /** Our passes, seconds; `oursPps` is from their median. */
  oursSeconds: number[];
  oursPps: number;
  tsharkSeconds: number;
  tsharkPps: number;
  /** tshark's time / ours. */
  ratio: number;
  peakRssMb: number;
  /** What the analyser counted, summed over flows (checked against what the capture holds). */
  counted: { rtp: number; plaintext: number; srtp: number; replayed: number; unknown: number; plaintextUnmarked: number; rtcp: number; sip: number };
}

interface Capture {
  file: string;
  keyLog: string;
  description: string;
  expect: Partial<AnalysisBenchResult['counted']>;
}

const T0 = 1_700_000_000_000_000;
const A = '127.0.1.100';
const B = '127.0.1.11';

function keyLogOf(dir: string, keys: Buffer[], owner: string): string {
  const file = join(dir, `${owner}.srtp-keys.jsonl`);
  writeFileSync(file, keys.map((k, i) => formatKeyLogEntry({ kind: 'srtp', owner: `${owner}${i}`, callId: `call-${owner}-${i}`, dir: 'tx', suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: k.toString('base64'), keyMgmt: 'sdes', at: '' })).join(''));
  return file;
}

const context = (k: Buffer) => new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...splitKeySalt('AES_CM_128_HMAC_SHA1_80', k) });
const newKeys = (n: number) => Array.from({ length: n }, () => generateKeySalt('AES_CM_128_HMAC_SHA1_80'));

/** One second (50 packets) of the probe for one call, reused: building the file is not what is measured. */
const probeSecond = (call: string) => Array.from({ length: 50 }, (_, n) => probePayload(markerFor(call, 'orig'), n));

/** One second of voice-like G.711 (a few harmonics under a slow envelope, mu-law), no marker. */
function speechSecond(seed: number): Buffer[] {
  return Array.from({ length: 50 }, (_, i) => {
    const out = Buffer.alloc(160);
    for (let n = 0; n < 160; n++) {
      const t = (i * 160 + n) / 8000;
      const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * (2 + seed % 3) * t);
      const f0 = 120 + 7 * seed;
      out[n] = linearToUlaw(env * (3000 * Math.sin(2 * Math.PI * f0 * t) + 1500 * Math.sin(2 * Math.PI * 3 * f0 * t) + 600 * Math.sin(2 * Math.PI * 7 * f0 * t)));
    }
    return out;
  });
}

function sipMessage(i: number, keySalt: string): Buffer {
  const sdp = ['v=0', `o=- ${i} 1 IN IP4 ${A}`, 's=-', `c=IN IP4 ${A}`, 't=0 0', `m=audio ${41000 + (i % 50) * 2} RTP/SAVP 0`, `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${keySalt}`, ''].join('\r\n');
  return Buffer.from([
    `INVITE sip:ua${i}@example.net SIP/2.0`, `Via: SIP/2.0/UDP ${A}:15060;branch=z9hG4bK${i}`, `Call-ID: bench-${i}@example.net`, 'CSeq: 1 INVITE',
    'Content-Type: application/sdp', `Content-Length: ${sdp.length}`, '', sdp,
  ].join('\r\n'));
}

/** `probe-8`: the bench's original capture. */
async function probe8(dir: string, packets: number): Promise<Capture> {
  const file = join(dir, 'probe-8.pcap');
  const w = new PcapWriter(file, LINKTYPE.ETHERNET);
  const flows = 8;
  const keys = newKeys(flows / 2);
  const keyLog = keyLogOf(dir, keys, 'ue');
  const ctx = keys.map(context);
  const payloads = Array.from({ length: flows }, (_, f) => probeSecond(`call-${f}`));
  for (let i = 0; i < packets; i++) {
    const f = i % flows;
    const n = Math.floor(i / flows);
    const rtp = buildRtp({ payloadType: 0, sequence: n & 0xffff, timestamp: n * 160, ssrc: 0x1000 + f }, payloads[f]![n % 50]!);
    const wire = f < flows / 2 ? ctx[f]!.protectRtp(rtp) : rtp;
    w.write(T0 + i * 20, buildUdpFrame(LINKTYPE.ETHERNET, A, 40000 + 2 * f, B, 30000 + 2 * f, wire));
  }
  await w.close();
  return { file, keyLog, description: '8 flows: 4 SRTP under logged keys, 4 plaintext, all with the probe', expect: { rtp: packets, plaintext: packets / 2, srtp: packets / 2, unknown: 0, replayed: 0 } };
}

/** `unknown-50`: third-party calls: SRTP under keys nobody logged, and unmarked plaintext audio. */
async function unknown50(dir: string, packets: number): Promise<Capture> {
  const file = join(dir, 'unknown-50.pcap');
  const w = new PcapWriter(file, LINKTYPE.ETHERNET);
  const flows = 50;
  const ctx = newKeys(flows / 2).map(context);
  // The key log holds keys, but of other calls: every one is tried, none verifies.
  const keyLog = keyLogOf(dir, newKeys(4), 'other');
  const speech = Array.from({ length: flows / 2 }, (_, f) => speechSecond(f));
  for (let i = 0; i < packets; i++) {
    const f = i % flows;
    const n = Math.floor(i / flows);
    const srtp = f < flows / 2;
    const rtp = buildRtp({ payloadType: 0, sequence: (n + 1000 * f) & 0xffff, timestamp: n * 160, ssrc: 0x2000 + f }, srtp ? speech[f]![n % 50]! : speech[f - flows / 2]![(n + 7) % 50]!);
    const wire = srtp ? ctx[f]!.protectRtp(rtp) : rtp;
    w.write(T0 + i * 20, buildUdpFrame(LINKTYPE.ETHERNET, `10.0.${f}.1`, 20000 + 2 * f, `10.1.${f}.1`, 50000 + 2 * f, wire));
  }
  await w.close();
  return { file, keyLog, description: '50 flows: 25 SRTP under keys nobody logged, 25 unmarked plaintext G.711, no probe', expect: { rtp: packets, plaintext: 0, srtp: 0, unknown: packets / 2, plaintextUnmarked: packets / 2 } };
}

/** `mixed`: a realistic link: keyed and plaintext probe calls, unknown keys, unmarked audio, RTCP, SIP over UDP (port 15060) and TCP (15080). */
async function mixed(dir: string, packets: number): Promise<Capture> {
  const file = join(dir, 'mixed.pcap');
  const w = new PcapWriter(file, LINKTYPE.ETHERNET);
  // Flow kinds: 8 SRTP under logged keys, 6 plaintext probe, 4 SRTP under unlogged keys, 2 unmarked audio.
  const kinds = [...Array(8).fill('logged'), ...Array(6).fill('plain'), ...Array(4).fill('unlogged'), ...Array(2).fill('audio')] as Array<'logged' | 'plain' | 'unlogged' | 'audio'>;
  const logged = newKeys(8);
  const keyLog = keyLogOf(dir, logged, 'ue');
  const ctx = kinds.map((k, f) => (k === 'logged' ? context(logged[f]!) : k === 'unlogged' ? context(generateKeySalt('AES_CM_128_HMAC_SHA1_80')) : null));
  const payloads = kinds.map((k, f) => (k === 'audio' || k === 'unlogged' ? speechSecond(f) : probeSecond(`mixed-${f}`)));
  const seq = new Array<number>(kinds.length).fill(0);
  const sdes = generateKeySalt('AES_CM_128_HMAC_SHA1_80').toString('base64');
  let rtp = 0, rtcp = 0, sip = 0, plaintext = 0, srtp = 0, unknown = 0;
  let tcpSeq = 1000;
  for (let i = 0; i < packets; i++) {
    const ts = T0 + i * 20;
    if (i % 2000 === 1999) {
      // SIP between the media: a UDP INVITE on a non-standard port; every fifth one over TCP in two segments.
      const m = sipMessage(i, sdes);
      if (i % 10000 === 9999 && i + 1 < packets) {
        const cut = 97;
        w.write(ts, buildTcpFrame(LINKTYPE.ETHERNET, A, 15080, B, 15080, m.subarray(0, cut), { seq: tcpSeq }));
        w.write(ts + 1, buildTcpFrame(LINKTYPE.ETHERNET, A, 15080, B, 15080, m.subarray(cut), { seq: tcpSeq + cut }));
        tcpSeq += m.length;
        i++;
      } else {
        w.write(ts, buildUdpFrame(LINKTYPE.ETHERNET, A, 15060, B, 15070, m));
      }
      sip++;
      continue;
    }
    const f = i % kinds.length;
    const n = seq[f]!++;
    const c = ctx[f];
    let wire: Buffer;
    if (n % 250 === 249) {
      // RTCP every 5 s of media: SRTCP on protected flows, plain RTCP on the others.
      const sr = buildSenderReport(0x3000 + f, n * 160, n, n * 160, 1_700_000_000_000 + n * 20);
      wire = c ? c.protectRtcp(sr) : sr;
      rtcp++;
    } else {
      const p = buildRtp({ payloadType: 0, sequence: (n + 300 * f) & 0xffff, timestamp: n * 160, ssrc: 0x3000 + f }, payloads[f]![n % 50]!);
      wire = c ? c.protectRtp(p) : p;
      rtp++;
      if (kinds[f] === 'logged') srtp++;
      else if (kinds[f] === 'plain') plaintext++;
      else unknown++;
    }
    w.write(ts, buildUdpFrame(LINKTYPE.ETHERNET, A, 40000 + 2 * f, B, 30000 + 2 * f, wire));
  }
  await w.close();
  return {
    file, keyLog,
    description: '20 flows: 8 SRTP under logged keys, 6 plaintext probe, 4 SRTP under unlogged keys, 2 unmarked audio; RTCP/SRTCP; SIP+SDES on UDP 15060 and TCP 15080',
    expect: { rtp, plaintext, srtp, rtcp, sip, replayed: 0 },
  };
}

const MAKERS: Record<BenchShape, (dir: string, packets: number) => Promise<Capture>> = { 'probe-8': probe8, 'unknown-50': unknown50, mixed };

function tsharkPass(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('tshark', ['-r', file, '-n', '-o', 'rtp.heuristic_rtp:TRUE', '-T', 'fields', '-e', 'rtp.ssrc', '-e', 'rtp.seq'], { stdio: ['ignore', 'ignore', 'ignore'] });
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`tshark exited ${code}`))));
  });
}

function counted(r: LinkReport): AnalysisBenchResult['counted'] {
  const c = { rtp: 0, plaintext: 0, srtp: 0, replayed: 0, unknown: 0, plaintextUnmarked: 0, rtcp: 0, sip: r.signalling.plaintextSip };
  for (const f of r.media) {
    const srtp = Object.values(f.srtp).reduce((a, b) => a + b, 0);
    if (f.plaintext + srtp + f.replayed + f.unknown + f.plaintextUnmarked !== f.packets) throw new Error(`${f.flow}: classes do not add up to ${f.packets}`);
    if (f.rtcpPlain + Object.values(f.srtcp).reduce((a, b) => a + b, 0) + f.srtcpUnknown !== f.rtcp) throw new Error(`${f.flow}: RTCP classes do not add up`);
    c.rtp += f.packets;
    c.plaintext += f.plaintext;
    c.srtp += srtp;
    c.replayed += f.replayed;
    c.unknown += f.unknown;
    c.plaintextUnmarked += f.plaintextUnmarked;
    c.rtcp += f.rtcp;
  }
  return c;
}

/**
 * Builds each shape's capture (`packets` packets), analyses it `runs` times
 * and runs tshark on it once; one result per shape, in `shapes` order.
 */
export async function runAnalysisBench(opts: { packets?: number; shapes?: readonly BenchShape[]; runs?: number; tshark?: boolean } = {}): Promise<AnalysisBenchResult[]> {
  const packets = opts.packets ?? 1_000_000;
  const runs = opts.runs ?? 5;
  const out: AnalysisBenchResult[] = [];
  for (const shape of opts.shapes ?? BENCH_SHAPES) {
    const dir = mkdtempSync(join(tmpdir(), `imslab-analysis-bench-${shape}-`));
    try {
      const cap = await MAKERS[shape](dir, packets);
      const ring = loadKeyRing([cap.keyLog]);
      const times: number[] = [];
      let peak = 0;
      let last: LinkReport | null = null;
      for (let k = 0; k < runs; k++) {
        peak = Math.max(peak, process.memoryUsage().rss);
        const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
        const t0 = performance.now();
        last = await scanLink(shape, cap.file, ring.keys);
        times.push((performance.now() - t0) / 1000);
        clearInterval(sampler);
        peak = Math.max(peak, process.memoryUsage().rss);
      }
      const c = counted(last!);
      for (const [k, v] of Object.entries(cap.expect)) {
        if (c[k as keyof typeof c] !== v) throw new Error(`${shape}: counted ${k} ${c[k as keyof typeof c]}, the capture holds ${v}`);
      }
      const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
      const tshark = opts.tshark === false ? NaN : await tsharkPass(cap.file);
      out.push({
        shape, description: cap.description, packets, fileMb: statSync(cap.file).size / 2 ** 20,
        oursSeconds: times, oursPps: packets / median, tsharkSeconds: tshark, tsharkPps: packets / tshark, ratio: tshark / median,
        peakRssMb: peak / 2 ** 20, counted: c,
      });
    } finally {
      if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
      else console.log(dir);
    }
  }
  return out;
}

export function formatAnalysisBench(r: AnalysisBenchResult): string {
  return `analysis ${r.shape}: ${r.packets} packets (${r.fileMb.toFixed(0)} MB): ours ${Math.round(r.oursPps)} packets/s (${r.oursSeconds.map((s) => s.toFixed(2)).join(', ')} s), ` +
    `tshark ${Math.round(r.tsharkPps)} packets/s (${r.tsharkSeconds.toFixed(1)} s), ratio ${r.ratio.toFixed(1)}x, peak RSS ${r.peakRssMb.toFixed(0)} MB`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const shapes = process.argv.slice(3).filter((s): s is BenchShape => (BENCH_SHAPES as readonly string[]).includes(s));
  const results = await runAnalysisBench({ packets: Number(process.argv[2] ?? 1_000_000), ...(shapes.length ? { shapes } : {}), tshark: !process.env.NO_TSHARK });
  for (const r of results) console.log(formatAnalysisBench(r));
}
