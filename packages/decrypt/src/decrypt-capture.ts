/**
 * decrypted.pcapng: a capture with every SRTP and SRTCP packet that
 * authenticates under a known key replaced by the RTP or RTCP it carries
 * (RFC 3711 sec 3.1, 3.4; RFC 7714 sec 8, 9): MKI, authentication tag and
 * SRTCP E|index removed, payload decrypted, IP/UDP lengths and checksums
 * fixed. Every other packet is copied as it is, in the same order with the
 * same timestamps and interfaces, so the file is the original capture made
 * readable, and Wireshark's RTP player plays the calls (Wireshark has no SRTP
 * decryption). Streaming: one read chunk, one write buffer and per-stream
 * state; never the whole file.
 */
import { mkdirSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { CaptureFileReader, decodeFrame, PcapngWriter, writeTlsKeyLogBlock, type CapturedPacket, type TlsKeyLogSources } from '@imslab/capture';
import { demuxRtpRtcp } from '@imslab/rtp';
import { DecryptOptionsError } from './errors.ts';
import { g711Table } from './g711.ts';
import { KeySearch, newSearchState, type SearchState } from './key-search.ts';
import { prepareKeys, type DecryptKey } from './keys.ts';
import { StreamAudio, type StreamAudioReport } from './stream-audio.ts';
import { StreamTable } from './stream-table.ts';
import { locateUdp, replaceUdpPayload, type UdpLocation } from './udp-frame.ts';

/** Options of {@link decryptCapture}. */
export interface DecryptOptions extends TlsKeyLogSources {
  /**
   * Where the WAV files go (created when needed): default `audio/` beside
   * the output file; `false` writes none.
   */
  audioDir?: string | false;
  /** Link name for packets whose file does not name their interface (classic pcap); default the input's base name, e.g. `core` for core.pcap. */
  linkName?: string;
}

/** One decrypted stream: one SSRC on one link between two transport addresses. */
export interface DecryptedStream {
  kind: 'rtp' | 'rtcp';
  /** The capture interface: the link. */
  link: string;
  /** `address:port` (IPv6 `[address]:port`). */
  src: string;
  dst: string;
  /** `<link> <src> > <dst>`. */
  flow: string;
  /** RTP SSRC, or the SRTCP sender's SSRC (RFC 3550 sec 6.4). */
  ssrc: number;
  /** The SSRC in 8 hex digits, as Wireshark shows it. */
  ssrcHex: string;
  /** Keys that opened the stream's packets, in the order they took over (more than one: re-keyed). */
  keyIds: string[];
  /** Packets decrypted. */
  packets: number;
  /** Packets of the stream that no key opened after the first decrypted one (lost keys, corrupted packets, back-off). */
  notDecrypted: number;
  /** Capture times of the first and last decrypted packet, µs since the epoch. */
  firstUs: number;
  lastUs: number;
  /** RTP: payload types seen in the decrypted packets, and the highest ROC (above 0: the sequence wrapped). */
  payloadTypes?: number[];
  highestRoc?: number;
  /** RTP: the WAV written, or why none was. */
  audio?: StreamAudioReport | { skipped: string };
}

/** What {@link decryptCapture} did. */
export interface DecryptResult {
  /** Packets written (all of the input's). */
  packets: number;
  /** Packets replaced by their plaintext. */
  decryptedRtp: number;
  decryptedRtcp: number;
  /** Packets that look like RTP or RTCP but no key opened: plaintext media or keys nobody knows. Left as they were. */
  untouchedRtpLike: number;
  streams: DecryptedStream[];
  /** Keys that opened at least one packet, and keys that opened none. */
  usedKeys: string[];
  unusedKeys: string[];
  /** Keys left out (unknown suite, wrong length...). */
  keyProblems: string[];
  /** Where the WAV files are, or null when none were asked for. */
  audioDir: string | null;
  /** Secret lines in the output's Decryption Secrets Block, when TLS key logs were given. */
  tlsSecretLines?: number;
  /** Key verifications tried: the cost driver (see key-search.ts). */
  attempts: number;
}

interface Stream {
  search: SearchState;
  report: DecryptedStream | null;
  audio: StreamAudio | null;
  /** Payload types seen in decrypted packets. */
  pts: number[];
}

/** How many streams that never decrypted are remembered before they are forgotten (keeps memory bounded on odd traffic). */
const MAX_UNMATCHED_STREAMS = 100_000;

/**
 * Rewrites `inPath` (pcap or pcapng) into `outPath` (pcapng) with SRTP/SRTCP
 * under `keys` decrypted, and writes one WAV per decrypted RTP stream whose
 * payload is G.711 (PCMU/PCMA, payload types 0 and 8; RFC 3551) into
 * `opts.audioDir`, named `<link>_<src>_to_<dst>-<ssrc hex>.wav`. TLS key logs
 * in `opts` are embedded as in all-links.pcapng (pcapng draft sec 4.7), so
 * the file shows the SIP inside TLS too.
 * @throws DecryptOptionsError when the output would overwrite the input
 * @throws CaptureFormatError, CaptureWriteError (from @imslab/capture) on an unreadable input or an unwritable output
 * @throws TlsKeyLogError when a TLS key log file cannot be read
 * @throws WavWriteError when a WAV file cannot be written
 */
export async function decryptCapture(inPath: string, outPath: string, keys: readonly DecryptKey[], opts: DecryptOptions = {}): Promise<DecryptResult> {
  if (resolve(inPath) === resolve(outPath)) throw new DecryptOptionsError('outPath', `must differ from the input ${inPath}`);
  const prepared = prepareKeys(keys);
  const search = new KeySearch(prepared.keys);
  const audioDir = opts.audioDir === false ? null : resolve(opts.audioDir ?? join(dirname(outPath), 'audio'));
  const fallbackLink = opts.linkName ?? basename(inPath, extname(inPath));
  const reader = await CaptureFileReader.open(inPath);
  let writer: PcapngWriter | undefined;
  const streams = new StreamTable<Stream>();
  const newStream = (): Stream => ({ search: newSearchState(), report: null, audio: null, pts: [] });
  const done: DecryptedStream[] = [];
  let matched = 0;
  let finished = false;
  const result: DecryptResult = {
    packets: 0, decryptedRtp: 0, decryptedRtcp: 0, untouchedRtpLike: 0, streams: done, usedKeys: [], unusedKeys: [],
    keyProblems: prepared.problems, audioDir, attempts: 0,
  };
  try {
    writer = new PcapngWriter(outPath, { userAppl: '@imslab/decrypt' });
    const w = writer;
    if (opts.tlsKeyLogFiles !== undefined || opts.tlsKeyLogTexts !== undefined) result.tlsSecretLines = await writeTlsKeyLogBlock(w, opts);
    const interfaces = new InterfaceMap(w, fallbackLink);
    const loc: UdpLocation = { ipVersion: 4, ip: 0, udp: 0, payload: 0, end: 0 };
    const haveKeys = prepared.keys.length > 0;
    for (;;) {
      const p = reader.next();
      if (p === null) {
        if (!(await reader.refill())) break;
        continue;
      }
      const out = interfaces.of(p);
      result.packets++;
      const f = p.data;
      if (!haveKeys || f.length !== p.originalLength || !locateUdp(p.linkType, f, loc)) {
        w.write(out.id, p.timestampUs, f, p.originalLength);
        continue;
      }
      const kind = demuxRtpRtcp(f, loc.payload, loc.end);
      if (kind === 'neither') {
        w.write(out.id, p.timestampUs, f, p.originalLength);
        continue;
      }
      const pkt = f.subarray(loc.payload, loc.end);
      if (streams.size - matched >= MAX_UNMATCHED_STREAMS) streams.forget((v) => v.report === null);
      const s = streams.get(kind === 'rtcp', out.id, f, loc, kind === 'rtp' ? pkt.readUInt32BE(8) : pkt.readUInt32BE(4), newStream);
      const opened = kind === 'rtp' ? search.openRtp(s.search, pkt) : search.openRtcp(s.search, pkt);
      if (opened === null) {
        result.untouchedRtpLike++;
        if (s.report) s.report.notDecrypted++;
        w.write(out.id, p.timestampUs, f, p.originalLength);
        continue;
      }
      if (s.report === null) {
        s.report = newReport(kind, out.name, p, opened.key.id);
        done.push(s.report);
        matched++;
      }
      const r = s.report;
      if (r.keyIds[r.keyIds.length - 1] !== opened.key.id) r.keyIds.push(opened.key.id);
      r.packets++;
      r.lastUs = p.timestampUs;
      if (kind === 'rtp') {
        result.decryptedRtp++;
        const pt = opened.packet[1]! & 0x7f;
        if (!s.pts.includes(pt)) s.pts.push(pt);
        if (opened.roc > (r.highestRoc ?? 0)) r.highestRoc = opened.roc;
        if (audioDir !== null) {
          if (s.audio === null && g711Table(pt) !== undefined) {
            mkdirSync(audioDir, { recursive: true });
            s.audio = new StreamAudio(join(audioDir, wavName(r)));
          }
          s.audio?.add(opened.packet);
        }
      } else {
        result.decryptedRtcp++;
      }
      w.write(out.id, p.timestampUs, replaceUdpPayload(f, loc, opened.packet));
    }
    await w.close();
    finished = true;
  } finally {
    await writer?.close();
    await reader.close();
    if (!finished) {
      // The error that got us here is the one to report; the WAVs only need their descriptors closed.
      for (const s of streams.values()) {
        try {
          s.audio?.close();
        } catch {
          // already failing
        }
      }
    }
  }
  for (const s of streams.values()) {
    const r = s.report;
    if (r === null || r.kind !== 'rtp') continue;
    r.payloadTypes = [...s.pts].sort((a, b) => a - b);
    r.highestRoc ??= 0;
    if (s.audio) r.audio = s.audio.close();
    else if (audioDir !== null) r.audio = { skipped: `payload type ${r.payloadTypes.join(', ')} is not G.711 (PCMU 0, PCMA 8)` };
  }
  done.sort((a, b) => a.firstUs - b.firstUs || a.flow.localeCompare(b.flow) || a.ssrc - b.ssrc);
  const used = new Set(done.flatMap((s) => s.keyIds));
  result.usedKeys = prepared.keys.filter((k) => used.has(k.id)).map((k) => k.id);
  result.unusedKeys = prepared.keys.filter((k) => !used.has(k.id)).map((k) => k.id);
  result.attempts = search.attempts;
  return result;
}

/** Output interfaces: one per input interface (per section, id, link type and name), named after the link. */
class InterfaceMap {
  private readonly ids = new Map<string, { id: number; name: string }>();
  private last: { p: CapturedPacket | null; out: { id: number; name: string } } = { p: null, out: { id: -1, name: '' } };

  constructor(private readonly w: PcapngWriter, private readonly fallback: string) {}

  of(p: CapturedPacket): { id: number; name: string } {
    const l = this.last.p;
    // Consecutive packets nearly always share the interface: skip the string key then.
    if (l !== null && l.interfaceId === p.interfaceId && l.linkType === p.linkType && l.interfaceName === p.interfaceName) {
      this.last.p = p;
      return this.last.out;
    }
    const key = `${p.interfaceId}/${p.linkType}/${p.interfaceName ?? ''}`;
    let out = this.ids.get(key);
    if (out === undefined) {
      const name = p.interfaceName ?? this.fallback;
      out = { id: this.w.addInterface(name, p.linkType, 0), name };
      this.ids.set(key, out);
    }
    this.last = { p, out };
    return out;
  }
}

function newReport(kind: 'rtp' | 'rtcp', link: string, p: CapturedPacket, keyId: string): DecryptedStream {
  const d = decodeFrame(p.linkType, p.data)!;
  const ep = (a: string, port: number): string => (a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`);
  const src = ep(d.src, d.srcPort);
  const dst = ep(d.dst, d.dstPort);
  const ssrc = kind === 'rtp' ? d.payload.readUInt32BE(8) : d.payload.readUInt32BE(4);
  return {
    kind, link, src, dst, flow: `${link} ${src} > ${dst}`, ssrc, ssrcHex: ssrc.toString(16).padStart(8, '0'),
    keyIds: [keyId], packets: 0, notDecrypted: 0, firstUs: p.timestampUs, lastUs: p.timestampUs,
  };
}

/** `<link>_<src>_to_<dst>-<ssrc hex>.wav`, with anything but letters, digits, `.`, `-` turned into `_` (IPv6 colons, brackets). */
export function wavName(s: Pick<DecryptedStream, 'link' | 'src' | 'dst' | 'ssrcHex'>): string {
  const safe = (x: string): string => x.replace(/^\[|\](?=:)/g, '').replace(/:(?=\d+$)/, '.').replace(/[^A-Za-z0-9.-]/g, '_');
  return `${safe(s.link)}_${safe(s.src)}_to_${safe(s.dst)}-${s.ssrcHex}.wav`;
}
