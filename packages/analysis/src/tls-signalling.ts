import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readCryptoValue, splitAttribute } from '@imslab/sdp';
import { concatLinkCaptures, sameDecodeAs, tlsDecodePorts, tsharkGroups } from './link-merge.ts';
import { readKeyLogs } from './tls13.ts';
import { noKeysFor, readTlsSipInProcess, type TlsSipMessage } from './tls-reader.ts';

const run = promisify(execFile);

export type { TlsSipMessage } from './tls-reader.ts';

export interface TlsSignallingReport {
  /** SIP messages read inside TLS with the logged secrets (in process, or by tshark). */
  messages: TlsSipMessage[];
  /** Why nothing could be read, when that is the case. */
  error?: string;
}

/**
 * Opens the SIP inside TLS on one link with tshark and the elements' TLS key
 * logs (SSLKEYLOGFILE format): an independent TLS implementation reads what
 * the SIP hops could read. Never throws: a missing tshark or key log is
 * reported in `error`.
 */
export async function readSipInsideTls(capture: string, keyLogs: string[], tlsFlows: string[] = []): Promise<TlsSignallingReport> {
  if (keyLogs.length === 0) return { messages: [], error: 'no TLS key log' };
  try {
    // tshark finds TLS by port; tell it every TCP port the scan saw TLS records on (SIP over TLS on any port).
    return { messages: await tsharkSipInsideTls(capture, keyLogs, tlsDecodePorts(tlsFlows, true)) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { messages: [], error: err.code === 'ENOENT' ? 'tshark not installed (apt-get install tshark)' : err.message.split('\n')[0]! };
  }
}

/**
 * {@link readSipInsideTls} for several links at once. Each link is first
 * read in process (tls-reader.ts: TLS 1.3 with the key logs); a link
 * with a connection that could not be read for a reason tshark might not
 * share (TLS 1.2, a cipher suite or a capture it does not follow) is read by
 * tshark instead, with one tshark run where it can: those links' captures
 * are merged into one temporary file (link-merge.ts) and the messages split
 * back per link, as each link's own run gives them (`interfaceId` as in the
 * link's file). Links whose connections overlap, and every link of a merged
 * run that fails, are read one by one, so errors stay per link. Never
 * throws. Reports come in the order of `links`.
 */
export async function readSipInsideTlsOnLinks(links: ReadonlyArray<{ link: string; file: string; tlsFlows: string[] }>, keyLogs: string[]): Promise<Record<string, TlsSignallingReport>> {
  const got = new Map<string, TlsSignallingReport>();
  const forTshark: Array<{ link: string; file: string; tlsFlows: string[] }> = [];
  // An unreadable key log is an error the tshark path reports as such (readKeyLogs would skip it).
  const keyLog = keyLogs.length > 0 && keyLogs.every(readable) ? readKeyLogs(keyLogs) : null;
  for (const l of links) {
    const r = keyLog ? await readTlsSipInProcess(l.file, keyLog).catch(() => null) : null;
    if (r && r.unread.every((u) => noKeysFor(u.why))) got.set(l.link, { messages: r.messages });
    else forTshark.push(l);
  }
  if (keyLogs.length > 0) {
    for (const g of await tsharkGroups(forTshark.map((l) => ({ ...l, flows: l.tlsFlows })))) {
      const merged = g.length > 1 ? await readMerged(g, keyLogs) : null;
      if (merged) for (const [link, r] of merged) got.set(link, r);
    }
  }
  const out: Record<string, TlsSignallingReport> = {};
  for (const l of links) out[l.link] = got.get(l.link) ?? (await readSipInsideTls(l.file, keyLogs, l.tlsFlows));
  return out;
}

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** One tshark run over the links' captures merged; null when that run cannot answer for every link. */
async function readMerged(links: ReadonlyArray<{ link: string; file: string; tlsFlows: string[] }>, keyLogs: string[]): Promise<Map<string, TlsSignallingReport> | null> {
  let dir: string | undefined;
  try {
    dir = mkdtempSync(join(tmpdir(), 'imslab-tls-links-'));
    const file = join(dir, 'links.pcapng');
    const interfaces = await concatLinkCaptures(links, file);
    const linkPorts = new Map(links.map((l) => [l.link, new Set(tlsDecodePorts(l.tlsFlows, true))]));
    const allPorts = new Set([...linkPorts.values()].flatMap((s) => [...s]));
    const messages = await tsharkSipInsideTls(file, keyLogs, [...allPorts].sort((x, y) => x - y));
    const out = new Map<string, TlsSignallingReport>(links.map((l) => [l.link, { messages: [] }]));
    for (const m of messages) {
      const from = m.interfaceId === undefined ? undefined : interfaces[m.interfaceId];
      if (!from) return null;
      // A connection decoded as TLS only because another link has TLS on one of its ports: the link's own run would not have.
      if (!sameDecodeAs(m.srcPort, m.dstPort, linkPorts.get(from.link)!, allPorts)) continue;
      out.get(from.link)!.messages.push({ ...m, interfaceId: from.interfaceId });
    }
    return out;
  } catch {
    return null;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** The SIP messages inside TLS in `capture` (tshark, the key logs, `ports` decoded as TLS). Throws what tshark or reading a key log throws. */
async function tsharkSipInsideTls(capture: string, keyLogs: string[], ports: number[]): Promise<TlsSipMessage[]> {
  const dir = mkdtempSync(join(tmpdir(), 'imslab-tls-'));
  try {
    const keylog = join(dir, 'keys.log');
    writeFileSync(keylog, keyLogs.map((f) => readFileSync(f, 'utf8')).join('\n'));
    const decodeAs = ports.flatMap((p) => ['-d', `tcp.port==${p},tls`]);
    const fields = ['ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst', 'sip.Method', 'sip.Status-Code', 'sip.Call-ID', 'sdp.media.proto', 'sdp.media_attr', 'sdp.connection_info.address', 'sdp.media.port',
      'tcp.srcport', 'tcp.dstport', 'sip.CSeq.method', 'frame.interface_id', 'frame.time_epoch'];
    const { stdout } = await run('tshark', [
      '-r', capture, '-n', '-o', `tls.keylog_file:${keylog}`, ...decodeAs,
      '-Y', 'sip && tls', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=\u001f',
      ...fields.flatMap((f) => ['-e', f]),
    ], { maxBuffer: 64 * 1024 * 1024 });
    return stdout.split('\n').filter((l) => l.trim()).map((line): TlsSipMessage => {
      const [src4 = '', src6 = '', dst4 = '', dst6 = '', method = '', status = '', callId = '', protos = '', attrs = '', addrs = '', ports = '', sport = '', dport = '', cseq = '', iface = '', epoch = ''] = line.split('\t');
      const list = (s: string) => (s ? s.split('\u001f') : []);
      const a = list(addrs);
      // Endpoints are named as flows are: IPv6 in brackets (RFC 5952 text, as tshark prints it).
      const ep = (addr: string, port: string) => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);
      const mediaEndpoints = list(ports).map((p, i) => ep(a[Math.min(i + (a.length > list(ports).length ? 1 : 0), a.length - 1)] ?? '', p)).filter((e) => !e.startsWith(':'));
      const src = src4 || src6;
      const dst = dst4 || dst6;
      // Two SIP messages in one TLS record come out joined by the aggregator: keep the first Call-ID.
      const first = (v: string) => v.split('\u001f')[0]!;
      const num = (v: string) => (first(v) === '' ? undefined : Number(first(v)));
      const time = num(epoch);
      return {
        src, dst, what: method || status, callId: first(callId), mediaProtocols: list(protos), mediaAttributes: list(attrs), mediaEndpoints,
        srcPort: num(sport), dstPort: num(dport), cseqMethod: first(cseq) || undefined, interfaceId: num(iface), timeUs: time === undefined ? undefined : Math.round(time * 1e6),
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** SDES keys (base64 key||salt) carried in the messages' a=crypto attributes (RFC 4568, read by @imslab/sdp). */
export function sdesKeysIn(messages: TlsSipMessage[]): string[] {
  const out = new Set<string>();
  for (const m of messages) for (const text of m.mediaAttributes) {
    const a = splitAttribute(text);
    if (a.name !== 'crypto') continue;
    const line = readCryptoValue(a.value);
    for (const k of line.attribute?.keyParams ?? []) out.add(k.keySalt.toString('base64'));
  }
  return [...out];
}
