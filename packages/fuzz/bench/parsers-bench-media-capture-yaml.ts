/**
 * Issue 13 point 3, `npm run bench` part for the media, capture and YAML
 * parsers: `inputsPerParser` (default 1,000,000) seeded mutations of fixture
 * inputs per parser, each timed. A crash is anything thrown that is not the
 * parser's typed error (the parsers that return failures as values must not
 * throw at all); for SRTP/SRTCP a forged packet that authenticates is a
 * crash too. Run alone: `npx tsx packages/fuzz/bench/parsers-bench-media-capture-yaml.ts [inputs]`.
 *
 * Parsers: rtp-header (RtpHeaderView parse/from, demux, looksLikeRtcp),
 * srtp-unprotect, srtcp-unprotect (every profile, with and without MKI),
 * sdes-crypto (parseCryptoAttribute + contextOptionsFromCrypto),
 * pcap-pcapng (readCaptureBuffer), scenario-yaml (loadScenario through a
 * temporary file: about 1-2 ms per input, so 1,000,000 takes half an hour).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureFormatError, readCaptureBuffer } from '@imslab/capture';
import { FileError } from '@imslab/element-kit';
import { buildRtp, buildSenderReport, demuxRtpRtcp, looksLikeRtcp, RtpFormatError, RtpHeaderView } from '@imslab/rtp';
import {
  contextOptionsFromCrypto, parseCryptoAttribute, SdesParseError, SRTP_PROFILES, SrtpContext, SrtpError, type SrtpContextOptions, type SrtpProfileName,
} from '@imslab/srtp';
import { loadScenario } from '../../runner/src/scenario.ts';
import { prng } from '../src/index.ts';

/** One parser's result. */
export interface MediaFuzzBenchRow {
  parser: string;
  inputs: number;
  /** Untyped exceptions (and, for SRTP/SRTCP, forged packets accepted). */
  crashes: number;
  /** Slowest single input, in ms. */
  worstMs: number;
  inputsPerSec: number;
  /** The first crash, for replay: iteration and what was thrown. */
  firstCrash?: string;
}

const SEED = 0x13_03b0;
const int = (rnd: () => number, n: number): number => Math.floor(rnd() * n);

/** Byte damage: bit flips, overwritten octets and 32-bit fields, truncation, insertion, deletion. */
function mutateBytes(rnd: () => number, src: Uint8Array): Buffer {
  let b = Buffer.from(src);
  for (let rounds = 1 + int(rnd, 2); rounds > 0; rounds--) {
    const at = int(rnd, Math.max(1, b.length));
    switch (int(rnd, 6)) {
      case 0: if (b.length) b[at]! ^= 1 << int(rnd, 8); break;
      case 1: if (b.length) b[at] = int(rnd, 256); break;
      case 2: if (b.length >= 4) b.writeUInt32BE([0, 1, 12, 0x7fffffff, 0xffffffff, int(rnd, 2 ** 32)][int(rnd, 6)]!, Math.min(at, b.length - 4) & ~3); break;
      case 3: b = b.subarray(0, int(rnd, b.length + 1)); break;
      case 4: b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(rnd, 12) }, () => int(rnd, 256))), b.subarray(at)]); break;
      default: b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(rnd, 16)))]); break;
    }
  }
  return b;
}

const SPECIAL = [':', '-', '[', ']', '{', '}', ',', '#', '&', '*', '!', '|', '>', "'", '"', '%', '\t', '\n', ' ', '\r', '\ufeff', '0', 'null', '~', ';', '=', '2^', '/', '+'];

/** Text damage: special characters, deletions, truncation, swapped and duplicated lines, indentation. */
function mutateText(rnd: () => number, s: string): string {
  const pos = int(rnd, s.length + 1);
  const lines = s.split('\n');
  const l = int(rnd, lines.length);
  switch (int(rnd, 6)) {
    case 0: return s.slice(0, pos) + SPECIAL[int(rnd, SPECIAL.length)]! + s.slice(pos);
    case 1: return s.slice(0, pos) + s.slice(pos + 1 + int(rnd, 8));
    case 2: return s.slice(0, pos);
    case 3: { const m = int(rnd, lines.length); [lines[l], lines[m]] = [lines[m]!, lines[l]!]; return lines.join('\n'); }
    case 4: lines.splice(l, 0, lines[int(rnd, lines.length)]!); return lines.join('\n');
    default: lines[l] = rnd() < 0.5 ? ` ${lines[l]}` : lines[l]!.replace(/^ /, ''); return lines.join('\n');
  }
}

/**
 * Runs `n` inputs: `one(i)` returns true on a typed outcome, false on a
 * violation it detected (a forgery); a throw from `one` is a crash.
 */
function drive(parser: string, n: number, one: (i: number) => boolean): MediaFuzzBenchRow {
  let crashes = 0;
  let worst = 0;
  let firstCrash: string | undefined;
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    let ok: boolean;
    let why = 'violation';
    try {
      ok = one(i);
    } catch (e) {
      ok = false;
      why = String(e).slice(0, 200);
    }
    const ms = performance.now() - t0;
    if (ms > worst) worst = ms;
    if (!ok) {
      crashes++;
      firstCrash ??= `seed ${SEED} iteration ${i}: ${why}`;
    }
  }
  const secs = (performance.now() - start) / 1000;
  return { parser, inputs: n, crashes, worstMs: worst, inputsPerSec: n / Math.max(secs, 1e-9), ...(firstCrash ? { firstCrash } : {}) };
}

function rtpSeeds(): Buffer[] {
  const out: Buffer[] = [Buffer.from('800f1234decafbadcafebabeabababababababababababababababab', 'hex')];
  for (let i = 0; i < 32; i++) {
    out.push(buildRtp({
      payloadType: i * 5 % 128, sequence: i * 4099, timestamp: i * 160, ssrc: i * 0x01010101, marker: i % 2 === 0,
      csrcs: Array.from({ length: i % 16 }, (_, k) => k), extension: i % 3 === 0 ? { profile: 0xbede, data: Buffer.alloc(4 * (i % 4), i) } : undefined,
    }, Buffer.alloc(i * 5, 0x5a), i % 4 === 0 ? 1 + i : 0));
    out.push(buildSenderReport(i, i, i, i, 1_700_000_000_000));
  }
  return out;
}

function benchRtp(n: number): MediaFuzzBenchRow {
  const rnd = prng(SEED);
  const seeds = rtpSeeds();
  const view = new RtpHeaderView();
  return drive('rtp-header', n, (i) => {
    const b = mutateBytes(rnd, seeds[i % seeds.length]!);
    const problem = view.wrap(b);
    try {
      RtpHeaderView.from(b);
    } catch (e) {
      if (!(e instanceof RtpFormatError) || e.problem !== problem) throw e;
    }
    if (problem === null && view.payloadEnd > b.length) return false;
    demuxRtpRtcp(b);
    looksLikeRtcp(b);
    return true;
  });
}

interface SrtpTarget {
  rx: SrtpContext;
  rtp: Buffer[];
  rtcp: Buffer[];
}

function srtpTargets(): SrtpTarget[] {
  const out: SrtpTarget[] = [];
  for (const profile of Object.keys(SRTP_PROFILES) as SrtpProfileName[]) {
    const p = SRTP_PROFILES[profile];
    for (const mki of [undefined, Buffer.from([1, 2])]) {
      const opts: SrtpContextOptions = {
        profile, masterKey: Buffer.alloc(p.keyLength, 7), masterSalt: Buffer.alloc(p.saltLength, 9), ...(mki ? { mki } : {}),
      };
      const tx = new SrtpContext(opts);
      const rtp = [0, 1, 2].map((i) => tx.protectRtp(buildRtp({ payloadType: 0, sequence: 10 + i, timestamp: i, ssrc: 5, csrcs: i === 1 ? [1] : [] }, Buffer.alloc(24 * i, i))));
      const rtcp = [tx.protectRtcp(buildSenderReport(5, 1, 2, 3, 1_700_000_000_000))];
      out.push({ rx: new SrtpContext(opts), rtp, rtcp });
    }
  }
  return out;
}

function benchSrtp(n: number, rtcp: boolean): MediaFuzzBenchRow {
  const rnd = prng(SEED + (rtcp ? 2 : 1));
  const targets = srtpTargets();
  const accepted = new Set<string>();
  return drive(rtcp ? 'srtcp-unprotect' : 'srtp-unprotect', n, (i) => {
    const t = targets[i % targets.length]!;
    const pool = rtcp ? t.rtcp : t.rtp;
    const orig = pool[int(rnd, pool.length)]!;
    const bad = mutateBytes(rnd, orig);
    const r = rtcp ? t.rx.unprotectRtcp(bad) : t.rx.unprotectRtp(bad);
    if (!r.ok) return true;
    // Only an untouched packet may authenticate, and only once per receiver.
    const key = `${i % targets.length}:${bad.toString('hex')}`;
    if (!bad.equals(orig) || accepted.has(key)) return false;
    accepted.add(key);
    return true;
  });
}

function benchSdes(n: number): MediaFuzzBenchRow {
  const rnd = prng(SEED + 3);
  const seeds = [
    '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32',
    '1 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32 KDR=1 UNENCRYPTED_SRTCP',
    `2 AEAD_AES_256_GCM inline:${Buffer.alloc(44, 3).toString('base64')}|2^31|5:4;inline:${Buffer.alloc(44, 4).toString('base64')}|2^31|6:4 WSH=256`,
    `3 AEAD_AES_128_GCM inline:${Buffer.alloc(28, 5).toString('base64')} -vendor=x`,
  ];
  return drive('sdes-crypto', n, (i) => {
    let s = mutateText(rnd, seeds[i % seeds.length]!);
    if (rnd() < 0.3) s = mutateText(rnd, s);
    try {
      const a = parseCryptoAttribute(s);
      contextOptionsFromCrypto(a);
    } catch (e) {
      if (!(e instanceof SdesParseError) && !(e instanceof SrtpError)) throw e;
    }
    return true;
  });
}

function benchCapture(n: number): MediaFuzzBenchRow {
  const rnd = prng(SEED + 4);
  const dir = fileURLToPath(new URL('../../capture/test/fixtures/', import.meta.url));
  const files = readdirSync(dir).sort().map((f) => readFileSync(join(dir, f)));
  return drive('pcap-pcapng', n, (i) => {
    const bad = mutateBytes(rnd, files[i % files.length]!);
    try {
      for (const p of readCaptureBuffer(bad)) if (p.offset >= bad.length) return false;
    } catch (e) {
      if (!(e instanceof CaptureFormatError) || e.offset > bad.length) throw e;
    }
    return true;
  });
}

function benchYaml(n: number): MediaFuzzBenchRow {
  const rnd = prng(SEED + 5);
  const root = fileURLToPath(new URL('../../../scenarios/', import.meta.url));
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.yaml') ? [join(d, e.name)] : []));
  const seeds = walk(root).sort().map((f) => ({ name: f.split('/').pop()!, text: readFileSync(f, 'utf8') }));
  const tmp = mkdtempSync(join(tmpdir(), 'imslab-yaml-bench-'));
  mkdirSync(join(tmp, '4.1.1'));
  try {
    return drive('scenario-yaml', n, (i) => {
      const s = seeds[i % seeds.length]!;
      let text = mutateText(rnd, s.text);
      if (rnd() < 0.4) text = mutateText(rnd, text);
      const f = join(tmp, '4.1.1', s.name);
      writeFileSync(f, text);
      try {
        loadScenario(f);
      } catch (e) {
        if (!(e instanceof FileError)) throw e;
        // Typed and positioned: every problem has a line and column.
        if (e.problems.length === 0 || e.problems.some((p) => p.line === undefined || p.column === undefined)) return false;
      }
      return true;
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Runs every parser on `inputsPerParser` mutated inputs (1,000,000 for `npm run bench`; a small count for a smoke test). */
export async function runMediaFuzzBench(inputsPerParser = 1_000_000): Promise<MediaFuzzBenchRow[]> {
  const n = Math.max(1, Math.floor(inputsPerParser));
  const rows: MediaFuzzBenchRow[] = [];
  for (const run of [benchRtp, (k: number) => benchSrtp(k, false), (k: number) => benchSrtp(k, true), benchSdes, benchCapture, benchYaml]) {
    rows.push(run(n));
    await new Promise<void>((resolve) => setImmediate(resolve)); // let the event loop breathe between parsers
  }
  return rows;
}

/** One line per parser: inputs, crashes, worst ms per input, inputs/s (and the first crash, when there is one). */
export function formatMediaFuzzBench(r: readonly MediaFuzzBenchRow[]): string {
  return r.map((x) => `fuzz ${x.parser.padEnd(16)} ${String(x.inputs).padStart(8)} inputs  ${String(x.crashes).padStart(3)} crashes  worst ${x.worstMs.toFixed(2).padStart(7)} ms/input  ${Math.round(x.inputsPerSec).toString().padStart(8)} inputs/s${x.firstCrash ? `  first crash: ${x.firstCrash}` : ''}`).join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const n = Number(process.argv[2] ?? 1_000_000);
  console.log(formatMediaFuzzBench(await runMediaFuzzBench(n)));
}
