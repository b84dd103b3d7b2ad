/**
 * Capture pipeline benchmark: ours (readCapture + decodeFrame +
 * FlowTable.add) against tshark's RTP heuristic field extraction on the same
 * file. Run: `npx tsx packages/capture/bench/capture-bench.ts [packets]`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildRtp, writeRtpHeader, type RtpHeaderFields } from '@imslab/rtp';
import {
  buildUdpFrame, decodeFrame, FlowTable, LINKTYPE, PcapWriter, readCapture,
} from '../src/index.ts';

/** Result of {@link runCaptureBench}. */
export interface CaptureBenchResult {
  oursPps: number;
  tsharkPps: number;
  /** oursPps / tsharkPps. */
  ratio: number;
  /** Peak RSS sampled while our reader ran. */
  peakRssMb: number;
  /** RSS just before our reader started, to show the growth (additions below). */
  baselineRssMb: number;
  packets: number;
  fileMb: number;
  oursSeconds: number;
  tsharkSeconds: number;
  flows: number;
}

const FLOWS = 50;
const RTP_PAYLOAD = 160; // 20 ms of G.711
const RSS_SAMPLE_EVERY = 8192;

/**
 * Writes an RTP-only capture of `packets` packets: FLOWS interleaved G.711
 * streams, 20 ms apart per stream. Frames are built once per flow and their
 * RTP header rewritten in place per packet (sequence, timestamp: @imslab/rtp's
 * writeRtpHeader, no allocation); the UDP checksum is set to 0
 * ("none", RFC 768) since the patched bytes would invalidate it.
 */
export async function writeRtpCapture(path: string, packets: number): Promise<void> {
  const w = new PcapWriter(path, LINKTYPE.ETHERNET);
  const headers: RtpHeaderFields[] = Array.from({ length: FLOWS }, (_, f) => ({ payloadType: 0, sequence: 0, timestamp: 0, ssrc: 0x5000_0000 + f }));
  const templates = headers.map((h, f) => {
    const rtp = buildRtp(h, Buffer.alloc(RTP_PAYLOAD, 0xd5));
    const frame = buildUdpFrame(LINKTYPE.ETHERNET, `10.1.${f >> 8}.${f & 0xff}`, 20000 + 2 * f, '10.2.0.1', 30000 + 2 * f, rtp);
    frame.writeUInt16BE(0, 14 + 20 + 6); // Ethernet 14 + IPv4 20 + UDP checksum at 6
    return frame;
  });
  const rtpAt = 14 + 20 + 8;
  const t0 = 1_700_000_000_000_000;
  for (let i = 0; i < packets; i++) {
    const f = i % FLOWS;
    const n = (i / FLOWS) | 0;
    const frame = templates[f]!;
    const h = headers[f]!;
    h.sequence = n;
    h.timestamp = n * RTP_PAYLOAD;
    writeRtpHeader(frame, rtpAt, h);
    w.write(t0 + n * 20_000 + f * 10, frame);
  }
  await w.close();
}

async function runOurs(path: string): Promise<{ seconds: number; packets: number; peakRss: number; baselineRss: number; flows: number }> {
  const baselineRss = process.memoryUsage.rss();
  let peakRss = baselineRss;
  const table = new FlowTable();
  let packets = 0;
  const t0 = process.hrtime.bigint();
  for await (const p of readCapture(path)) {
    const d = decodeFrame(p.linkType, p.data);
    if (d !== null) table.add(p, d);
    if ((++packets & (RSS_SAMPLE_EVERY - 1)) === 0) {
      const rss = process.memoryUsage.rss();
      if (rss > peakRss) peakRss = rss;
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  return { seconds, packets, peakRss, baselineRss, flows: table.flows().length };
}

function runTshark(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('tshark', ['-r', path, '-o', 'rtp.heuristic_rtp:TRUE', '-T', 'fields', '-e', 'rtp.ssrc', '-e', 'rtp.seq'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (err) => reject(new Error(`cannot run tshark (Debian package "tshark"): ${err.message}`)));
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`tshark exited with ${code}: ${stderr}`));
      else resolve(Number(process.hrtime.bigint() - t0) / 1e9);
    });
  });
}

/** Generates the capture, times ours and tshark on it, removes the file. */
export async function runCaptureBench(opts: { packets?: number } = {}): Promise<CaptureBenchResult> {
  const packets = opts.packets ?? 1_000_000;
  const dir = await mkdtemp(join(tmpdir(), 'capture-bench-'));
  const file = join(dir, 'rtp.pcap');
  try {
    await writeRtpCapture(file, packets);
    const fileMb = (await stat(file)).size / 2 ** 20;
    const ours = await runOurs(file);
    if (ours.packets !== packets) throw new Error(`read ${ours.packets} packets, wrote ${packets}`);
    const tsharkSeconds = await runTshark(file);
    const oursPps = packets / ours.seconds;
    const tsharkPps = packets / tsharkSeconds;
    return {
      oursPps, tsharkPps, ratio: oursPps / tsharkPps,
      peakRssMb: ours.peakRss / 2 ** 20, baselineRssMb: ours.baselineRss / 2 ** 20,
      packets, fileMb, oursSeconds: ours.seconds, tsharkSeconds, flows: ours.flows,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const packets = process.argv[2] ? Number(process.argv[2]) : undefined;
  const r = await runCaptureBench({ packets });
  const k = (n: number): string => `${(n / 1000).toFixed(1)}k`;
  console.log(`capture bench: ${r.packets} RTP packets, ${r.flows} flows, ${r.fileMb.toFixed(1)} MiB pcap`);
  console.log(`  ours   ${k(r.oursPps)} packets/s (${r.oursSeconds.toFixed(2)} s), RSS ${r.baselineRssMb.toFixed(0)} → peak ${r.peakRssMb.toFixed(0)} MiB`);
  console.log(`  tshark ${k(r.tsharkPps)} packets/s (${r.tsharkSeconds.toFixed(2)} s)`);
  console.log(`  ratio ours/tshark ${r.ratio.toFixed(1)}x`);
}
