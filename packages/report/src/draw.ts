/**
 * The two drawings, inline SVG: the network with its links coloured by the
 * protection observed on them, and the SIP ladder of one call. Every colour
 * comes with a line pattern and words (a <title> on each line, text labels),
 * so the drawings read without colour too.
 */
import type { Analysis } from '@imslab/analysis';
import { cut, esc } from './html.ts';
import type { LadderMessage } from './ladder.ts';
import type { NetworkView } from './network.ts';
import { PROTECTION_STYLE, hopColours, type LinkColouring, type ProtectionClass } from './protection.ts';

const W = 1000;
const BOX_W = 112;
const BOX_H = 34;
const BANDS: Array<{ link: string; x0: number; x1: number }> = [
  { link: 'access-a', x0: 0, x1: 300 },
  { link: 'core', x0: 300, x1: 700 },
  { link: 'access-b', x0: 700, x1: W },
];
/** Kinds in the middle of the core, each in its own row (they anchor media or keys for some scenarios). */
const MEDIA_SERVERS = ['transcoder', 'voicemail', 'conference'];

interface Node {
  name: string;
  kind: string;
  x: number;
  y: number;
}

/** Which side an element sits on: the link of its only access address, or core. */
function sideOf(addresses: Partial<Record<string, string>>): 'access-a' | 'core' | 'access-b' {
  const links = Object.keys(addresses).filter((k) => addresses[k]);
  if (links.length === 1 && (links[0] === 'access-a' || links[0] === 'access-b')) return links[0];
  return 'core';
}

/** Positions of every element of the view, plus nodes for addresses no element owns. */
function layout(view: NetworkView, extra: Array<{ name: string; link: string }>): { nodes: Map<string, Node>; height: number } {
  const nodes = new Map<string, Node>();
  const els = view.elements.filter((e) => !e.partOf);
  const ues = (side: string) => els.filter((e) => e.kind === 'ue' && sideOf(e.addresses) === side).map((e) => e.name);
  const left = [...ues('access-a'), ...extra.filter((x) => x.link === 'access-a').map((x) => x.name)];
  const right = [...ues('access-b'), ...extra.filter((x) => x.link === 'access-b').map((x) => x.name)];
  const kind = (n: string) => els.find((e) => e.name === n)?.kind ?? '?';
  const put = (name: string, x: number, y: number) => nodes.set(name, { name, kind: kind(name), x, y });
  const top = 78;
  left.forEach((n, i) => put(n, 80, top + 22 + i * 56));
  right.forEach((n, i) => put(n, W - 80, top + 22 + i * 56));
  const byKind = (k: string) => els.filter((e) => e.kind === k).map((e) => e.name);
  const pcscf = byKind('pcscf');
  const agw = byKind('ims-agw');
  const aSide = (names: string[]) => names.find((n) => n.endsWith('-a')) ?? names[0];
  const bSide = (names: string[]) => names.find((n) => n.endsWith('-b')) ?? names[1];
  const pa = aSide(pcscf), pb = bSide(pcscf), ga = aSide(agw), gb = bSide(agw);
  if (pa) put(pa, 300, top);
  if (pb) put(pb, 700, top);
  if (ga) put(ga, 300, top + 120);
  if (gb) put(gb, 700, top + 120);
  for (const s of byKind('scscf')) put(s, 440, top);
  for (const k of byKind('kms')) put(k, 566, top);
  const servers = els.filter((e) => MEDIA_SERVERS.includes(e.kind)).map((e) => e.name);
  servers.forEach((n, i) => put(n, 500, top + 190 + i * 56));
  // Anything else in the core (kinds added later), and core addresses no element owns, below.
  const placed = new Set(nodes.keys());
  const rest = [...els.filter((e) => !placed.has(e.name) && e.kind !== 'ue').map((e) => e.name), ...extra.filter((x) => x.link === 'core').map((x) => x.name)];
  const restTop = top + 190 + servers.length * 56;
  rest.forEach((n, i) => put(n, 380 + (i % 3) * 120, restTop + Math.floor(i / 3) * 56));
  const ys = [...nodes.values()].map((n) => n.y);
  const height = Math.max(300, (ys.length ? Math.max(...ys) : 0) + BOX_H / 2 + 70);
  return { nodes, height };
}

function box(n: Node, cls = ''): string {
  return `<g class="node ${cls}" data-element="${esc(n.name)}"><rect x="${n.x - BOX_W / 2}" y="${n.y - BOX_H / 2}" width="${BOX_W}" height="${BOX_H}" rx="5"/>`
    + `<text x="${n.x}" y="${n.y - 2}" class="name">${esc(cut(n.name, 16))}</text><text x="${n.x}" y="${n.y + 11}" class="kind">${esc(n.kind)}</text></g>`;
}

/** A line from edge to edge of two boxes (not through them). */
function clip(a: Node, b: Node): [number, number, number, number] {
  const dx = b.x - a.x, dy = b.y - a.y;
  const f = (n: Node, sx: number, sy: number) => {
    const tx = dx === 0 ? Infinity : (BOX_W / 2) / Math.abs(dx);
    const ty = dy === 0 ? Infinity : (BOX_H / 2) / Math.abs(dy);
    const t = Math.min(tx, ty);
    return [n.x + sx * dx * t, n.y + sy * dy * t] as const;
  };
  const [x1, y1] = f(a, 1, 1);
  const [x2, y2] = f(b, -1, -1);
  return [x1, y1, x2, y2].map((v) => Math.round(v * 10) / 10) as [number, number, number, number];
}

function stroke(cls: ProtectionClass, width: number): string {
  const s = PROTECTION_STYLE[cls];
  return `stroke="${s.colour}" stroke-width="${width}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}`;
}

/**
 * The network of one scenario: UEs on access-a left, P-CSCF-A and IMS-AGW-A
 * at the access-a/core edge, S-CSCF, KMS and servers in the core, P-CSCF-B
 * and IMS-AGW-B, UEs on access-b right. Media lines (thick) are the hops the
 * analysis followed the calls' media over, coloured by the weakest
 * protection seen on their link; thin grey lines are signalling.
 */
export function networkSvg(view: NetworkView, analysis: Pick<Analysis, 'calls' | 'links'> | null, colours: Record<string, LinkColouring>, name: (ip: string) => string | undefined, title: string): string {
  const named = (ip: string) => name(ip) ?? ip;
  const hops = analysis ? [...hopColours(analysis, named).values()] : [];
  // Flows the calls' SDP announced but whose media carried no readable marker (under no known key) are the calls' too.
  const callIds = new Set((analysis?.calls ?? []).map((c) => c.callId));
  for (const l of analysis?.links ?? []) {
    for (const f of l.media) {
      if (!f.foundBy?.callId || !callIds.has(f.foundBy.callId)) continue;
      const [a, b] = [named(f.src.replace(/:\d+$/, '')), named(f.dst.replace(/:\d+$/, ''))].sort() as [string, string];
      if (!hops.some((h) => h.link === l.link && h.a === a && h.b === b)) hops.push({ link: l.link, a, b, class: colours[l.link]?.class ?? 'absent' });
    }
  }
  // Addresses no element owns get a node of their own on the link they were seen on.
  const known = new Set(view.elements.map((e) => e.partOf ?? e.name));
  const extra: Array<{ name: string; link: string }> = [];
  for (const h of hops) for (const n of [h.a, h.b]) if (!known.has(n) && !extra.some((x) => x.name === n)) extra.push({ name: n, link: h.link });
  const { nodes, height } = layout(view, extra);
  const out: string[] = [];
  out.push(`<svg class="network" role="img" aria-labelledby="${esc(title)}-t" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" xmlns="http://www.w3.org/2000/svg">`);
  out.push(`<title id="${esc(title)}-t">Network of ${esc(title)}: ${BANDS.map((b) => `${b.link} ${PROTECTION_STYLE[colours[b.link]?.class ?? 'absent'].label}`).join(', ')}</title>`);
  for (const b of BANDS) {
    const c = colours[b.link]?.class ?? 'absent';
    const st = PROTECTION_STYLE[c];
    out.push(`<g class="band" data-link="${b.link}" data-protection="${c}"><rect x="${b.x0}" y="0" width="${b.x1 - b.x0}" height="${height}" class="band-${b.link === 'core' ? 'core' : 'access'}"/>`
      + `<text x="${(b.x0 + b.x1) / 2}" y="20" class="band-name">${esc(b.link)}</text>`
      + `<rect x="${(b.x0 + b.x1) / 2 - 70}" y="28" width="140" height="20" rx="10" fill="${st.colour}"/>`
      + `<text x="${(b.x0 + b.x1) / 2}" y="42" class="band-class">${esc(st.label)}</text>`
      + `<title>${esc(`${b.link}: ${st.label} (${st.meaning})\n${(colours[b.link]?.why ?? []).join('\n')}`)}</title></g>`);
  }
  const at = (n: string) => nodes.get(n);
  // Signalling: UE -> P-CSCF -> S-CSCF -> servers, P-CSCF -> UE.
  const sig: Array<[string, string]> = [];
  const els = view.elements.filter((e) => !e.partOf);
  const pcscfs = els.filter((e) => e.kind === 'pcscf').map((e) => e.name);
  const pFor = (side: string) => pcscfs.find((p) => sideOf(els.find((e) => e.name === p)!.addresses) === side || p.endsWith(side === 'access-a' ? '-a' : '-b'));
  for (const e of els) {
    if (e.kind === 'ue') {
      const p = pFor(sideOf(e.addresses));
      if (p) sig.push([e.name, p]);
    }
  }
  const scscf = els.find((e) => e.kind === 'scscf')?.name;
  if (scscf) {
    for (const p of pcscfs) sig.push([p, scscf]);
    for (const e of els.filter((x) => MEDIA_SERVERS.includes(x.kind))) sig.push([scscf, e.name]);
  }
  for (const [a, b] of sig) {
    const na = at(a), nb = at(b);
    if (!na || !nb) continue;
    const [x1, y1, x2, y2] = clip(na, nb);
    out.push(`<line class="signalling" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}"><title>signalling ${esc(a)} - ${esc(b)}</title></line>`);
  }
  // Media: the hops the analysis followed; where a link had none, the usual path drawn as "no media".
  const drawn: string[] = [];
  const media = (a: string, b: string, link: string, carried: boolean) => {
    const na = at(a), nb = at(b);
    if (!na || !nb) return;
    const cls: ProtectionClass = carried ? (colours[link]?.class ?? 'absent') : 'absent';
    const [x1, y1, x2, y2] = clip(na, nb);
    const why = carried ? colours[link]?.why ?? [] : ['no media of the calls between these two'];
    out.push(`<line class="media" data-link="${esc(link)}" data-protection="${cls}" data-ends="${esc(`${a} ${b}`)}" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" ${stroke(cls, carried ? 5 : 2)} stroke-linecap="butt">`
      + `<title>${esc(`${link} ${a} - ${b}: ${PROTECTION_STYLE[cls].label}\n${why.join('\n')}`)}</title></line>`);
    drawn.push(`${link} ${[a, b].sort().join(' ')}`);
  };
  for (const h of hops) media(h.a, h.b, h.link, true);
  const agws = els.filter((e) => e.kind === 'ims-agw').map((e) => e.name);
  const gFor = (side: string) => agws.find((g) => g.endsWith(side === 'access-a' ? '-a' : '-b'));
  const has = (link: string, a: string, b: string) => drawn.includes(`${link} ${[a, b].sort().join(' ')}`);
  for (const e of els.filter((x) => x.kind === 'ue')) {
    const side = sideOf(e.addresses);
    const g = gFor(side);
    if (g && side !== 'core' && !has(side, e.name, g)) media(e.name, g, side, false);
  }
  const [ga, gb] = [gFor('access-a'), gFor('access-b')];
  if (ga && gb && !hops.some((h) => h.link === 'core')) media(ga, gb, 'core', false);
  for (const n of nodes.values()) out.push(box(n, known.has(n.name) ? '' : 'unowned'));
  out.push('</svg>');
  return out.join('');
}

/** Left to right: UEs of access-a, P-CSCF-A, S-CSCF, KMS, servers, P-CSCF-B, UEs of access-b, then anything else. */
function columnOrder(view: NetworkView, names: string[]): string[] {
  const rank = (n: string): number => {
    const e = view.elements.find((x) => x.name === n);
    if (!e) return 9;
    const side = sideOf(e.addresses);
    if (e.kind === 'ue') return side === 'access-a' ? 0 : side === 'access-b' ? 8 : 4;
    if (e.kind === 'pcscf') return n.endsWith('-b') ? 7 : 1;
    if (e.kind === 'ims-agw') return n.endsWith('-b') ? 6.5 : 1.5;
    if (e.kind === 'scscf') return 3;
    if (e.kind === 'kms') return 2;
    return 5;
  };
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

const COL = 140;
const ROW = 26;
const LEFT = 140;
const CHAR_PX = 6.3;

/** The words of a key-exchange attribute, in full (tables, tooltips). */
export function badgeText(m: LadderMessage['keyExchange'][number]): string {
  if (m.kind === 'mikey-ticket') return `MIKEY-TICKET ${m.detail}`;
  return `a=${m.kind}${m.detail ? ` ${m.detail}` : ''}`;
}

/**
 * The badges of one message, one per kind of attribute: `a=crypto` (x n when
 * the SDP offers several keys; the suites are in the tooltip), `a=key-mgmt
 * mikey`, `a=3ge2ae requested`, `MIKEY-TICKET request`.
 */
export function badgesOf(m: LadderMessage): Array<{ kind: string; text: string; title: string }> {
  const out: Array<{ kind: string; text: string; title: string }> = [];
  for (const kind of ['crypto', 'key-mgmt', '3ge2ae', 'mikey-ticket'] as const) {
    const all = m.keyExchange.filter((k) => k.kind === kind);
    if (all.length === 0) continue;
    const details = [...new Set(all.map((k) => k.detail))];
    const text = kind === 'crypto' ? `a=crypto${all.length > 1 ? ` \u00d7${all.length}` : ''}` : `${badgeText(all[0]!)}${details.length > 1 ? ' \u2026' : ''}`;
    out.push({ kind, text, title: all.map(badgeText).join('\n') });
  }
  if ((m.transport === 'udp' || m.transport === 'tcp') && m.keyExchange.some((k) => k.kind === 'crypto')) {
    out.push({ kind: 'exposed', text: 'key in clear SIP', title: 'the SDES key is readable by anyone on this link' });
  }
  return out;
}

/** Width of a badge: bold 11 px text, generous so that no text overflows its pill. */
const badgeW = (t: string) => Math.ceil(t.length * 7.1) + 14;

/** The label of an arrow: the start line without `SIP/2.0` and the Request-URI's parameters. */
export function arrowLabel(m: LadderMessage): string {
  if (m.status !== null) return m.firstLine.replace(/^(?:SIP|HTTP)\/\d\.\d /, '');
  return m.firstLine.replace(/ (?:SIP|HTTP)\/\d\.\d$/, '').replace(/;[^ ]*$/, '');
}

/**
 * One call's ladder: a lifeline per element, an arrow per message with its
 * start line, the time since the call's first message and the link on the
 * left, the key-exchange attributes of its SDP as badges on the right.
 */
export function ladderSvg(view: NetworkView, messages: LadderMessage[], title: string): string {
  const cols = columnOrder(view, messages.flatMap((m) => [m.from, m.to]));
  const x = (n: string) => LEFT + cols.indexOf(n) * COL + COL / 2;
  const badgesX = LEFT + cols.length * COL + 8;
  const widest = Math.max(0, ...messages.map((m) => badgesOf(m).reduce((s, b) => s + badgeW(b.text) + 4, 0)));
  const width = badgesX + Math.max(widest, 40) + 8;
  const top = 46;
  const height = top + messages.length * ROW + 16;
  const t0 = messages.find((m) => m.timeUs !== null)?.timeUs ?? null;
  const out: string[] = [];
  out.push(`<svg class="ladder" role="img" aria-label="${esc(`SIP ladder of ${title}: ${messages.length} messages`)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">`);
  out.push(`<text x="8" y="18" class="head">time</text><text x="62" y="18" class="head">link</text>`);
  for (const c of cols) {
    const cx = x(c);
    const e = view.elements.find((el) => el.name === c);
    out.push(`<g class="lifeline" data-element="${esc(c)}"><text x="${cx}" y="18" class="col">${esc(cut(c, 20))}</text><text x="${cx}" y="31" class="colkind">${esc(e?.kind ?? 'address')}</text>`
      + `<line x1="${cx}" y1="${top - 8}" x2="${cx}" y2="${height - 6}"/></g>`);
  }
  messages.forEach((m, i) => {
    const y = top + i * ROW + 14;
    const x1 = x(m.from), x2 = x(m.to);
    const dir = x2 >= x1 ? 1 : -1;
    const len = Math.abs(x2 - x1);
    const time = m.timeUs === null || t0 === null ? 'n/a' : `+${((m.timeUs - t0) / 1e6).toFixed(3)}`;
    const label = arrowLabel(m);
    const room = Math.max(6, Math.floor((Math.max(len, COL) - 12) / CHAR_PX));
    const keyx = m.keyExchange.map((k) => k.kind);
    const clear = m.transport !== 'tls' && m.transport !== 'https';
    const full = `${time} s ${m.link} ${clear ? 'in the clear' : 'inside TLS'} (${m.transport}${m.via === 'analysis' ? ', read by the analysis, no time' : ''}): ${m.from} ${m.src} -> ${m.to} ${m.dst}\n${m.firstLine}${m.cseq ? `\nCSeq: ${m.cseq}` : ''}${m.keyExchange.length ? `\n${m.keyExchange.map(badgeText).join('\n')}` : ''}`;
    const lx = len >= COL ? (x1 + x2) / 2 : Math.min(x1, x2) + (len / 2 || 0);
    const cls = `msg ${m.status === null ? 'request' : 'response'} ${clear ? 'clear' : 'tls'}${m.keyExchange.length ? ' keyx' : ''}`;
    const g: string[] = [`<g class="${cls}" data-first-line="${esc(m.firstLine)}" data-keyx="${esc(keyx.join(' '))}" data-link="${esc(m.link)}"><title>${esc(full)}</title>`];
    g.push(`<text x="8" y="${y + 4}" class="time">${esc(time)}</text><text x="62" y="${y + 4}" class="linkname">${esc(`${m.link} ${m.transport}`)}</text>`);
    if (x1 === x2) {
      g.push(`<path d="M${x1} ${y - 6} h24 v10 h-22" class="arrow" fill="none"/><path d="M${x1} ${y + 4} l8 -4 v8 z" class="head-${m.status === null ? 'req' : 'resp'}"/>`);
    } else {
      g.push(`<line x1="${x1}" y1="${y}" x2="${x2 - dir * 2}" y2="${y}" class="arrow"/>`
        + `<path d="M${x2} ${y} l${-dir * 8} -4 v8 z" class="head-${m.status === null ? 'req' : 'resp'}"/>`);
    }
    if (m.keyExchange.length) g.push(`<circle cx="${x1 + dir * 5}" cy="${y}" r="4" class="keydot"/>`);
    g.push(`<text x="${lx}" y="${y - 4}" class="label">${esc(cut(label, room))}</text>`);
    let bx = badgesX;
    for (const b of badgesOf(m)) {
      g.push(`<g class="badge badge-${b.kind}" data-badge="${esc(b.kind)}"><title>${esc(b.title)}</title><rect x="${bx}" y="${y - 9}" width="${badgeW(b.text)}" height="17" rx="8"/><text x="${bx + 7}" y="${y + 3}">${esc(b.text)}</text></g>`);
      bx += badgeW(b.text) + 4;
    }
    g.push('</g>');
    out.push(g.join(''));
  });
  out.push('</svg>');
  return out.join('');
}
