/**
 * `imslab analyse CAPTURE... [--sslkeylog FILE] [--srtp-keys FILE] [--json] [--report DIR]`:
 * judges captures made anywhere (softphones, a real network), without our
 * probe, with @imslab/analysis's analyseCaptures. A thin layer: it checks the
 * files, prints a table (or JSON), and with --report writes the evidence a
 * person opens: decrypted.pcapng (SRTP replaced by the RTP it carries, a WAV
 * per G.711 stream under audio/), analysis.json and report.html.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { analyseCaptures, readSecretsBlocks, type ForeignAnalysis, type ForeignCall } from '@imslab/analysis';
import { mergeCaptures } from '@imslab/capture';
import { decryptCapture } from '@imslab/decrypt';
import { esc } from '@imslab/report';
import { UsageError } from './errors.ts';
import { PROGRAM_PACKAGES } from './prerequisites.ts';

export interface AnalyseOptions {
  sslkeylog?: string[];
  'srtp-keys'?: string[];
  json?: boolean;
  report?: string;
}

/** Exit codes as every verb's (cli-help.ts EXIT_CODES). */
const OK = 0;
const INFRASTRUCTURE = 4;

function requireFile(path: string, what: string, hint: string): string {
  if (!existsSync(path)) throw new UsageError(`${what} ${path}: no such file; ${hint}`);
  if (!statSync(path).isFile()) throw new UsageError(`${what} ${path}: not a file; ${hint}`);
  return resolve(path);
}

/** Runs the verb; returns its exit code. Usage errors throw UsageError (exit 2). */
export async function analyseVerb(positionals: string[], opts: AnalyseOptions, out: (line: string) => void = (l) => console.log(l)): Promise<number> {
  if (positionals.length === 0) throw new UsageError('analyse needs at least one capture file (pcap or pcapng): imslab analyse CAPTURE... (imslab analyse --help)');
  const captures = positionals.map((p) => requireFile(p, 'capture', 'give the path of a pcap or pcapng file'));
  const sslKeyLogs = (opts.sslkeylog ?? []).map((p) => requireFile(p, '--sslkeylog', 'give a TLS key log (SSLKEYLOGFILE format)'));
  const srtpKeyFiles = (opts['srtp-keys'] ?? []).map((p) => requireFile(p, '--srtp-keys', 'give a key file (JSON-lines key log, or "SUITE inline:BASE64" lines)'));
  const a = await analyseCaptures({ captures, sslKeyLogs, srtpKeyFiles });
  if (opts.report) await writeReportDir(resolve(opts.report), a, sslKeyLogs, out);
  if (opts.json) out(JSON.stringify(a, null, 2));
  else for (const line of table(a)) out(line);
  if (a.missingTools.length > 0) {
    const pkgs = a.missingTools.map((t) => PROGRAM_PACKAGES[t] ?? t).join(' ');
    process.stderr.write(`imslab: missing ${a.missingTools.join(', ')} (needed to read the SIP inside TLS): apt-get install -y ${pkgs}\n`);
    return INFRASTRUCTURE;
  }
  return OK;
}

/** The human view: one block per call, each direction with its legs and conditions; then the keys, the links, the problems. */
export function table(a: ForeignAnalysis): string[] {
  const lines: string[] = [];
  if (a.calls.length === 0) lines.push('no call found (no SIP with an INVITE or SDP, and no RTP flow of 10 packets or more)');
  for (const c of a.calls) {
    lines.push(`call ${c.callId}  ${c.foundBy === 'sip' ? `${c.caller ?? '?'} -> ${c.callee ?? '?'}` : '(no SIP seen: found from its media)'}  verdict ${c.verdict}  (media path ${c.mediaPath})`);
    for (const d of c.directions) {
      lines.push(`  ${d.direction.padEnd(15)} ${d.verdict.padEnd(22)} media path ${d.mediaPath}`);
      for (const l of d.legs) {
        const how = l.protection === 'srtp' ? `SRTP ${l.key}` : l.protection === 'rtp' ? 'plain RTP' : 'unknown key';
        const cmp = l.comparedWithPrevious ? (l.comparedWithPrevious.bytesIdentical ? ', bytes as before' : l.comparedWithPrevious.payloadIdentical ? ', re-encrypted (same media)' : ', different bytes') : '';
        lines.push(`    ${l.link}: ${l.src} -> ${l.dst} SSRC 0x${(l.ssrcs[0] ?? 0).toString(16).padStart(8, '0')} ${l.packets} packets, ${how}${cmp}`);
      }
      for (const x of d.conditions) lines.push(`    - ${x.text}`);
    }
  }
  if (a.keys.length > 0) {
    lines.push('', 'keys:');
    for (const k of a.keys) {
      const where = k.sources.map((s) => (s.kind === 'sdp' ? `${s.message} ${s.from} -> ${s.to} on ${s.link}${s.clear ? ' (plaintext)' : ' (TLS)'}` : `${basename(s.file)}:${s.line}`));
      lines.push(`  ${k.id.padEnd(4)} ${k.suite.padEnd(24)} ${k.usedOn.length ? `protects ${k.usedOn.length} leg(s)` : 'protects nothing seen'}; from ${where.join(', ')}`);
    }
  }
  lines.push('', 'links:');
  for (const l of a.links) lines.push(`  ${l.name.padEnd(24)} ${l.packets} packets, ${l.media.length} RTP flows, SIP ${l.sipClear} in the clear + ${l.sipInTls} inside TLS, ${l.tlsRecords} TLS records`);
  if (a.problems.length > 0) {
    lines.push('', 'problems:');
    for (const p of a.problems) lines.push(`  ${p}`);
  }
  return lines;
}

/**
 * --report DIR: analysis.json, decrypted.pcapng (+ audio/, decrypted.json)
 * and report.html. Several inputs are merged first into all-links.pcapng
 * (one interface per input, the TLS secrets embedded); one input is
 * decrypted as it is, its interfaces kept.
 */
async function writeReportDir(dir: string, a: ForeignAnalysis, sslKeyLogs: string[], out: (line: string) => void): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const secrets = { tlsKeyLogFiles: sslKeyLogs, tlsKeyLogTexts: a.inputs.flatMap((f) => readSecretsBlocks(f)) };
  const notes: string[] = [];
  try {
    let input = a.inputs[0]!;
    if (a.inputs.length > 1) {
      input = join(dir, 'all-links.pcapng');
      await mergeCaptures(a.inputs.map((path) => ({ name: basename(path), path })), input, secrets);
    }
    const keys = a.keys.map((k) => ({ id: k.id, suite: k.suite, keySalt: k.inline }));
    const r = await decryptCapture(input, join(dir, 'decrypted.pcapng'), keys, { ...secrets, audioDir: join(dir, 'audio'), linkName: basename(input) });
    writeFileSync(join(dir, 'decrypted.json'), JSON.stringify(r, null, 2));
    notes.push(`decrypted.pcapng: ${r.decryptedRtp} RTP and ${r.decryptedRtcp} RTCP packets decrypted, ${r.streams.length} streams`);
  } catch (e) {
    a.problems.push(`decrypted.pcapng not written: ${(e as Error).message}`);
  }
  writeFileSync(join(dir, 'analysis.json'), JSON.stringify(a, null, 2));
  writeFileSync(join(dir, 'report.html'), reportHtml(a));
  out(`report: ${dir} (analysis.json, report.html${notes.length ? `; ${notes.join('; ')}` : ''})`);
}

const COLOUR: Record<string, string> = { e2e: '#2e7d32', e2ae: '#f9a825', none: '#c62828', unknown: '#757575' };
const colour = (v: string) => COLOUR[v] ?? (v.startsWith('e2m2e') ? '#1565c0' : '#757575');

function callHtml(c: ForeignCall): string {
  const rows = c.directions.map((d) => `<tr><td>${esc(d.direction)}</td><td style="color:${colour(d.verdict)}"><b>${esc(d.verdict)}</b></td><td>${esc(d.mediaPath)}</td>` +
    `<td><ol>${d.legs.map((l) => `<li>${esc(`${l.link}: ${l.src} -> ${l.dst}, ${l.packets} packets, ${l.protection === 'srtp' ? `SRTP ${l.key}` : l.protection}`)}</li>`).join('')}</ol></td>` +
    `<td><ul>${d.conditions.map((x) => `<li>${esc(x.text)}</li>`).join('')}</ul></td></tr>`).join('');
  return `<h2>call ${esc(c.callId)}</h2><p>${esc(c.foundBy === 'sip' ? `${c.caller ?? '?'} -> ${c.callee ?? '?'}` : 'no SIP seen: found from its media')}</p>` +
    `<table><tr><th>direction</th><th>verdict</th><th>media path</th><th>legs</th><th>conditions</th></tr>${rows}</table>`;
}

/** One self-contained page (nothing fetched): the verdicts, legs and conditions per call, the keys, the problems. */
export function reportHtml(a: ForeignAnalysis): string {
  const keys = a.keys.map((k) => `<li>${esc(`${k.id} ${k.suite}: ${k.sources.map((s) => (s.kind === 'sdp' ? `${s.message} ${s.from} -> ${s.to} on ${s.link} ${s.clear ? 'in plaintext' : 'inside TLS'}` : `${s.file}:${s.line}`)).join('; ')}`)}</li>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>imslab analyse</title><style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px;vertical-align:top}</style></head><body>` +
    `<h1>imslab analyse</h1><p>${esc(a.inputs.map((f) => basename(f)).join(', '))}</p>${a.calls.map(callHtml).join('') || '<p>no call found</p>'}` +
    `<h2>keys</h2><ul>${keys}</ul>${a.problems.length ? `<h2>problems</h2><ul>${a.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>` : ''}</body></html>\n`;
}
