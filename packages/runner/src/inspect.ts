import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Analysis } from '@imslab/analysis';
import { REPO_ROOT } from '@imslab/topology';
import { ScenarioError } from './errors.ts';
import { verdictTable } from './report.ts';
import type { ScenarioResult } from './run.ts';

/** Finds a run directory by path, by name under runs/, or `latest`. */
export function resolveRun(name: string): string {
  const runs = join(REPO_ROOT, 'runs');
  const all = existsSync(runs) ? readdirSync(runs).filter((d) => statSync(join(runs, d)).isDirectory()).sort() : [];
  if (name === 'latest') {
    const last = all.at(-1);
    if (!last) throw new ScenarioError(`no runs yet under ${runs}: run 'imslab run' first`);
    return join(runs, last);
  }
  for (const candidate of [resolve(name), join(runs, name)]) if (existsSync(candidate)) return candidate;
  throw new ScenarioError(`no run "${name}"; runs: ${all.slice(-5).join(', ') || 'none'} (or 'latest')`);
}

function flowsOf(dir: string): string[] {
  const file = join(dir, 'analysis.json');
  if (!existsSync(file)) return ['  (no analysis.json)'];
  const a = JSON.parse(readFileSync(file, 'utf8')) as Analysis;
  const out: string[] = [];
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
  const summary = join(dir, 'summary.json');
  let results: ScenarioResult[];
  if (existsSync(summary)) results = JSON.parse(readFileSync(summary, 'utf8')) as ScenarioResult[];
  else if (existsSync(join(dir, 'verdict.json'))) results = [JSON.parse(readFileSync(join(dir, 'verdict.json'), 'utf8')) as ScenarioResult];
  else throw new ScenarioError(`${dir} holds no summary.json or verdict.json`);
  const lines = [`run ${basename(dir)}`, verdictTable(results), ''];
  for (const r of results) {
    lines.push(`${r.scenario} (${r.dir})`);
    lines.push(...flowsOf(r.dir));
    lines.push(`  captures: ${join(r.dir, 'all-links.pcapng')} (one interface per link)`);
  }
  return lines.join('\n');
}
