import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { Analysis } from '@imslab/analysis';
import { REPO_ROOT } from '@imslab/topology';
import { ScenarioError } from './errors.ts';
import type { RunSummary, ScenarioResult } from './run-session.ts';
import { verdictTable } from './report.ts';
import { EVIDENCE_FILES } from './evidence-captures.ts';
import { wiresharkMediaOptions, type DecryptResult } from '@imslab/decrypt';

/** Finds a run directory by path, by name under runs/, or `latest`. */
export function resolveRun(name: string, runs = join(REPO_ROOT, 'runs')): string {
  const all = existsSync(runs) ? readdirSync(runs).filter((d) => statSync(join(runs, d)).isDirectory()).sort() : [];
  if (name === 'latest') {
    const last = all.at(-1);
    if (!last) throw new ScenarioError(`no runs yet under ${runs}: run 'imslab run' first`);
    return join(runs, last);
  }
  for (const candidate of [resolve(name), join(runs, name)]) if (existsSync(candidate)) return candidate;
  throw new ScenarioError(`no run "${name}"; runs: ${all.slice(-5).join(', ') || 'none'} (or 'latest')`);
}

/** A run's summary; the scenario directories in it are relative to the run directory. */
export function readSummary(dir: string): RunSummary {
  const file = join(dir, 'summary.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as RunSummary;
  if (existsSync(join(dir, 'verdict.json'))) {
    const r = JSON.parse(readFileSync(join(dir, 'verdict.json'), 'utf8')) as ScenarioResult;
    return { run: basename(dir), target: 'local', startedAt: '', finishedAt: null, aborted: null, planned: [r.scenario], results: [{ ...r, dir: '.' }] };
  }
  throw new ScenarioError(`${dir} holds no summary.json or verdict.json`);
}

function flowsOf(dir: string): string[] {
  const file = join(dir, 'analysis.json');
  if (!existsSync(file)) return ['  (no analysis.json)'];
  const a = JSON.parse(readFileSync(file, 'utf8')) as Analysis;
  const out: string[] = [];
  for (const p of a.problems) out.push(`  PROBLEM: ${p}`);
  for (const l of a.links) {
    const s = l.signalling;
    out.push(`  ${l.link}: ${l.packets} packets; SIP plaintext ${s.plaintextSip}, TLS records ${s.tlsRecords}${s.exposedSdesKeys.length ? `, SDES keys readable: ${s.exposedSdesKeys.length}` : ''}`);
    for (const f of l.media) {
      const keys = Object.entries(f.srtp).map(([k, n]) => `${k}:${n}`).join(' ');
      out.push(`    ${f.flow}  rtp ${f.packets}  plaintext ${f.plaintext}  ${keys ? `srtp ${keys}` : ''}${f.unknown ? `  unknown ${f.unknown}` : ''}`);
    }
  }
  return out;
}

/** Human summary of a run: the verdict table, then every link's flows per scenario. */
export function inspectRun(name: string): string {
  const dir = resolveRun(name);
  const s = readSummary(dir);
  const lines = [`run ${s.run} (${s.target})${s.aborted ? `  ABORTED: ${s.aborted}` : ''}`, verdictTable(s.results), ''];
  const notRun = s.planned.filter((p) => !s.results.some((r) => r.scenario === p));
  if (notRun.length) lines.push(`not run: ${notRun.join(', ')}`, '');
  for (const r of s.results) {
    const sdir = isAbsolute(r.dir) ? r.dir : join(dir, r.dir);
    lines.push(`${r.scenario} (${sdir})`);
    lines.push(...flowsOf(sdir));
    lines.push(...openWith(sdir));
  }
  return lines.join('\n');
}

/** A path as the shell reads it back, whatever it holds. */
const SAFE_PATH = /^[\w./+-]+$/;
const QUOTE = "'";
const sh = (p: string) => (SAFE_PATH.test(p) ? p : QUOTE + p.split(QUOTE).join(`${QUOTE}\\${QUOTE}${QUOTE}`) + QUOTE);

/** The exact command lines that open a scenario's evidence, and what the decryption did. */
export function openWith(sdir: string): string[] {
  const all = join(sdir, EVIDENCE_FILES.allLinks);
  const dec = join(sdir, EVIDENCE_FILES.decrypted);
  const out: string[] = [];
  if (!existsSync(all)) return ['  (no all-links.pcapng: the scenario stopped before its captures were merged)'];
  out.push('  open (TLS secrets are inside the file; no Wireshark setup):');
  out.push(`    wireshark ${sh(all)}`);
  out.push(`    tshark -r ${sh(all)} -Y sip`);
  const report = join(sdir, EVIDENCE_FILES.decryptedReport);
  if (existsSync(dec) && existsSync(report)) {
    const d = JSON.parse(readFileSync(report, 'utf8')) as DecryptResult;
    out.push(`  decrypted: ${d.decryptedRtp} RTP and ${d.decryptedRtcp} RTCP packets under ${d.usedKeys.length} keys; ${d.untouchedRtpLike} RTP-like left as captured (plaintext or no key)`);
    // The SDP in the file says SRTP: these options make Wireshark show the decrypted media as RTP (see wiresharkMediaOptions).
    const opts = wiresharkMediaOptions(d.streams).join(' ');
    out.push(`    wireshark ${opts} ${sh(dec)}    (Telephony > RTP > RTP Streams > Play)`);
    out.push(`    tshark -r ${sh(dec)} ${opts} -q -z rtp,streams`);
    for (const p of d.keyProblems) out.push(`    key not used: ${p}`);
    const wavs = d.streams.flatMap((st) => (st.audio && 'file' in st.audio ? [st.audio.file] : []));
    if (wavs.length) out.push(`    audio: ${sh(join(sdir, EVIDENCE_FILES.audio))}/ (${wavs.length} WAV files, one per decrypted G.711 stream)`);
  } else {
    out.push('  (no decrypted.pcapng: see PROBLEM lines)');
  }
  return out;
}
