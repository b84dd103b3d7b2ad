/**
 * SRTP throughput: protect+unprotect pairs per second for 160-octet PCMU
 * payloads behind a 12-octet RTP header, AES_CM_128_HMAC_SHA1_80, for this
 * package and for libsrtp2 (bench/libsrtp_bench.c, compiled with gcc -O2 at
 * bench time) in the same run.
 *
 *   npx tsx packages/srtp/bench/srtp-bench.ts [seconds per implementation, default 3]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SrtpContext } from '../src/index.ts';

/** Pairs per second of each implementation and ours/libsrtp2. */
export interface SrtpBenchResult {
  ours: number;
  libsrtp: number;
  ratio: number;
}

const PROFILE = 'AES_CM_128_HMAC_SHA1_80';

/**
 * Our side: a sender and a receiver context; `round(seconds)` runs
 * protect+unprotect pairs for about that long and returns pairs per second.
 */
export function oursRunner(): (seconds: number) => number {
  const key = Buffer.from(Array.from({ length: 30 }, (_, i) => (i * 7 + 1) & 0xff));
  const opts = { profile: PROFILE, masterKey: key.subarray(0, 16), masterSalt: key.subarray(16) } as const;
  const tx = new SrtpContext(opts);
  const rx = new SrtpContext(opts);
  const rtp = Buffer.alloc(12 + 160, 0xd5); // PCMU silence
  rtp[0] = 0x80;
  rtp[1] = 0; // PT 0 = PCMU
  rtp.writeUInt32BE(0x11223344, 8);
  let seq = 0;
  const step = (): void => {
    rtp.writeUInt16BE(seq & 0xffff, 2);
    rtp.writeUInt32BE((seq * 160) >>> 0, 4);
    seq++;
    const r = rx.unprotectRtp(tx.protectRtp(rtp));
    if (!r.ok) throw new Error(`bench packet failed: ${r.reason}`);
  };
  // Warm-up lets the JIT optimise the hot path before timing.
  for (let i = 0; i < 20_000; i++) step();
  return (seconds) => {
    const start = process.hrtime.bigint();
    const budget = BigInt(Math.round(seconds * 1e9));
    let pairs = 0;
    let elapsed = 0n;
    while (elapsed < budget) {
      for (let i = 0; i < 1024; i++) step();
      pairs += 1024;
      elapsed = process.hrtime.bigint() - start;
    }
    return pairs / (Number(elapsed) / 1e9);
  };
}

/** libsrtp2 side: compiles bench/libsrtp_bench.c with gcc -O2 into `dir`; the runner returns pairs per second. */
export function libsrtpRunner(dir: string): (seconds: number) => number {
  const src = fileURLToPath(new URL('./libsrtp_bench.c', import.meta.url));
  const bin = join(dir, 'libsrtp_bench');
  const cc = spawnSync('gcc', ['-O2', '-o', bin, src, '-lsrtp2'], { encoding: 'utf8' });
  if (cc.error) throw new Error(`gcc could not be run (${cc.error.message}); install the Debian packages gcc and libsrtp2-dev`);
  if (cc.status !== 0) throw new Error(`compiling ${src} failed (is the Debian package libsrtp2-dev installed?):\n${cc.stderr}`);
  return (seconds) => {
    const run = spawnSync(bin, [String(seconds)], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`libsrtp_bench exited ${run.status}: ${run.stderr}`);
    const [pairs, elapsed] = run.stdout.trim().split(/\s+/).map(Number) as [number, number];
    return pairs / elapsed;
  };
}

/**
 * Runs both implementations in alternating rounds (about `seconds` each in
 * total, default 3) and keeps each one's best round, so that load from other
 * processes during one round does not decide the ratio.
 */
export async function runSrtpBench(seconds = 3, rounds = 6): Promise<SrtpBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'srtp-bench-'));
  try {
    const theirs = libsrtpRunner(dir);
    const ours = oursRunner();
    let best = { ours: 0, libsrtp: 0 };
    for (let r = 0; r < rounds; r++) {
      best = { libsrtp: Math.max(best.libsrtp, theirs(seconds / rounds)), ours: Math.max(best.ours, ours(seconds / rounds)) };
    }
    return { ...best, ratio: best.ours / best.libsrtp };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.argv[2] ?? 3);
  const r = await runSrtpBench(seconds);
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(`SRTP ${PROFILE}, 12-octet header + 160-octet PCMU payload, protect+unprotect pairs/s`);
  console.log(`  @imslab/srtp: ${fmt(r.ours)}`);
  console.log(`  libsrtp2:     ${fmt(r.libsrtp)}`);
  console.log(`  ratio ours/libsrtp2: ${r.ratio.toFixed(3)}`);
}
