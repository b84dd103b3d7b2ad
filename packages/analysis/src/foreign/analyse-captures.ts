/**
 * `imslab analyse CAPTURE...`: judges captures made anywhere, without our
 * probe. Each file is read once (each pcapng interface a link of its own);
 * SIP is read on any port in the clear, and inside TLS with tshark when
 * secrets are given (--sslkeylog) or the pcapng carries them (Decryption
 * Secrets Block); every a=crypto seen and every key given by hand is tried on
 * the media; if signalled keys were found that the first pass lacked, the
 * files are scanned once more with them. Then calls are found by Call-ID,
 * media followed by SSRC, and each direction judged (verdict.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { normaliseTlsKeyLog } from '@imslab/capture';
import { isSrtpProfileName, splitKeySalt, SrtpVerifier } from '@imslab/srtp';
import type { LoggedKey } from '../keys.ts';
import { readSipInsideTls } from '../tls-signalling.ts';
import { callsFromSip } from './calls.ts';
import { passOverFile, type FilePass } from './capture-pass.ts';
import { canonicalInline, readKeyFile, type FileKey } from './key-file.ts';
import { compareLegs, followCalls, sampleKey, type LinkFlow } from './media-path.ts';
import type { StreamSample } from './payload-samples.ts';
import { readSecretsBlocks } from './secrets-block.ts';
import { plainSighting, tlsSighting } from './sip-message.ts';
import type { AttributedKey, ForeignAnalysis, ForeignCall, ForeignLink, SipSighting } from './types.ts';
import { judgeDirection, weakest } from './verdict.ts';

export interface AnalyseCapturesInput {
  /** pcap or pcapng files; each file, and each interface of a pcapng file, is a link. */
  captures: string[];
  /** TLS key logs (SSLKEYLOGFILE format) to read SIP inside TLS. */
  sslKeyLogs?: string[];
  /** SRTP key files (key-file.ts: our JSON-lines key logs or `SUITE inline:BASE64` lines). */
  srtpKeyFiles?: string[];
}

/** Link names: a pcap file by its base name, a pcapng interface by its name, made unique with the file's name. */
function nameLinks(passes: FilePass[]): Map<string, string> {
  const raw: Array<[string, string]> = [];
  for (const p of passes) {
    const many = p.interfaces.length > 1;
    for (const i of p.interfaces) {
      const name = i.interfaceName ?? (many ? `${basename(p.file)}#${i.interfaceId}` : basename(p.file));
      raw.push([`${p.file}|${i.interfaceId}`, name]);
    }
  }
  const count = new Map<string, number>();
  for (const [, n] of raw) count.set(n, (count.get(n) ?? 0) + 1);
  return new Map(raw.map(([k, n]) => [k, count.get(n)! > 1 ? `${basename(k.slice(0, k.lastIndexOf('|')))}/${n}` : n]));
}

/** Keys by their inline value, with a verifier for those whose suite the analyser implements. */
class KeyBook {
  readonly byInline = new Map<string, AttributedKey>();
  readonly verifiers = new Map<string, SrtpVerifier>();
  /** When each key first crossed in signalling (Infinity: only given by hand). */
  private readonly firstSeen = new Map<string, number>();

  /** `at`: capture time of the SIP message that carried it; Infinity for a key file. */
  add(suite: string, inline: string, source: AttributedKey['sources'][number], at: number): void {
    const c = canonicalInline(inline);
    this.firstSeen.set(c, Math.min(at, this.firstSeen.get(c) ?? Infinity));
    let k = this.byInline.get(c);
    if (!k) {
      k = { id: '', suite, inline: c, sources: [], usedOn: [] };
      this.byInline.set(c, k);
      if (isSrtpProfileName(suite)) {
        try {
          const { masterKey, masterSalt } = splitKeySalt(suite, Buffer.from(c, 'base64'));
          this.verifiers.set(c, new SrtpVerifier(suite, masterKey, masterSalt));
        } catch {
          // A key of the wrong length in someone's SDP protects nothing we can check; it is still listed.
        }
      }
    }
    k.sources.push(source);
  }

  /** The ring the scanner tries: key ids are the inline values until the final ids are given. */
  ring(): LoggedKey[] {
    return [...this.verifiers].map(([inline, verifier]) => ({
      id: inline, verifier,
      entry: { kind: 'srtp', owner: '', callId: '', dir: 'tx', suite: this.byInline.get(inline)!.suite, keySalt: inline, keyMgmt: '', at: '' },
    }));
  }

  /** k1, k2, ...: signalled keys in the order they crossed, then the keys given by hand. */
  number(): void {
    // A stable sort: keys never signalled keep the order of the key files.
    const at = (k: AttributedKey) => this.firstSeen.get(k.inline)!;
    const sorted = [...this.byInline.values()].sort((a, b) => (at(a) === at(b) ? 0 : at(a) < at(b) ? -1 : 1));
    sorted.forEach((k, i) => (k.id = `k${i + 1}`));
  }
}

/** Reads every capture and judges every call found. Never throws on capture content: problems are listed. */
export async function analyseCaptures(input: AnalyseCapturesInput): Promise<ForeignAnalysis> {
  const problems: string[] = [];
  const missingTools: string[] = [];
  const book = new KeyBook();
  const fileKeys: FileKey[] = [];
  for (const f of input.srtpKeyFiles ?? []) {
    try {
      const r = readKeyFile(f);
      fileKeys.push(...r.keys);
      problems.push(...r.problems);
    } catch (e) {
      problems.push(`${f}: key file not readable: ${(e as Error).message}`);
    }
  }
  for (const k of fileKeys) book.add(k.suite, k.inline, { kind: 'key-file', file: k.file, line: k.line, ...(k.owner ? { owner: k.owner } : {}), ...(k.callId ? { callId: k.callId } : {}) }, Infinity);
  const knownBefore = book.verifiers.size;
  let passes: FilePass[] = [];
  for (const file of input.captures) passes.push(await passOverFile(file, book.ring(), true));
  for (const p of passes) if (p.error) problems.push(`${basename(p.file)}: ${p.error} (what was read before it is analysed)`);
  const names = nameLinks(passes);
  const linkOf = (p: FilePass, interfaceId: number) => names.get(`${p.file}|${interfaceId}`) ?? basename(p.file);

  const sip: SipSighting[] = [];
  for (const p of passes) for (const i of p.interfaces) for (const m of i.sip) {
    const s = plainSighting(linkOf(p, i.interfaceId), m.flow, m.message, m.timeUs);
    if (s) sip.push(s);
  }
  const tlsSecrets = await readTls(input.sslKeyLogs ?? [], passes, linkOf, sip, problems, missingTools);
  sip.sort((a, b) => a.timeUs - b.timeUs);
  for (const s of sip) for (const k of s.keys) {
    book.add(k.suite, k.inline, { kind: 'sdp', link: s.link, from: s.from, to: s.to, message: s.message, clear: s.clear, callId: s.callId, timeUs: s.timeUs }, s.timeUs);
  }
  // Keys read in the signalling that the first pass could not try: scan again with them.
  const unknownMedia = passes.some((p) => p.interfaces.some((i) => i.media.some((f) => f.unknown > 0 || f.srtcpUnknown > 0)));
  if (book.verifiers.size > knownBefore && unknownMedia) {
    const again: FilePass[] = [];
    for (const p of passes) again.push(await passOverFile(p.file, book.ring(), false));
    // The samples and SIP of the first pass stay: the same packets.
    passes = passes.map((p, n) => ({ ...p, interfaces: p.interfaces.map((i) => ({ ...i, media: again[n]!.interfaces.find((x) => x.interfaceId === i.interfaceId)?.media ?? i.media })) }));
  }
  book.number();
  const idOf = (inline: string) => book.byInline.get(inline)?.id ?? inline;
  const keys = new Map([...book.byInline.values()].map((k) => [k.id, k]));
  const links: ForeignLink[] = [];
  const samples = new Map<string, StreamSample>();
  for (const p of passes) for (const i of p.interfaces) {
    const name = linkOf(p, i.interfaceId);
    for (const f of i.media) {
      f.srtp = Object.fromEntries(Object.entries(f.srtp).map(([k, n]) => [idOf(k), n]));
      f.srtcp = Object.fromEntries(Object.entries(f.srtcp).map(([k, n]) => [idOf(k), n]));
      for (const m of Object.values(f.markers)) m.srtp = Object.fromEntries(Object.entries(m.srtp).map(([k, n]) => [idOf(k), n]));
      for (const k of Object.keys(f.srtp)) keys.get(k)?.usedOn.push(`${name} ${f.src} -> ${f.dst}`);
    }
    for (const s of i.samples) samples.set(sampleKey(name, s.src, s.dst, s.ssrc), s);
    links.push({
      name, file: p.file, interfaceId: i.interfaceId, ...(i.interfaceName ? { interfaceName: i.interfaceName } : {}), linkType: i.linkType, packets: i.packets,
      sipClear: i.sip.length, sipInTls: sip.filter((s) => !s.clear && s.link === name).length, tlsRecords: i.signalling.tlsRecords, media: i.media,
    });
  }
  const verifiers = new Map([...book.verifiers].map(([inline, v]) => [idOf(inline), v]));
  const flows: LinkFlow[] = links.flatMap((l) => l.media.filter((f) => f.packets > 0).map((flow) => ({ link: l.name, flow })));
  const followed = followCalls(callsFromSip(sip), flows, samples);
  const calls: ForeignCall[] = followed.map((fc) => {
    for (const c of fc.chains) compareLegs(c.legs, samples, verifiers);
    const dirs = (['caller->callee', 'callee->caller'] as const).map((d) => judgeDirection(d, fc.chains.filter((c) => (c.direction ?? 'caller->callee') === d).flatMap((c) => c.legs), keys));
    if (!fc.sip) {
      for (const d of dirs) d.conditions.push({ kind: 'sip-not-seen', text: 'no SIP of this call in the captures: found from its media; which end called is a guess (the end whose media came first)' });
    }
    const usedKeys = dirs.flatMap((d) => d.legs.flatMap((l) => (l.key ? [l.key] : [])));
    const fromFile = [...new Set(usedKeys)].flatMap((id) => keys.get(id)?.sources.flatMap((s) => (s.kind === 'key-file' && s.callId ? [s.callId] : [])) ?? []);
    const first = fc.chains[0]?.legs[0];
    return {
      callId: fc.sip?.callId ?? fromFile[0] ?? `media ${first?.src ?? '?'} <-> ${fc.chains[0]?.legs.at(-1)?.dst ?? '?'}`,
      foundBy: fc.sip ? 'sip' : 'media',
      ...(fc.sip?.caller ? { caller: fc.sip.caller } : {}),
      ...(fc.sip?.callee ? { callee: fc.sip.callee } : {}),
      signalling: (fc.sip?.invites ?? []).map((s) => ({ link: s.link, from: s.from, to: s.to, transport: s.transport, clear: s.clear })),
      keys: [...new Set((fc.sip?.sightings ?? []).flatMap((s) => s.keys.map((k) => idOf(k.inline))))],
      directions: dirs,
      // A direction that sent nothing (a one-way call) says so itself; the call is judged on the media that flowed.
      mediaPath: weakest(withMedia(dirs).map((d) => d.mediaPath)),
      verdict: weakest(withMedia(dirs).map((d) => d.verdict)),
    };
  });
  return {
    inputs: input.captures, links, calls, keys: [...keys.values()], sip, problems, missingTools, tlsSecrets,
  };
}

function withMedia<T extends { legs: unknown[] }>(dirs: T[]): T[] {
  const some = dirs.filter((d) => d.legs.length > 0);
  return some.length > 0 ? some : dirs;
}

/** SIP inside TLS, per file, with every secret given or embedded; adds what it reads to `sip`. */
async function readTls(
  keyLogFiles: string[], passes: FilePass[], linkOf: (p: FilePass, i: number) => string, sip: SipSighting[], problems: string[], missingTools: string[],
): Promise<ForeignAnalysis['tlsSecrets']> {
  const texts: string[] = [];
  const fromFiles: string[] = [];
  const fromCaptures: string[] = [];
  for (const f of keyLogFiles) {
    try {
      texts.push(readFileSync(f, 'utf8'));
      fromFiles.push(f);
    } catch (e) {
      problems.push(`${f}: TLS key log not readable: ${(e as Error).message}`);
    }
  }
  for (const p of passes) {
    try {
      const blocks = readSecretsBlocks(p.file);
      if (blocks.length > 0) {
        texts.push(...blocks);
        fromCaptures.push(p.file);
      }
    } catch {
      // An unreadable file is already a problem of its own pass.
    }
  }
  const log = normaliseTlsKeyLog(texts);
  const withTls = passes.filter((p) => p.interfaces.some((i) => i.signalling.tlsRecords > 0));
  if (withTls.length === 0) return { lines: log.lines, fromFiles, fromCaptures };
  if (log.lines === 0) {
    for (const p of withTls) for (const i of p.interfaces.filter((x) => x.signalling.tlsRecords > 0)) {
      problems.push(`${linkOf(p, i.interfaceId)}: ${i.signalling.tlsRecords} TLS records not read (no TLS secrets: give --sslkeylog FILE, or a pcapng with a Decryption Secrets Block); SDP inside them is not seen`);
    }
    return { lines: 0, fromFiles, fromCaptures };
  }
  const dir = mkdtempSync(join(tmpdir(), 'imslab-analyse-tls-'));
  try {
    const file = join(dir, 'keys.log');
    writeFileSync(file, log.text);
    for (const p of withTls) {
      const flows = p.interfaces.flatMap((i) => i.signalling.tlsFlows);
      const r = await readSipInsideTls(p.file, [file], flows);
      if (r.error) {
        if (r.error.startsWith('tshark not installed')) {
          if (!missingTools.includes('tshark')) missingTools.push('tshark');
        }
        problems.push(`${basename(p.file)}: SIP inside TLS not read: ${r.error}`);
        continue;
      }
      for (const m of r.messages) {
        const s = tlsSighting(linkOf(p, m.interfaceId ?? 0), m);
        if (s) sip.push(s);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { lines: log.lines, fromFiles, fromCaptures };
}
