/**
 * Analysis of a 1,000,000-packet capture of RTP and SRTP flows (half
 * plaintext probe, half SRTP under logged keys), packets per second, against
 * tshark's RTP dissection of the same file in the same run:
 * `tshark -r FILE -o rtp.heuristic_rtp:TRUE -T fields -e rtp.ssrc -e rtp.seq`.
 * Peak RSS is sampled during our pass; it must not grow with the file.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildUdpFrame, LINKTYPE, PcapWriter } from '@imslab/capture';
import { formatKeyLogEntry, markerFor, probePayload } from '@imslab/probe';
import { buildRtp } from '@imslab/rtp';
import { generateKeySalt, splitKeySalt, SrtpContext } from '@imslab/srtp';
import { loadKeyRing, scanLink } from '../src/index.ts';

export interface AnalysisBenchResult { packets: number; oursPps: number; tsharkPps: number; ratio: number; peakRssMb: number; fileMb: number }

async function makeCapture(dir: string, packets: number): Promise<{ file: string; keyLog: string }> {
  const file = join(dir, 'bench.pcap');
  const w = new PcapWriter(file, LINKTYPE.ETHERNET);
  const flows = 8;
  const keys = Array.from({ length: flows / 2 }, () => generateKeySalt('AES_CM_128_HMAC_SHA1_80'));
  const keyLog = join(dir, 'bench.srtp-keys.jsonl');
  writeFileSync(keyLog, keys.map((k, i) => formatKeyLogEntry({ kind: 'srtp', owner: `ue${i}`, callId: `call-${i}`, dir: 'tx', suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: k.toString('base64'), keyMgmt: 'sdes', at: '' })).join(''));
  const ctx = keys.map((k) => new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...splitKeySalt('AES_CM_128_HMAC_SHA1_80', k) }));
  // One second of probe per flow, reused: building the file is not what is measured.
  const payloads = Array.from({ length: flows }, (_, f) => Array.from({ length: 50 }, (_, n) => probePayload(markerFor(`call-${f}`, 'orig'), n)));
  for (let i = 0; i < packets; i++) {
    const f = i % flows;
    const n = Math.floor(i / flows);
    const rtp = buildRtp({ payloadType: 0, sequence: n, timestamp: n * 160, ssrc: 0x1000 + f }, payloads[f]![n % payloads[f]!.length]!);
    const wire = f < flows / 2 ? ctx[f]!.protectRtp(rtp) : rtp;
    w.write(1_700_000_000_000_000 + i * 20, buildUdpFrame(LINKTYPE.ETHERNET, '127.0.1.100', 40000 + 2 * f, '127.0.1.11', 30000 + 2 * f, wire));
  }
  await w.close();
  return { file, keyLog };
}

function tsharkPass(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('tshark', ['-r', file, '-n', '-o', 'rtp.heuristic_rtp:TRUE', '-T', 'fields', '-e', 'rtp.ssrc', '-e', 'rtp.seq'], { stdio: ['ignore', 'ignore', 'ignore'] });
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`tshark exited ${code}`))));
  });
}

export async function runAnalysisBench(opts: { packets?: number } = {}): Promise<AnalysisBenchResult> {
  const packets = opts.packets ?? 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'imslab-analysis-bench-'));
  try {
    const { file, keyLog } = await makeCapture(dir, packets);
    const ring = loadKeyRing([keyLog]);
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
    const t0 = performance.now();
    const report = await scanLink('bench', file, ring.keys);
    const ours = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const seen = report.media.reduce((a, f) => a + f.packets, 0);
    if (seen !== packets) throw new Error(`analyser saw ${seen} of ${packets} packets`);
    const tshark = await tsharkPass(file);
    return { packets, oursPps: packets / ours, tsharkPps: packets / tshark, ratio: tshark / ours, peakRssMb: peak / 2 ** 20, fileMb: statSync(file).size / 2 ** 20 };
  } finally {
    if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true }); else console.log(dir);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runAnalysisBench({ packets: Number(process.argv[2] ?? 1_000_000) });
  console.log(`analysis: ${r.packets} packets (${r.fileMb.toFixed(0)} MB): ours ${Math.round(r.oursPps)} packets/s, tshark ${Math.round(r.tsharkPps)} packets/s, ratio ${r.ratio.toFixed(1)}x, peak RSS ${r.peakRssMb.toFixed(0)} MB`);
}
