/**
 * MSRP parse throughput: a stream of large chunked SEND frames (8 MiB in
 * 64 KiB bodies whose bytes include CRLFs and "-------" runs) fed to the
 * streaming parser in 16 KiB pieces, as TLS records would deliver them,
 * against a reference measured in the same run on the same bytes: a bare
 * Buffer.indexOf scan for each frame's end-line (the least any framer must
 * do). The ratio parser/reference is the figure; absolute MB/s depend on
 * the machine.
 *
 *   npx tsx packages/msrp/bench/msrp-bench.ts [seconds per side, default 1]
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSend, chunkMessage, MsrpStreamParser, serializeFrame, type MsrpUri } from '../src/index.ts';

export interface MsrpBenchResult {
  /** Bytes of frames in the stream. */
  streamBytes: number;
  frames: number;
  /** MSRP parser, 16 KiB pushes: MB/s (10^6 bytes). */
  parserMBps: number;
  /** Reference scan (Buffer.indexOf of each end-line) on the same bytes: MB/s. */
  referenceMBps: number;
  /** parserMBps / referenceMBps. */
  ratio: number;
}

const to: MsrpUri = { scheme: 'msrps', host: '127.9.0.1', port: 2855, sessionId: 'bench-to', transport: 'tcp', params: [] };
const from: MsrpUri = { scheme: 'msrps', host: '127.9.0.2', port: 2855, sessionId: 'bench-from', transport: 'tcp', params: [] };

function makeStream(totalBytes: number, chunkSize: number): { stream: Buffer; endLines: Buffer[] } {
  const body = randomBytes(totalBytes);
  // Sprinkle line breaks and dash runs: the parser must look at them and go on.
  for (let i = 0; i < body.length - 12; i += 997) body.write('\r\n-------x', i, 'latin1');
  const frames: Buffer[] = [];
  const endLines: Buffer[] = [];
  for (const c of chunkMessage(body, chunkSize)) {
    const f = buildSend({ toPath: [to], fromPath: [from], messageId: 'benchmsg01', body: c.data, contentType: 'application/octet-stream', byteRange: c.byteRange, continuation: c.continuation });
    frames.push(serializeFrame(f));
    endLines.push(Buffer.from(`\r\n-------${f.transactionId}${c.continuation}\r\n`, 'latin1'));
  }
  return { stream: Buffer.concat(frames), endLines };
}

function timeIt(seconds: number, bytes: number, run: () => void): number {
  run(); // warm-up
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    run();
    n++;
  }
  return (n * bytes) / ((performance.now() - start) / 1000) / 1e6;
}

export async function runMsrpBench(seconds = 1): Promise<MsrpBenchResult> {
  const { stream, endLines } = makeStream(8 * 1024 * 1024, 64 * 1024);
  const piece = 16 * 1024;
  let frames = 0;
  const parse = () => {
    const p = new MsrpStreamParser({ maxBodyBytes: 1 << 20 });
    let n = 0;
    for (let i = 0; i < stream.length; i += piece) n += p.push(stream.subarray(i, i + piece)).length;
    frames = n;
  };
  let found = 0;
  const scan = () => {
    let at = 0;
    found = 0;
    for (const e of endLines) {
      const i = stream.indexOf(e, at);
      if (i < 0) break;
      at = i + e.length;
      found++;
    }
  };
  // Interleaved rounds, best of each side: other load on the machine hits both alike.
  let parserMBps = 0;
  let referenceMBps = 0;
  const rounds = 5;
  for (let r = 0; r < rounds; r++) {
    parserMBps = Math.max(parserMBps, timeIt(seconds / rounds, stream.length, parse));
    referenceMBps = Math.max(referenceMBps, timeIt(seconds / rounds, stream.length, scan));
    await new Promise<void>((res) => setImmediate(res));
  }
  if (frames !== endLines.length) throw new Error(`parser found ${frames} frames, expected ${endLines.length}`);
  if (found !== endLines.length) throw new Error('reference scan lost a frame');
  await new Promise<void>((r) => setImmediate(r));
  return { streamBytes: stream.length, frames, parserMBps, referenceMBps, ratio: parserMBps / referenceMBps };
}

export function formatMsrpBench(r: MsrpBenchResult): string {
  return `msrp-parse: ${r.parserMBps.toFixed(0)} MB/s streaming parser vs ${r.referenceMBps.toFixed(0)} MB/s Buffer.indexOf end-line scan (ratio ${r.ratio.toFixed(2)}; ${r.frames} frames, ${(r.streamBytes / 1e6).toFixed(1)} MB, 16 KiB pushes)`;
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  runMsrpBench(Number(process.argv[2] ?? 1)).then((r) => console.log(`${formatMsrpBench(r)} (${fileURLToPath(import.meta.url)})`));
}
