/**
 * report.html: one self-contained page (inline CSS and SVG, no script, a
 * Content-Security-Policy that forbids every fetch) for one run.
 */
import type { Analysis, CallReport, LinkReport } from '@imslab/analysis';
import type { CallOutcome, RunSummary, ScenarioResult } from '@imslab/run-format';
import type { CallStatus } from '@imslab/ue/contract';
import { anchor, esc } from './html.ts';
import { badgeText, ladderSvg, networkSvg } from './draw.ts';
import { ladderOf, type Ladders } from './ladder.ts';
import type { NetworkView } from './network.ts';
import { PROTECTION_CLASSES, PROTECTION_STYLE, classOfVerdict, linkColours } from './protection.ts';

/** Everything the page shows of one scenario. */
export interface ScenarioData {
  result: ScenarioResult;
  /** The scenario directory (absolute). */
  dir: string;
  analysis: Analysis | null;
  view: NetworkView;
  name: (ip: string) => string | undefined;
  ladders: Ladders | null;
  /** Every UE's view of every call (ue-calls.json), when the run left it. */
  ueCalls: Record<string, CallStatus[]> | null;
  /** Why something of the scenario could not be read. */
  problems: string[];
}

const CSS = `
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--soft:#f6f8fa;--pass:#1a7f37;--fail:#cf222e;--badge:#6639ba}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px 64px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:36px 0 8px;padding-top:12px;border-top:2px solid var(--line)}
h3{font-size:15px;margin:22px 0 6px}h4{font-size:14px;margin:16px 0 6px}
code,.mono,pre{font-family:ui-monospace,"SFMono-Regular","DejaVu Sans Mono","Liberation Mono",Menlo,Consolas,monospace;font-size:12px}
pre{white-space:pre-wrap;background:var(--soft);padding:8px 10px;border-radius:6px;margin:4px 0}
.muted{color:var(--muted)}
.aborted{background:#fff8c5;border:1px solid #d4a72c;padding:8px 12px;border-radius:6px;margin:10px 0;font-weight:600}
table{border-collapse:collapse;margin:6px 0 12px}th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
table.verdicts td.ev{max-width:640px;font-size:12.5px}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.res{font-weight:700;padding:1px 8px;border-radius:10px;color:#fff;display:inline-block;min-width:44px;text-align:center}
.res-pass{background:var(--pass)}.res-fail,.res-error{background:var(--fail)}.res-skip{background:#8c959f}
.v{display:inline-block;padding:0 7px;border-radius:9px;border:2px solid;font-weight:600;font-size:12.5px;background:#fff}
${PROTECTION_CLASSES.map((c) => `.v-${c}{border-color:${PROTECTION_STYLE[c].colour};color:${c === 'absent' ? '#57606a' : PROTECTION_STYLE[c].colour}}`).join('\n')}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:8px 0 4px;padding:8px 12px;background:var(--soft);border-radius:6px}
.legend span{display:inline-flex;align-items:center;gap:6px}
.legend .kx{display:inline-block;padding:0 7px;border-radius:8px;background:var(--badge);color:#fff;font-size:12px}
.legend .kx-exposed{background:#fff;color:var(--fail);border:1.5px solid var(--fail)}
svg{display:block;max-width:100%;height:auto;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif}
svg.network .band-access{fill:#f6f8fa}svg.network .band-core{fill:#eef1f4}
svg.network .band-name{font-size:14px;font-weight:700;text-anchor:middle;fill:#1f2328}
svg.network .band-class{font-size:12px;font-weight:700;text-anchor:middle;fill:#fff}
svg.network .signalling{stroke:#8c959f;stroke-width:1.2}
svg.network .node rect{fill:#fff;stroke:#57606a;stroke-width:1.3}svg.network .node.unowned rect{stroke-dasharray:4 3}
svg.network .node .name{font-size:12.5px;font-weight:600;text-anchor:middle;fill:#1f2328}
svg.network .node .kind{font-size:10px;text-anchor:middle;fill:#59636e}
svg.ladder .head{font-size:11px;fill:#59636e;font-weight:600}
svg.ladder .col{font-size:12px;font-weight:700;text-anchor:middle;fill:#1f2328}svg.ladder .colkind{font-size:10px;text-anchor:middle;fill:#59636e}
svg.ladder .lifeline line{stroke:#d1d9e0;stroke-width:1.5}
svg.ladder .time,svg.ladder .linkname{font-size:11px;fill:#59636e;font-family:ui-monospace,"DejaVu Sans Mono",monospace}
svg.ladder .arrow{stroke:#24292f;stroke-width:1.4}svg.ladder .response .arrow{stroke-dasharray:5 3}
svg.ladder .clear .arrow{stroke:#cf222e}
svg.ladder .head-req,svg.ladder .head-resp{fill:#24292f}svg.ladder .clear .head-req,svg.ladder .clear .head-resp{fill:#cf222e}
svg.ladder .label{font-size:11.5px;text-anchor:middle;fill:#1f2328}
svg.ladder .keyx .label{font-weight:700}
svg.ladder .keydot{fill:var(--badge)}
svg.ladder .badge rect{fill:var(--badge)}svg.ladder .badge text{font-size:11px;fill:#fff;font-weight:600}
svg.ladder .badge-exposed rect{fill:#fff;stroke:#cf222e;stroke-width:1.5}svg.ladder .badge-exposed text{fill:#cf222e}
.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:6px;padding:6px;margin:6px 0}
details{margin:4px 0 10px}summary{cursor:pointer;color:var(--muted)}
ul.ev{margin:4px 0 10px;padding-left:20px}ul.ev li{margin:2px 0}
li.mismatch{color:var(--fail);font-weight:600}
.kxcell span{display:inline-block;background:var(--badge);color:#fff;border-radius:8px;padding:0 6px;margin:1px 3px 1px 0;font-size:11.5px}
.kxcell span.exposed{background:#fff;color:var(--fail);border:1px solid var(--fail)}
nav.toc{columns:3 260px;font-size:13px;margin:8px 0}nav.toc a{display:block}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
@media print{.scroll{overflow:visible}}
`;

function resultWord(r: ScenarioResult): { word: string; cls: string } {
  if (r.status === 'pass') return { word: 'pass', cls: 'pass' };
  if (r.status === 'skipped') return { word: 'skip', cls: 'skip' };
  if (r.status === 'error') return { word: r.error?.kind === 'aborted' ? 'ABORTED' : 'ERROR', cls: 'error' };
  return { word: 'FAIL', cls: 'fail' };
}

function verdictChip(v: string): string {
  const c = classOfVerdict(v);
  return `<span class="v v-${c}" data-class="${c}">${esc(v)}</span>`;
}

function legend(): string {
  const items = PROTECTION_CLASSES.map((c) => {
    const s = PROTECTION_STYLE[c];
    return `<span data-class="${c}"><svg width="44" height="12" aria-hidden="true"><line x1="2" y1="6" x2="42" y2="6" stroke="${s.colour}" stroke-width="5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/></svg><b>${esc(s.label)}</b> <span class="muted">${esc(s.meaning)}</span></span>`;
  });
  items.push('<span><span class="kx">a=crypto</span><span class="kx">a=key-mgmt</span><span class="kx">a=3ge2ae</span><span class="kx">MIKEY-TICKET</span> key-exchange steps in the ladders</span>');
  items.push('<span><span class="kx kx-exposed">key in clear SIP</span> SDES key readable on the link; red arrows: SIP in the clear, black: inside TLS; dashed: responses</span>');
  return `<div class="legend" role="list" aria-label="legend">${items.join('')}</div>`;
}

/** The evidence cell of the verdict table: the first mismatch, else the first condition and evidence line. */
function evidenceCell(c: CallOutcome): string {
  if (!c.pass) return c.mismatches[0] ?? '';
  return [c.conditions.length ? `conditional: ${c.conditions[0]}` : '', c.evidence[0] ?? ''].filter(Boolean).join('; ');
}

function verdictTable(results: ScenarioResult[]): string {
  const rows: string[] = [];
  for (const r of results) {
    const w = resultWord(r);
    const link = `<a href="#${anchor('s', r.scenario)}">${esc(r.scenario)}</a>`;
    const res = `<span class="res res-${w.cls}">${esc(w.word)}</span>`;
    if (r.status === 'skipped' || r.error || r.calls.length === 0) {
      const why = r.skipped ?? r.error?.message ?? 'no calls';
      rows.push(`<tr data-scenario="${esc(r.scenario)}" data-call="" data-result="${esc(w.word)}"><td>${link}</td><td></td><td>${esc(r.calls.map((c) => c.expected).join(', ') || '-')}</td><td>${esc(r.error?.kind ?? '-')}</td><td>${res}</td><td class="ev">${esc(why)}</td></tr>`);
      continue;
    }
    for (const c of r.calls) {
      const cw = c.pass ? { word: 'pass', cls: 'pass' } : { word: 'FAIL', cls: 'fail' };
      rows.push(`<tr data-scenario="${esc(r.scenario)}" data-call="${esc(c.alias)}" data-result="${cw.word}"><td>${link}</td><td>${esc(c.alias)}</td><td>${verdictChip(c.expected)}</td><td>${verdictChip(c.observed)}</td>`
        + `<td><span class="res res-${cw.cls}">${cw.word}</span></td><td class="ev">${esc(evidenceCell(c))}</td></tr>`);
    }
  }
  return `<table class="verdicts"><thead><tr><th>scenario</th><th>call</th><th>expected</th><th>observed</th><th>result</th><th>first mismatch or evidence</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** A link's flows as `imslab inspect` prints them. */
function flowsTable(l: LinkReport, callOf: (id: string | undefined) => string, markerOf: Map<string, string>): string {
  const s = l.signalling;
  const head = `<p><b>${esc(l.link)}</b>: ${l.packets} packets; SIP plaintext ${s.plaintextSip}, TLS records ${s.tlsRecords}${s.exposedSdesKeys.length ? `, <b>SDES keys readable: ${s.exposedSdesKeys.length}</b>` : ''}${s.e2aeIndicators.length ? `, a=3ge2ae in the clear: ${esc(s.e2aeIndicators.join(', '))}` : ''}${s.mikeyOffers ? `, MIKEY offers in the clear: ${s.mikeyOffers}` : ''}${l.error ? ` <b>capture error: ${esc(l.error)}</b>` : ''}</p>`;
  if (l.media.length === 0) return `${head}<p class="muted">no media flows</p>`;
  const rows = l.media.map((f) => {
    const keys = Object.entries(f.srtp).map(([k, n]) => `${k}:${n}`).join(' ');
    const markers = Object.keys(f.markers).map((m) => (markerOf.has(m) ? `${m} (${markerOf.get(m)})` : m)).join(' ');
    return `<tr><td class="mono">${esc(f.flow)}</td><td class="num">${f.packets}</td><td class="num">${f.plaintext}</td><td class="mono">${esc(keys)}</td><td class="num">${f.unknown}</td><td class="num">${f.plaintextUnmarked ?? 0}</td><td class="num">${f.lost}</td><td class="mono">${esc(markers)}</td><td>${esc(f.foundBy ? (f.foundBy.how === 'sdp' ? `SDP of ${callOf(f.foundBy.callId)}` : 'RTP shape') : '')}</td></tr>`;
  });
  return `${head}<table class="flows"><thead><tr><th>flow</th><th>rtp</th><th>plaintext</th><th>srtp (key:packets)</th><th>unknown</th><th>unmarked</th><th>lost</th><th>markers</th><th>found by</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function messagesTable(ms: ReturnType<typeof ladderOf>): string {
  const t0 = ms.find((m) => m.timeUs !== null)?.timeUs ?? null;
  const rows = ms.map((m) => {
    const time = m.timeUs === null || t0 === null ? 'n/a' : `+${((m.timeUs - t0) / 1e6).toFixed(3)}`;
    const clear = m.transport === 'udp' || m.transport === 'tcp';
    const kx = m.keyExchange.map((k) => `<span>${esc(badgeText(k))}</span>`).join('') + (clear && m.keyExchange.some((k) => k.kind === 'crypto') ? '<span class="exposed">key in clear SIP</span>' : '');
    return `<tr><td class="num mono">${esc(time)}</td><td>${esc(m.link)}</td><td>${esc(m.transport)}</td><td>${esc(m.from)} <span class="muted mono">${esc(m.src)}</span></td><td>${esc(m.to)} <span class="muted mono">${esc(m.dst)}</span></td><td class="mono">${esc(m.firstLine)}</td><td class="mono">${esc(m.cseq ?? '')}</td><td class="kxcell">${kx}</td></tr>`;
  });
  return `<table class="messages"><thead><tr><th>time (s)</th><th>link</th><th>transport</th><th>from</th><th>to</th><th>start line</th><th>CSeq</th><th>key exchange</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** What each UE said about one call (its control API, at the end of the scenario). */
function ueTable(ueCalls: Record<string, CallStatus[]> | null, callId: string | null): string {
  if (!ueCalls || !callId) return '';
  const rows = Object.entries(ueCalls).flatMap(([ue, calls]) => (calls ?? []).filter((c) => c.callId === callId).map((c) => {
    const sec = `${c.securityRequested ?? '?'} -> ${c.securityAchieved ?? 'none yet'}${c.keyManagement ? ` (${c.keyManagement}${c.suite ? `, ${c.suite}` : ''})` : ''}`;
    const peer = c.kmsAuthenticatedPeer ? `${c.kmsAuthenticatedPeer} (KMS)` : c.remoteAssertedIdentity ?? c.remoteIdentity ?? '';
    const m = c.media;
    const media = m ? `tx ${m.txPackets}, rx ${m.rxPackets} (probe ${m.rxMarkerPackets}${m.rxAuthFailed ? `, auth failed ${m.rxAuthFailed}` : ''})` : '';
    return `<tr><td>${esc(ue)}</td><td>${esc(c.direction)}</td><td>${esc(c.state)}${c.failure ? `: ${esc(c.failure.reason)}` : ''}</td><td>${esc(sec)}</td><td>${esc(peer)}</td><td>${esc(media)}</td></tr>`;
  }));
  if (rows.length === 0) return '';
  return `<details><summary>what the UEs reported (${rows.length})</summary><table class="ues"><thead><tr><th>UE</th><th>direction</th><th>state</th><th>security asked -> achieved</th><th>peer</th><th>media packets</th></tr></thead><tbody>${rows.join('')}</tbody></table></details>`;
}

function pathLines(c: CallReport | undefined): string {
  if (!c) return '';
  const items = c.paths.map((p) => `<li><b>${esc(p.direction)}</b> ${verdictChip(p.verdict)}${p.phases ? ` phases ${esc(p.phases.map((x) => x.verdict).join(' then '))}` : ''}: ${esc(p.reasons.join('; '))}</li>`);
  return items.length ? `<p class="muted">per direction, as the analysis followed it across the links:</p><ul class="ev">${items.join('')}</ul>` : '';
}

function scenarioSection(s: ScenarioData): string {
  const r = s.result;
  const w = resultWord(r);
  const id = anchor('s', r.scenario);
  const out: string[] = [];
  out.push(`<section class="scenario" id="${id}" data-scenario="${esc(r.scenario)}">`);
  out.push(`<h2>${esc(r.scenario)} <span class="res res-${w.cls}">${esc(w.word)}</span></h2>`);
  out.push(`<p class="muted">TR 33.828 ${esc(r.clause)} · ${esc(r.title)} · ${(r.durationMs / 1000).toFixed(1)} s · <code>${esc(s.dir)}</code></p>`);
  if (r.skipped) out.push(`<p>skipped: ${esc(r.skipped)}</p>`);
  if (r.error) out.push(`<p class="aborted">${esc(r.error.kind)}: ${esc(r.error.message)}</p>`);
  if (r.status === 'skipped') {
    out.push('</section>');
    return out.join('');
  }
  const a = s.analysis;
  const colours = linkColours(a?.calls ?? []);
  const name = (ip: string) => s.name(ip);
  out.push('<h3>Network</h3>');
  out.push(`<p class="muted">${['access-a', 'core', 'access-b'].map((l) => `${l}: <b>${esc(PROTECTION_STYLE[colours[l]!.class].label)}</b>`).join(' · ')} (the weakest protection seen on the link for this scenario's calls)${s.view.source === 'planned' ? ` · elements from the plan (${esc(s.view.target)}${s.view.slot ? ` slot ${s.view.slot}` : ''})` : s.view.source === 'addresses' ? ' · elements unknown: addresses shown' : ''}</p>`);
  out.push(`<div class="scroll">${networkSvg(s.view, a, colours, name, r.scenario)}</div>`);
  out.push('<h3>SIP ladders</h3>');
  for (const note of [...s.problems, ...(s.ladders?.notes ?? [])]) out.push(`<p class="muted">${esc(note)}</p>`);
  const aliasOf = new Map(r.calls.filter((c) => c.callId).map((c) => [c.callId!, c.alias]));
  const callOf = (id: string | undefined) => (id ? aliasOf.get(id) ?? id : '?');
  if (r.calls.length === 0) out.push('<p class="muted">no calls</p>');
  for (const c of r.calls) {
    const ms = c.callId && s.ladders ? ladderOf(s.ladders, c.callId) : [];
    out.push(`<h4 id="${anchor('l', r.scenario, c.alias)}">${esc(c.alias)} <span class="muted mono">${esc(c.callId ?? 'no Call-ID')}</span> · ${ms.length} messages</h4>`);
    if (ms.length === 0) {
      out.push(`<p class="muted">${c.callId ? 'no SIP message of this call in the captures' : 'the call was not placed'}</p>`);
      continue;
    }
    out.push(`<div class="scroll" data-call="${esc(c.alias)}">${ladderSvg(s.view, ms, `${r.scenario} ${c.alias}`)}</div>`);
    out.push(`<details><summary>messages of ${esc(c.alias)} as a table</summary>${messagesTable(ms)}</details>`);
  }
  out.push('<h3>Evidence</h3>');
  for (const c of r.calls) {
    const report = a?.calls.find((x) => x.alias === c.alias);
    out.push(`<h4>${esc(c.alias)}: expected ${verdictChip(c.expected)} observed ${verdictChip(c.observed)} <span class="res res-${c.pass ? 'pass' : 'fail'}">${c.pass ? 'pass' : 'FAIL'}</span></h4>`);
    const items = [
      ...c.mismatches.map((m) => `<li class="mismatch">mismatch: ${esc(m)}</li>`),
      ...c.evidence.map((e) => `<li>${esc(e)}</li>`),
      ...c.conditions.map((e) => `<li>condition: ${esc(e)}</li>`),
    ];
    if (items.length) out.push(`<ul class="ev">${items.join('')}</ul>`);
    out.push(pathLines(report));
    out.push(ueTable(s.ueCalls, c.callId));
  }
  if (a) {
    for (const p of a.problems) out.push(`<p class="aborted">analysis problem: ${esc(p)}</p>`);
    out.push('<h4>Flows per link</h4>');
    const markerOf = new Map(a.calls.flatMap((c) => c.paths.map((p) => [p.marker, `${c.alias} ${p.direction}`] as [string, string])));
    for (const l of a.links) out.push(flowsTable(l, callOf, markerOf));
  } else {
    out.push('<p class="muted">no analysis.json</p>');
  }
  out.push('</section>');
  return out.join('');
}

/** The page for a run: header, legend, verdict table, then one section per scenario. */
export function renderReport(summary: RunSummary, scenarios: ScenarioData[], generatedAt = new Date()): string {
  const counts = new Map<string, number>();
  for (const r of summary.results) counts.set(resultWord(r).word, (counts.get(resultWord(r).word) ?? 0) + 1);
  const notRun = summary.planned.filter((p) => !summary.results.some((r) => r.scenario === p));
  const head = [
    `<h1>imslab run <code>${esc(summary.run)}</code></h1>`,
    `<p class="muted">target <b>${esc(summary.target)}</b> · started ${esc(summary.startedAt || 'n/a')} · finished ${esc(summary.finishedAt ?? 'not finished')} · ${summary.results.length} of ${summary.planned.length} scenarios: ${[...counts].map(([k, n]) => `${n} ${esc(k)}`).join(', ') || 'none'} · report written ${esc(generatedAt.toISOString())}</p>`,
    summary.aborted ? `<p class="aborted" role="alert">ABORTED: ${esc(summary.aborted)}</p>` : '',
    notRun.length ? `<p>not run: ${esc(notRun.join(', '))}</p>` : '',
  ].join('');
  const toc = `<nav class="toc" aria-label="scenarios">${summary.results.map((r) => `<a href="#${anchor('s', r.scenario)}">${esc(r.scenario)} · ${esc(resultWord(r).word)}</a>`).join('')}</nav>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>imslab run ${esc(summary.run)}</title>
<style>${CSS}</style></head>
<body>
<header>${head}</header>
${legend()}
<section id="verdicts"><h2>Verdicts</h2>${verdictTable(summary.results)}${toc}</section>
${scenarios.map(scenarioSection).join('\n')}
</body></html>
`;
}

