import { markerFor as markerOf } from '@imslab/probe';
import { checkForkedKeys, checkPlayback, checkProbes, checkStoreAtRest } from './expect-evidence.ts';
import type { StoreAndForward, StoreAtRest } from './playback-evidence.ts';
import type { Analysis, CallReport } from '@imslab/analysis';
import type { Expectation } from './scenario.ts';
import type { CallRecord } from './steps.ts';
import type { UeCallStatus } from './ue-client.ts';

export interface CallOutcome {
  alias: string;
  callId: string | null;
  expected: string;
  observed: string;
  pass: boolean;
  /** Each way the observation differs from the expectation. */
  mismatches: string[];
  /** One line per piece of evidence behind the observed verdict. */
  evidence: string[];
  /** What the verdict depends on (who could read the keys). */
  conditions: string[];
}

function accessLinks(report: CallReport): string[] {
  return Object.keys(report.paths[0]?.links ?? {}).filter((l) => l.startsWith('access'));
}

/** Compares what the packets (and, for reception, the UEs) showed with what the scenario expects. */
/** One decision of the KMS, from its append-only audit log. */
export interface KmsAuditEntry { op: string; result: 'allowed' | 'refused'; reason?: string; resolverDevice?: string; resolver?: string; initiator: string | null; claimed?: string; forked?: boolean; keyFingerprint?: string; deferred?: boolean }

export function checkCall(
  alias: string,
  exp: Expectation,
  call: CallRecord | undefined,
  analysis: Analysis | null,
  ueCalls: Record<string, UeCallStatus[]>,
  kmsAudit: KmsAuditEntry[] = [],
  more: { calls?: ReadonlyMap<string, CallRecord> | undefined; storeAndForward?: StoreAndForward | null; storeAtRest?: StoreAtRest | null; afterLeave?: { packets: number; links: string[] } | undefined } = {},
): CallOutcome {
  const out: CallOutcome = { alias, callId: call?.callId ?? null, expected: exp.verdict, observed: 'no-call', pass: false, mismatches: [], evidence: [], conditions: [] };
  if (!call || !analysis) {
    out.mismatches.push(call ? 'no analysis (captures missing)' : 'the call was never placed');
    return out;
  }
  const report = analysis.calls.find((c) => c.alias === alias);
  if (!report) {
    out.mismatches.push('the analyser has no report for this call');
    return out;
  }
  out.observed = report.verdict;
  out.evidence.push(...report.evidence);
  if (report.verdict !== exp.verdict) out.mismatches.push(`verdict ${report.verdict}, expected ${exp.verdict}`);
  out.conditions = report.conditions;
  if (exp.phases) {
    const got = report.phases ?? [report.verdict];
    if (got.join(',') !== exp.phases.join(',')) out.mismatches.push(`phases ${got.join(' -> ')}, expected ${exp.phases.join(' -> ')}`);
    else out.evidence.push(`protection changed during the call: ${got.join(' -> ')}`);
  }
  if (exp.keysExposed !== undefined) {
    const exposed = report.conditions.length > 0;
    if (exposed !== exp.keysExposed) out.mismatches.push(exposed ? `keys were exposed (${report.conditions[0]}), expected none` : 'no key exposure found, expected the SDES keys to be reported as readable by the SIP hops');
  }
  for (const [link, want] of Object.entries(exp.links ?? {})) {
    for (const p of report.paths) {
      const got = p.links[link]?.protection ?? 'absent';
      if (got !== want) out.mismatches.push(`${p.direction} on ${link}: ${got}, expected ${want}`);
    }
  }
  if (exp.distinctAccessKeys) {
    for (const p of report.paths) {
      const [a, b] = accessLinks(report).map((l) => p.links[l]?.keys ?? []);
      const shared = (a ?? []).filter((k) => (b ?? []).includes(k));
      if (shared.length) out.mismatches.push(`${p.direction}: the same key ${shared.join(', ')} on both access links`);
      else out.evidence.push(`${p.direction}: different keys on the access links (${(a ?? []).join(',') || '-'} vs ${(b ?? []).join(',') || '-'})`);
    }
  }
  if (exp.sipOnAccess === 'tls') {
    for (const l of analysis.links.filter((x) => x.link.startsWith('access'))) {
      if (l.signalling.plaintextSip > 0) out.mismatches.push(`${l.link}: ${l.signalling.plaintextSip} plaintext SIP messages (expected TLS only)`);
      else if (l.signalling.tlsRecords === 0) out.mismatches.push(`${l.link}: no TLS seen (expected SIP over TLS)`);
      else out.evidence.push(`${l.link}: SIP over TLS only (${l.signalling.tlsRecords} TLS records, no plaintext SIP)`);
    }
  }
  for (const l of analysis.links) {
    const offered = l.signalling.exposedSdesKeys.length;
    const used = new Set(report.paths.flatMap((p) => p.links[l.link]?.keys ?? []));
    if (offered > used.size && used.size > 0) {
      out.evidence.push(`${l.link}: ${offered} SDES keys readable in the SDP, ${used.size} protected the media (extra keys in an SDP are no evidence of re-encryption)`);
    }
  }
  const stored = analysis.stores.filter((f) => f.what === 'key' || f.detail === markerOf(call.callId, 'orig') || f.detail === markerOf(call.callId, 'term'));
  for (const f of stored) out.evidence.push(`${f.file} holds ${f.what === 'key' ? `key ${f.detail}` : `plaintext probe ${f.detail}`}`);
  const callKeys = new Set(analysis.keys.filter((k) => k.callId === call.callId).map((k) => k.id));
  for (const x of analysis.keyExposure.filter((e) => callKeys.has(e.key))) {
    const where = [
      ...x.plaintextOn.map((l) => `${l} in plaintext SIP (anyone on the link)`),
      ...x.insideTlsOn.map((t) => `${t.link} inside TLS (${t.between.join(' <-> ')})`),
    ];
    out.evidence.push(`key ${x.key} travelled: ${where.join('; ') || 'not seen in signalling'}`);
  }
  const answered = Object.entries(ueCalls).flatMap(([ue, cs]) => cs.filter((c) => c.callId === call.callId && c.direction === 'in' && c.answeredAt).map(() => ue));
  if (exp.answeredBy !== undefined) {
    if (answered.length === 1 && answered[0] === exp.answeredBy) out.evidence.push(`answered by ${exp.answeredBy} (UE reports)`);
    else out.mismatches.push(`answered by ${answered.join(', ') || 'nobody'}, expected ${exp.answeredBy}`);
  }
  const callerView = ueCalls[call.from]?.find((c) => c.callId === call.callId);
  if (exp.failure !== undefined) {
    const reason = callerView?.failure?.reason ?? '';
    if (callerView?.state !== 'failed' && callerView?.state !== 'terminated') out.mismatches.push(`the call did not fail at ${call.from} (state ${callerView?.state ?? 'unknown'})`);
    else if (!reason.includes(exp.failure)) out.mismatches.push(`${call.from} failed with "${reason}", expected a reason containing "${exp.failure}"`);
    else out.evidence.push(`${call.from} reports: ${reason}`);
  }
  if (exp.callerAchieved !== undefined) {
    if (callerView?.securityAchieved !== exp.callerAchieved) out.mismatches.push(`${call.from} reports ${callerView?.securityAchieved ?? 'nothing'} negotiated, expected ${exp.callerAchieved}`);
    else out.evidence.push(`${call.from} reports ${exp.callerAchieved} negotiated (${callerView.keyManagement ?? 'no key management'})`);
  }
  const device = (e: KmsAuditEntry) => (e.resolverDevice ?? e.claimed ?? '?').replace(/@.*$/, '');
  const resolves = kmsAudit.filter((e) => e.op === 'resolve');
  if (exp.kmsResolved) {
    const got = [...new Set(resolves.filter((e) => e.result === 'allowed').map(device))].sort();
    if (got.join(',') !== [...exp.kmsResolved].sort().join(',')) out.mismatches.push(`KMS audit: resolved by ${got.join(', ') || 'nobody'}, expected ${exp.kmsResolved.join(', ') || 'nobody'}`);
    else out.evidence.push(`KMS audit: ticket resolved by ${got.join(', ') || 'nobody'} only`);
  }
  if (exp.kmsDeferredResolved) {
    const got = [...new Set(resolves.filter((e) => e.result === 'allowed' && e.deferred).map(device))].sort();
    if (got.join(',') !== [...exp.kmsDeferredResolved].sort().join(',')) out.mismatches.push(`KMS audit: stored message resolved by ${got.join(', ') || 'nobody'}, expected ${exp.kmsDeferredResolved.join(', ') || 'nobody'}`);
    else out.evidence.push(`KMS audit: the stored message's ticket resolved (deferred delivery, unforked keys) by ${got.join(', ')} only`);
  }
  if (exp.kmsKeysForked !== undefined) checkForkedKeys(exp.kmsKeysForked, resolves.filter((e) => e.result === 'allowed'), device, out);
  for (const d of exp.kmsRefused ?? []) {
    const refusal = resolves.find((e) => e.result === 'refused' && device(e) === d);
    if (!refusal) out.mismatches.push(`KMS audit: no refusal of ${d}`);
    else out.evidence.push(`KMS audit: refused ${d}: ${refusal.reason ?? ''}`);
  }
  for (const ue of exp.noMediaAt ?? []) {
    const c = ueCalls[ue]?.find((x) => x.callId === call.callId);
    if (c && (c.media.rxPackets > 0 || c.media.txPackets > 0)) out.mismatches.push(`${ue} exchanged media (${c.media.txPackets} sent, ${c.media.rxPackets} received), expected none`);
    else out.evidence.push(`${ue}: ${c ? `call ${c.state}${c.failure?.status ? ` (${c.failure.status})` : ''}, ` : ''}no media sent or received`);
  }
  if (exp.displayed) {
    const calleeView = answered[0] ? ueCalls[answered[0]]?.find((c) => c.callId === call.callId) : undefined;
    const check = (who: string, view: UeCallStatus | undefined, want: string | undefined) => {
      if (want === undefined) return;
      const got = view?.remoteIdentity ?? '(no call)';
      if (!got.includes(want)) out.mismatches.push(`${who} displays ${got}, expected ${want}`);
      else out.evidence.push(`${who} displays ${got} (asserted: ${view?.remoteAssertedIdentity ?? 'none'})`);
    };
    check(call.from, callerView, exp.displayed.atCaller);
    check(answered[0] ?? 'callee', calleeView, exp.displayed.atCallee);
  }
  if (exp.kmsAuthenticated) {
    for (const [ue, cs] of Object.entries(ueCalls)) {
      const c = cs.find((x) => x.callId === call.callId && x.state !== 'failed' && x.answeredAt);
      if (c?.kmsAuthenticatedPeer) out.evidence.push(`${ue}: peer authenticated through the KMS as ${c.kmsAuthenticatedPeer}`);
      else if (c) out.mismatches.push(`${ue}: no KMS-authenticated peer identity`);
    }
  }
  checkProbes(exp, call, ueCalls, more.calls, out);
  if (exp.playbackIdentical !== undefined) checkPlayback(exp.playbackIdentical, more.storeAndForward ?? null, out);
  if (exp.voicemailStores) checkStoreAtRest(exp.voicemailStores, more.storeAtRest ?? null, out);
  if (exp.noMediaAfterHangup) {
    const a = more.afterLeave;
    if (!a) out.mismatches.push(`noMediaAfterHangup: ${call.from} never hung up ${alias} in the steps`);
    else if (a.packets > 0) out.mismatches.push(`${call.from} was still sent ${a.packets} media packets after it left (${a.links.join(', ')})`);
    else out.evidence.push(`after ${call.from} left, no media was sent to it on any link (captures)`);
    if (report.verdict === 'e2e') out.evidence.push('limitation: the group key was not changed when the member left (TR 33.828 4.1.3 allows this for small groups): it could still decrypt traffic of the conference it captured elsewhere');
  }
  if (exp.probeReceived) {
    const ends = Object.entries(ueCalls).flatMap(([ue, cs]) => cs.filter((c) => c.callId === call.callId && c.media.rxPackets > 0).map((c) => ({ ue, c })));
    if (ends.length < 2) out.mismatches.push(`only ${ends.length} UE(s) received media`);
    for (const { ue, c } of ends) {
      if (c.media.rxMarkerPackets === 0) out.mismatches.push(`${ue} received no intact probe packet`);
      if (c.media.rxAuthFailed > 0) out.mismatches.push(`${ue}: ${c.media.rxAuthFailed} SRTP authentication failures`);
      else out.evidence.push(`${ue} received ${c.media.rxMarkerPackets} intact probe packets (UE counters)`);
    }
  }
  out.pass = out.mismatches.length === 0;
  return out;
}

