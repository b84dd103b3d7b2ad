/**
 * Test material: RTP streams with G.711 payloads, protected by @imslab/srtp's
 * SrtpContext (or by libsrtp2, see libsrtp.ts), framed in UDP on any link
 * type and written as captures; tshark and temp directories.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildUdpFrame, PcapngWriter, PcapWriter } from '@imslab/capture';
import { linearToUlaw } from '@imslab/probe';
import { buildRtp, buildSenderReport } from '@imslab/rtp';
import { SRTP_PROFILES, SrtpContext, type SrtpProfileName } from '@imslab/srtp';

const execFileP = promisify(execFile);

/** Every suite the project speaks. */
export const SUITES = Object.keys(SRTP_PROFILES) as SrtpProfileName[];

/** Deterministic master key || salt for a suite; `seed` makes different keys. */
export function keySaltFor(suite: SrtpProfileName, seed: number): Buffer {
  const p = SRTP_PROFILES[suite];
  return Buffer.from(Array.from({ length: p.keyLength + p.saltLength }, (_, i) => (i * 29 + seed * 101 + 7) & 0xff));
}

/** A G.711 mu-law payload: a tone whose frequency depends on `stream`, phase continuous over `index`. */
export function tonePayload(stream: number, index: number, samples = 160): Buffer {
  const out = Buffer.alloc(samples);
  const hz = 300 + 100 * stream;
  for (let i = 0; i < samples; i++) out[i] = linearToUlaw(6000 * Math.sin((2 * Math.PI * hz * (index * samples + i)) / 8000));
  return out;
}

/** One RTP stream's packets in plaintext, consecutive SEQ from `startSeq` (wrapping) and timestamps 160 apart. */
export function rtpStream(o: { ssrc: number; startSeq: number; count: number; pt?: number; stream?: number; startTs?: number; payload?: (i: number) => Buffer }): Buffer[] {
  return Array.from({ length: o.count }, (_, i) =>
    buildRtp({ payloadType: o.pt ?? 0, sequence: (o.startSeq + i) & 0xffff, timestamp: ((o.startTs ?? 1000) + 160 * i) >>> 0, ssrc: o.ssrc, marker: i === 0 },
      o.payload ? o.payload(i) : tonePayload(o.stream ?? 0, i)));
}

/** A sender report per `every` RTP packets (RFC 3550 sec 6.4.1), as a sender would interleave them. */
export function senderReports(ssrc: number, count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => buildSenderReport(ssrc, 1000 + 160 * 50 * i, 50 * i, 8000 * i, 1_700_000_000_000 + 1000 * i));
}

/** A context for `suite` keyed with `keySaltFor(suite, seed)`. */
export function contextFor(suite: SrtpProfileName, seed: number, mki?: Buffer): SrtpContext {
  const ks = keySaltFor(suite, seed);
  const kl = SRTP_PROFILES[suite].keyLength;
  return new SrtpContext({ profile: suite, masterKey: ks.subarray(0, kl), masterSalt: ks.subarray(kl), ...(mki ? { mki } : {}) });
}

/** One UDP datagram to put in a capture. */
export interface Datagram {
  /** µs since the epoch. */
  us: number;
  /** Output interface (index into the capture's interface list). */
  iface: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  payload: Buffer;
}

/** Writes a pcapng with the given interfaces and datagrams (sorted by time, stable). */
export async function writePcapng(path: string, interfaces: Array<{ name: string; linkType: number }>, datagrams: Datagram[]): Promise<void> {
  const w = new PcapngWriter(path);
  for (const i of interfaces) w.addInterface(i.name, i.linkType, 0);
  for (const d of [...datagrams].sort((a, b) => a.us - b.us)) {
    w.write(d.iface, d.us, buildUdpFrame(interfaces[d.iface]!.linkType, d.src, d.sport, d.dst, d.dport, d.payload));
  }
  await w.close();
}

/** Writes a classic pcap of one link type. */
export async function writePcap(path: string, linkType: number, datagrams: Datagram[]): Promise<void> {
  const w = new PcapWriter(path, linkType, 0);
  for (const d of [...datagrams].sort((a, b) => a.us - b.us)) w.write(d.us, buildUdpFrame(linkType, d.src, d.sport, d.dst, d.dport, d.payload));
  await w.close();
}

/** Datagrams for `payloads`, 20 ms apart from `startUs`. */
export function datagrams(payloads: Buffer[], at: Omit<Datagram, 'us' | 'payload'>, startUs: number, stepUs = 20_000): Datagram[] {
  return payloads.map((payload, i) => ({ ...at, us: startUs + i * stepUs, payload }));
}

/** The tool's path or an error naming the Debian package to install: never a silent skip. */
export function requireTool(tool: string, pkg = tool): string {
  for (const dir of ['/usr/bin', '/usr/sbin', '/bin', '/usr/local/bin']) {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return join(dir, tool);
    } catch {
      // next
    }
  }
  throw new Error(`${tool} is required by this test but not installed: apt-get install ${pkg}`);
}

/** Runs tshark and returns stdout. */
export async function tshark(args: string[]): Promise<string> {
  const { stdout } = await execFileP(requireTool('tshark'), args, { maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

/** A fresh temp directory and its removal. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'imslab-decrypt-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** One row of `tshark -q -z rtp,streams`. */
export interface TsharkRtpStream {
  src: string;
  dst: string;
  ssrc: number;
  payload: string;
  packets: number;
  lost: number;
  /** The last column: "X" when tshark saw a problem (wrong sequence, wrong timestamp...). */
  problem: boolean;
}

/**
 * Parses tshark's RTP stream statistics (ui/cli/tap-rtp.c): one line per
 * stream, `start end src sport dst dport ssrc payload pkts lost (pct) min
 * mean max deltas, jitters [X]`.
 */
export function parseRtpStreams(text: string): TsharkRtpStream[] {
  const out: TsharkRtpStream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+0x([0-9A-Fa-f]+)\s+(.+?)\s+(\d+)\s+(-?\d+)\s+\([^)]*\)(.*)$/.exec(line);
    if (!m) continue;
    out.push({
      src: `${m[1]}:${m[2]}`, dst: `${m[3]}:${m[4]}`, ssrc: parseInt(m[5]!, 16), payload: m[6]!, packets: Number(m[7]), lost: Number(m[8]),
      problem: /\bX\s*$/.test(m[9]!),
    });
  }
  return out;
}
