import type { Analysis, CallReport } from '@imslab/analysis';
import { faultOutcome, faultVerdict } from './faults.ts';
import { addressOwner } from '@imslab/network';
import { callMediaView, crossCheckAgw } from '@imslab/ims-agw/cross-check';
import { callMarkers, CHECKS, type CheckContext } from './checks/index.ts';
import { ueCallsFor } from './checks/views.ts';
import type { Expectation } from './scenario.ts';
import type { CallOutcome } from '@imslab/run-format';

export type { CallOutcome };

/** Evidence about a call that no key asks for but a reader wants: where its keys went, what the stores hold. */
function contextEvidence(ctx: CheckContext, a: Analysis): void {
  const { report, call } = ctx;
  for (const l of a.links) {
    const offered = l.signalling.exposedSdesKeys.length;
    const used = new Set(report.paths.flatMap((p) => p.links[l.link]?.keys ?? []));
    if (offered > used.size && used.size > 0) {
      ctx.saw(`[packets] ${l.link}: ${offered} SDES keys readable in the SDP, ${used.size} protected the media (extra keys in an SDP are no evidence of re-encryption)`);
    }
  }
  const markers = callMarkers(call);
  for (const f of a.stores.filter((x) => x.what === 'key' || markers.includes(x.detail))) {
    ctx.saw(`[element logs and stores] ${f.file} holds ${f.what === 'key' ? `key ${f.detail}` : `plaintext probe ${f.detail}`}`);
  }
  const callKeys = new Set(a.keys.filter((k) => k.callId === call.callId).map((k) => k.id));
  for (const x of a.keyExposure.filter((e) => callKeys.has(e.key))) {
    const where = [
      ...x.plaintextOn.map((l) => `${l} in plaintext SIP (anyone on the link)`),
      ...x.insideTlsOn.map((t) => `${t.link} inside TLS (${t.between.join(' <-> ')})`),
    ];
    ctx.saw(`[packets] key ${x.key} travelled: ${where.join('; ') || 'not seen in signalling'}`);
  }
  // The IMS-AGWs' own account of this call's media (ng query while it was up), against the captures.
  const agw = ctx.evidence('agw-streams')?.[ctx.alias];
  if (agw && agw.length > 0) {
    for (const line of crossCheckAgw(agw, callMediaView(a, ctx.alias))) ctx.saw(`[IMS-AGW report vs packets] ${line.kind}: ${line.text}`);
  }
}

/**
 * Compares what the packets, the UEs and the elements showed with what the
 * scenario expects for one call: every key of the expectation is one
 * registered check (checks/), run in the registry's order.
 */
export async function checkCall(alias: string, exp: Expectation, base: Omit<CheckContext, 'alias' | 'call' | 'report' | 'saw' | 'mismatch'> & { analysis: Analysis | null }): Promise<CallOutcome> {
  const call = base.calls.get(alias);
  const out: CallOutcome = { alias, callId: call?.callId ?? null, expected: exp.verdict, observed: 'no-call', pass: false, mismatches: [], evidence: [], conditions: [] };
  const report = base.analysis?.calls.find((c) => c.alias === alias);
  if (!call || !base.analysis || !report) {
    out.mismatches.push(!call ? 'the call was never placed' : !base.analysis ? 'no evidence: no analysis (captures missing)' : 'no evidence: the analyser has no report for this call');
    return out;
  }
  // A call an element fault hit is judged `fault(<element>)`: the packets alone would credit (or blame) a path that broke.
  const judged: CallReport = call.faults?.length
    ? { ...report, verdict: faultVerdict(call.faults) as CallReport['verdict'], evidence: [...faultOutcome(call.faults, report, base.ueCalls, addressOwner(base.plan)).evidence, ...report.evidence] }
    : report;
  out.observed = judged.verdict;
  out.conditions = report.conditions;
  const ctx: CheckContext = {
    ...base, ueCalls: ueCallsFor(base.ueCalls, call.media), analysis: base.analysis, alias, call, report: judged,
    saw: (l) => out.evidence.push(l),
    mismatch: (l) => out.mismatches.push(l),
  };
  const wanted = exp as unknown as Record<string, unknown>;
  for (const check of CHECKS) {
    const want = wanted[check.key];
    if (want === undefined && !check.always) continue;
    // Every line says what it rests on: the packets, or an element's own account.
    const tag = `[${check.basis}] `;
    const own: CheckContext = { ...ctx, saw: (l) => out.evidence.push(tag + l), mismatch: (l) => out.mismatches.push(tag + l) };
    try {
      await check.run(want, own);
    } catch (e) {
      own.mismatch(`${check.key}: the check failed: ${(e as Error).message}`);
    }
  }
  contextEvidence(ctx, base.analysis);
  out.pass = out.mismatches.length === 0;
  return out;
}

/**
 * Problems of the analysis are missing evidence (a capture cut short, a key
 * log line that could not be read, TLS that could not be opened): each fails
 * the scenario unless the scenario expects it (names a piece of its text).
 */
export function sortProblems(problems: readonly string[], expected: readonly string[]): { expected: string[]; unexpected: string[] } {
  const out = { expected: [] as string[], unexpected: [] as string[] };
  for (const p of problems) (expected.some((x) => p.includes(x)) ? out.expected : out.unexpected).push(p);
  return out;
}
